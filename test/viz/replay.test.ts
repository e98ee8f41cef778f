/**
 * TraceReplay: the state it rebuilds from a trace equals the live nodes' (on random schedules of
 * every fault the simulator has), seeking anywhere equals replaying from the start, states are
 * immutable snapshots, and bad traces are refused with a typed error naming the event.
 *
 * When the fields can be compared: a node's trace events come as its step ends (term, role,
 * commit) or as its saves are written (append, truncate), while the node's own fields change
 * during the step. So every field is compared at the end of each scheduler event (and after each
 * fault the schedule makes between events), and at each event itself only what is exact at that
 * instant: which nodes are up, crashed or paused, the copies in flight (against the network's
 * counts), and which links the partition, cuts and disconnections leave open.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/sim/cluster.js';
import type { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import type { MemoryStorage } from '../../src/raft/storage.js';
import type { NodeId } from '../../src/raft/types.js';
import { TRACE_VERSION, type TraceDocument, type TraceEvent } from '../../src/sim/trace.js';
import { ReplayError, TraceReplay, type ReplayState, type ReplayedNode } from '../../src/viz/index.js';
import { Counter } from '../support/counter.js';

const DEEP = process.env['RAFTKIT_DEEP'] === '1';

/** One step of a schedule: `pick` chooses among the nodes there are when it runs. */
type Action =
  | { readonly kind: 'run'; readonly ms: number }
  | { readonly kind: 'crash' | 'restart' | 'pause' | 'resume' | 'disconnect' | 'reconnect' | 'propose' | 'compact' | 'add' | 'remove'; readonly pick: number }
  | { readonly kind: 'partition'; readonly mask: number }
  | { readonly kind: 'heal' | 'split' }
  | { readonly kind: 'cut' | 'restore'; readonly pick: number; readonly other: number }
  | { readonly kind: 'configure'; readonly dropRate: number; readonly duplicateRate: number };

const pick = fc.nat(1000);
const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('propose' as const), pick }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constantFrom('crash' as const, 'restart' as const, 'pause' as const, 'resume' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('disconnect' as const, 'reconnect' as const, 'compact' as const), pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), mask: fc.nat(63) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('heal' as const, 'split' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('cut' as const, 'restore' as const), pick, other: pick }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('configure' as const), dropRate: fc.constantFrom(0, 0.05, 0.2), duplicateRate: fc.constantFrom(0, 0.1, 0.3) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constantFrom('add' as const, 'remove' as const), pick }) },
);

interface Setup {
  readonly seed: number;
  readonly size: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  readonly snapshotThreshold: number;
  readonly dropRate: number;
  readonly duplicateRate: number;
  readonly reorder: boolean;
  readonly actions: readonly Action[];
}

const setup: fc.Arbitrary<Setup> = fc.record({
  seed: fc.integer({ min: 1, max: 1_000_000 }),
  size: fc.integer({ min: 1, max: 5 }),
  preVote: fc.boolean(),
  checkQuorum: fc.boolean(),
  snapshotThreshold: fc.integer({ min: 2, max: 6 }),
  dropRate: fc.constantFrom(0, 0.05),
  duplicateRate: fc.constantFrom(0, 0.1),
  reorder: fc.boolean(),
  actions: fc.array(action, { minLength: 5, maxLength: DEEP ? 40 : 20 }),
});

/** Internals of a Cluster a test may read: its scheduler (for a hook after every event) and each node's storage. */
interface ClusterInternals {
  readonly scheduler: VirtualScheduler;
  readonly storages: Map<NodeId, MemoryStorage>;
}
const internals = (cluster: Cluster<number, number>): ClusterInternals => cluster as unknown as ClusterInternals;

const ELECTION: readonly [number, number] = [150, 300];

/**
 * What a live node shows, in the replay's terms (a crashed one: what its storage holds). The term
 * of a snapshot taken but not saved yet is not shown by a live node: `replayedTerm` stands for it.
 */
function liveNode(cluster: Cluster<number, number>, id: NodeId, replayedTerm: number): Omit<ReplayedNode, 'timerResetAt' | 'votes'> & { votes: number } {
  if (!cluster.liveIds.includes(id)) {
    const stored = (internals(cluster).storages.get(id) as MemoryStorage).load();
    const snapshotIndex = stored.snapshot?.index ?? 0;
    const log = stored.entries.map((e) => e.term);
    return {
      id,
      status: 'crashed',
      role: 'follower',
      term: stored.hardState.term,
      votedFor: stored.hardState.votedFor,
      snapshotIndex,
      snapshotTerm: stored.snapshot?.term ?? 0,
      log,
      lastIndex: snapshotIndex + log.length,
      commitIndex: snapshotIndex,
      appliedIndex: snapshotIndex,
      votes: 0,
    };
  }
  const node = cluster.node(id);
  const status = node.status();
  // The log as saved (the trace records saves; a leader's new entries reach storage in a step of their own),
  // after the snapshot the node holds (it drops the entries it covers at once, and saves that in a later step).
  const stored = (internals(cluster).storages.get(id) as MemoryStorage).load();
  const entries = stored.entries.filter((e) => e.index > status.snapshotIndex);
  const log = entries.map((e) => e.term);
  const snapshotTerm = status.snapshotIndex === 0 ? 0 : stored.snapshot?.index === status.snapshotIndex ? stored.snapshot.term : replayedTerm;
  return {
    id,
    status: cluster.paused(id) ? 'paused' : 'up',
    role: status.role,
    term: status.term,
    votedFor: status.votedFor,
    snapshotIndex: status.snapshotIndex,
    snapshotTerm,
    log,
    lastIndex: entries[entries.length - 1]?.index ?? Math.max(status.snapshotIndex, stored.snapshot?.index ?? 0),
    commitIndex: status.commitIndex,
    appliedIndex: status.lastApplied,
    votes: status.votes,
  };
}

/** The replayed node in the same shape (votes as a count: a node shows only how many). */
function replayedNode(node: ReplayedNode): ReturnType<typeof liveNode> {
  const { timerResetAt: _, votes, ...rest } = node;
  return { ...rest, log: [...rest.log], votes: votes.length };
}

