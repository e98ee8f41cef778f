import type { SessionTag } from './sessions.js';

/**
 * A node's identity: any non-empty string, unique within a cluster.
 *
 * @example
 * ```ts
 * import { Cluster, type NodeId } from 'raftkit';
 * const ids: NodeId[] = ['eu-1', 'us-1', 'ap-1'];
 * const cluster = new Cluster({ ids, seed: 1 });
 * ```
 */
export type NodeId = string;

/**
 * What an entry in the replicated log carries: a user command, the no-op a new leader appends,
 * a new cluster membership, or the opening of a client session (whose id is the entry's index).
 *
 * @example
 * ```ts
 * import type { EntryKind, LogEntry } from 'raftkit';
 * const kind: EntryKind = 'noop';
 * const first: LogEntry = { index: 1, term: 1, kind }; // what a new leader appends first
 * ```
 */
export type EntryKind = 'command' | 'noop' | 'config' | 'session';

/**
 * Who is in the cluster: the voters (whose majority elects leaders and commits entries) and the
 * learners (which receive the log but never vote and never count towards a majority).
 *
 * @example
 * ```ts
 * import type { Membership } from 'raftkit';
 * const membership: Membership = { voters: ['1', '2', '3'], learners: ['4'] };
 * ```
 */
export interface Membership {
  /** The voting members, sorted. */
  readonly voters: readonly NodeId[];
  /** The non-voting members, sorted. */
  readonly learners: readonly NodeId[];
}

/**
 * A snapshot of the state machine: everything applied through `index`, which replaces the log up
 * to and including that entry.
 *
 * @example
 * ```ts
 * import type { Snapshot } from 'raftkit';
 * const snapshot: Snapshot = { index: 10_000, term: 3, membership: { voters: ['1', '2', '3'], learners: [] }, data: '[["x",1]]' };
 * ```
 */
export interface Snapshot {
  /** The last log index it includes. */
  readonly index: number;
  /** The term of that entry. */
  readonly term: number;
  /** The membership in force at `index`. */
  readonly membership: Membership;
  /** What the state machine's `snapshot()` returned. */
  readonly data: string;
}

/**
 * One entry of the replicated log. Entries are immutable and shared, never copied.
 *
 * @example
 * ```ts
 * import type { LogEntry } from 'raftkit';
 * const entry: LogEntry = { index: 1, term: 1, kind: 'command', command: { set: 'x', to: 1 } };
 * ```
 */
export interface LogEntry<C = unknown> {
  /** Position in the log, from 1. */
  readonly index: number;
  /** The leader's term when the entry was created. */
  readonly term: number;
  /** A user command, the no-op each new leader appends, or a membership change. */
  readonly kind: EntryKind;
  /** The user's command (only on a `command` entry). */
  readonly command?: C;
  /** The new membership (only on a `config` entry); it takes effect as soon as a node holds the entry. */
  readonly membership?: Membership;
  /** On a command proposed in a client session: the session and the command's sequence number. */
  readonly session?: SessionTag;
  /**
   * On a `session` entry and a command made in a session: the leader's clock (ms) when it
   * appended the entry. The log time by which idle sessions expire.
   */
  readonly time?: number;
  /** On a `session` entry: how long (ms of log time) the session lives without a command. */
  readonly timeoutMs?: number;
}

/**
 * The state a node must persist before it answers anyone (Raft's Figure 2 "persistent state",
 * less the log, which is persisted as entries).
 *
 * @example
 * ```ts
 * import type { HardState } from 'raftkit';
 * const state: HardState = { term: 3, votedFor: '2' };
 * ```
 */
export interface HardState {
  /** The latest term this node has seen. */
  readonly term: number;
  /** Who this node voted for in `term`, or null. */
  readonly votedFor: NodeId | null;
}

/**
 * Where a log entry landed: its index and the term of the leader that appended it.
 *
 * @example
 * ```ts
 * import { Cluster, type LogPosition } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const { index, term }: LogPosition = leader.submit('x'); // appended now, committed later
 * console.log(index, term); // 2 1 (entry 1 is the leader's no-op)
 * ```
 */
export interface LogPosition {
  /** Position in the log, from 1. */
  readonly index: number;
  /** The term of the leader that appended the entry. */
  readonly term: number;
}

/**
 * A node's role. A `precandidate` is polling for a pre-vote (thesis §9.6) before it would start a
 * real election; it has not changed its term.
 *
 * @example
 * ```ts
 * import { Cluster, type Role } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * const roles: Role[] = cluster.nodes.map((node) => node.status().role);
 * console.log(roles); // [ 'follower', 'leader', 'follower' ]
 * ```
 */
export type Role = 'follower' | 'precandidate' | 'candidate' | 'leader';
