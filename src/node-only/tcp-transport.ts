/**
 * A {@link Transport} over TCP (optionally TLS with mutual authentication), for nodes in
 * separate processes or on separate machines.
 *
 * The shape: each node listens on one address and dials each peer it sends to. A connection
 * carries messages one way only, from the node that dialled it, so each pair of nodes uses two
 * connections (one dialled by each side) and neither side ever has to decide whose connection
 * wins. Each peer has two lanes, each its own connection and its own bounded queue: snapshot
 * chunks go on the `bulk` lane, everything else on the `control` lane, so a chunk of megabytes
 * on the wire never holds a heartbeat up behind it (etcd separates its snapshot stream the same way).
 */
import { createServer, connect as connectTcp, type Server, type Socket } from 'node:net';
import { connect as connectTls, createSecureContext, createServer as createTlsServer, type SecureContext, type SecureContextOptions, type TLSSocket } from 'node:tls';
import type { NodeId } from '../raft/types.js';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Scheduler } from '../runtime/scheduler.js';
import type { Envelope, Transport } from '../transport/transport.js';
import { formatAddress, parseAddress, type PeerAddress, type TcpAddress } from './address.js';
import { Backoff } from './backoff.js';
import { jsonCodec, type Codec } from './file-storage.js';
import { MAX_FRAME_LIMIT } from './frames.js';
import { certificateNames, checkHello, type Hello, type Lane } from './handshake.js';
import { InboundConnection } from './inbound.js';
import { destroyed, PeerLink, type LinkContext } from './peer-link.js';
import type { QueuedFrame } from './send-queue.js';
import { TcpTransportError, type RefusalReason } from './tcp-errors.js';
import { REFUSAL_REASONS, SEND_DROP_REASONS, TrafficCounter, zeroCounts, type SendDropReason, type TcpTransportStats } from './tcp-stats.js';

/**
 * TLS material of a {@link TcpTransport}: the cluster's CA and this node's certificate and key
 * (PEM). The same pair serves both ways: as the server's certificate for connections this node
 * accepts, and as the client certificate for those it dials. Every node's certificate must name
 * its node id, as the subject's CN or as a DNS or URI subject alternative name; host names are
 * not checked (the CA is the cluster's own, and it vouches for node ids, not for addresses).
 *
 * @example
 * ```ts
 * import type { TcpTlsOptions } from 'raftkit/node';
 * const tls = (ca: string, cert: string, key: string): TcpTlsOptions => ({ ca, cert, key });
 * ```
 */
export interface TcpTlsOptions {
  /** The CA (or CAs) that signs every node's certificate; only these are trusted. */
  readonly ca: NonNullable<SecureContextOptions['ca']>;
  /** This node's certificate chain. */
  readonly cert: NonNullable<SecureContextOptions['cert']>;
  /** This node's private key. */
  readonly key: NonNullable<SecureContextOptions['key']>;
  /** The key's passphrase, if it is encrypted. */
  readonly passphrase?: string;
}

/**
 * Options of a {@link TcpTransport}.
 *
 * @example
 * ```ts
 * import type { TcpTransportOptions } from 'raftkit/node';
 * const peers = { '1': '10.0.0.1:7001', '2': '10.0.0.2:7001', '3': '10.0.0.3:7001' };
 * const options: TcpTransportOptions = { id: '1', peers, listen: '0.0.0.0:7001', clusterId: 'orders-prod' };
 * ```
 */