/** Whether the replayed network state lets `from` reach `to`. */
function reachable(state: ReplayState, from: NodeId, to: NodeId): boolean {
  if (state.disconnected.includes(from) || state.disconnected.includes(to)) return false;
  if (state.cuts.some(([f, t]) => f === from && t === to)) return false;
  if (state.partition === null) return true;
  const group = (id: NodeId): number => state.partition?.findIndex((g) => g.includes(id)) ?? -1;
  return group(from) === group(to);
}

interface RunRecord {
  readonly document: TraceDocument;
  /** The live replay's state at the end of each scheduler event (and after each fault), with its JSON then. */
  readonly taken: Array<{ readonly state: ReplayState; readonly json: string }>;
  /** The network's count of copies in flight right after each event was recorded. */
  readonly networkInFlight: number[];
  /** The network's count of duplicate copies made, right after each event was recorded (and at the end). */
  readonly networkDuplicated: number[];
  readonly checks: number;
}

/**
 * Runs `s` with a TraceReplay following the trace live, comparing it with the live nodes at
 * each event (what is exact then) and at the end of each scheduler event (everything).
 */
async function runAndCompare(s: Setup): Promise<RunRecord> {
  const cluster = new Cluster<number, number>({
    size: s.size,
    seed: s.seed,
    network: { latencyMs: [1, 15], dropRate: s.dropRate, duplicateRate: s.duplicateRate, reorder: s.reorder },
    stateMachine: () => new Counter(),
    nodeOptions: () => ({ snapshotThreshold: s.snapshotThreshold, preVote: s.preVote, checkQuorum: s.checkQuorum }),
    traceLimit: 1_000_000,
  });
  const replay = new TraceReplay({ nodes: cluster.ids, events: [] });
  const taken: RunRecord['taken'] = [];
  const networkInFlight: number[] = [];
  const networkDuplicated: number[] = [];
  let duplicateOutcomes = 0;
  let checks = 0;
  /** Nodes whose timers a pause held since they last booted, and nodes that joined: their timer is not checked. */
  const timerUnknown = new Set<NodeId>();
  /** Each node's timerResetAt as the current instant began. */
  const resetBeforeInstant = new Map<NodeId, number>();
  const answeredThisInstant = new Set<NodeId>();
  /** Nodes whose current round's votes the trace cannot tell (see above): their votes are not compared. */
  const votesAmbiguous = new Set<NodeId>();
  let instant = -1;

  /** The first mismatch: a listener's or a hook's throw would be swallowed by the code that recorded the event. */
  let failure: unknown;
  const checked = (check: () => void): void => {
    if (failure !== undefined) return;
    try {
      check();
    } catch (error) {
      failure = error;
    }
  };
  const rethrow = (): void => {
    if (failure !== undefined) throw failure;
  };

  cluster.onTrace((event) => checked(() => {
    const before = replay.stateAt(replay.length);
    if (event.time > instant) {
      instant = event.time;
      for (const n of before.nodes) resetBeforeInstant.set(n.id, n.timerResetAt);
      answeredThisInstant.clear();
    }
    // An answer delivered in the instant a new round starts (the round is traced when its requests
    // go out, after the step) may have come before the round or after: the trace cannot tell.
    if (event.kind === 'deliver' && (event.type === 'PreVoteResponse' || event.type === 'RequestVoteResponse')) answeredThisInstant.add(event.to);
    if (event.kind === 'timeout') votesAmbiguous[answeredThisInstant.has(event.node) ? 'add' : 'delete'](event.node);
    else if (event.kind === 'term' || event.kind === 'role' || event.kind === 'crash' || event.kind === 'restart') votesAmbiguous.delete(event.node);
    if (event.kind === 'timeout' && event.cause === 'timer' && !timerUnknown.has(event.node)) {
      // A timer fires a randomized election timeout after it was last restarted, before this instant
      // (the campaign is traced as its step ends: other messages of the instant may come first).
      const resetAt = resetBeforeInstant.get(event.node) as number;
      const waited = event.time - resetAt;
      expect(waited, `node ${event.node}'s timer at ${event.time} (reset at ${resetAt})`).toBeGreaterThanOrEqual(ELECTION[0] - 1e-6);
      expect(waited, `node ${event.node}'s timer at ${event.time} (reset at ${resetAt})`).toBeLessThanOrEqual(ELECTION[1] + 1e-6);
    }
    replay.push(event);
    if (event.kind === 'pause' || event.kind === 'join') timerUnknown.add(event.node);
    else if (event.kind === 'restart') timerUnknown.delete(event.node);
    if ((event.kind === 'deliver' || event.kind === 'drop') && event.duplicate === true) duplicateOutcomes++;
    const stats = cluster.network.stats();
    networkInFlight.push(stats.inFlight);
    networkDuplicated.push(stats.duplicated);
    if (event.kind === 'join') return; // (recorded before the node exists)
    const state = replay.stateAt(replay.length);
    // The network dispatches a send's copies after its send event, and the live replay learns of a duplicate copy only from its outcome.
    const expected = stats.inFlight + (event.kind === 'send' ? 1 : 0) - (stats.duplicated - duplicateOutcomes);
    expect(state.inFlight.length, `copies in flight after event ${replay.length - 1} ${JSON.stringify(event)}`).toBe(expected);
    // Who is up, crashed or paused, and which links are open.
    expect(state.nodes.map((n) => n.id)).toEqual(cluster.ids);
    for (const n of state.nodes) {
      // A restart is recorded just before the node boots.
      if (event.kind === 'restart' && event.node === n.id) continue;
      const status = !cluster.liveIds.includes(n.id) ? 'crashed' : cluster.paused(n.id) ? 'paused' : 'up';
      expect(n.status, `node ${n.id} after event ${replay.length - 1}`).toBe(status);
    }
    for (const a of cluster.ids) for (const b of cluster.ids) if (a !== b) expect(reachable(state, a, b), `${a}→${b} after ${JSON.stringify(event)}`).toBe(cluster.network.reachable(a, b));
  }));

  const compareAll = (where: string): void => checked(() => {
    const state = replay.stateAt(replay.length);
    taken.push({ state, json: JSON.stringify(state) });
    expect(state.nodes.map((n) => n.id)).toEqual(cluster.ids);
    for (const n of state.nodes) {
      const live = liveNode(cluster, n.id, n.snapshotTerm);
      if (votesAmbiguous.has(n.id)) live.votes = n.votes.length;
      expect(replayedNode(n), `node ${n.id} ${where} at ${cluster.now} ms, event ${replay.length}`).toEqual(live);
    }
    checks++;
  });
  const scheduler = internals(cluster).scheduler;
  const onEvent = scheduler.onEvent;
  scheduler.onEvent = () => {
    onEvent?.();
    // A step's deferred work (its flush) runs as another event of the same instant, traced then: compare once the instant is over.
    const next = scheduler.nextTime();
    if (next === undefined || next > scheduler.now()) compareAll('at the end of an instant');
  };

  let added = 0;
  const ids = (): readonly NodeId[] => cluster.ids;
  const chosen = (n: number): NodeId => ids()[n % ids().length] as NodeId;
  for (const a of s.actions) {
    switch (a.kind) {
      case 'run':
        await cluster.run(a.ms);
        break;
      case 'propose': // (a few commands: enough load for snapshots, compaction and truncations)
        for (let i = 0; i <= a.pick % 6; i++) cluster.request(chosen(a.pick + i), (node) => node.propose(1)).catch(() => undefined);
        break;
      case 'compact': {
        const id = chosen(a.pick);
        if (cluster.liveIds.includes(id) && !cluster.paused(id)) cluster.node(id).compact();
        // The snapshot reaches storage in the node's next step, this instant: a crash before it would
        // lose it, and the trace has no event for that save (see ReplayedNode).
        await cluster.run(0);
        break;
      }
      case 'crash':
        cluster.crash(chosen(a.pick));
        break;
      case 'restart': {
        const id = chosen(a.pick);
        if (!cluster.liveIds.includes(id)) cluster.restart(id);
        break;
      }
      case 'pause': {
        const id = chosen(a.pick);
        if (cluster.liveIds.includes(id)) cluster.pause(id);
        break;
      }
      case 'resume':
        cluster.resume(chosen(a.pick));
        await cluster.run(0); // (what it held runs in the events of this instant: compared after them)
        break;
      case 'disconnect':
        cluster.disconnect(chosen(a.pick));
        break;
      case 'reconnect':
        cluster.reconnect(chosen(a.pick));
        break;
      case 'partition': {
        const side = ids().filter((_, i) => (a.mask >> i) & 1);
        cluster.partition(side, ids().filter((id) => !side.includes(id)));
        break;
      }
      case 'heal':
        cluster.heal();
        break;
      case 'split': {
        // The leader takes commands and is cut off at once: they stay uncommitted, and a later
        // leader's entries overwrite them (truncations).
        const leader = cluster.leader();
        if (leader === undefined) break;
        for (let i = 0; i < 3; i++) cluster.node(leader).propose(1).catch(() => undefined);
        cluster.partition([leader], ids().filter((id) => id !== leader));
        break;
      }
      case 'cut':
      case 'restore': {
        const from = chosen(a.pick);
        const to = chosen(a.other);
        if (from !== to) cluster.network[a.kind](from, to);
        break;
      }
      case 'configure':
        cluster.network.configure({ dropRate: a.dropRate, duplicateRate: a.duplicateRate });
        break;
      case 'add':
        if (added < 2) await cluster.addNode(`n${++added}`, { timeoutMs: 1500 }).catch(() => undefined);
        break;
      case 'remove':
        if (ids().length > 2) await cluster.removeNode(chosen(a.pick), { timeoutMs: 1500 }).catch(() => undefined);
        break;
    }
    compareAll(`after ${a.kind}`);
    rethrow();
  }
  // Heal and let it settle, so every run ends with replication and commits too.
  cluster.heal();
  for (const id of ids()) {
    cluster.resume(id);
    if (!cluster.liveIds.includes(id)) cluster.restart(id);
  }
  await cluster.run(1000);
  compareAll('after healing');
  // Every run ends with what random schedules make rarely: a leader's uncommitted entries
  // overwritten by a later leader's (truncations), snapshots, and a crash of a node that has one.
  const leader = cluster.leader();
  if (leader !== undefined && ids().length >= 3) {
    for (let i = 0; i < 3; i++) cluster.node(leader).propose(1).catch(() => undefined);
    cluster.partition([leader], ids().filter((id) => id !== leader));
    await cluster.run(700);
    for (let i = 0; i < 2 * s.snapshotThreshold; i++) await cluster.propose(1, { timeoutMs: 1000 }).catch(() => undefined);
    cluster.heal();
    await cluster.run(500);
    const follower = cluster.liveIds.find((id) => id !== cluster.leader());
    if (follower !== undefined) {
      cluster.crash(follower);
      compareAll('after the last crash');
      cluster.restart(follower);
      await cluster.run(500);
    }
  }
  compareAll('at the end');
  rethrow();
  networkDuplicated.push(cluster.network.stats().duplicated);
  return { document: cluster.traceDocument(), taken, networkInFlight, networkDuplicated, checks };
}

