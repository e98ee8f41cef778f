/**
 * One outbound connection of a TcpTransport: to one peer, on one lane. It owns the lane's
 * bounded send queue, dials when there is something to send, introduces itself with a hello and
 * writes nothing until the peer welcomes it, writes only as fast as the socket drains, and after
 * any failure waits a back-off before it dials again (reset only once a connection stayed open
 * for {@link STABLE_CONNECTION_MS}).
 */
import type { Socket } from 'node:net';
import type { NodeId } from '../raft/types.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import { formatAddress, type TcpAddress } from './address.js';
import type { Backoff } from './backoff.js';
import { FrameDecoder, frameHeader } from './frames.js';
import { helloFrame, MAX_HANDSHAKE_BYTES, parseReply, type Lane } from './handshake.js';
import { SendQueue, type QueuedFrame } from './send-queue.js';
import { TcpTransportError, type RefusalReason } from './tcp-errors.js';
import type { SendDropReason } from './tcp-stats.js';

/**
 * How much may wait in the socket's own buffer before the link stops handing it frames: a peer
 * that reads slowly then holds up the link's queue (which is bounded), not this buffer.
 */
const WRITE_BUFFER_BYTES = 1 << 20;

/** TCP keep-alive probes start after this much idle time, so a vanished peer is noticed. */
const KEEPALIVE_MS = 10_000;

/**
 * A connection counts as a success, and resets the back-off, once it stayed open this long
 * after the welcome. A peer that welcomes and then closes at once (it speaks another codec, it
 * is misaddressed, it keeps replacing the connection) is then redialled with a growing back-off,
 * not every `initialMs`.
 */
export const STABLE_CONNECTION_MS = 1000;

/** What a link needs from its transport. */
export interface LinkContext {
  readonly self: NodeId;
  readonly cluster: string;
  readonly scheduler: Scheduler;
  readonly handshakeTimeoutMs: number;
  /** Opens a socket to `address` for `peer` (over TLS: one whose certificate must name `peer`). */
  dial(address: TcpAddress, peer: NodeId): Socket;
  dropped(frames: readonly QueuedFrame[], reason: SendDropReason): void;
  warn(warning: TcpTransportError): void;
  /** Dial attempts and failures, shared by every link of the transport. */
  readonly dials: { attempts: number; failures: number };
}

type State = 'idle' | 'connecting' | 'open' | 'waiting' | 'closed';

export class PeerLink {
  readonly queue: SendQueue;
  #state: State = 'idle';
  #socket: Socket | undefined;
  /** The handshake deadline while connecting, the back-off reset while newly open, the back-off while waiting. */
  #timer: Cancel | undefined;
  #flushQueued = false;

  constructor(
    readonly peer: NodeId,
    readonly lane: Lane,
    private address: TcpAddress,
    private readonly context: LinkContext,
    private readonly backoff: Backoff,
    limits: { readonly maxMessages: number; readonly maxBytes: number },
  ) {
    this.queue = new SendQueue(limits.maxMessages, limits.maxBytes);
  }

  /** Whether the connection is open and past its handshake. */
  get open(): boolean {
    return this.#state === 'open';
  }