export interface TcpTransportOptions {
  /** This node's id. */
  readonly id: NodeId;
  /**
   * Every peer's id and address. It may include this node (ignored), so one map can serve the
   * whole cluster. Only these nodes may connect; change it with `setPeer` and `removePeer`.
   */
  readonly peers: Readonly<Record<NodeId, PeerAddress>>;
  /** Where to listen: `'host:port'` or `{ host, port }`; port 0 picks a free port (see {@link TcpTransport.address}). */
  readonly listen: PeerAddress;
  /**
   * The cluster's name, exchanged in every handshake: a node of another cluster is refused even
   * when it knows a node id. Default `'raftkit'`; set it whenever clusters share a network.
   * It is no password: over plain TCP nothing is authenticated (see {@link TcpTransport}; use `tls`).
   */
  readonly clusterId?: string;
  /**
   * Mutual TLS (see {@link TcpTlsOptions}); default plain TCP, which authenticates nothing: use
   * TLS whenever anyone but the cluster's nodes can reach the port.
   */
  readonly tls?: TcpTlsOptions;
  /** How messages are encoded (both ends must agree). Default {@link jsonCodec}. */
  readonly codec?: Codec;
  /**
   * The largest encoded message, in bytes (default 16 MiB). A longer frame from a peer closes
   * its connection; a longer message to send is dropped. Keep snapshot chunks and append batches below it.
   */
  readonly maxFrameBytes?: number;
  /** At most this many messages wait for each peer on each lane; more drop the oldest (default 4,096). */
  readonly maxQueueMessages?: number;
  /** At most this many encoded bytes wait for each peer on each lane; more drop the oldest (default 32 MiB). */
  readonly maxQueueBytes?: number;
  /** How long a new connection may take to complete its handshakes (TLS and raftkit), in ms (default 5,000). */
  readonly handshakeTimeoutMs?: number;
  /**
   * The back-off between attempts to reach a peer, `[first, cap]` in ms (default `[50, 5000]`):
   * the n-th consecutive failure waits a random time between half and all of min(cap, first · 2^(n-1)).
   * A connection that closes within a second of the peer's welcome counts as a failure too.
   */
  readonly reconnectMs?: readonly [first: number, cap: number];
  /** At most this many inbound connections, handshaking or not; more are closed at once (default 1,024). */
  readonly maxConnections?: number;
  /** Which messages travel on the bulk lane (default: `InstallSnapshot`); `() => false` uses one connection per peer. */
  readonly bulk?: (message: Envelope) => boolean;
  /** Timers (handshake deadlines and back-off); default a {@link RealScheduler}. */
  readonly scheduler?: Scheduler;
  /** The back-off's jitter; default {@link MathRandom}. */
  readonly random?: Random;
  /**
   * Where refused connections and other problems are reported (they are also counted in
   * `stats()`). Default: `process.emitWarning`.
   */
  readonly onWarning?: (warning: TcpTransportError) => void;
}

const MIB = 1024 * 1024;

function positive(value: number | undefined, fallback: number, what: string, max = Number.MAX_SAFE_INTEGER): number {
  const n = value ?? fallback;
  if (!Number.isSafeInteger(n) || n < 1 || n > max) throw new RangeError(`TcpTransport: ${what} must be an integer in [1, ${max}], got ${String(value)}`);
  return n;
}

const isInstallSnapshot = (message: Envelope): boolean => message.type === 'InstallSnapshot';

/** Socket close promises, for a close() that resolves once every socket is gone. */
const destroyAll = (sockets: Iterable<Socket>): Promise<void>[] => [...sockets].map((socket) => destroyed(socket));

