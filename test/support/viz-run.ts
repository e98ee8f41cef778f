/**
 * The run the pictures are tested on, in Node and in the browser alike: a seeded 5-node cluster
 * whose first leader crashes (and later restarts), whose second leader is cut off with one
 * follower by a partition, which then heals. Browser-safe: it imports only the library.
 */
import { Cluster } from '../../src/index.js';
import { TraceReplay, lamportExampleSteps, logsOf, toClocksSvg, toLogSvg, toMermaid, toSpaceTimeSvg, vectorExampleSteps } from '../../src/viz/index.js';

/** Runs the scenario with `seed` and returns the cluster, stopped in place (its trace and logs are final). */
export async function faultyRun(seed = 7): Promise<Cluster> {
  const cluster = new Cluster({ size: 5, seed });
  const first = await cluster.waitForLeader();
  await cluster.propose('x');
  cluster.crash(first);
  const second = await cluster.waitForLeader();
  await cluster.propose('y');
  const [buddy, ...rest] = cluster.ids.filter((id) => id !== first && id !== second);
  cluster.partition([second, buddy as string], [first, ...rest]);
  cluster.restart(first);
  await cluster.run(800);
  cluster.heal();
  await cluster.waitForLeader();
  await cluster.propose('z');
  await cluster.run(200);
  return cluster;
}

/** Node ids a Mermaid or SVG writer could misread: markup, arrows, statement ends, comments, directives, keywords, line breaks, characters XML forbids. */
export const HOSTILE_IDS = ['<script>alert(1)</script>', '-->', 'a;b#c', '%%{init: {"theme":"dark"}}%%', 'end', 'x\ny', '"q"&\'s\u0000'];

/** A small trace among the hostile ids: a role change, messages delivered and dropped, a crash, a partition. */
export function hostileTrace() {
  const [a, b, c, d, e, f, g] = HOSTILE_IDS as [string, string, string, string, string, string, string];
  return [
    { time: 1, kind: 'role', node: a, role: 'candidate', term: 1 },
    { time: 1, kind: 'send', from: a, to: b, type: 'RequestVote', term: 1, summary: 'last log 0:0 <b>' },
    { time: 3, kind: 'deliver', from: a, to: b, type: 'RequestVote', term: 1, summary: 'last log 0:0 <b>' },
    { time: 3, kind: 'send', from: b, to: a, type: 'RequestVoteResponse', term: 1, summary: 'granted --> ; %%' },
    { time: 4, kind: 'deliver', from: b, to: a, type: 'RequestVoteResponse', term: 1, summary: 'granted --> ; %%' },
    { time: 4, kind: 'role', node: a, role: 'leader', term: 1 },
    { time: 5, kind: 'crash', node: c },
    { time: 6, kind: 'partition', groups: [[a, b], [c, d, e, f, g]] },
    { time: 7, kind: 'send', from: a, to: d, type: 'AppendEntries', term: 1, summary: '1 entries after 0:0, commit 0' },
    { time: 7, kind: 'drop', from: a, to: d, type: 'AppendEntries', term: 1, summary: '1 entries after 0:0, commit 0', reason: '</desc><script>' },
    { time: 8, kind: 'send', from: e, to: f, type: 'PreVote', term: 2, summary: 'x' },
    { time: 9, kind: 'deliver', from: e, to: f, type: 'PreVote', term: 2, summary: 'x' },
    { time: 9, kind: 'heal' },
    { time: 10, kind: 'restart', node: c },
  ] as const;
}

/** Every picture the browser tests render. */
export interface Pictures {
  readonly mermaid: string;
  readonly hostileMermaid: string;
  readonly spaceTime: string;
  readonly hostileSpaceTime: string;
  readonly logs: string;
  readonly hostileLogs: string;
  readonly lamport: string;
  readonly vector: string;
}

/** Draws every picture of {@link faultyRun} and {@link hostileTrace}, and the clocks examples. */
export async function drawAll(seed = 7): Promise<Pictures> {
  const cluster = await faultyRun(seed);
  const trace = cluster.trace();
  const hostile = hostileTrace();
  return {
    mermaid: toMermaid(trace),
    hostileMermaid: toMermaid(hostile, { heartbeats: 'show' }),
    spaceTime: toSpaceTimeSvg(trace),
    hostileSpaceTime: toSpaceTimeSvg(hostile),
    logs: toLogSvg(logsOf(cluster)),
    hostileLogs: toLogSvg(HOSTILE_IDS.map((node, i) => ({ node, entries: [{ index: 1, term: i + 1 }], commitIndex: 1, role: '<b>leader</b>' }))),
    lamport: toClocksSvg(lamportExampleSteps),
    vector: toClocksSvg(vectorExampleSteps, { focus: 'B2' }),
  };
}

/** What {@link replayRun} returns: a run's trace document and its replayed states, as JSON. */
export interface ReplayedRun {
  readonly trace: string;
  readonly positions: readonly number[];
  readonly states: readonly string[];
}

/**
 * A seeded run with loss, duplication, snapshots, a crash, a pause and a partition, its trace
 * document as JSON, and the states TraceReplay gives at a few positions (seeking forward and
 * back), as JSON: the browser's must equal Node's, byte for byte.
 */
export async function replayRun(seed = 9): Promise<ReplayedRun> {
  const cluster = new Cluster<number, number>({
    size: 5,
    seed,
    network: { latencyMs: [1, 20], dropRate: 0.05, duplicateRate: 0.1, reorder: true },
    stateMachine: () => {
      let n = 0;
      return { apply: (by: number) => (n += by), snapshot: () => String(n), restore: (s: string) => void (n = Number(s)) };
    },
    nodeOptions: () => ({ snapshotThreshold: 4 }),
  });
  const first = await cluster.waitForLeader();
  for (let i = 0; i < 6; i++) await cluster.propose(1);
  cluster.crash(first);
  cluster.pause(cluster.ids.find((id) => id !== first) as string);
  cluster.partition(['1', '2'], ['3', '4', '5']);
  await cluster.run(400);
  cluster.heal();
  for (const id of cluster.ids) cluster.resume(id);
  cluster.restart(first);
  for (let i = 0; i < 4; i++) await cluster.propose(1);
  await cluster.run(300);
  const document = cluster.traceDocument();
  const replay = new TraceReplay(document, { checkpointEvery: 64 });
  const n = replay.length;
  const positions = [n, Math.floor(n / 2), 0, Math.floor(n / 3) + 1, n - 1, Math.floor((3 * n) / 4)];
  return { trace: JSON.stringify(document), positions, states: positions.map((p) => JSON.stringify(replay.stateAt(p))) };
}
