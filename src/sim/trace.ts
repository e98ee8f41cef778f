import type { MessageType } from '../raft/messages.js';
import type { NodeId, Role } from '../raft/types.js';

/**
 * What every trace event has.
 *
 * @example
 * ```ts
 * import type { TraceBase } from 'raftkit';
 * const since = (events: readonly TraceBase[], ms: number) => events.filter((event) => event.time >= ms);
 * ```
 */
export interface TraceBase {
  /** Virtual time of the event, in ms. */
  readonly time: number;
}

/**
 * A node changed role (e.g. became leader of `term`).
 *
 * @example
 * ```ts
 * import type { RoleEvent } from 'raftkit';
 * const e: RoleEvent = { time: 310, kind: 'role', node: '2', role: 'leader', term: 1 };
 * ```
 */
export interface RoleEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'role';
  /** The node. */
  readonly node: NodeId;
  /** Its new role. */
  readonly role: Role;
  /** Its term. */
  readonly term: number;
}

/**
 * A node's commit index advanced (`index` is the new commit index, `term` the term of the entry
 * there), a node applied an entry, or a client's command was appended on a leader (`propose`:
 * made through `RaftNode.submit` or `propose` on any node, or by `Cluster.propose`).
 *
 * @example
 * ```ts
 * import type { LogEvent } from 'raftkit';
 * const e: LogEvent = { time: 512, kind: 'apply', node: '1', index: 3, term: 1 };
 * ```
 */
export interface LogEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'commit' | 'apply' | 'propose';
  /** The node. */
  readonly node: NodeId;
  /** The log index (for commit: the new commit index). */
  readonly index: number;
  /** The entry's term (for commit: the term of the entry at the new commit index, 0 if compacted away). */
  readonly term: number;
  /** The client operation's id (`propose` events only): its `ack` or `fail` event carries the same. */
  readonly op?: number;
}

/**
 * A node's term changed (it saw a higher term, or started a campaign), with whom it voted for
 * in it so far.
 *
 * @example
 * ```ts
 * import type { TermEvent } from 'raftkit';
 * const e: TermEvent = { time: 180, kind: 'term', node: '2', term: 1, votedFor: '2' };
 * ```
 */
export interface TermEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'term';
  /** The node. */
  readonly node: NodeId;
  /** Its new term. */
  readonly term: number;
  /** Whom it voted for in this term (null: nobody yet). */
  readonly votedFor: NodeId | null;
}

/**
 * Why a vote was refused: the candidate's term was older than the voter's (`stale-term`), the
 * voter had voted for another node in that term (`already-voted`), the candidate's log was less
 * up to date than the voter's (`log-behind`), or the voter had heard from a leader within its
 * election timeout (`leader-known`: pre-vote and check-quorum keep a live leader).
 *
 * @example
 * ```ts
 * import type { VoteRefusal } from 'raftkit';
 * const why: VoteRefusal = 'log-behind';
 * ```
 */
export type VoteRefusal = 'stale-term' | 'already-voted' | 'log-behind' | 'leader-known';

/**
 * A node answered a RequestVote (or, with `preVote`, a PreVote): granted, or refused and why.
 * The reason is derived from the request and the voter's state when it answered.
 *
 * @example
 * ```ts
 * import type { VoteEvent } from 'raftkit';
 * const e: VoteEvent = { time: 185, kind: 'vote', node: '3', candidate: '2', term: 2, preVote: false, granted: false, reason: 'already-voted' };
 * ```
 */
export interface VoteEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'vote';
  /** The voter. */
  readonly node: NodeId;
  /** The candidate. */
  readonly candidate: NodeId;
  /**
   * The term the candidate asked the vote for: that of its latest request delivered to the voter.
   * A voter that answers several requests from one candidate at once (after a pause, say) has
   * each answer traced with the latest request's term; a request ignored within a leader's lease
   * gets no answer and no event.
   */
  readonly term: number;
  /** A pre-vote (no term changes) rather than a vote. */
  readonly preVote: boolean;
  /** Whether the vote was granted. */
  readonly granted: boolean;
  /** Why it was refused (refusals only). */
  readonly reason?: VoteRefusal;
}

