/**
 * KeyValueServer: one node of a replicated key-value service. A {@link RaftNode} applying a
 * {@link KeyValueStore}, persisted by {@link FileStorage}, talking to its peers over
 * {@link TcpTransport}, and answering an HTTP JSON API. `raftkit serve` runs one.
 */
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../kv/key-value-store.js';
import { RaftNode } from '../node/raft-node.js';
import { NotLeaderError, RaftError, TransferError } from '../raft/errors.js';
import type { Message } from '../raft/messages.js';
import type { NodeId } from '../raft/types.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import { formatAddress, parseAddress, type PeerAddress, type TcpAddress } from './address.js';
import { FileStorage } from './file-storage.js';
import { HttpServer, type HttpReply, type HttpRequest } from './http-server.js';
import { nodeFileSystem } from './file-system.js';
import { formatMetrics, Histogram, type Metric } from './metrics.js';
import { timedSyncs, watchEventLoop } from './stalls.js';
import { TcpTransport, type TcpTlsOptions } from './tcp-transport.js';

/** Keys under this prefix belong to the server (the replicated address book); the API refuses them. */
const RESERVED = '_raftkit/';
/** The address book: every member's Raft address, replicated through the log so that every node can reach a new member. */
const ADDRESS_BOOK = `${RESERVED}peers`;

/**
 * Options of {@link KeyValueServer.start}.
 *
 * @example
 * ```ts
 * import type { KeyValueServerOptions } from 'raftkit/node';
 * const options: KeyValueServerOptions = {
 *   id: '1',
 *   peers: { '1': '127.0.0.1:7001', '2': '127.0.0.1:7002', '3': '127.0.0.1:7003' },
 *   data: './data/1',
 *   http: '127.0.0.1:8001',
 * };
 * ```
 */
export interface KeyValueServerOptions {
  /** This node's id. */
  readonly id: NodeId;
  /** The Raft address of every voter of the initial cluster, this node's included (unless it joins). */
  readonly peers: Readonly<Record<NodeId, PeerAddress>>;
  /** The store's directory (see {@link FileStorage}). */
  readonly data: string;
  /** Where the HTTP API listens. */
  readonly http: PeerAddress;
  /** Where Raft listens; default this node's address in `peers`. */
  readonly listen?: PeerAddress;
  /** The cluster's name, checked in every Raft handshake. Default `'raftkit'`. */
  readonly clusterId?: string;
  /** Mutual TLS between the nodes (the HTTP API stays plain: put it behind your proxy). */
  readonly tls?: TcpTlsOptions;
  /** Join a running cluster as a new member (its leader adds it with `POST /members`). Default false. */
  readonly join?: boolean;
  /** `FileStorage`'s sync; `'never'` is not durable (demos only). Default `'always'`. */
  readonly sync?: 'always' | 'never';
  /** The largest request body, in bytes. Default 1 MiB. */
  readonly maxBodyBytes?: number;
  /** How long a write or read may take before it is answered as unknown or failed, in ms. Default 5,000. */
  readonly requestTimeoutMs?: number;
  /** Election timeout range in ms. Default [300, 600] (a real network is slower than memory). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Heartbeat interval in ms. Default 75. */
  readonly heartbeatIntervalMs?: number;
  /** Entries between automatic snapshots. Default 10,000. */
  readonly snapshotThreshold?: number;
  /** Pre-vote (Raft thesis §9.6): a node that cannot win does not disrupt the term. Default true. */
  readonly preVote?: boolean;
  /** Check-quorum: a leader that stops hearing from a majority steps down. Default true. */
  readonly checkQuorum?: boolean;
  /** How long a Raft connection may take to complete its handshake, in ms. Default 5,000. */
  readonly handshakeTimeoutMs?: number;
  /** The most inbound Raft connections open at once. Default 1,024. */
  readonly maxConnections?: number;
  /** Where log lines go, one object each. Default: a JSON line on stderr. */
  readonly log?: (line: Readonly<Record<string, unknown>>) => void;
}

type Reply = { status: number; body: unknown; headers?: Record<string, string> };

/** A failure after part of a request took effect: its outcome is unknown, whatever the cause says. */
class PartlyDone extends Error {
  constructor(message: string, options: { cause: unknown }) {
    super(message, options);
  }
}

