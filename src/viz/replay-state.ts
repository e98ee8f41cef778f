/**
 * The visible state of a cluster at one point of its trace, and how each event changes it: the
 * machine `TraceReplay` runs forward from its checkpoints. Internal state is mutable and cheap
 * to copy (a log is kept as runs of equal terms); `freeze` turns it into the immutable
 * {@link ReplayState} callers see.
 *
 * What the trace says and when (see src/sim/cluster.ts): a node's saves are traced as they are
 * written (`append`, `truncate`), its term, role and commit index when its step ends, its votes
 * when it answers, its messages as the network moves them. A restarted node reloads its term,
 * vote, log and snapshot from storage; its commit and applied index restart at its snapshot's
 * index (everything in it is committed and restored), its role as follower, its votes empty.
 */
import type { MessageType } from '../raft/messages.js';
import type { NodeId, Role } from '../raft/types.js';
import type { MessageEvent, TraceEvent } from '../sim/trace.js';
import { ReplayError } from './replay-error.js';
import { compareIds } from './svg.js';

/**
 * One node's visible state at a point of a trace. A crashed node shows what survives the crash,
 * which is what it restarts with: its term, vote, log and snapshot, role follower, commit and
 * applied index at its snapshot's, no votes. The log is the node's log as saved (the trace
 * records saves): on a cluster with `diskLatencyMs` it lags the node's in-memory log while saves
 * are in flight, and a snapshot taken by `compact()` shows at once, though a crash before the
 * node's next step would lose it.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { TraceReplay, type ReplayedNode } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.propose('x');
 * const replay = new TraceReplay(cluster.traceDocument());
 * const nodes: readonly ReplayedNode[] = replay.stateAt(replay.length).nodes;
 * for (const n of nodes) console.log(n.id, n.role, n.term, n.log, n.commitIndex); // 1 follower 1 [ 1, 1 ] 2 …
 * ```
 */
export interface ReplayedNode {
  /** The node's id. */
  readonly id: NodeId;
  /** Running, crashed (until it restarts), or paused (it holds what arrives until it resumes). */
  readonly status: 'up' | 'crashed' | 'paused';
  /** Its role ('follower' while crashed: it restarts as one). */
  readonly role: Role;
  /** Its current term. */
  readonly term: number;
  /** Whom it voted for in its current term. */
  readonly votedFor: NodeId | null;
  /** The last index its snapshot covers (0 when none). */
  readonly snapshotIndex: number;
  /** The term of the entry at `snapshotIndex` (0 when none). */
  readonly snapshotTerm: number;
  /** The term of each entry of its log after the snapshot: `log[i]` is entry `snapshotIndex + 1 + i`'s. */
  readonly log: readonly number[];
  /** The index of its last entry (its snapshot's when the log after it is empty). */
  readonly lastIndex: number;
  /** The highest index it knows committed. */
  readonly commitIndex: number;
  /** The highest index it applied (it applies what it commits in the same step). */
  readonly appliedIndex: number;
  /**
   * The votes it received in its current campaign, itself included, sorted as the pictures sort
   * ids ('2' before '10'), pre-votes while a precandidate: as `RaftNode.status().votes` counts
   * them, from the answers delivered to it.
   * One case the trace cannot decide: an answer delivered in the very instant a new round of the
   * same term starts (the round shows when its requests go out) is counted in the old round.
   */
  readonly votes: readonly NodeId[];
  /**
   * The virtual time its election timer was last (re)started, as far as the trace shows: a
   * campaign (pre-vote or vote), a vote it granted, an AppendEntries or InstallSnapshot from a
   * leader of its term or a later one, stepping down as leader, a start, a restart or a join.
   */
  readonly timerResetAt: number;
}

/**
 * A copy of a message sent and not yet delivered or dropped. The network may make a second copy
 * (`duplicate`); it shows from the send on once the trace holds that copy's outcome.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { TraceReplay, type InFlightMessage } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * const replay = new TraceReplay(cluster.traceDocument());
 * const flying: readonly InFlightMessage[] = replay.stateAt(replay.length).inFlight;
 * for (const m of flying) console.log(`${m.type} ${m.from}→${m.to}, sent at ${m.sentAt}`);
 * ```
 */