const runs = DEEP ? 400 : 30;

/** What the runs covered, so a generator that stops making some case is seen (counted over all runs). */
const covered = { crashedWithSnapshot: 0, installed: 0, truncated: 0, duplicates: 0, joined: 0, left: 0, heldVotes: 0, heldWhilePaused: 0 };
function cover(document: TraceDocument, taken: RunRecord['taken']): void {
  const events = document.events;
  covered.installed += events.filter((e) => e.kind === 'snapshot' && e.installed).length;
  covered.truncated += events.filter((e) => e.kind === 'truncate').length;
  covered.duplicates += events.filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && e.duplicate === true).length;
  covered.joined += events.filter((e) => e.kind === 'join').length;
  covered.left += events.filter((e) => e.kind === 'leave').length;
  covered.crashedWithSnapshot += taken.filter(({ state }) => state.nodes.some((n) => n.status === 'crashed' && n.snapshotIndex > 0)).length;
  const paused = new Set<NodeId>();
  for (const e of events) {
    if (e.kind === 'pause') paused.add(e.node);
    else if (e.kind === 'resume' || e.kind === 'crash') paused.delete(e.node);
    else if (e.kind === 'deliver' && paused.has(e.to)) covered.heldWhilePaused++;
  }
  covered.heldVotes += taken.filter(({ state }) => state.nodes.some((n) => n.votes.length > 1 && n.role !== 'leader')).length;
}

