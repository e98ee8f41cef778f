/**
 * One replica of the AP key-value store: always available, eventually consistent, causally
 * consistent, last-writer-wins by hybrid logical clock.
 */
import { EventEmitter } from 'eventemitter3';
import { ClockError } from '../clocks/errors.js';
import { compareHlc, HybridLogicalClock, type HlcTimestamp } from '../clocks/hlc.js';
import { isValidNodeId } from '../clocks/validate.js';
import type { VectorTimestamp } from '../clocks/vector.js';
import { hasListeners } from '../runtime/listeners.js';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { Transport } from '../transport/transport.js';
import { ApError, SessionBehindError } from './errors.js';
import { validateApMessage, type ApDelta, type ApMessage, type ApWrite } from './messages.js';
import type { ApSession } from './session.js';

/**
 * Options of an {@link ApReplica}. Only `id`, `peers` and `transport` are required.
 *
 * @example
 * ```ts
 * import { ApReplica, InMemoryNetwork, SeededRandom, VirtualScheduler, type ApReplicaOptions } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: [1, 10] });
 * const options: ApReplicaOptions = {
 *   id: 'a', peers: ['a', 'b', 'c'], transport: network.transport('a'), scheduler, random: new SeededRandom('a'),
 *   gossipIntervalMs: 50, maxWritesPerMessage: 32,
 * };
 * const replica = new ApReplica(options);
 * ```
 */
export interface ApReplicaOptions {
  /** This replica's id: a valid vector-clock node id, unique among the replicas. */
  readonly id: string;
  /** Every replica's id (this one may be listed too). */
  readonly peers: readonly string[];
  /** How this replica reaches its peers; the replica owns it and closes it on {@link ApReplica.stop}. */
  readonly transport: Transport<ApMessage>;
  /** Time and timers (default a {@link RealScheduler}). */
  readonly scheduler?: Scheduler;
  /** Chooses the gossip partner of each round (default {@link MathRandom}). */
  readonly random?: Random;
  /**
   * Physical time for the hybrid logical clock, in whole ms (default the scheduler's time,
   * rounded down). Give each replica its own to simulate clock skew.
   */
  readonly now?: () => number;
  /** How often to start an anti-entropy exchange with a random peer, in ms (default 100). */
  readonly gossipIntervalMs?: number;
  /** Whether each new write is also pushed to every peer at once (default true). */
  readonly push?: boolean;
  /** The most writes in one message (default 64). */
  readonly maxWritesPerMessage?: number;
  /** About the most bytes (JSON text) of writes in one message; one write always goes (default 64 KiB). */
  readonly maxBytesPerMessage?: number;
  /** The longest value accepted, as JSON text (default 16 KiB). */
  readonly maxValueBytes?: number;
  /** The longest key accepted (default 1,024 characters). */
  readonly maxKeyLength?: number;
  /** How many writes that arrived before one they depend on are kept for later (default 1,024). */
  readonly maxPending?: number;
  /** How far ahead of physical time a received HLC may be before this clock ignores it (default 60 s). */
  readonly maxClockDriftMs?: number;
}

/**
 * One version of a key, as {@link ApReplica.get} reports it: its value (a copy; undefined for a
 * delete), who accepted it, and its HLC timestamp.
 *
 * @example
 * ```ts
 * import type { ApVersion } from 'raftkit';
 * const version: ApVersion = { key: 'x', value: 1, deleted: false, origin: 'a', seq: 1, hlc: { wallTime: 5, logical: 0, nodeId: 'a' } };
 * ```
 */
export interface ApVersion {
  /** The key. */
  readonly key: string;
  /** The value (a fresh copy), or undefined for a delete. */
  readonly value: unknown;
  /** True for a delete. */
  readonly deleted: boolean;
  /** The replica that accepted the write. */
  readonly origin: string;
  /** The write's position among that replica's writes, from 1. */
  readonly seq: number;
  /** The write's hybrid logical clock timestamp: the larger one wins among concurrent versions. */
  readonly hlc: HlcTimestamp;
}