/**
 * A {@link Transport} over TCP between nodes on any machines, with optional mutual TLS:
 * - length-prefixed frames (JSON by default, or any {@link Codec}), at most `maxFrameBytes` each;
 * - per peer, a connection per lane, dialled when there is something to send and redialled
 *   after a failure with capped exponential back-off and jitter;
 * - a handshake naming the cluster and both nodes: a stranger, a node of another cluster, or a
 *   connection that does not finish its handshake in time is refused, counted and reported;
 * - per peer and lane, a send queue bounded in messages and bytes: when a peer is slow or gone,
 *   the oldest messages are dropped and counted, and memory stays bounded. `send` never throws;
 * - snapshot chunks on their own connection, so they never delay heartbeats;
 * - messages are delivered to the handler as decoded (untrusted: `RaftNode` validates them),
 *   once the transport checked they come from the connection's peer and are addressed to this node.
 *
 * **Plain TCP authenticates nothing.** Without `tls`, the handshake's cluster id and node ids
 * are claims, not credentials: anyone who can reach the listening port and knows (or guesses)
 * a node id and the cluster id can connect as that node and send it any message, votes and
 * appends included, and can take a node's place on a network path. The cluster id only keeps
 * apart clusters that are configured differently by mistake. Across any network you do not
 * fully trust, use mutual TLS ({@link TcpTlsOptions}), where the cluster's CA vouches for every
 * node id; otherwise keep the port reachable by the cluster's nodes only (a private network, a
 * firewall).
 *
 * @example
 * ```ts
 * import { TcpTransport } from 'raftkit/node';
 * const a = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
 * const b = await TcpTransport.open({ id: 'b', peers: { a: a.address! }, listen: '127.0.0.1:0' });
 * a.setPeer('b', b.address!);
 * const arrived = new Promise((resolve) => a.listen(resolve));
 * b.send('a', { type: 'Ping', from: 'b', to: 'a' });
 * console.log(await arrived); // { type: 'Ping', from: 'b', to: 'a' }
 * await Promise.all([a.close(), b.close()]);
 * ```
 */
export class TcpTransport implements Transport {
  /**
   * A transport listening on `options.listen`, once it listens: `new TcpTransport(options)`
   * followed by `await transport.ready`.
   *
   * @throws {@link TcpTransportError} `LISTEN_FAILED` when the address cannot be bound (in use, not local).
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: { b: '127.0.0.1:7002' }, listen: '127.0.0.1:0' });
   * console.log(transport.address); // { host: '127.0.0.1', port: … }
   * await transport.close();
   * ```
   */
  static async open(options: TcpTransportOptions): Promise<TcpTransport> {
    const transport = new TcpTransport(options);
    try {
      await transport.ready;
    } catch (error) {
      await transport.close();
      throw error;
    }
    return transport;
  }

  /** This node's id. */
  readonly id: NodeId;
  /**
   * Resolves with the bound address once the server listens; rejects with a
   * {@link TcpTransportError} `LISTEN_FAILED` if it cannot. The transport can send meanwhile.
   */
  readonly ready: Promise<TcpAddress>;

  readonly #cluster: string;
  readonly #codec: Codec;
  readonly #maxFrameBytes: number;
  readonly #limits: { maxMessages: number; maxBytes: number };
  readonly #reconnect: readonly [number, number];
  readonly #bulk: (message: Envelope) => boolean;
  readonly #random: Random;
  readonly #warn: (warning: TcpTransportError) => void;
  readonly #linkContext: LinkContext;
  readonly #secureContext: SecureContext | undefined;

  readonly #peers = new Map<NodeId, TcpAddress>();
  readonly #links = new Map<NodeId, Partial<Record<Lane, PeerLink>>>();
  readonly #server: Server;
  /** Every accepted socket (raw TCP, also under TLS), so close() can end those still handshaking. */
  readonly #sockets = new Set<Socket>();
  readonly #inbound = new Set<InboundConnection>();
  /** The admitted inbound connection of each peer and lane: a newer one replaces it. */
  readonly #inboundByLane = new Map<string, InboundConnection>();
  #address: TcpAddress | undefined;
  #handler: ((message: unknown) => void) | undefined;
  #closing: Promise<void> | undefined;

  readonly #sent = new TrafficCounter();
  readonly #delivered = new TrafficCounter();
  readonly #dropped = new TrafficCounter();
  readonly #dropReasons = zeroCounts(SEND_DROP_REASONS);
  readonly #refused = zeroCounts(REFUSAL_REASONS);
  readonly #dials = { attempts: 0, failures: 0 };