  /** Queues `frame` and makes sure it will be written (or dropped, if the queue overflows first). */
  send(frame: QueuedFrame): void {
    if (this.#state === 'closed') return this.context.dropped([frame], 'closed');
    const evicted = this.queue.push(frame);
    if (evicted.length > 0) this.context.dropped(evicted, 'queue-full');
    if (this.#state === 'idle') this.#dial();
    else if (this.#state === 'open' && !this.#flushQueued) {
      // Everything sent until the host next checks for I/O goes out in one corked write: with a
      // macrotask rather than a microtask, the messages of every request read in one poll share
      // a write (one system call per peer, not one per request).
      this.#flushQueued = true;
      this.context.scheduler.schedule(0, () => this.#flush());
    }
  }

  /** The peer moved: drop the connection to the old address and dial the new one at once. */
  retarget(address: TcpAddress): void {
    this.address = address;
    if (this.#state === 'closed') return;
    const socket = this.#socket;
    this.#socket = undefined; // its close is then not a failure, and starts no back-off
    this.#cancelTimer();
    socket?.destroy();
    this.#state = 'idle';
    if (this.queue.length > 0) this.#dial();
  }

  /** Stops for good: drops what waits, ends the connection; resolves once its socket is closed. */
  close(): Promise<void> {
    this.#state = 'closed';
    this.#cancelTimer();
    const waiting = this.queue.clear();
    if (waiting.length > 0) this.context.dropped(waiting, 'closed');
    const socket = this.#socket;
    this.#socket = undefined;
    return socket === undefined ? Promise.resolve() : destroyed(socket);
  }

  #dial(): void {
    const { context } = this;
    this.#state = 'connecting';
    context.dials.attempts++;
    let socket: Socket;
    try {
      socket = context.dial(this.address, this.peer);
    } catch (error) {
      // A synchronous failure (a bad TLS key, say): the same as a refused connection.
      context.dials.failures++;
      context.warn(new TcpTransportError('PEER_REFUSED', `cannot dial ${this.peer}: ${String(error)}`, { peer: this.peer, remote: formatAddress(this.address), cause: error }));
      return this.#waitThenRedial();
    }
    this.#socket = socket;
    let failure: unknown;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS);
    socket.on('error', (error) => (failure ??= error));
    socket.on('close', () => this.#lost(socket, failure));
    socket.on('drain', () => this.#flush());
    const decoder = new FrameDecoder(MAX_HANDSHAKE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      if (socket !== this.#socket || this.#state !== 'connecting') return; // a peer says nothing after its welcome
      try {
        decoder.push(chunk, (payload) => this.#reply(socket, payload));
      } catch {
        this.#refused(socket, 'bad-handshake');
      }
    });
    socket.write(helloFrame(context.cluster, context.self, this.peer, this.lane));
    this.#timer = context.scheduler.schedule(context.handshakeTimeoutMs, () => {
      this.#timer = undefined;
      this.#refused(socket, 'handshake-timeout');
    });
  }

  /** The peer's answer to the hello. */
  #reply(socket: Socket, payload: Uint8Array): void {
    if (socket !== this.#socket || this.#state !== 'connecting') return;
    const reply = parseReply(payload);
    if (reply?.ok !== true || reply.cluster !== this.context.cluster || reply.from !== this.peer) {
      // A refusal names its reason; a welcome from another cluster or node means a misrouted address.
      return this.#refused(socket, reply?.ok === false ? reply.refused : reply === undefined ? 'bad-handshake' : reply.cluster !== this.context.cluster ? 'wrong-cluster' : 'wrong-node');
    }
    this.#cancelTimer();
    this.#state = 'open';
    // Not yet a success: only a connection that stays open resets the back-off.
    this.#timer = this.context.scheduler.schedule(STABLE_CONNECTION_MS, () => {
      this.#timer = undefined;
      this.backoff.reset();
    });
    this.#flush();
  }

  #refused(socket: Socket, reason: RefusalReason): void {
    if (socket !== this.#socket) return;
    this.context.warn(
      new TcpTransportError('PEER_REFUSED', `${this.peer} at ${formatAddress(this.address)} refused the ${this.lane} connection of ${this.context.self}: ${reason}`, {
        reason,
        peer: this.peer,
        remote: formatAddress(this.address),
      }),
    );
    socket.destroy();
  }

  #flush(): void {
    this.#flushQueued = false;
    const socket = this.#socket;
    if (this.#state !== 'open' || socket === undefined) return;
    // Stop once the socket holds WRITE_BUFFER_BYTES: a write beyond its high-water mark has
    // returned false by then, so 'drain' calls this again.
    if (socket.writableLength >= WRITE_BUFFER_BYTES) return;
    socket.cork();
    while (this.queue.length > 0 && socket.writableLength < WRITE_BUFFER_BYTES) {
      const frame = this.queue.shift() as QueuedFrame;
      socket.write(frameHeader(frame.bytes.byteLength));
      socket.write(frame.bytes);
    }
    socket.uncork();
  }

  #lost(socket: Socket, failure: unknown): void {
    if (socket !== this.#socket) return; // retargeted or closed meanwhile: not a failure
    this.#socket = undefined;
    this.#cancelTimer();
    if (this.#state === 'connecting') {
      this.context.dials.failures++;
      // A refused or reset connection is the network's business (the back-off handles it); a TLS
      // failure (no `syscall`: the peer's certificate did not verify) is a misconfiguration worth saying.
      if (failure instanceof TcpTransportError) this.context.warn(failure);
      else if (failure instanceof Error && !('syscall' in failure)) {
        this.context.warn(
          new TcpTransportError('PEER_REFUSED', `TLS with ${this.peer} at ${formatAddress(this.address)} failed: ${failure.message}`, {
            reason: 'tls',
            peer: this.peer,
            remote: formatAddress(this.address),
            cause: failure,
          }),
        );
      }
    }
    this.#waitThenRedial();
  }

  #waitThenRedial(): void {
    this.#state = 'waiting';
    this.#timer = this.context.scheduler.schedule(this.backoff.next(), () => {
      this.#timer = undefined;
      this.#state = 'idle';
      if (this.queue.length > 0) this.#dial(); // else the next send dials
    });
  }

  #cancelTimer(): void {
    this.#timer?.();
    this.#timer = undefined;
  }
}

/** Destroys `socket`; resolves once it has closed. */
export function destroyed(socket: Socket): Promise<void> {
  if (socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    socket.once('close', () => resolve());
    socket.destroy();
  });
}