/**
 * A node's storage received entries `from`..`to` (`terms[i]` is the term of entry `from + i`),
 * or discarded the entries `from`..`to` of its log (`truncate`: a conflicting suffix, or the log
 * an installed snapshot replaced). Replaying the appends and truncations of a node (and its
 * snapshots) rebuilds its log.
 *
 * @example
 * ```ts
 * import type { AppendEvent } from 'raftkit';
 * const e: AppendEvent = { time: 320, kind: 'append', node: '3', from: 2, to: 3, terms: [1, 1] };
 * ```
 */
export interface AppendEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'append' | 'truncate';
  /** The node. */
  readonly node: NodeId;
  /** The first index written or discarded. */
  readonly from: number;
  /** The last index written or discarded. */
  readonly to: number;
  /** The term of each entry written (`append` only). */
  readonly terms?: readonly number[];
}

/**
 * A node took a snapshot of its state machine through `index` (`installed: false`), or installed
 * one a leader sent it (`installed: true`). Its log no longer holds the entries through `index`.
 *
 * @example
 * ```ts
 * import type { SnapshotEvent } from 'raftkit';
 * const e: SnapshotEvent = { time: 900, kind: 'snapshot', node: '1', index: 40, term: 2, installed: false };
 * ```
 */
export interface SnapshotEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'snapshot';
  /** The node. */
  readonly node: NodeId;
  /** The last index the snapshot covers. */
  readonly index: number;
  /** The term of the entry at `index`. */
  readonly term: number;
  /** Whether it came from the leader rather than from the node's own state machine. */
  readonly installed: boolean;
}

/**
 * A node's election timer fired and it started a campaign (`cause: 'timer'`), or it campaigned
 * because it was asked to (`campaign`: `RaftNode.campaign()`; `TimeoutNow`: a leadership
 * transfer). Seen from the simulator: a node that becomes a (pre-)candidate, traced before the
 * `role` event and the vote requests of that campaign (a single voter, which sends none and
 * leads at once, has one too). A leader's check-quorum timer that finds no majority is traced
 * too (`cause: 'check-quorum'`, just before the leader's `role` event); one that finds a
 * majority changes nothing and is not.
 *
 * @example
 * ```ts
 * import type { TimeoutEvent } from 'raftkit';
 * const e: TimeoutEvent = { time: 176, kind: 'timeout', node: '2', term: 0, cause: 'timer' };
 * ```
 */
export interface TimeoutEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'timeout';
  /** The node. */
  readonly node: NodeId;
  /** Its term when the campaign started (a candidate then moves to `term + 1`); for `'check-quorum'`, the term it led. */
  readonly term: number;
  /**
   * What started the campaign: its election timer, a `campaign()` call, or a leader's
   * TimeoutNow. `'check-quorum'` is no campaign: a leader's check-quorum timer found that it had
   * not heard from a majority within an election timeout, and it steps down (the `role` event
   * that follows, in the same term). A check that finds a majority changes nothing and is not traced.
   */
  readonly cause: 'timer' | 'campaign' | 'TimeoutNow' | 'check-quorum';
}

/**
 * A client operation's outcome: `ack`, the command proposed with `op` through `RaftNode.propose`
 * was applied at `index`; `fail`, `propose` or `submit` refused or gave up (`error`: the error's
 * name and message). A `submit` alone has no `ack` (its caller waits for nothing). Recorded when
 * the caller's promise settles: the simulation runs promise callbacks between slices of virtual
 * time, so an `ack` may come a few ms after the entry's `apply`.
 *
 * @example
 * ```ts
 * import type { ClientEvent } from 'raftkit';
 * const e: ClientEvent = { time: 530, kind: 'fail', node: '3', op: 4, error: 'NotLeaderError: not the leader' };
 * ```
 */