  /**
   * Starts listening at once (see {@link TcpTransport.ready}); prefer {@link TcpTransport.open}.
   *
   * @throws TypeError or RangeError for invalid options.
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = new TcpTransport({ id: 'a', peers: { b: '127.0.0.1:7002' }, listen: '127.0.0.1:0' });
   * const { port } = await transport.ready;
   * await transport.close();
   * ```
   */
  constructor(options: TcpTransportOptions) {
    if (typeof options?.id !== 'string' || options.id === '') throw new TypeError('TcpTransport: id must be a non-empty string');
    this.id = options.id;
    this.#cluster = options.clusterId ?? 'raftkit';
    this.#codec = options.codec ?? jsonCodec;
    this.#maxFrameBytes = positive(options.maxFrameBytes, 16 * MIB, 'maxFrameBytes', MAX_FRAME_LIMIT);
    this.#limits = { maxMessages: positive(options.maxQueueMessages, 4096, 'maxQueueMessages'), maxBytes: positive(options.maxQueueBytes, 32 * MIB, 'maxQueueBytes') };
    const [first, cap] = options.reconnectMs ?? [50, 5000];
    this.#reconnect = [positive(first, 50, 'reconnectMs[0]'), positive(cap, 5000, 'reconnectMs[1]')];
    this.#bulk = options.bulk ?? isInstallSnapshot;
    this.#random = options.random ?? new MathRandom();
    this.#warn = options.onWarning ?? ((warning) => process.emitWarning(warning.message, { type: 'RaftkitTransportWarning', code: warning.code }));
    const scheduler = options.scheduler ?? new RealScheduler();
    const handshakeTimeoutMs = positive(options.handshakeTimeoutMs, 5000, 'handshakeTimeoutMs');
    for (const [id, address] of Object.entries(options.peers ?? {})) this.#setAddress(id, address);
    const listen = parseAddress(options.listen, 'TcpTransport: listen');

    const tls = options.tls;
    this.#secureContext = tls === undefined ? undefined : createSecureContext({ ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase });
    this.#linkContext = {
      self: this.id,
      cluster: this.#cluster,
      scheduler,
      handshakeTimeoutMs,
      dial: (address, peer) => this.#dial(address, peer),
      dropped: (frames, reason) => this.#drop(frames, reason),
      warn: (warning) => this.#report(warning),
      dials: this.#dials,
    };

