import type { MessageType } from '../raft/messages.js';
import type { NodeId, Role } from '../raft/types.js';

/**
 * One event of a simulated run, in the order it happened. Every event is a plain JSON object
 * with the virtual `time` in ms; the whole trace of a seed is identical on every replay.
 *
 * @example
 * ```ts
 * for (const event of cluster.trace()) {
 *   if (event.kind === 'role') console.log(`${event.time} ms: node ${event.node} is ${event.role} in term ${event.term}`);
 * }
 * ```
 */
export type TraceEvent =
  | { readonly time: number; readonly kind: 'role'; readonly node: NodeId; readonly role: Role; readonly term: number }
  | { readonly time: number; readonly kind: 'commit'; readonly node: NodeId; readonly index: number }
  | { readonly time: number; readonly kind: 'apply'; readonly node: NodeId; readonly index: number; readonly term: number }
  | { readonly time: number; readonly kind: 'propose'; readonly node: NodeId; readonly index: number; readonly term: number }
  | {
      readonly time: number;
      readonly kind: 'send' | 'deliver' | 'drop';
      readonly from: NodeId;
      readonly to: NodeId;
      readonly type: MessageType;
      readonly term: number;
      /** What the message says, briefly (e.g. "granted", "3 entries", "rejected at 5"). */
      readonly summary: string;
      /** Why it was dropped (drop events only). */
      readonly reason?: string;
    }
  | { readonly time: number; readonly kind: 'crash' | 'restart' | 'disconnect' | 'reconnect'; readonly node: NodeId }
  | { readonly time: number; readonly kind: 'partition'; readonly groups: readonly (readonly NodeId[])[] }
  | { readonly time: number; readonly kind: 'heal' };

/** Keeps the last `limit` events (0: keeps none). */
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