describe('TraceReplay against live nodes', () => {
  // To rerun a counterexample: RAFTKIT_REPLAY_CASE='<its JSON>' npx vitest run test/viz/replay.test.ts -t counterexample
  // Schedules that once found a mismatch (fast-check's counterexamples, kept as regressions).
  const found: Setup[] = [
    // A node answers requests it held while paused, each in its own term, and a campaign it gave up shows late.
    { seed: 469131, size: 3, preVote: false, checkQuorum: true, snapshotThreshold: 10, dropRate: 0.05, duplicateRate: 0.1, reorder: false, actions: [{ kind: 'resume', pick: 279 }, { kind: 'configure', dropRate: 0.05, duplicateRate: 0.3 }, { kind: 'resume', pick: 440 }, { kind: 'pause', pick: 276 }, { kind: 'disconnect', pick: 143 }, { kind: 'run', ms: 173 }, { kind: 'propose', pick: 117 }, { kind: 'run', ms: 132 }, { kind: 'heal' }, { kind: 'compact', pick: 13 }, { kind: 'remove', pick: 998 }] },
    // A precandidate steps down in the same term and keeps its round's votes.
    { seed: 231927, size: 5, preVote: true, checkQuorum: false, snapshotThreshold: 3, dropRate: 0, duplicateRate: 0, reorder: true, actions: [{ kind: 'reconnect', pick: 22 }, { kind: 'run', ms: 393 }, { kind: 'run', ms: 241 }, { kind: 'restore', pick: 801, other: 67 }, { kind: 'restore', pick: 394, other: 2 }, { kind: 'heal' }, { kind: 'run', ms: 396 }, { kind: 'pause', pick: 715 }, { kind: 'run', ms: 228 }, { kind: 'run', ms: 236 }, { kind: 'propose', pick: 3 }, { kind: 'restore', pick: 124, other: 1 }, { kind: 'propose', pick: 998 }, { kind: 'heal' }, { kind: 'partition', mask: 25 }] },
    // A granted answer goes out after the voter moved on to a later term in the same step.
    { seed: 8, size: 4, preVote: false, checkQuorum: true, snapshotThreshold: 2, dropRate: 0.05, duplicateRate: 0, reorder: false, actions: [{ kind: 'resume', pick: 284 }, { kind: 'crash', pick: 470 }, { kind: 'partition', mask: 8 }, { kind: 'heal' }, { kind: 'propose', pick: 836 }, { kind: 'run', ms: 72 }, { kind: 'configure', dropRate: 0.2, duplicateRate: 0.3 }, { kind: 'run', ms: 397 }, { kind: 'resume', pick: 113 }, { kind: 'run', ms: 69 }, { kind: 'partition', mask: 37 }, { kind: 'configure', dropRate: 0, duplicateRate: 0 }, { kind: 'run', ms: 28 }, { kind: 'run', ms: 109 }, { kind: 'reconnect', pick: 72 }, { kind: 'heal' }, { kind: 'partition', mask: 2 }, { kind: 'run', ms: 214 }] },
    // An answer delivered in the instant a new pre-vote round of the same term starts.
    { seed: 18, size: 5, preVote: true, checkQuorum: false, snapshotThreshold: 5, dropRate: 0, duplicateRate: 0.1, reorder: true, actions: [{ kind: 'cut', pick: 709, other: 189 }, { kind: 'run', ms: 246 }, { kind: 'restart', pick: 564 }, { kind: 'configure', dropRate: 0, duplicateRate: 0 }, { kind: 'configure', dropRate: 0, duplicateRate: 0.1 }, { kind: 'configure', dropRate: 0, duplicateRate: 0.1 }, { kind: 'run', ms: 96 }, { kind: 'restart', pick: 299 }, { kind: 'pause', pick: 828 }, { kind: 'partition', mask: 53 }, { kind: 'run', ms: 142 }, { kind: 'run', ms: 212 }, { kind: 'crash', pick: 360 }, { kind: 'add', pick: 572 }, { kind: 'configure', dropRate: 0.2, duplicateRate: 0 }, { kind: 'propose', pick: 256 }, { kind: 'disconnect', pick: 137 }, { kind: 'propose', pick: 298 }] },
  ];
  it.each(found.map((s, i) => [i + 1, s] as const))('still matches on the schedule that once found mismatch %i', async (_, s) => {
    await runAndCompare(s);
  });

  const replayCase = process.env['RAFTKIT_REPLAY_CASE'];
  if (replayCase !== undefined) it('reruns the counterexample in RAFTKIT_REPLAY_CASE', async () => void (await runAndCompare(JSON.parse(replayCase) as Setup)));

  it('rebuilds every node, the copies in flight and the network at every event of random faulty runs', async () => {
    await fc.assert(
      fc.asyncProperty(setup, async (s) => {
        const { document, taken, networkInFlight, networkDuplicated } = await runAndCompare(s);
        cover(document, taken);
        // Replayed afterwards from the whole document: the same states (a duplicate copy now shows from its send on).
        const replay = new TraceReplay(document, { checkpointEvery: 17 });
        const duplicated = new Set<number>();
        for (const e of document.events) if ((e.kind === 'deliver' || e.kind === 'drop') && e.duplicate === true) duplicated.add(e.id as number);
        // A copy the network made right after a send whose outcome the trace does not hold (still in flight at the end) cannot show.
        let unseen = 0;
        document.events.forEach((e, i) => {
          const copies = e.kind === 'send' ? 1 + (duplicated.has(e.id as number) ? 1 : 0) : 0;
          expect(replay.stateAt(i + 1).inFlight.length, `copies in flight after event ${i}`).toBe((networkInFlight[i] as number) + copies - unseen);
          if (e.kind === 'send' && (networkDuplicated[i + 1] as number) > (networkDuplicated[i] as number) && !duplicated.has(e.id as number)) unseen++;
        });
        const withoutFlight = (state: ReplayState): unknown => ({ ...state, inFlight: undefined });
        for (const { state, json } of taken) {
          // Held states did not change while the run went on, and equal a later seek to their position.
          expect(JSON.stringify(state)).toBe(json);
          expect(Object.isFrozen(state) && Object.isFrozen(state.nodes[0]) && Object.isFrozen(state.nodes[0]?.log)).toBe(true);
          expect(withoutFlight(replay.stateAt(state.position))).toEqual(withoutFlight(state));
        }
      }),
      { numRuns: runs, endOnFailure: true },
    );
    for (const [what, count] of Object.entries(covered)) expect(count, `runs covering ${what}`).toBeGreaterThan(0);
  }, DEEP ? 3_600_000 : 240_000);
});

