/**
 * The `raftkit` command, through its exported main(): the demo, the simulate command (the
 * leader-election mini project), determinism, and usage errors (exit code 2 with a clear message).
 */
import { describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { main } from '../src/cli.js';
import { miniProject } from '../src/examples/election.js';
import { Cluster } from '../src/sim/cluster.js';

const read = (file: string): string => readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
const pkg = JSON.parse(read('package.json')) as { version: string };

async function run(...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, (line) => out.push(line), (line) => err.push(line));
  return { code, out, err };
}

interface Round {
  round: number;
  failed: string;
  leader: string | null;
  votes: number;
  live: number;
}

/** Parses mini-project lines, asserting their exact shape: four lines per round. */
function parseRounds(lines: readonly string[], nodes: number, rounds: number): Round[] {
  expect(lines).toHaveLength(4 * rounds);
  const parsed: Round[] = [];
  for (let r = 0; r < rounds; r++) {
    const [header, failedLine, electionLine, recoveredLine] = lines.slice(4 * r, 4 * r + 4) as [string, string, string, string];
    expect(header).toBe(`--- Round ${r + 1} ---`);
    const failed = /^Node (\d+) failed$/.exec(failedLine)?.[1];
    expect(failed, failedLine).toBeDefined();
    expect(Number(failed)).toBeGreaterThanOrEqual(1);
    expect(Number(failed)).toBeLessThanOrEqual(nodes);
    expect(recoveredLine).toBe(`Node ${failed} recovered`);
    const elected = /^Node (\d+) elected with (\d+)\/(\d+) votes$/.exec(electionLine);
    if (elected === null) {
      expect(electionLine).toBe('No leader elected — split vote');
      parsed.push({ round: r + 1, failed: failed!, leader: null, votes: 0, live: nodes - 1 });
      continue;
    }
    const [, leader, votes, live] = elected as unknown as [string, string, string, string];
    expect(leader).not.toBe(failed);
    expect(Number(leader)).toBeLessThanOrEqual(nodes);
    expect(Number(live)).toBe(nodes - 1); // N = live nodes
    expect(Number(votes)).toBeGreaterThanOrEqual(Math.floor(nodes / 2) + 1); // a majority of the cluster
    expect(Number(votes)).toBeLessThanOrEqual(Number(live));
    parsed.push({ round: r + 1, failed: failed!, leader, votes: Number(votes), live: Number(live) });
  }
  return parsed;
}

describe('raftkit demo', () => {
  it('prints the Lamport lines, an election line and the mini project', async () => {
    const { code, out, err } = await run('demo');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const lamport = out.indexOf('A sends at time: 1');
    expect(lamport).toBeGreaterThanOrEqual(0);
    expect(out.slice(lamport, lamport + 3)).toEqual(['A sends at time: 1', 'B after receiving: 2', 'B after internal event: 3']);

    const electionLines = out.filter((line) => /^Node \d elected leader for term \d+$/.test(line));
    expect(electionLines).toHaveLength(1);
    // It is the real outcome of the seed-42 cluster the demo names.
    const cluster = new Cluster({ size: 5, seed: 42 });
    const leader = await cluster.waitForLeader();
    expect(electionLines[0]).toBe(`Node ${leader} elected leader for term ${cluster.node(leader).term}`);

    const start = out.indexOf('--- Round 1 ---');
    expect(start).toBeGreaterThan(out.indexOf(electionLines[0]!));
    const mini = out.slice(start).filter((line) => line !== '');
    parseRounds(mini, 5, 3);
    // The demo's mini project is the seed-42 run of `simulate`.
    expect(mini).toEqual((await run('simulate', '--nodes', '5', '--rounds', '3', '--seed', '42')).out);
  });

  it('takes no arguments', async () => {
    const { code, out, err } = await run('demo', 'extra');
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.join('\n')).toMatch(/extra/);
  });
});

