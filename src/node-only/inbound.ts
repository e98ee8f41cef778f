/**
 * One accepted connection of a TcpTransport. Until it has introduced itself with a valid hello,
 * within the handshake timeout, it is a stranger: it may send one small frame and nothing else.
 * After that it carries messages from one known peer; anything malformed closes it.
 */
import type { Socket } from 'node:net';
import type { NodeId } from '../raft/types.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { Codec } from './file-storage.js';
import { FrameDecoder, FrameTooLargeError } from './frames.js';
import { MAX_HANDSHAKE_BYTES, parseHello, refusalFrame, welcomeFrame, type Hello, type Lane } from './handshake.js';
import type { RefusalReason } from './tcp-errors.js';

/** TCP keep-alive probes start after this much idle time. */
const KEEPALIVE_MS = 10_000;

/** What an inbound connection needs from its transport. */
export interface InboundContext {
  readonly self: NodeId;
  readonly cluster: string;
  readonly scheduler: Scheduler;
  readonly handshakeTimeoutMs: number;
  readonly maxFrameBytes: number;
  readonly codec: Codec;
  /** Whether `hello` on `connection` is admitted (and, if so, registered); if not, why. */
  admit(hello: Hello, connection: InboundConnection): RefusalReason | undefined;
  /** A message arrived, `bytes` long encoded. */
  deliver(message: unknown, bytes: number): void;
  /** The connection was refused or closed for cause (`peer`: the id it claimed, if any). */
  refused(reason: RefusalReason, connection: InboundConnection, detail: string): void;
  /** The socket closed. */
  closed(connection: InboundConnection): void;
}

export class InboundConnection {
  /** The peer, once its hello was admitted. */
  peer: NodeId | undefined;
  /** The id the hello claimed, admitted or not (for reports). */
  claimed: NodeId | undefined;
  lane: Lane | undefined;
  readonly remote: string;
  readonly #decoder = new FrameDecoder(MAX_HANDSHAKE_BYTES);
  #timer: Cancel | undefined;
  /** Refused or closed: whatever else arrives is ignored. */
  #done = false;

  constructor(
    readonly socket: Socket,
    private readonly context: InboundContext,
  ) {
    this.remote = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.setKeepAlive(true, KEEPALIVE_MS); // a peer that vanished without a FIN is noticed
    socket.on('data', (chunk: Buffer) => this.#data(chunk));
    socket.on('error', () => undefined); // a reset peer; 'close' follows
    socket.on('close', () => {
      this.#done = true;
      this.#cancelTimer();
      context.closed(this);
    });
    this.#timer = context.scheduler.schedule(context.handshakeTimeoutMs, () => {
      this.#timer = undefined;
      this.#refuse('handshake-timeout', `no handshake within ${context.handshakeTimeoutMs} ms`);
    });
  }

  /** Closes the connection (the transport closes, or a newer connection replaces this one). */
  destroy(): void {
    this.#done = true;
    this.socket.destroy();
  }

  #data(chunk: Buffer): void {
    if (this.#done) return;
    try {
      this.#decoder.push(chunk, (payload) => this.#frame(payload));
    } catch (error) {
      // Nothing a peer sends may throw out of this listener: that would end the process.
      if (error instanceof FrameTooLargeError) this.#refuse('frame-too-large', error.message);
      else this.#refuse('decode-error', String(error));
    }
  }

  #frame(payload: Buffer): void {
    if (this.#done) return;
    if (this.peer === undefined) return this.#handshake(payload);
    let message: unknown;
    try {
      message = this.context.codec.decode(payload);
    } catch (error) {
      return this.#refuse('decode-error', `a frame did not decode: ${String(error)}`);
    }
    // The handshake (and, over TLS, the certificate) established who is talking: a message
    // claiming another sender, or meant for another node, is not this connection's to carry.
    const envelope = message as { from?: unknown; to?: unknown } | null;
    if (typeof envelope !== 'object' || envelope === null || envelope.from !== this.peer || envelope.to !== this.context.self) {
      return this.#refuse('misaddressed', `a message not from ${this.peer} to ${this.context.self}`);
    }
    this.context.deliver(message, payload.byteLength);
  }

  #handshake(payload: Buffer): void {
    const hello = parseHello(payload);
    if (hello === undefined) return this.#refuse('bad-handshake', 'the first frame is not a raftkit handshake');
    this.claimed = hello.from;
    const reason = this.context.admit(hello, this);
    if (reason !== undefined) return this.#refuse(reason, `handshake from ${JSON.stringify(hello.from)} of cluster ${JSON.stringify(hello.cluster)} to ${JSON.stringify(hello.to)}`);
    this.#cancelTimer();
    this.peer = hello.from;
    this.lane = hello.lane;
    this.#decoder.maxFrameBytes = this.context.maxFrameBytes;
    this.socket.write(welcomeFrame(this.context.cluster, this.context.self));
  }

  #refuse(reason: RefusalReason, detail: string): void {
    if (this.#done) return;
    this.#done = true;
    this.#cancelTimer();
    this.context.refused(reason, this, detail);
    if (this.peer !== undefined) return void this.socket.destroy();
    // A stranger hears why (a misconfigured node can then say so), then the socket goes.
    this.socket.end(refusalFrame(reason), () => this.socket.destroy());
  }

  #cancelTimer(): void {
    this.#timer?.();
    this.#timer = undefined;
  }
}