export interface InFlightMessage {
  /** The message's id (its send's). */
  readonly id: number;
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The message type. */
  readonly type: MessageType;
  /** The message's term. */
  readonly term: number;
  /** What it says, briefly. */
  readonly summary: string;
  /** When it was sent. */
  readonly sentAt: number;
  /** Its send event, with every field the message had. */
  readonly send: MessageEvent;
  /** This is the second copy the network made of the message. */
  readonly duplicate: boolean;
}

/**
 * The visible state of the whole cluster after the first `position` events of a trace. It is an
 * immutable snapshot (frozen): holding one while seeking elsewhere is safe.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { TraceReplay, type ReplayState } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 5, seed: 3 });
 * await cluster.waitForLeader();
 * cluster.partition(['1', '2'], ['3', '4', '5']);
 * await cluster.run(50);
 * const replay = new TraceReplay(cluster.traceDocument());
 * const state: ReplayState = replay.stateAt(replay.length);
 * console.log(state.leader, state.partition, state.inFlight.length); // … [ [ '1', '2' ], [ '3', '4', '5' ] ] …
 * ```
 */
export interface ReplayState {
  /** How many events have been applied (0 … length). */
  readonly position: number;
  /** The virtual time of the last applied event (0 at position 0). */
  readonly time: number;
  /** Every node, in the document's `nodes` order, joined nodes after; a removed node is gone. */
  readonly nodes: readonly ReplayedNode[];
  /** The message copies in flight, ordered by send (a duplicate right after its original). */
  readonly inFlight: readonly InFlightMessage[];
  /** The partition in force (its groups as given), or null. */
  readonly partition: readonly (readonly NodeId[])[] | null;
  /** The one-way cuts in force, as (from, to), in the order they were made. */
  readonly cuts: readonly (readonly [NodeId, NodeId])[];
  /** The nodes disconnected from the network (`disconnect`), in the order they were. */
  readonly disconnected: readonly NodeId[];
  /** The up (neither crashed nor paused) leader with the highest term, if any. */
  readonly leader: NodeId | undefined;
}

/** A run of entries with one term, from index `from` to the next run's start (or the log's end). */
interface Run {
  readonly from: number;
  readonly term: number;
}

/** One node, mutable. `runs` and `held` are copied on clone; runs themselves never change. */
interface NodeState {
  readonly id: NodeId;
  status: ReplayedNode['status'];
  role: Role;
  term: number;
  votedFor: NodeId | null;
  snapshotIndex: number;
  snapshotTerm: number;
  runs: Run[];
  lastIndex: number;
  commitIndex: number;
  appliedIndex: number;
  votes: NodeId[];
  timerResetAt: number;
  /** Sends delivered while it was paused, handled when it resumes. */
  held: MessageEvent[];
}

/** The whole cluster, mutable (internal to the replay). */
export interface MachineState {
  position: number;
  time: number;
  nodes: NodeState[];
  /** In-flight copies by key: id × 2, plus 1 for a duplicate copy (Map order: insertion). */
  inFlight: Map<number, InFlightMessage>;
  partition: readonly (readonly NodeId[])[] | null;
  cuts: readonly (readonly [NodeId, NodeId])[];
  disconnected: readonly NodeId[];
}

/** What the machine needs to know of the whole trace: the sends that have a duplicate copy. */
export interface MachineContext {
  readonly duplicated: ReadonlySet<number>;
}

/** The state before any event: `nodes` up, followers in term 0 with empty logs. */
export function initialState(nodes: readonly NodeId[]): MachineState {
  return { position: 0, time: 0, nodes: nodes.map((id) => newNode(id, 0)), inFlight: new Map(), partition: null, cuts: [], disconnected: [] };
}

function newNode(id: NodeId, time: number): NodeState {
  return { id, status: 'up', role: 'follower', term: 0, votedFor: null, snapshotIndex: 0, snapshotTerm: 0, runs: [], lastIndex: 0, commitIndex: 0, appliedIndex: 0, votes: [], timerResetAt: time, held: [] };
}

