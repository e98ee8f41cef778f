/**
 * The contract between a Raft node and the network that carries its messages.
 */
import type { NodeId } from '../raft/types.js';

/**
 * What every message carried by a transport looks like: a plain object with a `type`, a sender and a receiver.
 *
 * @example
 * ```ts
 * import type { Envelope } from 'raftkit';
 * interface Ping extends Envelope { readonly type: 'Ping'; readonly sentAt: number }
 * const ping: Ping = { type: 'Ping', from: 'a', to: 'b', sentAt: 0 };
 * ```
 */
export interface Envelope {
  /** The message kind, e.g. `'RequestVote'`: the discriminator of a message union. */
  readonly type: string;
  /** The sender's id. */
  readonly from: NodeId;
  /** The receiver's id. */
  readonly to: NodeId;
}

/**
 * How a node exchanges messages with its peers. Bring your own (TCP, WebSocket, WebRTC,
 * worker_threads, …) by implementing these three methods.
 *
 * What a transport must guarantee: a delivered message is the one that was sent (no corruption),
 * and only the node it is addressed to receives it. What it need not guarantee: delivery
 * (messages may be dropped), ordering (messages may be reordered) or at-most-once delivery
 * (duplicates are tolerated by Raft). Raft is safe under all of these; it is only live when
 * enough messages eventually get through. The conformance suite (`raftkit/conformance`) checks
 * an implementation against this contract.
 *
 * Messages are plain JSON-serialisable objects and must be treated as immutable: a transport may
 * pass the same object to the receiver without copying. Everything a transport delivers is
 * validated by the node before use, so a transport may hand over untrusted, parsed JSON.
 *
 * @example
 * ```ts
 * import type { Transport } from 'raftkit';
 * // A transport for two nodes in one process, delivering after the current task.
 * function pair(): [Transport, Transport] {
 *   const handlers: Array<(m: unknown) => void> = [];
 *   const make = (me: number): Transport => ({
 *     send: (_to, message) => { queueMicrotask(() => handlers[1 - me]?.(message)); },
 *     listen: (handler) => { handlers[me] = handler; },
 *     close: async () => { delete handlers[me]; },
 *   });
 *   return [make(0), make(1)];
 * }
 * ```
 */
export interface Transport<M extends Envelope = Envelope> {
  /** Sends `message` to node `to`, fire-and-forget. Must not throw for an unreachable peer. */
  send(to: NodeId, message: M): void;
  /** Registers the one handler for inbound messages (untrusted: validated by the receiver). */
  listen(handler: (message: unknown) => void): void;
  /** Stops sending and delivering; resolves when the transport has released its resources. */
  close(): Promise<void>;
}