/** A client error: the request cannot be served as it is. */
class BadRequest extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    /** For 405: the methods the resource allows. */
    readonly allow?: string,
  ) {
    super(message);
  }
}

/** The largest Raft message on the wire; entries are batched well below it, and a request body is smaller still. */
const MAX_FRAME_BYTES = 16 * 1024 * 1024;
const MAX_BATCH_BYTES = 4 * 1024 * 1024;
/** Node ids as the Raft handshake accepts them. */
const ID = /^[^\s]{1,256}$/;

/** An fdatasync, or a main thread late, by at least this long is logged: a third of the default minimum election timeout. */
const SLOW_MS = 100;
const FSYNC_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1];

/**
 * One node of a replicated key-value service over HTTP. Start it with {@link KeyValueServer.start};
 * `raftkit serve` is the same from the command line. The API (JSON in and out):
 *
 * - `PUT /kv/:key` (body: the value), `DELETE /kv/:key`, `POST /kv/:key/cas` (body:
 *   `{ expected, value }`; 409 when `expected` does not hold): written through the log; a
 *   follower forwards to the leader. 200 once applied here.
 * - `GET /kv/:key`: linearizable by default (ReadIndex); `?consistency=lease` or `stale`.
 * - `GET /status`, `GET /metrics` (Prometheus), `POST /members` (`{ id, address, role }`) and
 *   `DELETE /members/:id` on the leader.
 * - Failures: 503 with `code` `NOT_APPLIED` (it did not take effect: retry) or
 *   `OUTCOME_UNKNOWN` (it may have: read before retrying a write that is not idempotent); 4xx
 *   with a `code` for bad requests.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { KeyValueServer } from 'raftkit/node';
 * const data = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const server = await KeyValueServer.start({ id: '1', peers: { '1': '127.0.0.1:0' }, data, http: '127.0.0.1:0', log: () => {} });
 * const url = `http://127.0.0.1:${server.httpAddress.port}`;
 * while (server.node.role !== 'leader') await new Promise((r) => setTimeout(r, 20));
 * await fetch(`${url}/kv/greeting`, { method: 'PUT', body: JSON.stringify('hello') });
 * console.log(await (await fetch(`${url}/kv/greeting`)).json()); // { value: 'hello', index: 2 } (say)
 * await server.close();
 * ```
 */