/** A copy of `state` that shares nothing mutable with it. */
export function cloneState(state: MachineState): MachineState {
  return {
    position: state.position,
    time: state.time,
    nodes: state.nodes.map((n) => ({ ...n, runs: n.runs.slice(), votes: n.votes.slice(), held: n.held.slice() })),
    inFlight: new Map(state.inFlight),
    partition: state.partition,
    cuts: state.cuts,
    disconnected: state.disconnected,
  };
}

/** The key of a message copy in {@link MachineState.inFlight}. */
export const copyKey = (id: number, duplicate: boolean): number => id * 2 + (duplicate ? 1 : 0);

/** The in-flight record of one copy of `send`. */
export function copyOf(send: MessageEvent, duplicate: boolean): InFlightMessage {
  return Object.freeze({ id: send.id as number, from: send.from, to: send.to, type: send.type, term: send.term, summary: send.summary, sentAt: send.time, send, duplicate });
}

/** Kinds that change a node's own state: they must name a node the cluster has. */
const NODE_KINDS: ReadonlySet<string> = new Set(['role', 'term', 'vote', 'commit', 'apply', 'append', 'truncate', 'snapshot', 'timeout', 'crash', 'restart', 'pause', 'resume', 'leave']);

const ROLES: ReadonlySet<string> = new Set<Role>(['follower', 'precandidate', 'candidate', 'leader']);

const isString = (value: unknown): value is string => typeof value === 'string';
/** A term or a log index: a whole number ≥ 0. */
const isCount = (value: unknown): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;

/**
 * Why event `e` lacks a field its kind needs, or has one malformed (undefined when it has them
 * all): what {@link applyEvent} reads of it, checked before anything changes.
 */
function malformed(e: TraceEvent): string | undefined {
  const f = e as unknown as Readonly<Record<string, unknown>>;
  const need = (ok: boolean, what: () => string): string | undefined => (ok ? undefined : `${e.kind} ${what()}`);
  switch (e.kind) {
    case 'send':
      return need(isString(f['from']) && isString(f['to']) && isString(f['type']) && isCount(f['term']) && isString(f['summary']), () => 'without a string from, to, type and summary and a whole term ≥ 0');
    case 'deliver':
      return need(isString(f['to']), () => 'without a string to');
    case 'role':
      return need(isString(f['role']) && ROLES.has(f['role']) && isCount(f['term']), () => `without a known role (${[...ROLES].join(', ')}) and a whole term ≥ 0`);
    case 'term':
      return need(isCount(f['term']) && (f['votedFor'] === null || isString(f['votedFor'])), () => 'without a whole term ≥ 0 and a votedFor (an id or null)');
    case 'timeout':
      return need(typeof f['term'] === 'number' && Number.isSafeInteger(f['term']), () => 'without a whole term');
    case 'commit':
    case 'apply':
      return need(isCount(f['index']), () => 'without a whole index ≥ 0');
    case 'append': {
      const terms = f['terms'];
      const ok = isCount(f['from']) && f['from'] >= 1 && isCount(f['to']) && Array.isArray(terms) && terms.length === f['to'] - f['from'] + 1 && terms.every(isCount);
      return need(ok, () => `${String(f['from'])}..${String(f['to'])} without whole indexes from ≥ 1 and to, and a whole term ≥ 0 for each entry`);
    }
    case 'truncate':
      return need(isCount(f['from']) && f['from'] >= 1, () => 'without a whole index from ≥ 1');
    case 'snapshot':
      return need(isCount(f['index']) && isCount(f['term']), () => 'without a whole index and term ≥ 0');
    case 'join':
    case 'disconnect':
    case 'reconnect':
      return need(isString(f['node']), () => 'without a string node');
    case 'partition': {
      const groups = f['groups'];
      return need(Array.isArray(groups) && groups.every((g) => Array.isArray(g) && g.every(isString)), () => 'without groups (lists of node ids)');
    }
    case 'cut':
    case 'restore':
      return need(isString(f['from']) && isString(f['to']), () => 'without from and to');
    default:
      return undefined;
  }
}

/**
 * Applies event `e` (the trace's event number `index`) to `state`. Checks everything first: an
 * event it refuses (a {@link ReplayError}) leaves `state` unchanged.
 */
