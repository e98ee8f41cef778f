import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { electionExample, miniProject } from './examples/election.js';
import { lamportExample } from './examples/lamport.js';
import { serve, SERVE_OPTIONS, SERVE_USAGE, ServeUsageError } from './node-only/serve.js';
import { formatCapReport, runCapExperiment } from './testing/cap.js';

const NODES = { min: 3, max: 99, fallback: 5 }; // simulate needs 3: one fails each round, a majority must remain
const ROUNDS = { min: 1, max: 10_000, fallback: 3 };
const SEED = 42;
const CAP_NODES = { min: 3, max: 15, fallback: 5 };
const PARTITION_MS = { min: 1, max: 600_000, fallback: 2_000 };

const HELP = `raftkit — Raft, logical clocks and a deterministic cluster simulator

Usage:
  raftkit demo                                     run the seed examples (Lamport, election, mini project)
  raftkit simulate [--nodes N] [--rounds R] [--seed S] [--trace FILE]
                                                   the mini project: each round a random node fails,
                                                   the live nodes elect a leader, the node recovers
  raftkit cap [--nodes N] [--partition-ms MS] [--seed S]
                                                   the CAP experiment: the same clients and partition
                                                   against Raft (CP) and an AP store, side by side
${SERVE_USAGE}
  raftkit help                                     this text
  raftkit version                                  the version of raftkit

Options:
  -h, --help      print this text (also after a command: raftkit simulate --help)
  -v, --version   print the version

${SERVE_OPTIONS}

Options of simulate:
  --nodes N    cluster size, ${NODES.min}-${NODES.max} (default ${NODES.fallback})
  --rounds R   number of rounds, ${ROUNDS.min}-${ROUNDS.max} (default ${ROUNDS.fallback})
  --seed S     seed of the run (default ${SEED}): an integer or any text; the same seed
               replays the same run. Attach a seed that starts with '-' with '=': --seed=-5
  --trace FILE write the run's trace to FILE as JSON (the trace schema of
               docs/courseware.md: version, seed, limit, dropped, events)

Options of cap:
  --nodes N          replicas per store, ${CAP_NODES.min}-${CAP_NODES.max} (default ${CAP_NODES.fallback}); a minority of
                     (N-1)/2, with the Raft leader, is cut off from the rest
  --partition-ms MS  how long the partition lasts, in virtual ms, ${PARTITION_MS.min}-${PARTITION_MS.max}
                     (default ${PARTITION_MS.fallback}); the clients run 500 ms before it
  --seed S           seed of the run (default ${SEED}), as for simulate

Examples:
  raftkit simulate --nodes 7 --rounds 5 --seed lecture-1
  raftkit simulate --seed=-5
  raftkit simulate --seed 7 --trace run.json
  raftkit cap --nodes 3 --partition-ms 1000
`;

/** The version in the package.json next to this module's directory (dist/ or src/). */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

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
  if (value === undefined) return SEED;
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

/** What each option of `simulate` expects, for the messages about a missing value. */
const EXPECTS: Record<string, string> = {
  nodes: `an integer from ${NODES.min} to ${NODES.max}`,
  rounds: `an integer from ${ROUNDS.min} to ${ROUNDS.max}`,
  seed: 'an integer (negative ones too) or any text',
  trace: 'a file to write the trace to',
};

/** What each option of `cap` expects (its --nodes has another range). */
const CAP_EXPECTS: Record<string, string> = {
  nodes: `an integer from ${CAP_NODES.min} to ${CAP_NODES.max}`,
  'partition-ms': `an integer from ${PARTITION_MS.min} to ${PARTITION_MS.max}`,
  seed: EXPECTS.seed!,
};

/** The options the CLI knows, which are never taken for a value. */
const KNOWN_OPTION = /^(--(nodes|rounds|seed|trace|partition-ms|help|version)(=.*)?|-[hv])$/;

/**
 * Catches `--name` followed by nothing or by something that starts with '-', which parseArgs
 * reports as a missing or "ambiguous" argument, and says instead what the option expects (and,
 * for a value that starts with '-', such as a negative seed, how to pass it).
 */