/**
 * What {@link ApReplica.get} returns: the value last-writer-wins chooses, and the versions
 * concurrent with it that it beat (writes no replica had seen each other's of, so none
 * overwrote the other: a conflict that LWW resolved by HLC).
 *
 * @example
 * ```ts
 * import { ApReplica, InMemoryNetwork, VirtualScheduler, type ApReadResult } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler });
 * const replica = new ApReplica({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler });
 * replica.put('x', 1);
 * const read: ApReadResult = replica.get('x');
 * console.log(read.value, read.found, read.concurrent.length); // 1 true 0
 * ```
 */
export interface ApReadResult {
  /** The winning version's value (a fresh copy), or undefined when the key is absent or deleted. */
  readonly value: unknown;
  /** Whether the key holds a value (it has versions and the winner is not a delete). */
  readonly found: boolean;
  /** The winning version, or undefined when the key was never written (as far as this replica knows). */
  readonly version: ApVersion | undefined;
  /** The other versions concurrent with the winner, newest first: empty unless writes conflicted. */
  readonly concurrent: readonly ApVersion[];
}

/**
 * Counters of an {@link ApReplica}, since it started.
 *
 * @example
 * ```ts
 * import { ApReplica, InMemoryNetwork, VirtualScheduler, type ApReplicaStats } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler });
 * const replica = new ApReplica({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler });
 * replica.put('x', 1);
 * const stats: ApReplicaStats = replica.stats();
 * console.log(stats.accepted, stats.logLength); // 1 1
 * ```
 */
export interface ApReplicaStats {
  /** Writes accepted here from clients. */
  readonly accepted: number;
  /** Writes of other replicas applied here. */
  readonly applied: number;
  /** Writes received again after they were applied (duplicates, overlapping deltas). */
  readonly duplicates: number;
  /** Writes held back now because one they depend on has not arrived. */
  readonly pending: number;
  /** Writes dropped because the pending buffer was full (anti-entropy sends them again). */
  readonly overflow: number;
  /** Writes kept for peers that may lack them (dropped once every peer is known to have them). */
  readonly logLength: number;
  /** Invalid messages dropped. */
  readonly invalid: number;
  /** Received HLC timestamps the clock did not follow (too far ahead of physical time, or a counter too large). */
  readonly clockDrift: number;
}

/**
 * The events of an {@link ApReplica}.
 *
 * @example
 * ```ts
 * import { ApReplica, InMemoryNetwork, VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler });
 * const replica = new ApReplica({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler });
 * replica.on('apply', (version, local) => console.log(version.key, version.value, local)); // x 1 true
 * replica.put('x', 1);
 * ```
 */
export interface ApReplicaEvents {
  /** A write was applied here: accepted from a client (`local`) or received from a peer. */
  apply: (version: ApVersion, local: boolean) => void;
  /** An invalid message arrived and was dropped. */
  error: (error: ApError) => void;
}

/** A write kept in the log, with the size it takes in a message. */
interface Logged {
  readonly write: ApWrite;
  readonly bytes: number;
}

/** A {@link ApReplica.waitFor} in progress. */
interface Waiter {
  readonly floor: VectorTimestamp;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
  readonly cancel: Cancel;
}

/** Whether `vector` includes `write`. */
const includes = (vector: ReadonlyMap<string, number>, write: ApWrite): boolean => (vector.get(write.origin) ?? 0) >= write.seq;

/** Whether `later` (a write) saw `earlier`: it is in its causal past, so `later` supersedes it. */
const saw = (later: ApWrite, earlier: ApWrite): boolean => (later.deps[earlier.origin] ?? 0) >= earlier.seq;

