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
 * A node's commit index advanced, a node applied an entry, or the cluster proposed one.
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
  /** The entry's term (0 for commit events). */
  readonly term: number;
}

/**
 * A message was sent, delivered or dropped by the simulated network.
 *
 * @example
 * ```ts
 * import type { MessageEvent } from 'raftkit';
 * const e: MessageEvent = { time: 5, kind: 'deliver', from: '1', to: '2', type: 'RequestVote', term: 1, summary: 'last log 0:0' };
 * ```
 */
export interface MessageEvent extends TraceBase {
  /** Discriminates the event kind. */
  readonly kind: 'send' | 'deliver' | 'drop';
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
export type TraceEvent = RoleEvent | LogEvent | MessageEvent | NodeFaultEvent | NetworkFaultEvent | ClockEvent;

/** Keeps the last `limit` events (0: keeps none). Internal. */
export class TraceBuffer {
  private events: TraceEvent[] = [];
  constructor(private readonly limit: number) {}

  get enabled(): boolean {
    return this.limit > 0;
  }

  push(event: TraceEvent): void {
    if (this.limit === 0) return;
    this.events.push(event);
    // Trim in chunks so the amortised cost stays O(1).
    if (this.events.length >= this.limit * 2) this.events = this.events.slice(-this.limit);
  }

  /** The retained events, oldest first. */
  toArray(): TraceEvent[] {
    return this.events.slice(-this.limit);
  }

  tail(count: number): TraceEvent[] {
    return this.events.slice(-count);
  }
}