function checkValues(args: readonly string[], expects = EXPECTS, ranges: Record<string, typeof NODES> = { nodes: NODES, rounds: ROUNDS }): void {
  for (let i = 0; i < args.length && args[i] !== '--'; i++) {
    const name = /^--([\w-]+)$/.exec(args[i]!)?.[1];
    if (name === undefined || !Object.hasOwn(expects, name)) continue;
    const next = args[i + 1];
    if (next === undefined) throw new UsageError(`--${name} expects a value (${expects[name]}), got none`);
    if (!next.startsWith('-')) continue;
    // A negative number for a numeric option is out of range anyway: say so, as for --rounds=-1.
    const range = Object.hasOwn(ranges, name) ? ranges[name] : undefined;
    if (range !== undefined && /^-\d/.test(next)) integer(name, next, range.fallback, range.min, range.max);
    const hint = name === 'seed' && !KNOWN_OPTION.test(next) ? `; to pass ${JSON.stringify(next)} as the seed, attach it with '=': --seed=${next}` : '';
    throw new UsageError(`--${name} expects a value (${expects[name]}), but ${JSON.stringify(next)} after it reads as an option${hint}`);
  }
}

/** Runs the CLI with `argv` (without node and script); returns the exit code. */
export async function main(argv: readonly string[], print: (line: string) => void, printError: (line: string) => void): Promise<number> {
  try {
    const [command, ...rest] = argv;
    // `raftkit <command> --help` prints the usage too, as `raftkit help` does; --version likewise.
    if (rest.includes('--help') || rest.includes('-h')) {
      print(HELP);
      return 0;
    }
    if (rest.includes('--version') || rest.includes('-v')) {
      print(version());
      return 0;
    }
    switch (command) {
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        print(HELP);
        return 0;
      case 'version':
      case '--version':
      case '-v':
        print(version());
        return 0;
      case 'demo':
        parseArgs({ args: rest, options: {}, strict: true, allowPositionals: false });
        await demo(print);
        return 0;
      case 'simulate': {
        checkValues(rest);
        const { values } = parseArgs({
          args: rest,
          options: { nodes: { type: 'string' }, rounds: { type: 'string' }, seed: { type: 'string' }, trace: { type: 'string' } },
          strict: true,
          allowPositionals: false,
        });
        const file = values.trace;
        if (file === '') throw new UsageError('--trace expects a file name, got ""');
        const lines = await miniProject({
          nodes: integer('nodes', values.nodes, NODES.fallback, NODES.min, NODES.max),
          rounds: integer('rounds', values.rounds, ROUNDS.fallback, ROUNDS.min, ROUNDS.max),
          seed: seedOf(values.seed),
          ...(file !== undefined && { trace: (document) => writeFileSync(file, `${JSON.stringify(document)}\n`) }),
        });
        lines.forEach((line) => print(line));
        if (file !== undefined) print(`Trace written to ${file}`);
        return 0;
      }
      case 'cap': {
        checkValues(rest, CAP_EXPECTS, { nodes: CAP_NODES, 'partition-ms': PARTITION_MS });
        const { values } = parseArgs({
          args: rest,
          options: { nodes: { type: 'string' }, 'partition-ms': { type: 'string' }, seed: { type: 'string' } },
          strict: true,
          allowPositionals: false,
        });
        const report = await runCapExperiment({
          nodes: integer('nodes', values.nodes, CAP_NODES.fallback, CAP_NODES.min, CAP_NODES.max),
          partitionMs: integer('partition-ms', values['partition-ms'], PARTITION_MS.fallback, PARTITION_MS.min, PARTITION_MS.max),
          seed: seedOf(values.seed),
          onProgress: (line) => print(`… ${line}`),
        });
        print('');
        formatCapReport(report).forEach((line) => print(line));
        return 0;
      }
      case 'serve':
        checkValues(rest);
        return await serve(rest, print, process.argv[1] ?? 'raftkit');
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof ServeUsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS');
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