describe('raftkit simulate', () => {
  it('--nodes 5 --rounds 3 --seed 42 narrates three rounds', async () => {
    const { code, out, err } = await run('simulate', '--nodes', '5', '--rounds', '3', '--seed', '42');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const rounds = parseRounds(out, 5, 3);
    expect(rounds.map((r) => r.round)).toEqual([1, 2, 3]);
  });

  it('N is the number of live nodes for other sizes too', async () => {
    for (const [nodes, rounds, seed] of [
      [3, 2, '7'],
      [7, 4, '1'],
    ] as const) {
      const { code, out } = await run('simulate', '--nodes', String(nodes), '--rounds', String(rounds), '--seed', seed);
      expect(code).toBe(0);
      parseRounds(out, nodes, rounds);
    }
  });

  it('the same seed gives the same output; the seed matters', async () => {
    const a = await run('simulate', '--nodes', '5', '--rounds', '3', '--seed', '42');
    const b = await run('simulate', '--nodes', '5', '--rounds', '3', '--seed', '42');
    expect(b.out).toEqual(a.out);
    const s1 = await run('simulate', '--seed', 'lecture-1');
    const s2 = await run('simulate', '--seed', 'lecture-1');
    expect(s1.code).toBe(0);
    expect(s2.out).toEqual(s1.out);
    const outputs = new Set<string>();
    for (const seed of ['1', '2', '3', '4', '5', '6']) outputs.add((await run('simulate', '--seed', seed)).out.join('\n'));
    expect(outputs.size).toBeGreaterThan(1);
  });

  it('defaults to 5 nodes, 3 rounds, seed 42 (as the help says)', async () => {
    const help = (await run('help')).out.join('\n');
    expect(help).toMatch(/--nodes N.*default 5/);
    expect(help).toMatch(/--rounds R.*default 3/);
    expect(help).toMatch(/--seed S.*default 42/);
    const defaults = await run('simulate');
    expect(defaults.code).toBe(0);
    expect(defaults.out).toEqual((await run('simulate', '--nodes', '5', '--rounds', '3', '--seed', '42')).out);
    expect((await run('simulate', '--nodes=5', '--rounds=3', '--seed=42')).out).toEqual(defaults.out);
  });

  it('--trace FILE writes the run’s trace document, the same for the same seed, without changing the run', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'raftkit-trace-'));
    try {
      const file = join(dir, 'run.json');
      const plain = await run('simulate', '--seed', '7');
      const traced = await run('simulate', '--seed', '7', '--trace', file);
      expect(traced.code).toBe(0);
      expect(traced.out).toEqual([...plain.out, `Trace written to ${file}`]);
      const text = readFileSync(file, 'utf8');
      const doc = JSON.parse(text) as { version: number; seed: unknown; dropped: number; events: { kind: string; id?: number }[] };
      expect(doc).toMatchObject({ version: 1, seed: 7, dropped: 0 });
      const kinds = new Set(doc.events.map((e) => e.kind));
      for (const kind of ['crash', 'restart', 'role', 'term', 'vote', 'timeout', 'send', 'deliver']) expect(kinds).toContain(kind);
      expect(doc.events.filter((e) => e.kind === 'send').every((e) => typeof e.id === 'number')).toBe(true);
      await run('simulate', '--seed', '7', '--trace', file);
      expect(readFileSync(file, 'utf8')).toBe(text);
      expect((await run('simulate', '--trace')).err[0]).toMatch(/--trace expects a value/);
      expect((await run('simulate', '--trace=')).code).toBe(2);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('usage errors exit with code 2 and a clear message', () => {
  it.each<[string[], RegExp]>([
    [['bogus'], /unknown command "bogus"/],
    [['simulate', '--foo', '1'], /--foo/],
    [['simulate', '--nodes', '0'], /--nodes must be an integer from 3 to 99, got "0"/],
    [['simulate', '--nodes', '2'], /--nodes must be an integer from 3 to 99, got "2"/],
    [['simulate', '--nodes', 'abc'], /--nodes must be an integer .*"abc"/],
    [['simulate', '--nodes', '1.5'], /--nodes must be an integer/],
    [['simulate', '--nodes', '100'], /--nodes must be an integer from 3 to 99/],
    [['simulate', '--nodes', ''], /--nodes must be an integer/],
    [['simulate', '--rounds', '0'], /--rounds must be an integer from 1 to/],
    [['simulate', '--rounds=-1'], /--rounds must be an integer from 1 to .*"-1"/],
    [['simulate', '--rounds', '1e3'], /--rounds must be an integer/],
    [['simulate', '--nodes'], /--nodes expects a value \(an integer from 3 to 99\), got none/],
    [['simulate', '--seed'], /--seed expects a value \(an integer \(negative ones too\) or any text\), got none/],
    [['simulate', '--seed', '-5'], /--seed expects a value .*"-5" after it reads as an option; to pass "-5" as the seed, attach it with '=': --seed=-5/],
    [['simulate', '--seed', '-x'], /to pass "-x" as the seed, attach it with '=': --seed=-x/],
    [['simulate', '--seed', '--nodes', '5'], /--seed expects a value .*"--nodes" after it reads as an option$/m],
    [['simulate', '--nodes', '-3'], /--nodes must be an integer from 3 to 99, got "-3"/],
    [['simulate', '--rounds', '-1'], /--rounds must be an integer from 1 to 10000, got "-1"/],
    [['simulate', 'extra'], /extra/],
  ])('%j', async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err.length).toBeGreaterThan(0);
    expect(err[0]).toMatch(/^raftkit: /);
    expect(err.join('\n')).toMatch(message);
    expect(err.join('\n')).toMatch(/raftkit help/);
  });

  it('help (and no command) prints usage and exits 0', async () => {
    for (const argv of [['help'], [], ['--help'], ['-h'], ['simulate', '--help'], ['demo', '-h'], ['simulate', '--nodes', '3', '--help'], ['help', 'simulate']]) {
      const { code, out, err } = await run(...argv);
      expect(code).toBe(0);
      expect(err).toEqual([]);
      expect(out.join('\n')).toMatch(/raftkit simulate/);
      expect(out.join('\n')).toMatch(/raftkit demo/);
    }
  });
});