/** A faulty run's trace, for the seek and error tests. */
async function sampleDocument(seed = 11): Promise<TraceDocument> {
  const cluster = new Cluster<number, number>({
    size: 5,
    seed,
    network: { latencyMs: [1, 20], dropRate: 0.05, duplicateRate: 0.1, reorder: true },
    stateMachine: () => new Counter(),
    nodeOptions: () => ({ snapshotThreshold: 5 }),
  });
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 6; i++) await cluster.propose(1);
  cluster.crash(leader);
  cluster.partition(['1', '2'], ['3', '4', '5']);
  await cluster.run(500);
  cluster.heal();
  cluster.network.cut('1', '3');
  cluster.restart(leader);
  for (let i = 0; i < 6; i++) await cluster.propose(1);
  cluster.pause('2');
  await cluster.run(300);
  cluster.resume('2');
  await cluster.run(300);
  return cluster.traceDocument();
}

describe('TraceReplay seeking', () => {
  it('gives, at any position forward or backward, the state a replay from the start gives', async () => {
    const document = await sampleDocument();
    const reference = new TraceReplay(document, { checkpointEvery: Number.MAX_SAFE_INTEGER }); // replays from event 0 each time
    const n = document.events.length;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 64 }), fc.array(fc.integer({ min: -5, max: n + 5 }), { minLength: 1, maxLength: 12 }), async (every, positions) => {
        const replay = new TraceReplay(document, { checkpointEvery: every });
        for (const p of positions) {
          const clamped = Math.max(0, Math.min(n, p));
          const state = replay.stateAt(p);
          expect(state.position).toBe(clamped);
          expect(state).toEqual(reference.stateAt(clamped));
        }
      }),
      { numRuns: DEEP ? 300 : 40 },
    );
  });

  it('seeks by time: positionAt counts the events at or before a time, stateAtTime reports that time', async () => {
    const document = await sampleDocument(5);
    const replay = new TraceReplay(document);
    // A document read back from JSON replays the same.
    expect(new TraceReplay(JSON.parse(JSON.stringify(document)) as TraceDocument).stateAt(333)).toEqual(replay.stateAt(333));
    const events = document.events;
    expect(replay.startTime).toBe(events[0]?.time);
    expect(replay.endTime).toBe(events[events.length - 1]?.time);
    for (const ms of [-1, 0, replay.startTime, 100.5, 333, replay.endTime, replay.endTime + 1]) {
      const p = replay.positionAt(ms);
      expect(p).toBe(events.filter((e) => e.time <= ms).length);
      const state = replay.stateAtTime(ms);
      expect(state.time).toBe(ms);
      expect({ ...state, time: 0 }).toEqual({ ...replay.stateAt(p), time: 0 });
    }
    expect(replay.stateAt(0)).toMatchObject({ position: 0, time: 0, inFlight: [], partition: null, cuts: [], leader: undefined });
  });

  it('keeps states taken before a push, and answers for the new events after it', async () => {
    const document = await sampleDocument(8);
    const events = document.events;
    const half = Math.floor(events.length / 2);
    const whole = new TraceReplay(document, { checkpointEvery: 9 });
    const growing = new TraceReplay({ nodes: document.nodes as NodeId[], events: events.slice(0, half) }, { checkpointEvery: 9 });
    const early = growing.stateAt(half - 3);
    const json = JSON.stringify(early);
    for (let i = half; i < events.length; i += 7) growing.push(...events.slice(i, i + 7));
    expect(growing.length).toBe(events.length);
    expect(JSON.stringify(early)).toBe(json);
    for (const p of [0, half - 3, half, half + 11, events.length - 1, events.length]) expect(growing.stateAt(p)).toEqual(whole.stateAt(p));
  });

  it('takes a long trace whole (no call with one argument per event) and seeks across it within the checkpoint bound', () => {
    const events: TraceEvent[] = [];
    for (let id = 1; id <= 150_000; id++) {
      events.push({ time: id, kind: 'send', id, from: '1', to: '2', type: 'AppendEntries', term: 1, summary: '' });
      events.push({ time: id + 0.5, kind: 'deliver', id, from: '1', to: '2', type: 'AppendEntries', term: 1, summary: '' });
    }
    const replay = new TraceReplay({ nodes: ['1', '2'], events }, { checkpointEvery: 100 });
    expect(replay.length).toBe(300_000);
    expect(replay.stateAt(200_001).inFlight.map((m) => m.id)).toEqual([100_001]);
    expect(replay.stateAt(200_001).nodes[1]?.timerResetAt).toBe(100_000.5);
    expect(replay.positionAt(100_000.5)).toBe(200_000);
  });

  it('applies at most checkpointEvery events per seek, forward and backward (each event counts its reads)', async () => {
    const document = await sampleDocument(6);
    let reads = 0;
    // The same events, each counting the reads of its time: applying an event reads it once (a send twice: its copy's sentAt).
    const events = document.events.map((e) => {
      const { time, ...rest } = e;
      return Object.defineProperty({ ...rest }, 'time', { get: () => (reads++, time), enumerable: true }) as unknown as TraceEvent;
    });
    const every = 50;
    const replay = new TraceReplay({ nodes: document.nodes as NodeId[], events }, { checkpointEvery: every });
    const reference = new TraceReplay(document);
    const random = fc.sample(fc.nat(events.length), { numRuns: 200, seed: 7 });
    let most = 0;
    for (const p of [...random, events.length - 1, 1, events.length - 2, 0]) {
      reads = 0;
      const state = replay.stateAt(p);
      most = Math.max(most, reads);
      expect(reads, `seek to ${p}`).toBeLessThanOrEqual(2 * every);
      expect(state).toEqual(reference.stateAt(p));
    }
    expect(most).toBeGreaterThan(every / 2); // (the count sees the events applied)
  });

  it('hands out frozen states: a caller cannot change what a later seek returns', async () => {
    const replay = new TraceReplay(await sampleDocument(3));
    const state = replay.stateAt(replay.length);
    expect(() => (state.nodes as ReplayedNode[]).pop()).toThrow(TypeError);
    expect(() => ((state.nodes[0] as { term: number }).term = 99)).toThrow(TypeError);
    expect(() => (state.nodes[0]?.log as number[]).push(1)).toThrow(TypeError);
    expect(replay.stateAt(replay.length)).toEqual(state);
  });
});