/** The entries of `floor` that `vector` does not cover, or undefined when it covers all. */
function lacking(vector: ReadonlyMap<string, number>, floor: VectorTimestamp): VectorTimestamp | undefined {
  let missing: Record<string, number> | undefined;
  for (const [origin, seq] of Object.entries(floor)) {
    if ((vector.get(origin) ?? 0) < seq) (missing ??= {})[origin] = seq;
  }
  return missing === undefined ? undefined : Object.freeze(missing);
}

/** The newest version by HLC (ties broken by node id, inside compareHlc): what every replica reads. */
function newest(versions: readonly ApWrite[]): ApWrite {
  let best = versions[0]!;
  for (let i = 1; i < versions.length; i++) if (compareHlc(versions[i]!.hlc, best.hlc) > 0) best = versions[i]!;
  return best;
}

function versionOf(write: ApWrite): ApVersion {
  return {
    key: write.key,
    value: write.json === undefined ? undefined : JSON.parse(write.json),
    deleted: write.json === undefined,
    origin: write.origin,
    seq: write.seq,
    hlc: write.hlc,
  };
}

function positiveInteger(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1) throw new ApError('INVALID_ARGUMENT', `ApReplica: ${name} must be a positive integer, got ${String(value)}`);
  return value;
}

/**
 * One replica of an AP (available, partition-tolerant) key-value store. Every replica accepts
 * reads and writes at once, whatever the network does; replicas converge by anti-entropy.
 *
 * - **Writes** are accepted locally, named by `(origin, seq)`, stamped with a hybrid logical
 *   clock and with their causal past (this replica's version vector), and pushed to every peer.
 * - **Anti-entropy:** every `gossipIntervalMs` the replica sends a random peer its version
 *   vector (a digest); the peer answers with the writes the sender lacks and its own vector,
 *   and the sender pushes back what the peer lacks (push-pull). Messages carry at most
 *   `maxWritesPerMessage` writes and about `maxBytesPerMessage` bytes; a truncated answer is
 *   continued at once.
 * - **Causal consistency:** a write is applied (made visible) only after every write it
 *   depends on, so no replica ever exposes a write before one it causally depends on. Writes
 *   that arrive early wait in a bounded buffer.
 * - **Conflicts:** each key keeps the versions that no other version causally supersedes
 *   (the vector clocks detect concurrency). Reads return the one with the largest HLC
 *   (last-writer-wins, ties broken by node id) and list the others as `concurrent`; a later
 *   write that saw them supersedes them all. LWW loses one of two concurrent writes: that is
 *   the price of availability, and `concurrent` lets a caller notice it.
 * - **Sessions** ({@link ApSession}) add read-your-writes and monotonic reads across replicas;
 *   a replica that is behind a session refuses it ({@link SessionBehindError}).
 *
 * Replicas that applied the same writes hold the same state, whatever the order they arrived
 * in. A write stays in this replica's log until every peer is known to have it. The replica
 * runs from construction until {@link ApReplica.stop}.
 *
 * @example
 * ```ts
 * import { ApReplica, InMemoryNetwork, SeededRandom, VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: [1, 10] });
 * const ids = ['a', 'b', 'c'];
 * const [a, b, c] = ids.map((id) => new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler, random: new SeededRandom(id) }));
 * network.partition(['a'], ['b', 'c']);
 * a!.put('x', 'left');                  // both sides stay available
 * scheduler.runFor(1);
 * b!.put('x', 'right');
 * console.log(a!.get('x').value, b!.get('x').value); // left right
 * scheduler.runFor(100);
 * console.log(c!.get('x').value);       // right: b's write reached c, a's cannot
 * network.heal();
 * scheduler.runFor(500);                // anti-entropy
 * const read = a!.get('x');
 * console.log(read.value, read.concurrent.map((v) => v.value)); // right [ 'left' ]: LWW kept the later write
 * ```
 */
