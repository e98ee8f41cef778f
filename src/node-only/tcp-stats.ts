/**
 * The counters of a {@link TcpTransport}, shaped like {@link InMemoryNetwork}'s statistics
 * (messages and bytes, in total and by message type) with what a real network adds: why
 * messages were dropped, why connections were refused, what waits in the send queues.
 */
import type { MessageType } from '../raft/messages.js';
import type { TrafficCounts, TypeCounts } from '../transport/memory.js';
import type { RefusalReason } from './tcp-errors.js';

/**
 * Why a {@link TcpTransport} dropped a message it was given to send:
 * - `queue-full`: the peer's send queue was full (in messages or bytes), so the oldest message
 *   made room for a newer one;
 * - `frame-too-large`: the encoded message is larger than `maxFrameBytes`;
 * - `encode-error`: the codec could not encode it (a BigInt, a cycle);
 * - `unknown-peer`: it is addressed to a node that is not among the peers;
 * - `closed`: the transport closed (or the peer was removed) while it waited in a queue;
 * - `no-listener`: it arrived before `listen` was called (counted on the receiving side).
 *
 * A message written to a connection that then broke may be lost without being counted, as on
 * any network: Raft resends.
 *
 * @example
 * ```ts
 * import type { SendDropReason } from 'raftkit/node';
 * const overload: SendDropReason = 'queue-full';
 * ```
 */
export type SendDropReason = 'queue-full' | 'frame-too-large' | 'encode-error' | 'unknown-peer' | 'closed' | 'no-listener';

/**
 * A snapshot of a {@link TcpTransport}'s counters since it was created. Bytes are the encoded
 * size of each message (the frame payload, without the 4-byte length prefix). `byType` is keyed
 * by raftkit's message types (`AppendEntries`, `RequestVote`, …); every other type is counted
 * under `'other'`, since a message's type is whatever its sender wrote (and a hostile peer could
 * otherwise grow these maps, and any metrics labelled by them, without bound).
 *
 * @example
 * ```ts
 * import { TcpTransport, type TcpTransportStats } from 'raftkit/node';
 * const transport = await TcpTransport.open({ id: 'a', peers: { b: '127.0.0.1:1' }, listen: '127.0.0.1:0' });
 * transport.send('b', { type: 'Ping', from: 'a', to: 'b' });
 * const stats: TcpTransportStats = transport.stats();
 * console.log(stats.sent.messages, stats.queued.messages, stats.dropReasons['queue-full']); // 1 1 0
 * await transport.close();
 * ```
 */
export interface TcpTransportStats {
  /** Every message given to `send` while open, including those then dropped. */
  sent: TrafficCounts;
  /** Every message received and handed to the handler. */
  delivered: TrafficCounts;
  /** Every message dropped, by type (see {@link TcpTransportStats.dropReasons} for why). */
  dropped: TrafficCounts;
  /** Dropped messages by reason. */
  dropReasons: Record<SendDropReason, number>;
  /** Inbound connections refused or closed for cause, by reason. */
  refused: Record<RefusalReason, number>;
  /** What waits in the send queues now, over all peers and lanes (the analogue of `inFlight`). */
  queued: {
    /** Messages waiting. */
    messages: number;
    /** Their encoded bytes. */
    bytes: number;
  };
  /** Connections open now, past their handshake: dialled by this node, and accepted by it. */
  connections: {
    /** Connections this node dialled (at most two per peer: one per lane). */
    outbound: number;
    /** Connections this node accepted. */
    inbound: number;
  };
  /** Outbound connection attempts, and how many of them failed (refused, timed out, broken before the handshake). */
  dials: {
    /** Connections this node tried to open. */
    attempts: number;
    /** Of those, how many never completed their handshake. */
    failures: number;
  };
}

/** Every type of raftkit's `Message` union (the compiler checks that none is missing or extra). */
const KNOWN: { readonly [T in MessageType]: true } = {
  Propose: true,
  ProposeResponse: true,
  ReadIndex: true,
  ReadIndexResponse: true,
  RequestVote: true,
  RequestVoteResponse: true,
  PreVote: true,
  PreVoteResponse: true,
  AppendEntries: true,
  AppendEntriesResponse: true,
  TimeoutNow: true,
  InstallSnapshot: true,
  InstallSnapshotResponse: true,
};

/** The message types counted by name; any other is counted as `'other'`. */
export const KNOWN_MESSAGE_TYPES: readonly MessageType[] = Object.keys(KNOWN) as MessageType[];

const isKnownType = (type: string): type is MessageType => Object.hasOwn(KNOWN, type);

/** Messages and bytes, in total and by type: raftkit's types by name, any other as `'other'`, so the map stays small. */
export class TrafficCounter {
  messages = 0;
  bytes = 0;
  readonly #byType = new Map<string, TypeCounts>();

  add(type: string, bytes: number): void {
    this.messages++;
    this.bytes += bytes;
    const key = isKnownType(type) ? type : 'other';
    const entry = this.#byType.get(key);
    if (entry === undefined) this.#byType.set(key, { messages: 1, bytes });
    else {
      entry.messages++;
      entry.bytes += bytes;
    }
  }

  snapshot(): TrafficCounts {
    const byType = Object.create(null) as Record<string, TypeCounts>;
    for (const [type, c] of this.#byType) byType[type] = { messages: c.messages, bytes: c.bytes };
    return { messages: this.messages, bytes: this.bytes, byType };
  }
}

/** A count per key of a fixed set, all starting at 0. */
export function zeroCounts<K extends string>(keys: readonly K[]): Record<K, number> {
  return Object.fromEntries(keys.map((key) => [key, 0])) as Record<K, number>;
}

export const SEND_DROP_REASONS: readonly SendDropReason[] = ['queue-full', 'frame-too-large', 'encode-error', 'unknown-peer', 'closed', 'no-listener'];
export const REFUSAL_REASONS: readonly RefusalReason[] = [
  'unknown-node',
  'wrong-cluster',
  'wrong-node',
  'bad-handshake',
  'handshake-timeout',
  'tls',
  'frame-too-large',
  'decode-error',
  'misaddressed',
  'too-many-connections',
];