describe('TraceReplay on what a small run shows', () => {
  it('shows a crash and a restart: what survives, and commit and applied back at the snapshot', async () => {
    const cluster = new Cluster<number, number>({ size: 3, seed: 4, stateMachine: () => new Counter(), nodeOptions: () => ({ snapshotThreshold: 4 }) });
    const leader = await cluster.waitForLeader();
    for (let i = 0; i < 5; i++) await cluster.propose(1);
    await cluster.run(200);
    const follower = cluster.ids.find((id) => id !== leader) as NodeId;
    const alive = cluster.node(follower).status();
    cluster.crash(follower);
    const replay = new TraceReplay(cluster.traceDocument());
    const crashed = replay.stateAt(replay.length).nodes.find((n) => n.id === follower) as ReplayedNode;
    expect(alive.snapshotIndex).toBeGreaterThan(0);
    expect(alive.commitIndex).toBeGreaterThan(alive.snapshotIndex);
    expect(crashed).toMatchObject({ status: 'crashed', role: 'follower', term: alive.term, votedFor: alive.votedFor, snapshotIndex: alive.snapshotIndex, lastIndex: alive.lastLogIndex, commitIndex: alive.snapshotIndex, appliedIndex: alive.snapshotIndex, votes: [] });
    cluster.restart(follower);
    replay.push(...cluster.trace().slice(replay.length));
    const restarted = cluster.node(follower).status();
    expect(restarted.commitIndex).toBe(alive.snapshotIndex); // what a restart does, live
    expect(replay.stateAt(replay.length).nodes.find((n) => n.id === follower)).toMatchObject({ status: 'up', commitIndex: restarted.commitIndex, appliedIndex: restarted.lastApplied, timerResetAt: cluster.now });
    const leaderNode = replay.stateAt(replay.length).nodes.find((n) => n.id === leader) as ReplayedNode;
    expect(leaderNode.votes.length).toBe(cluster.node(leader).status().votes);
    expect(replay.stateAt(replay.length).leader).toBe(leader);
  });
});

describe('TraceReplay sorts ids as the pictures do', () => {
  it("lists a candidate's votes with '2' before '10'", () => {
    const nodes = ['1', '2', '10'];
    const request = (id: number, to: string) => ({ time: 1, kind: 'send', id, from: '1', to, type: 'RequestVote', term: 1, summary: 'last log 0:0' }) as const;
    const answer = (id: number, from: string) => ({ time: 2, kind: 'send', id, from, to: '1', type: 'RequestVoteResponse', term: 1, summary: 'granted', success: true }) as const;
    const events: TraceEvent[] = [
      { time: 1, kind: 'term', node: '1', term: 1, votedFor: '1' },
      { time: 1, kind: 'role', node: '1', role: 'candidate', term: 1 },
      request(1, '10'),
      request(2, '2'),
      { ...request(1, '10'), time: 2, kind: 'deliver' },
      { ...request(2, '2'), time: 2, kind: 'deliver' },
      answer(3, '10'),
      answer(4, '2'),
      { ...answer(3, '10'), time: 3, kind: 'deliver' },
      { ...answer(4, '2'), time: 3, kind: 'deliver' },
    ];
    const replay = new TraceReplay({ nodes, events });
    expect(replay.stateAt(replay.length).nodes.find((n) => n.id === '1')?.votes).toEqual(['1', '2', '10']);
  });
});