export function applyEvent(state: MachineState, e: TraceEvent, index: number, context: MachineContext): void {
  const kind = e.kind as string;
  const problem = malformed(e);
  if (problem !== undefined) throw new ReplayError('BAD_EVENT', index, problem);
  let node: NodeState | undefined;
  if (NODE_KINDS.has(kind)) {
    const id = (e as { node?: unknown }).node;
    node = state.nodes.find((n) => n.id === id);
    if (node === undefined) throw new ReplayError('UNKNOWN_NODE', index, `${kind} of node ${JSON.stringify(id)}, which the cluster does not have`);
  }
  const time = e.time;
  switch (e.kind) {
    case 'send': {
      const id = e.id as number;
      state.inFlight.set(copyKey(id, false), copyOf(e, false));
      if (context.duplicated.has(id)) state.inFlight.set(copyKey(id, true), copyOf(e, true));
      if (e.type === 'RequestVoteResponse' && e.success === true) {
        // A vote granted: the voter is in the answer's term and voted for the candidate already (its
        // term event comes as its step ends). The answer's term, not the vote event's: a node that
        // answers requests it held while paused answers each in its own term.
        const voter = state.nodes.find((n) => n.id === e.from);
        if (voter !== undefined) {
          voter.timerResetAt = time;
          if (e.term > voter.term) raiseTerm(voter, e.term, null);
          // (An answer sent after the voter moved on to a later term, in the same step, changes no vote.)
          if (e.term === voter.term) voter.votedFor = e.to;
        }
      }
      break;
    }
    case 'deliver':
    case 'drop': {
      const key = copyKey(e.id as number, e.duplicate === true);
      const copy = state.inFlight.get(key);
      if (copy === undefined) {
        throw new ReplayError('UNKNOWN_MESSAGE', index, `${e.kind} of message ${String(e.id)}${e.duplicate === true ? ' (a duplicate)' : ''}, which is not in flight`);
      }
      state.inFlight.delete(key);
      if (e.kind === 'deliver') deliver(state, e.to, copy.send, time);
      break;
    }
    case 'role': {
      const n = node as NodeState;
      const was = n.role;
      if (e.term > n.term) raiseTerm(n, e.term, null);
      n.role = e.role;
      if (e.role === 'candidate' || e.role === 'precandidate') startRound(n, time);
      else if (e.role === 'leader' && was !== 'candidate') n.votes = [n.id]; // a single voter wins at once
      else if (e.role === 'follower' && was === 'leader') n.timerResetAt = time;
      break;
    }
    case 'term': {
      const n = node as NodeState;
      if (e.term > n.term) raiseTerm(n, e.term, e.votedFor);
      n.term = e.term;
      n.votedFor = e.votedFor;
      break;
    }
    case 'vote': // (what a granted vote changes is read from the answer's send, which follows)
      break;
    case 'timeout': {
      if (e.cause === 'check-quorum') break; // (a leader stepping down: its role event follows)
      // Traced at its first vote request, which goes out as the node's step ends: by then the node
      // may have moved on (a higher term came in the same instant, or while it was paused), or
      // stepped down in the same term, keeping the round's votes as RaftNode counts them.
      const n = node as NodeState;
      if (n.term > e.term + 1) break; // (a round long gone)
      n.timerResetAt = time;
      // A pre-vote round is in the term it started in; a vote round in the next, voting for itself.
      if (n.term === e.term || n.votedFor === n.id) n.votes = [n.id];
      break;
    }
    case 'commit': {
      const n = node as NodeState;
      n.commitIndex = e.index;
      if (e.index > n.appliedIndex) n.appliedIndex = e.index;
      break;
    }
    case 'apply': {
      const n = node as NodeState;
      if (e.index > n.appliedIndex) n.appliedIndex = e.index;
      break;
    }
    case 'append': {
      const n = node as NodeState;
      const terms = e.terms as readonly number[];
      if (e.from <= n.snapshotIndex) {
        throw new ReplayError('LOG_GAP', index, `append at ${e.from} to node ${n.id}, whose snapshot covers 1..${n.snapshotIndex}`);
      }
      if (e.from > n.lastIndex + 1) {
        // Past the end: the entries follow a snapshot saved with them, being installed (its event
        // comes once the node restored it, in the same step). The log before them is gone.
        n.runs = [];
        n.lastIndex = n.snapshotIndex = e.from - 1;
      }
      truncateAfter(n, e.from - 1);
      for (const term of terms) appendTerm(n, term);
      break;
    }
    case 'truncate': {
      const n = node as NodeState;
      if (e.from <= n.snapshotIndex || e.from > n.lastIndex) {
        throw new ReplayError('LOG_GAP', index, `truncate from ${e.from} on node ${n.id}, whose log holds ${n.snapshotIndex + 1}..${n.lastIndex}`);
      }
      truncateAfter(n, e.from - 1);
      break;
    }
    case 'snapshot': {
      const n = node as NodeState;
      if (e.index < n.snapshotIndex) break; // (nothing newer than what it holds)
      if (e.index === n.snapshotIndex) {
        n.snapshotTerm = e.term; // (the one its entries were saved after)
        break;
      }
      if (e.index >= n.lastIndex) {
        n.runs = [];
        n.lastIndex = e.index;
      } else dropThrough(n, e.index);
      n.snapshotIndex = e.index;
      n.snapshotTerm = e.term;
      break;
    }
    case 'crash': {
      const n = node as NodeState;
      n.status = 'crashed';
      volatileLost(n);
      n.held = [];
      break;
    }
    case 'restart': {
      const n = node as NodeState;
      n.status = 'up';
      volatileLost(n);
      n.timerResetAt = time;
      break;
    }
    case 'pause': {
      const n = node as NodeState;
      if (n.status === 'up') n.status = 'paused';
      break;
    }
    case 'resume': {
      const n = node as NodeState;
      if (n.status !== 'paused') break;
      n.status = 'up';
      // What it held runs now (in order), as the deliveries would have.
      const held = n.held;
      n.held = [];
      for (const send of held) handle(n, send, time);
      break;
    }
    case 'join': {
      if (state.nodes.some((n) => n.id === e.node)) throw new ReplayError('DUPLICATE_NODE', index, `join of node ${JSON.stringify(e.node)}, which the cluster has`);
      state.nodes.push(newNode(e.node, time));
      break;
    }
    case 'leave':
      state.nodes = state.nodes.filter((n) => n !== node);
      break;
    case 'disconnect':
      if (!state.disconnected.includes(e.node)) state.disconnected = [...state.disconnected, e.node];
      break;
    case 'reconnect':
      state.disconnected = state.disconnected.filter((id) => id !== e.node);
      break;
    case 'partition':
      state.partition = (e.groups as readonly (readonly NodeId[])[]).map((group) => [...group]);
      break;
    case 'heal':
      state.partition = null;
      state.cuts = [];
      state.disconnected = [];
      break;
    case 'cut': {
      const { from, to } = e as { readonly from: NodeId; readonly to: NodeId };
      if (!state.cuts.some(([f, t]) => f === from && t === to)) state.cuts = [...state.cuts, [from, to]];
      break;
    }
    case 'restore':
      state.cuts = state.cuts.filter(([f, t]) => f !== e.from || t !== e.to);
      break;
    default:
    // propose, ack, fail, configure, clock, and kinds of newer traces: nothing visible here.
  }
  state.position++;
  state.time = time;
}

