import { parseArgs } from 'node:util';
import { electionExample, miniProject } from './examples/election.js';
import { lamportExample } from './examples/lamport.js';

const HELP = `raftkit — Raft, logical clocks and a deterministic cluster simulator

Usage:
  raftkit demo                                     run the seed examples (Lamport, election, mini project)
  raftkit simulate [--nodes N] [--rounds R] [--seed S]
                                                   the mini project: each round a random node fails,
                                                   the live nodes elect a leader, the node recovers
  raftkit help                                     this text

Options of simulate:
  --nodes N    cluster size, 3-99 (default 5)
  --rounds R   number of rounds, 1-10000 (default 3)
  --seed S     seed of the run; the same seed replays the same run (default 42)
`;

class UsageError extends Error {}

function integer(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < min || n > max) {
    throw new UsageError(`--${name} must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
  }
  return n;
}

function seedOf(value: string | undefined): number | string {
  if (value === undefined) return 42;
  return /^-?\d+$/.test(value) && Number.isSafeInteger(Number(value)) ? Number(value) : value;
}

async function demo(print: (line: string) => void): Promise<void> {
  print('== Lamport clocks ==');
  lamportExample().forEach((line) => print(line));
  print('');
  print('== Leader election, 5 nodes (seed 42) ==');
  (await electionExample(42)).forEach((line) => print(line));
  print('');
  print('== Mini project: 5 nodes, 3 rounds (seed 42) ==');
  (await miniProject({ nodes: 5, rounds: 3, seed: 42 })).forEach((line) => print(line));
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], print: (line: string) => void, printError: (line: string) => void): Promise<number> {
  try {
    const [command, ...rest] = argv;
    // `raftkit <command> --help` prints the usage too, as `raftkit help` does.
    if (rest.includes('--help') || rest.includes('-h')) {
      print(HELP);
      return 0;
    }
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        print(HELP);
        return 0;
      case 'demo':
        parseArgs({ args: rest, options: {}, strict: true, allowPositionals: false });
        await demo(print);
        return 0;
      case 'simulate': {
        const { values } = parseArgs({
          args: rest,
          options: { nodes: { type: 'string' }, rounds: { type: 'string' }, seed: { type: 'string' } },
          strict: true,
          allowPositionals: false,
        });
        const lines = await miniProject({
          nodes: integer('nodes', values.nodes, 5, 3, 99),
          rounds: integer('rounds', values.rounds, 3, 1, 10_000),
          seed: seedOf(values.seed),
        });
        lines.forEach((line) => print(line));
        return 0;
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    const usage = error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
    printError(`raftkit: ${(error as Error).message}`);
    if (usage) printError(`Run 'raftkit help' for usage.`);
    return usage ? 2 : 1;
  }
}

// Run when executed as the `raftkit` binary (not when imported by tests).
const invoked = process.argv[1] ?? '';
if (/raftkit$|cli\.(js|mjs|cjs|ts)$/.test(invoked)) {
  main(process.argv.slice(2), (l) => console.log(l), (l) => console.error(l)).then((code) => {
    process.exitCode = code;
  });
}