describe('TraceReplay refuses what it cannot replay', () => {
  const nodes = ['1', '2'];
  const send = { time: 1, kind: 'send', id: 1, from: '1', to: '2', type: 'RequestVote', term: 1, summary: 'last log 0:0', lastLogIndex: 0, lastLogTerm: 0 } as const satisfies TraceEvent;
  const codeOf = (make: () => unknown): { code: string; index: number | null } => {
    try {
      make();
    } catch (error) {
      if (error instanceof ReplayError) return { code: error.code, index: error.index };
      throw error;
    }
    throw new Error('not refused');
  };
  const doc = (events: TraceEvent[], extra: Partial<TraceDocument> = {}): TraceDocument => ({ version: TRACE_VERSION, seed: 1, nodes, limit: 100, dropped: 0, events, ...extra });

  it('a document that lost its start, lists no nodes, or has another version', () => {
    expect(codeOf(() => new TraceReplay(doc([], { dropped: 3 })))).toEqual({ code: 'DROPPED_START', index: null });
    expect(codeOf(() => new TraceReplay(doc([], { nodes: [] })))).toEqual({ code: 'NO_NODES', index: null });
    const { nodes: _, ...noNodes } = doc([]);
    expect(codeOf(() => new TraceReplay(noNodes as TraceDocument))).toEqual({ code: 'NO_NODES', index: null });
    expect(codeOf(() => new TraceReplay(doc([], { version: TRACE_VERSION + 1 })))).toEqual({ code: 'VERSION', index: null });
    expect(() => new TraceReplay(doc([]), { checkpointEvery: 0 })).toThrow(RangeError);
    expect(codeOf(() => new TraceReplay(doc([], { nodes: ['1', '1'] })))).toEqual({ code: 'DUPLICATE_NODE', index: null });
  });

  it('an event that contradicts the state, named by its index', () => {
    const deliver = { ...send, time: 2, kind: 'deliver' } as const;
    expect(codeOf(() => new TraceReplay(doc([send, { ...deliver, id: 2 }])))).toEqual({ code: 'UNKNOWN_MESSAGE', index: 1 });
    expect(codeOf(() => new TraceReplay(doc([send, deliver, deliver])))).toEqual({ code: 'UNKNOWN_MESSAGE', index: 2 });
    expect(codeOf(() => new TraceReplay(doc([send, { ...deliver, duplicate: true, id: 5 }])))).toEqual({ code: 'UNKNOWN_MESSAGE', index: 1 });
    expect(codeOf(() => new TraceReplay(doc([send, send])))).toEqual({ code: 'DUPLICATE_ID', index: 1 });
    const { id: _, ...noId } = send;
    expect(codeOf(() => new TraceReplay(doc([noId as TraceEvent])))).toEqual({ code: 'BAD_EVENT', index: 0 });
    expect(codeOf(() => new TraceReplay(doc([send, { ...deliver, time: 0 }])))).toEqual({ code: 'TIME_ORDER', index: 1 });
    expect(codeOf(() => new TraceReplay(doc([{ time: 0, kind: 'crash', node: '3' }])))).toEqual({ code: 'UNKNOWN_NODE', index: 0 });
    expect(codeOf(() => new TraceReplay(doc([{ time: 0, kind: 'join', node: '2' }])))).toEqual({ code: 'DUPLICATE_NODE', index: 0 });
    expect(codeOf(() => new TraceReplay(doc([{ time: 0, kind: 'snapshot', node: '1', index: 3, term: 1, installed: true }, { time: 0, kind: 'append', node: '1', from: 2, to: 2, terms: [1] }])))).toEqual({ code: 'LOG_GAP', index: 1 });
    expect(codeOf(() => new TraceReplay(doc([{ time: 0, kind: 'truncate', node: '1', from: 1, to: 1 }])))).toEqual({ code: 'LOG_GAP', index: 0 });
  });

  it('an event without a field its kind needs, or with one malformed, as BAD_EVENT, the state unchanged', () => {
    const bad = [
      { time: 0, kind: 'truncate', node: '1', to: 1 },
      { time: 0, kind: 'truncate', node: '1', from: '1', to: 1 },
      { time: 0, kind: 'append', node: '1', from: 1, to: 2, terms: [1, 'x'] },
      { time: 0, kind: 'append', node: '1', to: 1, terms: [1] },
      { time: 0, kind: 'term', node: '1', term: '2', votedFor: null },
      { time: 0, kind: 'term', node: '1', term: 2 },
      { time: 0, kind: 'role', node: '1', role: 'leader' },
      { time: 0, kind: 'role', node: '1', role: 'constructor', term: 1 },
      { time: 0, kind: 'commit', node: '1', term: 1 },
      { time: 0, kind: 'apply', node: '1', index: Number.NaN, term: 1 },
      { time: 0, kind: 'snapshot', node: '1', term: 1, installed: false },
      { time: 0, kind: 'timeout', node: '1', cause: 'timer' },
      { time: 0, kind: 'partition' },
      { time: 0, kind: 'partition', groups: [['1'], [2]] },
      { time: 0, kind: 'cut', from: '1' },
      { time: 0, kind: 'restore', to: '2' },
      { time: 0, kind: 'join' },
      { time: 0, kind: 'disconnect', node: 7 },
      { ...send, term: undefined },
      { ...send, from: undefined },
    ];
    for (const event of bad) {
      expect(codeOf(() => new TraceReplay(doc([event as unknown as TraceEvent]))), JSON.stringify(event)).toEqual({ code: 'BAD_EVENT', index: 0 });
      const replay = new TraceReplay(doc([]));
      const before = JSON.stringify(replay.stateAt(0));
      expect(() => replay.push(event as unknown as TraceEvent)).toThrow(ReplayError);
      expect(JSON.stringify(replay.stateAt(replay.length))).toBe(before);
    }
    // A delivery without its receiver, after a good send.
    const { to: _, ...deliverNoTo } = { ...send, time: 2, kind: 'deliver' as const };
    expect(codeOf(() => new TraceReplay(doc([send, deliverNoTo as unknown as TraceEvent])))).toEqual({ code: 'BAD_EVENT', index: 1 });
    // What comes after a refused truncate replays as it would have without it.
    const good: TraceEvent[] = [{ time: 0, kind: 'append', node: '1', from: 1, to: 2, terms: [1, 1] }];
    const replay = new TraceReplay(doc(good));
    expect(() => replay.push({ time: 1, kind: 'truncate', node: '1' } as unknown as TraceEvent)).toThrow(ReplayError);
    replay.push({ time: 1, kind: 'truncate', node: '1', from: 2, to: 2 });
    expect(replay.stateAt(replay.length).nodes[0]?.lastIndex).toBe(1);
  });

  it('keeps the events before a refused push, and the message says which event', () => {
    const replay = new TraceReplay(doc([send]));
    const error = (() => {
      try {
        replay.push({ ...send, time: 3, kind: 'drop', reason: 'random' }, { ...send, time: 4, kind: 'drop', reason: 'random' });
      } catch (e) {
        return e as ReplayError;
      }
      return undefined;
    })();
    expect(error?.message).toMatch(/^event 2: drop of message 1/);
    expect(replay.length).toBe(2);
    expect(replay.stateAt(2).inFlight).toEqual([]);
  });
});