describe('raftkit --version and --help', () => {
  it('--version, -v and version print the version in package.json', async () => {
    for (const argv of [['--version'], ['-v'], ['version'], ['simulate', '--version'], ['demo', '-v']]) {
      const { code, out, err } = await run(...argv);
      expect(code, argv.join(' ')).toBe(0);
      expect(err).toEqual([]);
      expect(out).toEqual([pkg.version]);
    }
  });

  it('the help lists every command and option, and its examples run', async () => {
    const help = (await run('--help')).out.join('\n');
    for (const command of ['demo', 'simulate', 'help', 'version']) expect(help).toMatch(new RegExp(`^  raftkit ${command}\\b`, 'm'));
    for (const option of ['--nodes N', '--rounds R', '--seed S', '-h, --help', '-v, --version']) expect(help).toContain(option);
    const examples = help.slice(help.indexOf('Examples:')).split('\n').slice(1).map((line) => line.trim()).filter((line) => line !== '');
    expect(examples.length).toBeGreaterThanOrEqual(2);
    for (const example of examples) {
      const [binary, ...argv] = example.split(/\s+/);
      expect(binary).toBe('raftkit');
      // A file an example writes goes to a temporary directory.
      const dir = mkdtempSync(join(tmpdir(), 'raftkit-help-'));
      const { code, out, err } = await run(...argv.map((arg, i) => (argv[i - 1] === '--trace' ? join(dir, arg) : arg))).finally(() => rmSync(dir, { recursive: true, force: true }));
      expect(err, example).toEqual([]);
      expect(code, example).toBe(0);
      expect(out.length).toBeGreaterThan(0);
    }
  });

  it('a negative seed, attached with =, is the number', async () => {
    const { code, out } = await run('simulate', '--seed=-5');
    expect(code).toBe(0);
    expect(out).toEqual(await miniProject({ seed: -5 }));
  });
});