export interface ClientEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'ack' | 'fail';
  /** The node the client called. */
  readonly node: NodeId;
  /** The operation's id, as its `propose` event has it (failures before an append have their own). */
  readonly op: number;
  /** Where the command was applied (`ack` only). */
  readonly index?: number;
  /** Its term (`ack` only). */
  readonly term?: number;
  /** Why it failed (`fail` only). */
  readonly error?: string;
}

/**
 * A message was sent, delivered or dropped by the simulated network. Each send has a new `id`;
 * its delivery or drop carries the same id, and so does the outcome of a copy the network made
 * (`duplicate: true`). A send also gives the message's fields as they apply to its type: the
 * sender's last log (votes), `prevIndex`/`prevTerm`, the `entries` range and `commit`
 * (AppendEntries), `success`, `index` and a refusal's `refusal` (answers); an outcome repeats
 * only the type, term and summary, and names its send by id.
 *
 * @example
 * ```ts
 * import type { MessageEvent } from 'raftkit';
 * const e: MessageEvent = {
 *   time: 5, kind: 'send', id: 7, from: '1', to: '2', type: 'AppendEntries', term: 1,
 *   summary: '2 entries after 1:1, commit 1', prevIndex: 1, prevTerm: 1, entries: [2, 3], commit: 1,
 * };
 * ```
 */
export interface MessageEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'send' | 'deliver' | 'drop';
  /** The message's id, unique in the run (absent in traces older than version 1). */
  readonly id?: number;
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The message type. */
  readonly type: MessageType;
  /** The message's term. */
  readonly term: number;
  /** What the message says, briefly (e.g. "granted", "3 entries after 4:1, commit 4", "rejected at 5"). */
  readonly summary: string;
  /** Why it was dropped (drop events only). */
  readonly reason?: string;
  /** This outcome is of a second copy the network made of the message. */
  readonly duplicate?: true;
  /** The sender's last log index (RequestVote, PreVote). */
  readonly lastLogIndex?: number;
  /** The sender's last log term (RequestVote, PreVote). */
  readonly lastLogTerm?: number;
  /** The index of the entry before `entries` (AppendEntries). */
  readonly prevIndex?: number;
  /** Its term (AppendEntries). */
  readonly prevTerm?: number;
  /** The first and last index of the entries carried (AppendEntries with entries). */
  readonly entries?: readonly [number, number];
  /** The leader's commit index (AppendEntries). */
  readonly commit?: number;
  /** Whether the request was accepted (answers: votes granted, entries appended, read confirmed). */
  readonly success?: boolean;
  /** The index an answer names (AppendEntriesResponse: matched through, or where to retry; InstallSnapshot: through). */
  readonly index?: number;
  /**
   * Why an AppendEntriesResponse refused (`stale-term`: the leader's term was older;
   * `log-mismatch`: no entry matched `prevIndex`/`prevTerm`), or a vote's refusal.
   */
  readonly refusal?: string;
}

/**
 * A fault or repair applied to one node (`pause`: it stops processing and keeps its state until
 * `resume`), or a node added to (`join`) or removed from (`leave`) the cluster.
 *
 * @example
 * ```ts
 * import type { NodeFaultEvent } from 'raftkit';
 * const e: NodeFaultEvent = { time: 1000, kind: 'crash', node: '3' };
 * ```
 */
export interface NodeFaultEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'crash' | 'restart' | 'disconnect' | 'reconnect' | 'pause' | 'resume' | 'join' | 'leave';
  /** The node. */
  readonly node: NodeId;
}

/**
 * The network was partitioned into `groups`, or healed.
 *
 * @example
 * ```ts
 * import type { NetworkFaultEvent } from 'raftkit';
 * const e: NetworkFaultEvent = { time: 2000, kind: 'partition', groups: [['1', '2'], ['3', '4', '5']] };
 * ```
 */
export interface NetworkFaultEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'partition' | 'heal';
  /** The groups (partition events only). */
  readonly groups?: readonly (readonly NodeId[])[];
}