    const inbound = {
      self: this.id,
      cluster: this.#cluster,
      scheduler,
      handshakeTimeoutMs,
      maxFrameBytes: this.#maxFrameBytes,
      codec: this.#codec,
      admit: (hello: Hello, connection: InboundConnection) => this.#admit(hello, connection),
      deliver: (message: unknown, bytes: number) => this.#deliver(message, bytes),
      refused: (reason: RefusalReason, connection: InboundConnection, detail: string) => this.#refuse(reason, connection.remote, connection.claimed, detail),
      closed: (connection: InboundConnection) => {
        this.#inbound.delete(connection);
        const key = `${connection.peer}\u0000${connection.lane}`;
        if (this.#inboundByLane.get(key) === connection) this.#inboundByLane.delete(key);
      },
    };
    const accept = (socket: Socket): void => {
      if (this.#closing !== undefined) return void socket.destroy();
      this.#inbound.add(new InboundConnection(socket, inbound));
    };
    // Under TLS the client must present a certificate signed by the CA (requestCert +
    // rejectUnauthorized); whether it names the node its hello claims is checked in #admit.
    this.#server =
      tls === undefined
        ? createServer()
        : createTlsServer({ ca: tls.ca, cert: tls.cert, key: tls.key, passphrase: tls.passphrase, requestCert: true, rejectUnauthorized: true, handshakeTimeout: handshakeTimeoutMs });
    this.#server.maxConnections = positive(options.maxConnections, 1024, 'maxConnections');
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
      socket.on('error', () => undefined); // a reset; under TLS also reported as tlsClientError
      if (tls === undefined) accept(socket);
    });
    if (tls !== undefined) {
      this.#server.on('secureConnection', (socket: TLSSocket) => accept(socket));
      this.#server.on('tlsClientError', (error: Error & { code?: string }, socket: TLSSocket) => {
        const reason = error.code === 'ERR_TLS_HANDSHAKE_TIMEOUT' ? 'handshake-timeout' : 'tls';
        this.#refuse(reason, `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`, undefined, `TLS handshake failed: ${error.message}`);
        socket.destroy(); // Node reports a handshake timeout but leaves the socket open
      });
    }
    this.#server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
      this.#refuse('too-many-connections', `${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}`, undefined, `over maxConnections`);
    });
    this.ready = new Promise<TcpAddress>((resolve, reject) => {
      this.#server.on('error', (error: Error) => {
        const failure = new TcpTransportError('LISTEN_FAILED', `${this.id} cannot listen on ${formatAddress(listen)}: ${error.message}`, { remote: formatAddress(listen), cause: error });
        if (this.#address === undefined) reject(failure);
        else this.#report(failure);
      });
      this.#server.listen({ host: listen.host, port: listen.port }, () => {
        const bound = this.#server.address();
        this.#address = typeof bound === 'object' && bound !== null ? { host: bound.address, port: bound.port } : listen;
        resolve(this.#address);
      });
    });
    this.ready.catch(() => undefined); // awaited by whoever cares; never an unhandled rejection
  }

  /**
   * The address the server is bound to (with the port picked when `listen` asked for port 0), once {@link TcpTransport.ready}.
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * const peersOfOthers = { a: transport.address! }; // for the other nodes' options
   * await transport.close();
   * ```
   */
  get address(): TcpAddress | undefined {
    return this.#address;
  }

  /**
   * Queues `message` for node `to` and returns. Never throws: a message that cannot be sent (an
   * unknown node, a full queue, too large, not encodable, after `close()`) is dropped and counted.
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * transport.send('nobody', { type: 'Ping', from: 'a', to: 'nobody' });
   * console.log(transport.stats().dropReasons['unknown-peer']); // 1
   * await transport.close();
   * ```
   */
  send(to: NodeId, message: Envelope): void {
    if (this.#closing !== undefined) return;
    try {
      this.#send(to, message);
    } catch (error) {
      this.#report(new TcpTransportError('SEND_FAILED', `${this.id} could not send to ${String(to)}: ${String(error)}`, { peer: to, cause: error }));
    }
  }

  /**
   * Registers the one handler for inbound messages (a later call replaces it). Messages that
   * arrive before it are dropped (`no-listener`).
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * transport.listen((message) => console.log('received', message));
   * await transport.close();
   * ```
   */
  listen(handler: (message: unknown) => void): void {
    if (this.#closing === undefined) this.#handler = handler;
  }

  /**
   * Stops for good: stops listening, drops what waits in the queues, and closes every
   * connection, those it dialled and those it accepted. Resolves once every socket and the
   * server are closed. Calling it again returns the same promise.
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * await transport.close();
   * transport.send('b', { type: 'Ping', from: 'a', to: 'b' }); // ignored, does not throw
   * ```
   */
  close(): Promise<void> {
    return (this.#closing ??= this.#shutdown());
  }

  /**
   * Adds a peer, or moves one to a new address (its connections are redialled there); the
   * address it already has changes nothing, and its connections stay open. For membership
   * changes: the new node's address must be known before it is added to the cluster.
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * transport.setPeer('d', '10.0.0.4:7001');
   * await transport.close();
   * ```
   */
  setPeer(id: NodeId, address: PeerAddress): void {
    const previous = this.#peers.get(id);
    const parsed = this.#setAddress(id, address);
    if (parsed === undefined) return;
    // The same address again (callers may pass every peer's address on every change): keep the connections.
    if (previous !== undefined && previous.host === parsed.host && previous.port === parsed.port) return;
    for (const link of Object.values(this.#links.get(id) ?? {})) link.retarget(parsed);
  }

  /**
   * Forgets a peer: drops what waits for it, closes its connections both ways, and refuses it from now on.
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: { d: '10.0.0.4:7001' }, listen: '127.0.0.1:0' });
   * transport.removePeer('d');
   * await transport.close();
   * ```
   */
  removePeer(id: NodeId): void {
    this.#peers.delete(id);
    for (const link of Object.values(this.#links.get(id) ?? {})) void link.close();
    this.#links.delete(id);
    for (const connection of this.#inbound) if (connection.peer === id) connection.destroy();
  }

  /**
   * The counters since creation (see {@link TcpTransportStats}).
   *
   * @example
   * ```ts
   * import { TcpTransport } from 'raftkit/node';
   * const transport = await TcpTransport.open({ id: 'a', peers: {}, listen: '127.0.0.1:0' });
   * const { sent, delivered, refused } = transport.stats();
   * console.log(sent.messages, delivered.messages, refused['wrong-cluster']); // 0 0 0
   * await transport.close();
   * ```
   */
  stats(): TcpTransportStats {
    const queued = { messages: 0, bytes: 0 };
    let outbound = 0;
    for (const lanes of this.#links.values()) {
      for (const link of Object.values(lanes)) {
        queued.messages += link.queue.length;
        queued.bytes += link.queue.bytes;
        if (link.open) outbound++;
      }
    }
    let inbound = 0;
    for (const connection of this.#inbound) if (connection.peer !== undefined) inbound++;
    return {
      sent: this.#sent.snapshot(),
      delivered: this.#delivered.snapshot(),
      dropped: this.#dropped.snapshot(),
      dropReasons: { ...this.#dropReasons },
      refused: { ...this.#refused },
      queued,
      connections: { outbound, inbound },
      dials: { ...this.#dials },
    };
  }

  // ── Sending ──────────────────────────────────────────────────────────────────────────────

  #send(to: NodeId, message: Envelope): void {
    const type = typeof message?.type === 'string' ? message.type : 'unknown';
    let bytes: Uint8Array;
    try {
      bytes = this.#codec.encode(message);
    } catch (error) {
      this.#sent.add(type, 0);
      this.#dropOne(type, 0, 'encode-error');
      return this.#report(new TcpTransportError('SEND_FAILED', `${this.id} could not encode a ${type} for ${to}: ${String(error)}`, { peer: to, cause: error }));
    }
    this.#sent.add(type, bytes.byteLength);
    const frame: QueuedFrame = { type, bytes };
    if (bytes.byteLength > this.#maxFrameBytes) {
      this.#drop([frame], 'frame-too-large');
      const why = `a ${type} of ${bytes.byteLength} bytes exceeds maxFrameBytes (${this.#maxFrameBytes}): lower the chunk or batch size`;
      return this.#report(new TcpTransportError('SEND_FAILED', `${this.id} dropped a message to ${to}: ${why}`, { peer: to }));
    }
    const link = this.#link(to, this.#bulk(message) ? 'bulk' : 'control');
    if (link === undefined) return this.#drop([frame], 'unknown-peer');
    link.send(frame);
  }

  /** The link to `peer` on `lane`, made on first use; undefined for an unknown peer. */
  #link(peer: NodeId, lane: Lane): PeerLink | undefined {
    const address = this.#peers.get(peer);
    if (address === undefined) return undefined;
    let lanes = this.#links.get(peer);
    if (lanes === undefined) this.#links.set(peer, (lanes = {}));
    return (lanes[lane] ??= new PeerLink(peer, lane, address, this.#linkContext, new Backoff(this.#reconnect[0], this.#reconnect[1], this.#random), this.#limits));
  }

  #dial(address: TcpAddress, peer: NodeId): Socket {
    if (this.#secureContext === undefined) return connectTcp({ host: address.host, port: address.port });
    return connectTls({
      host: address.host,
      port: address.port,
      secureContext: this.#secureContext,
      // The CA vouches for node ids: the server's certificate must name the peer we meant to reach.
      checkServerIdentity: (_host, certificate) =>
        certificateNames(certificate).includes(peer)
          ? undefined
          : new TcpTransportError('PEER_REFUSED', `the certificate of ${formatAddress(address)} does not name ${peer} (it names ${certificateNames(certificate).join(', ') || 'nothing'})`, {
              reason: 'tls',
              peer,
              remote: formatAddress(address),
            }),
    });
  }

  #setAddress(id: NodeId, address: PeerAddress): TcpAddress | undefined {
    if (typeof id !== 'string' || id === '') throw new TypeError(`TcpTransport: a peer id must be a non-empty string, got ${JSON.stringify(id)}`);
    const parsed = parseAddress(address, `TcpTransport: the address of peer ${id}`);
    if (id === this.id) return undefined;
    this.#peers.set(id, parsed);
    return parsed;
  }

  #drop(frames: readonly QueuedFrame[], reason: SendDropReason): void {
    for (const frame of frames) this.#dropOne(frame.type, frame.bytes.byteLength, reason);
  }

  /** Counts one dropped message of `type`, `bytes` long encoded. */
  #dropOne(type: string, bytes: number, reason: SendDropReason): void {
    this.#dropped.add(type, bytes);
    this.#dropReasons[reason]++;
  }

  // ── Receiving ────────────────────────────────────────────────────────────────────────────

  #admit(hello: Hello, connection: InboundConnection): RefusalReason | undefined {
    const reason = checkHello(hello, this.id, this.#cluster, (id) => this.#peers.has(id));
    if (reason !== undefined) return reason;
    if (this.#secureContext !== undefined && !certificateNames((connection.socket as TLSSocket).getPeerCertificate()).includes(hello.from)) return 'tls';
    // One connection per peer and lane: a newer one (the peer reconnected) replaces the old.
    const key = `${hello.from}\u0000${hello.lane}`;
    this.#inboundByLane.get(key)?.destroy();
    this.#inboundByLane.set(key, connection);
    return undefined;
  }

  #deliver(message: unknown, bytes: number): void {
    if (this.#closing !== undefined) return;
    const type = typeof (message as Envelope).type === 'string' ? (message as Envelope).type : 'unknown';
    const handler = this.#handler;
    if (handler === undefined) return this.#dropOne(type, bytes, 'no-listener');
    this.#delivered.add(type, bytes);
    try {
      handler(message);
    } catch (error) {
      this.#report(new TcpTransportError('HANDLER_FAILED', `${this.id}: the handler threw for a ${type}: ${String(error)}`, { cause: error }));
    }
  }

  #refuse(reason: RefusalReason, remote: string, peer: NodeId | undefined, detail: string): void {
    this.#refused[reason]++;
    const who = peer === undefined ? remote : `${JSON.stringify(peer)} at ${remote}`;
    this.#report(new TcpTransportError('REFUSED', `${this.id} refused a connection from ${who} (${reason}): ${detail}`, { reason, remote, ...(peer === undefined ? {} : { peer }) }));
  }

  #report(warning: TcpTransportError): void {
    try {
      this.#warn(warning);
    } catch {
      // A throwing warning callback must not break the connection that reported it.
    }
  }

  async #shutdown(): Promise<void> {
    this.#handler = undefined;
    await this.ready.catch(() => undefined); // closing a server still binding would race its bind
    const serverClosed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    const waits = [...this.#links.values()].flatMap((lanes) => Object.values(lanes).map((link) => link.close()));
    waits.push(...destroyAll(this.#sockets), ...destroyAll([...this.#inbound].map((c) => c.socket)), serverClosed);
    await Promise.all(waits);
  }
}