export class ApReplica extends EventEmitter<ApReplicaEvents> {
  /** This replica's id. */
  readonly id: string;
  readonly #peers: readonly string[];
  readonly #transport: Transport<ApMessage>;
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  readonly #clock: HybridLogicalClock;
  readonly #push: boolean;
  readonly #gossipMs: number;
  readonly #maxWrites: number;
  readonly #maxBytes: number;
  readonly #maxValue: number;
  readonly #maxKey: number;
  readonly #maxPending: number;
  /** For each origin, how many of its writes are applied here (always a prefix of them). */
  readonly #vector = new Map<string, number>();
  /** Per key, the versions no other supersedes (an antichain of the causal order). */
  readonly #keys = new Map<string, ApWrite[]>();
  /** Applied writes in the order applied (a causal order), from `#logStart`. */
  #log: Logged[] = [];
  #logStart = 0;
  /** What each peer is known to have applied. */
  readonly #known = new Map<string, Map<string, number>>();
  readonly #pending = new Map<string, ApWrite>();
  readonly #waiters = new Set<Waiter>();
  #timer: Cancel | null = null;
  #stopped = false;
  #stats = { accepted: 0, applied: 0, duplicates: 0, overflow: 0, invalid: 0, clockDrift: 0 };

  /**
   * Creates the replica and starts it: it listens on `transport` and gossips.
   * @throws {@link ApError} `INVALID_ARGUMENT` for a malformed option.
   */
  constructor(options: ApReplicaOptions) {
    super();
    if (typeof options !== 'object' || options === null) throw new ApError('INVALID_ARGUMENT', 'ApReplica: options must be an object');
    const { id, peers, transport } = options;
    if (!isValidNodeId(id)) throw new ApError('INVALID_ARGUMENT', `ApReplica: id must be a non-empty string, not a reserved name, got ${JSON.stringify(id)}`);
    if (!Array.isArray(peers) || !peers.every(isValidNodeId)) throw new ApError('INVALID_ARGUMENT', 'ApReplica: peers must be an array of valid node ids');
    if (typeof transport?.send !== 'function' || typeof transport.listen !== 'function') throw new ApError('INVALID_ARGUMENT', 'ApReplica: transport must be a Transport');
    this.id = id;
    this.#peers = [...new Set(peers)].filter((peer) => peer !== id);
    this.#transport = transport;
    this.#scheduler = options.scheduler ?? new RealScheduler();
    this.#random = options.random ?? new MathRandom();
    this.#push = options.push ?? true;
    this.#gossipMs = positiveInteger('gossipIntervalMs', options.gossipIntervalMs, 100);
    this.#maxWrites = positiveInteger('maxWritesPerMessage', options.maxWritesPerMessage, 64);
    this.#maxBytes = positiveInteger('maxBytesPerMessage', options.maxBytesPerMessage, 64 * 1024);
    this.#maxValue = positiveInteger('maxValueBytes', options.maxValueBytes, 16 * 1024);
    this.#maxKey = positiveInteger('maxKeyLength', options.maxKeyLength, 1024);
    this.#maxPending = positiveInteger('maxPending', options.maxPending, 1024);
    const scheduler = this.#scheduler;
    const now = options.now ?? (() => Math.max(0, Math.floor(scheduler.now())));
    if (typeof now !== 'function') throw new ApError('INVALID_ARGUMENT', 'ApReplica: now must be a function');
    this.#clock = new HybridLogicalClock({ now, nodeId: id, maxDriftMs: positiveInteger('maxClockDriftMs', options.maxClockDriftMs, 60_000) });
    transport.listen((message) => this.#receive(message));
    if (this.#peers.length > 0) this.#timer = this.#scheduler.schedule(this.#gossipMs, this.#gossip);
  }

  // ── Clients ──────────────────────────────────────────────────────────────────────────────

  /**
   * Reads `key` here, at once. With `session`, refuses if this replica has not applied what the
   * session has seen, and raises the session's floor to what it read.
   * @throws {@link ApError} `INVALID_KEY`, `STOPPED`; {@link SessionBehindError}.
   */
  get(key: string, options: { session?: ApSession } = {}): ApReadResult {
    this.#check(key, options.session);
    const versions = this.#keys.get(key);
    if (versions === undefined) return { value: undefined, found: false, version: undefined, concurrent: [] };
    const winner = newest(versions);
    const others = versions.filter((v) => v !== winner).sort((x, y) => compareHlc(y.hlc, x.hlc));
    for (const v of versions) this.#raise(options.session, v);
    const version = versionOf(winner);
    return { value: version.value, found: !version.deleted, version, concurrent: others.map(versionOf) };
  }

  /**
   * Writes `value` (any JSON value) to `key` here, at once, and sends it to the peers. With
   * `session`, refuses if this replica is behind the session, and raises its floor.
   * @returns the version written.
   * @throws {@link ApError} `INVALID_KEY`, `INVALID_VALUE`, `VALUE_TOO_LARGE`, `STOPPED`; {@link SessionBehindError}.
   */
  put(key: string, value: unknown, options: { session?: ApSession } = {}): ApVersion {
    this.#check(key, options.session);
    let json: string | undefined;
    try {
      json = JSON.stringify(value) as string | undefined;
    } catch (error) {
      throw new ApError('INVALID_VALUE', `ApReplica.put: the value has no JSON form (${(error as Error).message})`);
    }
    if (json === undefined) throw new ApError('INVALID_VALUE', `ApReplica.put: the value has no JSON form (got ${typeof value}; use delete to remove a key)`);
    if (json.length > this.#maxValue) throw new ApError('VALUE_TOO_LARGE', `ApReplica.put: the value is ${json.length} bytes of JSON, over maxValueBytes ${this.#maxValue}`);
    return this.#write(key, json, options.session);
  }

  /**
   * Deletes `key` here, at once (a write of "absent", which wins or loses by HLC like any other).
   * @returns the version written.
   * @throws {@link ApError} `INVALID_KEY`, `STOPPED`; {@link SessionBehindError}.
   */
  delete(key: string, options: { session?: ApSession } = {}): ApVersion {
    this.#check(key, options.session);
    return this.#write(key, undefined, options.session);
  }

  /** Whether this replica has applied everything `session` has seen (so it would serve it). */
  covers(session: ApSession): boolean {
    return lacking(this.#vector, session.floor) === undefined;
  }

  /**
   * Resolves once this replica has applied everything `session` has seen (at once if it has).
   * Rejects with {@link ApError} `TIMEOUT` after `timeoutMs` (default 1,000), `STOPPED` on stop.
   */
  waitFor(session: ApSession, options: { timeoutMs?: number } = {}): Promise<void> {
    if (this.#stopped) return Promise.reject(new ApError('STOPPED', `replica ${this.id} is stopped`));
    const floor = session.floor;
    if (lacking(this.#vector, floor) === undefined) return Promise.resolve();
    const timeoutMs = options.timeoutMs ?? 1_000;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) return Promise.reject(new ApError('INVALID_ARGUMENT', `ApReplica.waitFor: timeoutMs must be a finite number ≥ 0, got ${String(timeoutMs)}`));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        floor,
        resolve,
        reject,
        cancel: this.#scheduler.schedule(timeoutMs, () => {
          this.#waiters.delete(waiter);
          reject(new ApError('TIMEOUT', `replica ${this.id} did not catch up with the session within ${timeoutMs} ms`));
        }),
      };
      this.#waiters.add(waiter);
    });
  }

  // ── Inspection ───────────────────────────────────────────────────────────────────────────

  /** For each origin replica, how many of its writes this replica has applied (frozen). */
  get vector(): VectorTimestamp {
    return Object.freeze(Object.fromEntries([...this.#vector].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
  }

  /** Every key that holds a value, with the value a read returns now (copies), in key order. */
  state(): Map<string, unknown> {
    const keys = [...this.#keys.keys()].sort();
    const state = new Map<string, unknown>();
    for (const key of keys) {
      const winner = newest(this.#keys.get(key)!);
      if (winner.json !== undefined) state.set(key, JSON.parse(winner.json));
    }
    return state;
  }

  /** Counters since the replica started. */
  stats(): ApReplicaStats {
    return { ...this.#stats, pending: this.#pending.size, logLength: this.#log.length - this.#logStart };
  }

  /** Stops gossiping and closes the transport; later calls throw {@link ApError} `STOPPED`. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    this.#timer?.();
    this.#timer = null;
    for (const waiter of this.#waiters) {
      waiter.cancel();
      waiter.reject(new ApError('STOPPED', `replica ${this.id} stopped`));
    }
    this.#waiters.clear();
    await this.#transport.close();
  }

  // ── Writes ───────────────────────────────────────────────────────────────────────────────

  #check(key: string, session: ApSession | undefined): void {
    if (this.#stopped) throw new ApError('STOPPED', `replica ${this.id} is stopped`);
    if (typeof key !== 'string' || key.length > this.#maxKey) {
      throw new ApError('INVALID_KEY', `a key must be a string of at most ${this.#maxKey} characters, got ${typeof key === 'string' ? `${key.length} characters` : typeof key}`);
    }
    if (session === undefined) return;
    if (typeof session?.floor !== 'object') throw new ApError('INVALID_ARGUMENT', 'session must be an ApSession');
    const missing = lacking(this.#vector, session.floor);
    if (missing !== undefined) throw new SessionBehindError(this.id, missing);
  }

  #write(key: string, json: string | undefined, session: ApSession | undefined): ApVersion {
    const seq = (this.#vector.get(this.id) ?? 0) + 1;
    const deps = this.vector;
    const hlc = this.#clock.now();
    const write: ApWrite = Object.freeze(json === undefined ? { key, origin: this.id, seq, hlc, deps } : { key, json, origin: this.id, seq, hlc, deps });
    this.#stats.accepted++;
    this.#apply(write, true);
    this.#raise(session, write);
    if (this.#push) {
      const vector = this.vector;
      for (const peer of this.#peers) this.#send({ type: 'ApDelta', from: this.id, to: peer, vector, writes: [write], more: false, reply: false });
    }
    return versionOf(write);
  }

  /** Makes `write` visible: its dependencies are applied already. */
  #apply(write: ApWrite, local: boolean): void {
    this.#vector.set(write.origin, write.seq);
    this.#log.push({ write, bytes: JSON.stringify(write).length });
    const kept = (this.#keys.get(write.key) ?? []).filter((v) => !saw(write, v)); // what it saw, it supersedes
    kept.push(write);
    this.#keys.set(write.key, kept);
    if (hasListeners(this)) this.emit('apply', versionOf(write), local);
    if (this.#waiters.size > 0) {
      for (const waiter of this.#waiters) {
        if (lacking(this.#vector, waiter.floor) !== undefined) continue;
        this.#waiters.delete(waiter);
        waiter.cancel();
        waiter.resolve();
      }
    }
  }

  /** Raises a session's floor to cover `write` and its causal past. */
  #raise(session: ApSession | undefined, write: ApWrite): void {
    if (session === undefined) return;
    session.raise([...Object.entries(write.deps), [write.origin, write.seq]]);
  }

  // ── Replication ──────────────────────────────────────────────────────────────────────────

  readonly #gossip = (): void => {
    if (this.#stopped) return;
    const peer = this.#peers[this.#random.int(0, this.#peers.length - 1)]!;
    this.#send({ type: 'ApDigest', from: this.id, to: peer, vector: this.vector });
    this.#timer = this.#scheduler.schedule(this.#gossipMs, this.#gossip);
  };

  #send(message: ApMessage): void {
    this.#transport.send(message.to, message);
  }

  #receive(raw: unknown): void {
    if (this.#stopped) return;
    let message: ApMessage;
    try {
      message = validateApMessage(raw, this.#maxKey);
      if (message.to !== this.id) throw new ApError('INVALID_MESSAGE', `invalid AP message: addressed to ${message.to}, not ${this.id}`);
    } catch (error) {
      if (!(error instanceof ApError)) throw error;
      this.#stats.invalid++;
      if (hasListeners(this)) this.emit('error', error);
      return;
    }
    this.#learn(message.from, message.vector);
    if (message.type === 'ApDigest') {
      this.#sendDelta(message.from, true);
      return;
    }
    this.#receiveWrites(message);
    if (message.reply) this.#sendDelta(message.from, false); // push-pull: what the peer lacks, if anything
    if (message.more) this.#send({ type: 'ApDigest', from: this.id, to: message.from, vector: this.vector });
  }

  #receiveWrites(message: ApDelta): void {
    let progress = false;
    for (const write of message.writes) {
      if (includes(this.#vector, write)) {
        this.#stats.duplicates++;
      } else if (this.#ready(write)) {
        this.#applyRemote(write);
        progress = true;
      } else {
        const dot = `${write.origin}\u0000${write.seq}`;
        if (this.#pending.has(dot)) this.#stats.duplicates++;
        else if (this.#pending.size < this.#maxPending) this.#pending.set(dot, write);
        else this.#stats.overflow++;
      }
    }
    // Writes held back may be ready now; each pass applies at least one or stops.
    while (progress && this.#pending.size > 0) {
      progress = false;
      for (const [dot, write] of this.#pending) {
        if (includes(this.#vector, write)) this.#pending.delete(dot);
        else if (this.#ready(write)) {
          this.#pending.delete(dot);
          this.#applyRemote(write);
          progress = true;
        }
      }
    }
  }

  /** Whether every write `write` depends on is applied here. */
  #ready(write: ApWrite): boolean {
    for (const [origin, seq] of Object.entries(write.deps)) if ((this.#vector.get(origin) ?? 0) < seq) return false;
    return true;
  }

  #applyRemote(write: ApWrite): void {
    try {
      this.#clock.receive(write.hlc);
    } catch (error) {
      // Too far ahead (or a counter too large): the write still counts; only the clock does not follow it.
      if (!(error instanceof ClockError)) throw error;
      this.#stats.clockDrift++;
    }
    this.#stats.applied++;
    this.#apply(write, false);
  }

  /** Records what `peer` has applied, and forgets writes every peer has. */
  #learn(peer: string, vector: VectorTimestamp): void {
    let known = this.#known.get(peer);
    if (known === undefined) this.#known.set(peer, (known = new Map()));
    for (const [origin, seq] of Object.entries(vector)) if ((known.get(origin) ?? 0) < seq) known.set(origin, seq);
    if (this.#known.size < this.#peers.length) return;
    const everyone = [...this.#known.entries()].filter(([id]) => this.#peers.includes(id)).map(([, v]) => v);
    if (everyone.length < this.#peers.length) return;
    while (this.#logStart < this.#log.length && everyone.every((v) => includes(v, this.#log[this.#logStart]!.write))) this.#logStart++;
    if (this.#logStart > 256 && this.#logStart * 2 > this.#log.length) {
      this.#log = this.#log.slice(this.#logStart);
      this.#logStart = 0;
    }
  }

  /**
   * Sends `peer` the writes it is not known to have, bounded. An answer to a digest (`reply`)
   * always goes, so the peer learns this replica's vector and pushes back; a push back only
   * when there is something to push.
   */
  #sendDelta(peer: string, reply: boolean): void {
    const known = this.#known.get(peer) ?? new Map<string, number>();
    const writes: ApWrite[] = [];
    let bytes = 0;
    let more = false;
    for (let i = this.#logStart; i < this.#log.length; i++) {
      const { write, bytes: size } = this.#log[i]!;
      if (includes(known, write)) continue;
      if (writes.length === this.#maxWrites || (writes.length > 0 && bytes + size > this.#maxBytes)) {
        more = true;
        break;
      }
      writes.push(write);
      bytes += size;
    }
    if (!reply && writes.length === 0) return;
    this.#send({ type: 'ApDelta', from: this.id, to: peer, vector: this.vector, writes, more, reply });
  }
}