/** A node's term rises: a new term's vote, and the votes of the old one are gone (unless it votes for itself: a campaign). */
function raiseTerm(n: NodeState, term: number, votedFor: NodeId | null): void {
  n.term = term;
  n.votedFor = votedFor;
  n.votes = votedFor === n.id ? [n.id] : [];
}

/** A new round of a campaign (pre-vote or vote): its own vote only, and a fresh timer. */
function startRound(n: NodeState, time: number): void {
  n.votes = [n.id];
  n.timerResetAt = time;
}

/** Crashed or restarted: only what storage holds remains. */
function volatileLost(n: NodeState): void {
  n.role = 'follower';
  n.votes = [];
  n.commitIndex = n.appliedIndex = n.snapshotIndex;
}

/** A copy of `send` reached node `to`: it handles it now, or when it resumes. */
function deliver(state: MachineState, to: NodeId, send: MessageEvent, time: number): void {
  const n = state.nodes.find((node) => node.id === to);
  if (n === undefined || n.status === 'crashed') return;
  if (n.status === 'paused') n.held.push(send);
  else handle(n, send, time);
}

/** What handling a message shows on the node before its step ends: votes counted, the timer restarted. */
function handle(n: NodeState, m: MessageEvent, time: number): void {
  switch (m.type) {
    case 'AppendEntries':
    case 'InstallSnapshot':
      if (m.term >= n.term) n.timerResetAt = time;
      break;
    case 'RequestVoteResponse':
      if (m.success === true && m.term === n.term && (n.role === 'candidate' || n.role === 'leader')) addVote(n, m.from);
      break;
    case 'PreVoteResponse':
      if (m.success === true && m.term === n.term + 1 && n.role === 'precandidate') addVote(n, m.from);
      break;
    default:
  }
}