export class KeyValueServer {
  /** The Raft node. */
  readonly node: RaftNode<KeyValueCommand, KeyValueResult>;
  /** Its replica of the store. */
  readonly store: KeyValueStore;
  /** Where Raft listens. */
  readonly raftAddress: TcpAddress;
  #http!: HttpServer;
  readonly #storage: FileStorage;
  readonly #transport: TcpTransport;
  readonly #options: KeyValueServerOptions;
  readonly #log: (line: Readonly<Record<string, unknown>>) => void;
  readonly #fsync: Histogram;
  readonly #counts = { proposals: 0, proposalsFailed: 0, readsFailed: 0, reads: 0, elections: 0, snapshotsTaken: 0, snapshotsInstalled: 0, requests: new Map<string, number>() };
  readonly #initialPeers: Readonly<Record<NodeId, PeerAddress>>;
  #logBook: Record<NodeId, string | null> = {};
  #closing: Promise<void> | null = null;
  #unwatchLoop: () => void = () => undefined;
  #failed: (cause: Error) => void = () => undefined;
  /**
   * Settles if the node stops on its own (a storage failure, say), with the cause; the server
   * then only answers 503, so a supervisor should restart it. `raftkit serve` exits with 1.
   */
  readonly stopped: Promise<Error> = new Promise((resolve) => (this.#failed = resolve));

  private constructor(parts: { node: RaftNode<KeyValueCommand, KeyValueResult>; store: KeyValueStore; storage: FileStorage; transport: TcpTransport; options: KeyValueServerOptions; log: (line: Readonly<Record<string, unknown>>) => void; fsync: Histogram }) {
    this.node = parts.node;
    this.store = parts.store;
    this.#storage = parts.storage;
    this.#transport = parts.transport;
    this.raftAddress = parts.transport.address as TcpAddress;
    this.#options = parts.options;
    this.#log = parts.log;
    this.#fsync = parts.fsync;
    this.#initialPeers = parts.options.peers;
  }

  /**
   * Opens the store, starts the node and its transport, and listens for HTTP. Throws what
   * `FileStorage.open` throws (a `LOCKED` store, say), a `TcpTransportError` for a bad address,
   * or the listen error (`EADDRINUSE`); whatever started is stopped again.
   */
  static async start(options: KeyValueServerOptions): Promise<KeyValueServer> {
    const { id } = options;
    if (typeof id !== 'string' || id === '') throw new TypeError(`KeyValueServer: id must be a non-empty string, got ${String(id)}`);
    const self = options.listen ?? options.peers[id];
    if (self === undefined) throw new TypeError(`KeyValueServer: peers has no address for this node (${id}); give one, or listen`);
    const httpAt = parseAddress(options.http, 'http');
    const maxBody = options.maxBodyBytes ?? 1024 * 1024;
    if (!(Number.isSafeInteger(maxBody) && maxBody > 0 && maxBody <= MAX_BATCH_BYTES / 2)) throw new RangeError(`KeyValueServer: maxBodyBytes must be an integer in [1, ${MAX_BATCH_BYTES / 2}], got ${String(options.maxBodyBytes)}`);
    const log = options.log ?? ((line) => process.stderr.write(`${JSON.stringify({ time: new Date().toISOString(), node: id, ...line })}\n`));
    const clock = new RealScheduler();
    const fsync = new Histogram(FSYNC_BUCKETS);
    // fdatasync latency, measured where it happens. A node sends nothing while its save waits on the disk.
    const timed = timedSyncs(nodeFileSystem, clock, (ms, path) => {
      fsync.observe(ms / 1000);
      if (ms >= SLOW_MS) log({ level: 'warn', msg: 'slow fdatasync', code: 'SLOW_FSYNC', ms: Math.round(ms), file: path });
    });
    const storage = await FileStorage.open(options.data, { fileSystem: timed, sync: options.sync ?? 'always', onWarning: (w) => log({ level: 'warn', msg: w.message, code: w.code }) });
    let transport: TcpTransport | undefined;
    let node: RaftNode<KeyValueCommand, KeyValueResult> | undefined;
    try {
      transport = await TcpTransport.open({
        id,
        peers: options.peers,
        listen: self,
        maxFrameBytes: MAX_FRAME_BYTES,
        ...(options.clusterId === undefined ? {} : { clusterId: options.clusterId }),
        ...(options.tls === undefined ? {} : { tls: options.tls }),
        ...(options.handshakeTimeoutMs === undefined ? {} : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
        ...(options.maxConnections === undefined ? {} : { maxConnections: options.maxConnections }),
        onWarning: (warning) => log({ level: 'warn', msg: warning.message, code: warning.code }),
      });
      const store = new KeyValueStore();
      node = new RaftNode<KeyValueCommand, KeyValueResult>({
        id,
        peers: Object.keys(options.peers),
        join: options.join ?? false,
        transport,
        storage,
        stateMachine: store,
        forwardProposals: true,
        electionTimeoutMs: options.electionTimeoutMs ?? [300, 600],
        heartbeatIntervalMs: options.heartbeatIntervalMs ?? 75,
        snapshotThreshold: options.snapshotThreshold ?? 10_000,
        preVote: options.preVote ?? true,
        checkQuorum: options.checkQuorum ?? true,
        maxBytesPerMessage: MAX_BATCH_BYTES, // far below the frame limit: a follower far behind on large values still catches up
      });
      const server = new KeyValueServer({ node, store, storage, transport, options, log, fsync });
      server.#watch();
      await node.start();
      server.#bookFromLog();
      server.#syncPeers();
      server.#http = await HttpServer.listen((request) => server.#serve(request), { host: httpAt.host, port: httpAt.port, maxBodyBytes: maxBody, onRefused: (method, status) => server.#count(method, status) }, (error) =>
        log({ level: 'error', msg: `http: ${error.message}`, code: (error as { code?: string }).code }),
      );
      // A main thread this late fires election and check-quorum timers before it reads what arrived meanwhile.
      server.#unwatchLoop = watchEventLoop(clock, SLOW_MS, SLOW_MS, (ms) => log({ level: 'warn', msg: 'event loop stalled', code: 'EVENT_LOOP_STALL', ms: Math.round(ms) }));
      log({ level: 'info', msg: 'started', http: formatAddress(server.httpAddress), raft: formatAddress(server.raftAddress) });
      return server;
    } catch (error) {
      if (node !== undefined) await node.stop().catch(() => undefined);
      else await transport?.close().catch(() => undefined);
      await storage.close().catch(() => undefined);
      throw error;
    }
  }

  /** Where the HTTP API listens (the port it was given, or the one picked for port 0). */
  get httpAddress(): TcpAddress {
    return this.#http.address;
  }

  /** Everything the node and its parts counted, in the Prometheus text format (what `GET /metrics` answers). */
  metrics(): string {
    const status = this.node.status();
    const transport = this.#transport.stats();
    const storage = this.#storage.stats();
    const counter = (name: string, help: string, value: number): Metric => ({ name, help, type: 'counter', samples: [{ value }] });
    const gauge = (name: string, help: string, value: number): Metric => ({ name, help, type: 'gauge', samples: [{ value }] });
    const byType = (counts: { byType: Record<string, { messages: number; bytes: number }> }, field: 'messages' | 'bytes') => Object.entries(counts.byType).map(([type, c]) => ({ labels: { type }, value: c[field] }));
    return formatMetrics([
      gauge('raftkit_term', 'The current term.', status.term),
      { name: 'raftkit_role', help: 'The role, as a 1 on its label.', type: 'gauge', samples: ['follower', 'precandidate', 'candidate', 'leader', 'learner'].map((role) => ({ labels: { role }, value: status.role === role ? 1 : 0 })) },
      gauge('raftkit_commit_index', 'The highest log index known committed.', status.commitIndex),
      gauge('raftkit_applied_index', 'The highest log index applied.', status.lastApplied),
      gauge('raftkit_snapshot_index', 'The index of the latest snapshot.', status.snapshotIndex),
      counter('raftkit_proposals_total', 'Writes proposed through this node.', this.#counts.proposals),
      counter('raftkit_proposals_failed_total', 'Writes that failed (not applied, or outcome unknown).', this.#counts.proposalsFailed),
      counter('raftkit_reads_total', 'Reads served.', this.#counts.reads),
      counter('raftkit_reads_failed_total', 'Reads that failed.', this.#counts.readsFailed),
      counter('raftkit_elections_total', 'Elections this node started.', this.#counts.elections),
      { name: 'raftkit_snapshots_total', help: 'Snapshots taken here or installed from the leader.', type: 'counter', samples: [{ labels: { kind: 'taken' }, value: this.#counts.snapshotsTaken }, { labels: { kind: 'installed' }, value: this.#counts.snapshotsInstalled }] },
      counter('raftkit_storage_saves_total', 'Saves made durable.', storage.saves),
      counter('raftkit_storage_writes_total', 'Writes to the log (each one fsync): saves per write is the group-commit factor.', storage.writes),
      counter('raftkit_fsyncs_total', 'fdatasync calls on log segments.', storage.syncs),
      { name: 'raftkit_fsync_seconds', help: 'fdatasync latency, every file of the store.', type: 'histogram', histogram: this.#fsync },
      { name: 'raftkit_messages_sent_total', help: 'Raft messages sent, by type.', type: 'counter', samples: byType(transport.sent, 'messages') },
      { name: 'raftkit_message_bytes_sent_total', help: 'Bytes of Raft messages sent, by type.', type: 'counter', samples: byType(transport.sent, 'bytes') },
      { name: 'raftkit_messages_received_total', help: 'Raft messages received, by type.', type: 'counter', samples: byType(transport.delivered, 'messages') },
      { name: 'raftkit_messages_dropped_total', help: 'Raft messages dropped on sending, by reason.', type: 'counter', samples: Object.entries(transport.dropReasons).map(([reason, value]) => ({ labels: { reason }, value })) },
      { name: 'raftkit_connections_refused_total', help: 'Inbound Raft connections refused, by reason.', type: 'counter', samples: Object.entries(transport.refused).map(([reason, value]) => ({ labels: { reason }, value })) },
      { name: 'raftkit_http_requests_total', help: 'HTTP requests, by method and status.', type: 'counter', samples: [...this.#counts.requests].map(([key, value]) => ({ labels: { method: key.split(' ')[0] as string, status: key.split(' ')[1] as string }, value })) },
    ]);
  }

  /** Stops taking requests, lets those in flight finish (up to the request timeout), then stops the node and closes the store. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#log({ level: 'info', msg: 'shutting down' });
      this.#unwatchLoop();
      // A leader hands over first, so the cluster need not wait out an election timeout.
      if (this.node.role === 'leader' && this.node.membership.voters.length > 1) {
        await this.node.transferLeadership(undefined, { timeoutMs: 1_000 }).catch(() => undefined);
      }
      await this.#http.close(this.#options.requestTimeoutMs ?? 5_000);
      await this.node.stop();
      await this.#storage.close();
      this.#log({ level: 'info', msg: 'stopped' });
    })();
    return this.#closing;
  }

  // ── Wiring ────────────────────────────────────────────────────────────────────────────────

  #watch(): void {
    const node = this.node;
    node.on('role', (role, term) => {
      if (role === 'candidate') this.#counts.elections++;
      this.#log({ level: 'info', msg: 'role', role, term });
    });
    node.on('snapshot', ({ installed }) => {
      if (installed) {
        this.#counts.snapshotsInstalled++;
        this.#syncPeers();
      } else this.#counts.snapshotsTaken++;
    });
    node.on('apply', (entry) => {
      if ((entry.command as KeyValueCommand | undefined)?.key === ADDRESS_BOOK) this.#syncPeers();
    });
    node.on('error', (error) => {
      this.#log({ level: 'error', msg: error.message, code: (error as { code?: string }).code });
      // A node that stopped itself (its storage failed, say) serves nothing more: say so, once.
      queueMicrotask(() => {
        if (!node.running && this.#closing === null) this.#failed(error);
      });
    });
  }

  /** The replicated address book, over the initial peers and what the log holds unapplied: who the transport may reach. */
  #addressBook(): Record<NodeId, PeerAddress | null> {
    return { ...this.#initialPeers, ...this.#logBook, ...((this.store.get(ADDRESS_BOOK) as Record<NodeId, string | null> | undefined) ?? {}) };
  }

  /**
   * At start, the newest address book in the log, applied or not: a node restarted after a
   * member was added must accept that member's connections before it can learn that the entry
   * committed, and the leader may be that member.
   */
  #bookFromLog(): void {
    for (const entry of this.node.entries()) {
      const command = entry.command as KeyValueCommand | undefined;
      // (A compare-and-set that did not swap still names only addresses some leader meant to add: a harmless superset.)
      if (entry.kind === 'command' && (command?.op === 'put' || command?.op === 'cas') && command.key === ADDRESS_BOOK) this.#logBook = command.value as Record<NodeId, string | null>;
    }
  }

  #syncPeers(): void {
    for (const [id, address] of Object.entries(this.#addressBook())) {
      if (id === this.node.id) continue;
      if (address === null) this.#transport.removePeer(id);
      else this.#transport.setPeer(id, address);
    }
  }

  // ── HTTP ──────────────────────────────────────────────────────────────────────────────────

  async #serve(request: HttpRequest): Promise<HttpReply> {
    let reply: Reply;
    try {
      reply = await this.#route(request);
    } catch (error) {
      reply = error instanceof BadRequest ? { status: error.status, body: { code: error.code, message: error.message }, ...(error.allow === undefined ? {} : { headers: { allow: error.allow } }) } : this.#failure(error, request.method === 'GET' ? 'read' : 'write');
    }
    this.#count(request.method, reply.status);
    const text = typeof reply.body === 'string';
    return { status: reply.status, headers: { 'content-type': text ? 'text/plain; version=0.0.4' : 'application/json', ...reply.headers }, body: text ? (reply.body as string) : `${JSON.stringify(reply.body)}\n` };
  }

  #count(method: string, status: number): void {
    const key = `${method} ${status}`;
    this.#counts.requests.set(key, (this.#counts.requests.get(key) ?? 0) + 1);
  }

  async #route(request: HttpRequest): Promise<Reply> {
    let url: URL;
    try {
      url = new URL(request.target, 'http://server');
    } catch {
      throw new BadRequest(400, 'BAD_REQUEST', 'the request URL is not valid');
    }
    const method = request.method;
    const path = url.pathname;
    const allow = (methods: string): never => {
      throw new BadRequest(405, 'METHOD_NOT_ALLOWED', `${method} is not allowed on ${path} (allowed: ${methods})`, methods);
    };
    if (path === '/status') return method === 'GET' ? { status: 200, body: this.#status() } : allow('GET');
    if (path === '/metrics') return method === 'GET' ? { status: 200, body: this.metrics() } : allow('GET');
    if (path === '/members') return method === 'POST' ? this.#addMember(this.#json(request)) : allow('POST');
    const member = /^\/members\/([^/]+)$/.exec(path);
    if (member !== null) return method === 'DELETE' ? this.#removeMember(idOf(member[1] as string)) : allow('DELETE');
    const kv = /^\/kv\/([^/]+)(\/cas)?$/.exec(path);
    if (kv === null) throw new BadRequest(404, 'NOT_FOUND', `no such resource: ${path} (see /kv/:key, /status, /metrics, /members)`);
    const key = keyOf(kv[1] as string);
    if (kv[2] !== undefined) {
      if (method !== 'POST') allow('POST');
      const body = this.#json(request);
      if (typeof body !== 'object' || body === null || !('value' in body)) throw new BadRequest(400, 'BAD_REQUEST', 'a compare-and-set takes { "expected": …, "value": … } (expected absent: the key must be absent)');
      const { expected, value } = body as { expected?: unknown; value: unknown };
      const { result, index } = await this.#write({ op: 'cas', key, expected, value });
      return { status: result.ok ? 200 : 409, body: result.ok ? { ok: true, previous: result.previous, index } : { ok: false, code: 'CAS_FAILED', previous: result.previous, index } };
    }
    switch (method) {
      case 'GET':
        return this.#read(key, url.searchParams.get('consistency') ?? 'linearizable');
      case 'PUT': {
        const value = this.#json(request);
        const { result, index } = await this.#write({ op: 'put', key, value });
        return { status: 200, body: { previous: result.previous, index } };
      }
      case 'DELETE': {
        const { result, index } = await this.#write({ op: 'delete', key });
        return { status: 200, body: { previous: result.previous, index } };
      }
      default:
        return allow('GET, PUT, DELETE');
    }
  }

  async #write(command: KeyValueCommand): Promise<{ result: KeyValueResult; index: number }> {
    this.#counts.proposals++;
    const { result, index } = await this.node.propose(command, { timeoutMs: this.#options.requestTimeoutMs ?? 5_000 });
    return { result, index };
  }

  async #read(key: string, consistency: string): Promise<Reply> {
    if (consistency !== 'linearizable' && consistency !== 'lease' && consistency !== 'stale') throw new BadRequest(400, 'BAD_REQUEST', `consistency must be linearizable, lease or stale, got ${consistency}`);
    const index = consistency === 'stale' ? this.node.lastApplied : await this.node.read({ lease: consistency === 'lease', timeoutMs: this.#options.requestTimeoutMs ?? 5_000 });
    this.#counts.reads++;
    const value = this.store.get(key);
    return value === undefined ? { status: 404, body: { code: 'NOT_FOUND', key, index } } : { status: 200, body: { value, index } };
  }

  #status(): unknown {
    const { id, role, term, leaderId, commitIndex, lastApplied, snapshotIndex, membership } = this.node.status();
    return { id, role, term, leader: leaderId, commit: commitIndex, applied: lastApplied, snapshot: snapshotIndex, membership, peers: this.#addressBook(), http: formatAddress(this.httpAddress), raft: formatAddress(this.raftAddress) };
  }

  async #addMember(body: unknown): Promise<Reply> {
    const { id, address, role = 'voter' } = (typeof body === 'object' && body !== null ? body : {}) as { id?: unknown; address?: unknown; role?: unknown };
    if (typeof id !== 'string' || !ID.test(id) || typeof address !== 'string' || (role !== 'voter' && role !== 'learner')) {
      throw new BadRequest(400, 'BAD_REQUEST', 'a new member is { "id": "4", "address": "host:port", "role": "voter" | "learner" } (an id of 1 to 256 characters, no spaces)');
    }
    parseAddressOr400(address);
    this.#requireLeader();
    const known = this.#addressBook()[id];
    const { voters, learners } = this.node.membership;
    if ((voters.includes(id) || learners.includes(id)) && known !== undefined && known !== null && formatAddress(parseAddress(known, 'address')) !== formatAddress(parseAddress(address, 'address'))) {
      throw new BadRequest(409, 'MEMBER_EXISTS', `${id} is a member at ${String(known)}; remove it before adding it at another address`);
    }
    // Every node learns the address through the log before the member is added. The book is
    // changed by compare-and-set, so that two changes at once cannot lose each other's entry.
    await this.#changeBook(id, address);
    const timeoutMs = this.#options.requestTimeoutMs ?? 5_000;
    // Only a refusal of the first change proves nothing happened; after it the outcome is unknown.
    if (!voters.includes(id) && !learners.includes(id)) await this.node.addLearner(id, { signal: AbortSignal.timeout(timeoutMs) });
    try {
      const membership = role === 'voter' ? await this.node.addVoter(id, { timeoutMs }) : this.node.membership;
      return { status: 200, body: { membership } };
    } catch (error) {
      throw new PartlyDone(`${id} was added as a learner; whether it became a voter is unknown: ${String((error as Error).message)}`, { cause: error });
    }
  }

  async #removeMember(id: string): Promise<Reply> {
    this.#requireLeader();
    const membership = await this.node.removeServer(id, { signal: AbortSignal.timeout(this.#options.requestTimeoutMs ?? 5_000) });
    if (id !== this.node.id) await this.#changeBook(id, null).catch(() => undefined);
    return { status: 200, body: { membership } };
  }

  /** Sets one entry of the replicated address book, by compare-and-set (retried when another change came between). */
  async #changeBook(id: NodeId, address: string | null): Promise<void> {
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = this.store.get(ADDRESS_BOOK) as Record<NodeId, string | null> | undefined;
      const { result } = await this.#write({ op: 'cas', key: ADDRESS_BOOK, expected: current, value: { ...this.#logBook, ...current, [id]: address } });
      if (result.ok) return;
    }
    throw new RaftError('CHANGE_IN_PROGRESS', 'the address book keeps changing; try again');
  }

  #requireLeader(): void {
    if (this.node.role !== 'leader') throw new NotLeaderError(this.node.id, this.node.leaderId);
  }

  /** The request's JSON body; 400 when it is not JSON (the HTTP server refused one too large). */
  #json(request: HttpRequest): unknown {
    const text = request.body.toString('utf8');
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new BadRequest(400, 'BAD_JSON', text === '' ? 'the body must be a JSON value, and it is empty' : 'the body is not valid JSON');
    }
  }

  /** How a failure is answered: 503, with whether the request could have taken effect. */
  #failure(error: unknown, kind: 'read' | 'write'): Reply {
    if (kind === 'write') this.#counts.proposalsFailed++;
    else this.#counts.readsFailed++;
    const leader = this.node.leaderId;
    const message = error instanceof Error ? error.message : String(error);
    const code = (error as { code?: string } | null)?.code;
    if (kind === 'read') return { status: 503, body: { code: 'READ_FAILED', reason: code, message, leader } };
    // Only an answer that says "not applied" is one; anything else (a timeout, a lost leadership, a stop) may have taken effect.
    const notApplied = !(error instanceof PartlyDone) && (error instanceof NotLeaderError || error instanceof TransferError || (error instanceof RaftError && (code === 'INVALID_COMMAND' || code === 'CHANGE_IN_PROGRESS' || code === 'INVALID_CHANGE')));
    if (!(error instanceof RaftError)) this.#log({ level: 'error', msg: 'request failed', error: message });
    return { status: 503, body: { code: notApplied ? 'NOT_APPLIED' : 'OUTCOME_UNKNOWN', reason: code, message, leader } };
  }
}

function keyOf(raw: string): string {
  let key: string;
  try {
    key = decodeURIComponent(raw);
  } catch {
    throw new BadRequest(400, 'BAD_KEY', 'the key is not valid percent-encoding');
  }
  if (key.length > 1024) throw new BadRequest(400, 'BAD_KEY', `a key may be at most 1,024 characters, this one has ${key.length}`);
  if (key.startsWith(RESERVED)) throw new BadRequest(403, 'RESERVED_KEY', `keys under ${RESERVED} belong to the server`);
  return key;
}

function idOf(raw: string): string {
  try {
    return decodeURIComponent(raw);
  } catch {
    throw new BadRequest(400, 'BAD_REQUEST', 'the member id is not valid percent-encoding');
  }
}

function parseAddressOr400(address: string): void {
  try {
    parseAddress(address, 'address');
  } catch (error) {
    throw new BadRequest(400, 'BAD_REQUEST', String((error as Error).message));
  }
}