describe('docs/simulation.md and the CLI agree', () => {
  it('on the range of --nodes and --rounds, and on the defaults', async () => {
    const doc = read('docs/simulation.md').replace(/\s+/g, ' ');
    const stated = /`--nodes` is (\d+) to (\d+) \(default (\d+)\), `--rounds` (\d+) to ([\d,]+) \(default (\d+)\) and `--seed` defaults to (\d+)/.exec(doc);
    expect(stated, 'the sentence on the options of simulate').not.toBeNull();
    const [, nodesMin, nodesMax, nodes, roundsMin, roundsMax, rounds, seed] = stated!.map((n) => Number(n?.replace(/,/g, '')));
    const help = (await run('help')).out.join('\n');
    expect(help).toContain(`cluster size, ${nodesMin}-${nodesMax} (default ${nodes})`);
    expect(help).toContain(`number of rounds, ${roundsMin}-${roundsMax} (default ${rounds})`);
    expect(help).toContain(`(default ${seed})`);
    // What the code accepts is what both say.
    expect((await run('simulate', '--nodes', String(nodesMin), '--rounds', '1')).code).toBe(0);
    expect((await run('simulate', '--nodes', String(nodesMin! - 1))).code).toBe(2);
    expect((await run('simulate', '--nodes', String(nodesMax! + 1))).code).toBe(2);
  });
});

describe('raftkit cap', () => {
  it('runs the CAP experiment: progress, then the table and the AP counterexample; the same seed gives the same output', async () => {
    const { code, out, err } = await run('cap', '--nodes', '3', '--partition-ms', '800', '--seed', '9');
    expect(code).toBe(0);
    expect(err).toEqual([]);
    const progress = out.filter((line) => line.startsWith('… '));
    expect(progress.map((line) => line.slice(2, 4))).toEqual(['CP', 'CP', 'CP', 'AP', 'AP']);
    expect(out.indexOf(progress.at(-1)!)).toBeLessThan(out.findIndex((line) => line.startsWith('CAP experiment: seed 9, 3 replicas per store')));
    const text = out.join('\n');
    expect(text).toMatch(/^answered, minority side \[\d\] +0% \(0\/\d+\) +100% \(\d+\/\d+\)$/m);
    expect(text).toMatch(/^linearizable +yes +no \(key [xyz], see below\)$/m);
    expect(text).toMatch(/^converged after the heal +\d+ ms +\d+ ms$/m);
    expect(text).toMatch(/^AP counterexample:\n {2}not linearizable/m);
    expect((await run('cap', '--nodes=3', '--partition-ms=800', '--seed=9')).out).toEqual(out);
  });

  it('defaults to 5 nodes, a 2,000 ms partition and seed 42 (as the help says)', async () => {
    const help = (await run('help')).out.join('\n');
    expect(help).toMatch(/^ {2}raftkit cap \[--nodes N\] \[--partition-ms MS\] \[--seed S\]/m);
    expect(help).toMatch(/replicas per store, 3-15 \(default 5\)/);
    expect(help).toMatch(/--partition-ms MS[\s\S]*\(default 2000\)/);
    const defaults = await run('cap');
    expect(defaults.code).toBe(0);
    expect(defaults.out.join('\n')).toMatch(/CAP experiment: seed 42, 5 replicas per store, 5 clients; partition 2000 ms from 500 ms/);
    expect((await run('cap', '--help')).out.join('\n')).toMatch(/raftkit cap/);
  });

  it.each<[string[], RegExp]>([
    [['cap', '--nodes', '2'], /--nodes must be an integer from 3 to 15, got "2"/],
    [['cap', '--nodes', '16'], /--nodes must be an integer from 3 to 15/],
    [['cap', '--nodes'], /--nodes expects a value \(an integer from 3 to 15\), got none/],
    [['cap', '--partition-ms', '0'], /--partition-ms must be an integer from 1 to 600000, got "0"/],
    [['cap', '--partition-ms', '-5'], /--partition-ms must be an integer from 1 to 600000, got "-5"/],
    [['cap', '--partition-ms'], /--partition-ms expects a value/],
    [['cap', '--seed', '-5'], /attach it with '=': --seed=-5/],
    [['cap', '--rounds', '3'], /--rounds/],
    [['cap', 'extra'], /extra/],
  ])('usage error %j exits 2', async (argv, message) => {
    const { code, out, err } = await run(...argv);
    expect(code).toBe(2);
    expect(out).toEqual([]);
    expect(err[0]).toMatch(/^raftkit: /);
    expect(err.join('\n')).toMatch(message);
  });
});