function addVote(n: NodeState, from: NodeId): void {
  if (n.votes.includes(from)) return;
  n.votes = [...n.votes, from].sort(compareIds);
}

/** Keeps entries through `index` (≥ the snapshot's). */
function truncateAfter(n: NodeState, index: number): void {
  if (index >= n.lastIndex) return;
  const runs = n.runs;
  while (runs.length > 0 && (runs[runs.length - 1] as Run).from > index) runs.pop();
  n.lastIndex = index;
}

function appendTerm(n: NodeState, term: number): void {
  const last = n.runs[n.runs.length - 1];
  n.lastIndex++;
  if (last === undefined || last.term !== term) n.runs.push({ from: n.lastIndex, term });
}

/** Drops entries through `index` (< lastIndex): a snapshot covers them. */
function dropThrough(n: NodeState, index: number): void {
  const runs = n.runs;
  let first = 0;
  while (first + 1 < runs.length && (runs[first + 1] as Run).from <= index + 1) first++;
  const kept = runs.slice(first);
  const head = kept[0];
  if (head !== undefined && head.from <= index) kept[0] = { from: index + 1, term: head.term };
  n.runs = kept;
}

/** The terms of a node's log after its snapshot. */
function termsOf(n: NodeState): number[] {
  const terms = new Array<number>(n.lastIndex - n.snapshotIndex);
  const runs = n.runs;
  for (let r = 0; r < runs.length; r++) {
    const run = runs[r] as Run;
    const end = r + 1 < runs.length ? (runs[r + 1] as Run).from - 1 : n.lastIndex;
    for (let i = run.from; i <= end; i++) terms[i - n.snapshotIndex - 1] = run.term;
  }
  return terms;
}

/** The immutable view of `state`. */
export function freeze(state: MachineState): ReplayState {
  let leader: NodeState | undefined;
  const nodes = state.nodes.map((n) => {
    if (n.status === 'up' && n.role === 'leader' && (leader === undefined || n.term > leader.term)) leader = n;
    const node: ReplayedNode = {
      id: n.id,
      status: n.status,
      role: n.role,
      term: n.term,
      votedFor: n.votedFor,
      snapshotIndex: n.snapshotIndex,
      snapshotTerm: n.snapshotTerm,
      log: Object.freeze(termsOf(n)),
      lastIndex: n.lastIndex,
      commitIndex: n.commitIndex,
      appliedIndex: n.appliedIndex,
      votes: Object.freeze(n.votes.slice()),
      timerResetAt: n.timerResetAt,
    };
    return Object.freeze(node);
  });
  const inFlight = [...state.inFlight.values()].sort((a, b) => a.id - b.id || Number(a.duplicate) - Number(b.duplicate));
  return Object.freeze({
    position: state.position,
    time: state.time,
    nodes: Object.freeze(nodes),
    inFlight: Object.freeze(inFlight),
    partition: state.partition === null ? null : Object.freeze(state.partition.map((group) => Object.freeze([...group]))),
    cuts: Object.freeze(state.cuts.map((cut) => Object.freeze([...cut] as [NodeId, NodeId]))),
    disconnected: Object.freeze([...state.disconnected]),
    leader: (leader as NodeState | undefined)?.id,
  });
}