/**
 * A one-way link fault (`cut`: messages from `from` to `to` are lost; `restore`: they flow
 * again), or new network conditions (`configure`, with the conditions given).
 *
 * @example
 * ```ts
 * import type { NetworkConfigEvent } from 'raftkit';
 * const e: NetworkConfigEvent = { time: 700, kind: 'cut', from: '1', to: '2' };
 * ```
 */
export interface NetworkConfigEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'cut' | 'restore' | 'configure';
  /** The sending side of the link (`cut`, `restore`). */
  readonly from?: NodeId;
  /** The receiving side (`cut`, `restore`). */
  readonly to?: NodeId;
  /** The conditions set (`configure`), as given. */
  readonly conditions?: Readonly<Record<string, unknown>>;
}

/**
 * A node's clock was changed: from this event on it reads the virtual time plus `offsetMs` and
 * runs `1 + drift` times as fast (see `Cluster.setClock`).
 *
 * @example
 * ```ts
 * import type { ClockEvent } from 'raftkit';
 * const e: ClockEvent = { time: 1500, kind: 'clock', node: '2', offsetMs: 0, drift: 0.05 };
 * ```
 */
export interface ClockEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'clock';
  /** The node. */
  readonly node: NodeId;
  /** Its clock's offset from virtual time, right after the change. */
  readonly offsetMs: number;
  /** Its clock's rate error from now on. */
  readonly drift: number;
}

/**
 * One event of a simulated run, in the order it happened. Every event is a plain JSON object
 * with the virtual `time` in ms; the whole trace of a seed is identical on every replay.
 *
 * @example
 * ```ts
 * import { Cluster, type TraceEvent } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * const trace: TraceEvent[] = cluster.trace();
 * for (const event of trace) {
 *   if (event.kind === 'role') console.log(`${event.time} ms: node ${event.node} is ${event.role} in term ${event.term}`);
 * } // … 197 ms: node 2 is leader in term 1
 * ```
 */
export type TraceEvent =
  | RoleEvent
  | TermEvent
  | VoteEvent
  | LogEvent
  | AppendEvent
  | SnapshotEvent
  | TimeoutEvent
  | ClientEvent
  | MessageEvent
  | NodeFaultEvent
  | NetworkFaultEvent
  | NetworkConfigEvent
  | ClockEvent;

/**
 * The version of the trace schema {@link TraceDocument} describes. It grows when a kind of event
 * or a field changes meaning; new optional fields and kinds keep it.
 *
 * @example
 * ```ts
 * import { TRACE_VERSION } from 'raftkit';
 * console.log(TRACE_VERSION); // 1
 * ```
 */
export const TRACE_VERSION = 1;

/**
 * A whole trace as `Cluster.traceDocument()` returns it and `raftkit simulate --trace` writes it:
 * the schema version, the seed, the nodes it started with, the limit, how many of the oldest events
 * the limit dropped, and the retained events, oldest first.
 *
 * @example
 * ```ts
 * import { Cluster, type TraceDocument } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1, traceLimit: 100 });
 * await cluster.run(1000);
 * const doc: TraceDocument = cluster.traceDocument();
 * console.log(doc.version, doc.events.length, doc.dropped > 0); // 1 100 true
 * ```
 */
export interface TraceDocument {
  /** The schema version ({@link TRACE_VERSION}). */
  readonly version: number;
  /** The run's seed. */
  readonly seed: number | string;
  /**
   * The nodes the cluster started with, all of them voters, as followers in term 0 with empty
   * logs (absent in traces written before it was added). Later nodes arrive by `join` events.
   */
  readonly nodes?: readonly NodeId[];
  /** How many events the trace keeps (`traceLimit`). */
  readonly limit: number;
  /** How many older events were dropped to keep within the limit. */
  readonly dropped: number;
  /** The retained events, oldest first. */
  readonly events: readonly TraceEvent[];
}