describe('TraceReplay.forget', () => {
  /** Where each message's send and each copy's outcome are in `events`. */
  const positionsOf = (events: readonly TraceEvent[]) => {
    const send = new Map<number, number>();
    const outcome = new Map<string, number>();
    events.forEach((e, i) => {
      if (e.kind === 'send') send.set(e.id as number, i);
      else if (e.kind === 'deliver' || e.kind === 'drop') outcome.set(`${String(e.id)}${e.duplicate === true ? '+' : ''}`, i);
    });
    return { send, outcome };
  };

  it('keeps every later state equal to a replay that forgets nothing, pushes after forgetting included (random traces, checkpoints and positions)', async () => {
    const documents = await Promise.all([sampleDocument(11), sampleDocument(5), sampleDocument(21)]);
    const references = documents.map((d) => new TraceReplay(d));
    let refused = 0;
    let forgotten = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.nat(documents.length - 1),
        fc.integer({ min: 1, max: 64 }),
        fc.array(fc.record({ push: fc.integer({ min: 1, max: 400 }), forget: fc.integer({ min: -40, max: 40 }) }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.double({ min: -0.1, max: 1.1, noNaN: true }), { minLength: 1, maxLength: 10 }),
        async (which, every, steps, seeks) => {
          const document = documents[which] as TraceDocument;
          const reference = references[which] as TraceReplay;
          const events = document.events;
          const { send, outcome } = positionsOf(events);
          const replay = new TraceReplay({ nodes: document.nodes as NodeId[], events: [] }, { checkpointEvery: every });
          let pushed = 0;
          let stop = false;
          for (const step of steps) {
            for (const e of events.slice(pushed, pushed + step.push)) {
              // The one case forget cannot keep: a duplicate's outcome whose send is forgotten and whose original has arrived.
              const lost = (e.kind === 'deliver' || e.kind === 'drop') && e.duplicate === true && (send.get(e.id as number) as number) < replay.start && (outcome.get(String(e.id)) as number) < replay.start;
              if (lost && !events.slice(0, pushed).some((o) => (o.kind === 'deliver' || o.kind === 'drop') && o.duplicate === true && o.id === e.id)) {
                expect(() => replay.push(e)).toThrow(expect.objectContaining({ code: 'UNKNOWN_MESSAGE' }) as Error);
                refused++;
                stop = true;
                break;
              }
              replay.push(e);
              pushed++;
            }
            if (stop) break;
            const before = replay.start;
            replay.forget(replay.length + step.forget);
            expect(replay.start % every).toBe(0);
            expect(replay.start).toBeGreaterThanOrEqual(before);
            expect(replay.start).toBeLessThanOrEqual(Math.max(before, replay.length + step.forget));
            if (replay.start > before) forgotten++;
          }
          expect(replay.length).toBe(pushed);
          expect(replay.events).toEqual(events.slice(replay.start, pushed));
          // The reference has the whole trace: a duplicate copy it knows of shows from its send on, so compare with one of the same events.
          const same = pushed === events.length ? reference : new TraceReplay({ nodes: document.nodes as NodeId[], events: events.slice(0, pushed) });
          for (const f of seeks) {
            const p = Math.round(replay.start + f * (pushed - replay.start));
            const clamped = Math.max(replay.start, Math.min(pushed, p));
            expect(replay.stateAt(p)).toEqual(same.stateAt(clamped));
          }
          expect(replay.stateAt(replay.start)).toEqual(same.stateAt(replay.start));
          expect(replay.stateAt(pushed)).toEqual(same.stateAt(pushed));
          // By time: inside what is held, as the reference; before it, the state at start.
          const first = same.stateAt(replay.start);
          for (const ms of [first.time, first.time + 0.5, replay.endTime, replay.endTime + 3]) {
            expect(replay.positionAt(ms)).toBe(Math.max(replay.start, same.positionAt(ms)));
            expect(replay.stateAtTime(ms)).toEqual(same.stateAtTime(ms));
          }
          if (replay.start > 0) {
            expect(replay.positionAt(-1)).toBe(replay.start);
            expect(replay.stateAtTime(first.time - 1)).toEqual(first);
          }
        },
      ),
      { numRuns: DEEP ? 300 : 60 },
    );
    expect(forgotten).toBeGreaterThan(0);
    void refused; // (rare: a duplicate within a latency of the point forgotten)
  }, 120_000);

  it('keeps a duplicate copy found after its send was forgotten, from its original in flight at start', () => {
    const msg = { from: '1', to: '2', type: 'AppendEntries', term: 1, summary: '' } as const;
    const events: TraceEvent[] = [
      { time: 1, kind: 'send', id: 1, ...msg },
      { time: 2, kind: 'send', id: 2, ...msg },
      { time: 3, kind: 'deliver', id: 2, ...msg },
      { time: 4, kind: 'send', id: 3, ...msg },
      { time: 5, kind: 'deliver', id: 1, ...msg, duplicate: true },
      { time: 6, kind: 'deliver', id: 1, ...msg },
    ];
    const whole = new TraceReplay({ nodes: ['1', '2'], events }, { checkpointEvery: 2 });
    const replay = new TraceReplay({ nodes: ['1', '2'], events: events.slice(0, 4) }, { checkpointEvery: 2 });
    replay.forget(3);
    expect(replay.start).toBe(2);
    replay.push(...events.slice(4));
    for (let p = 2; p <= events.length; p++) expect(replay.stateAt(p)).toEqual(whole.stateAt(p));
    expect(replay.stateAt(2).inFlight.map((m) => `${m.id}${m.duplicate ? '+' : ''}`)).toEqual(['1', '1+', '2']);
    // A duplicate of a send forgotten whose original has arrived: refused, the replay unchanged.
    const late = new TraceReplay({ nodes: ['1', '2'], events: events.slice(0, 4) }, { checkpointEvery: 2 });
    late.forget(4);
    expect(() => late.push({ time: 5, kind: 'deliver', id: 2, ...msg, duplicate: true })).toThrow(/forgotten/);
    expect(late.length).toBe(4);
  });

  it('is what its TSDoc example says', async () => {
    const cluster = new Cluster({ size: 3, seed: 2 });
    const replay = new TraceReplay({ nodes: cluster.ids, events: [] }, { checkpointEvery: 16 });
    cluster.onTrace((event) => replay.push(event));
    await cluster.run(5000);
    const later = replay.stateAt(replay.length - 10);
    replay.forget(replay.length - 20);
    expect([replay.start % 16, replay.length - replay.start < 36]).toEqual([0, true]);
    expect(JSON.stringify(replay.stateAt(later.position)) === JSON.stringify(later)).toBe(true);
    expect(replay.stateAt(0).position === replay.start).toBe(true);
    expect(replay.start).toBeGreaterThan(0);
    // Forgetting at or before start, or with checkpoints farther apart than asked, keeps everything.
    const start = replay.start;
    replay.forget(start + 15);
    replay.forget(-1);
    expect(replay.start).toBe(start);
  });
});
