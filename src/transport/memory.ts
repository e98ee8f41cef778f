/**
 * The built-in transport: many nodes in one process, on an injected scheduler and random, with
 * fault injection (latency, drop, duplicate, reorder, partitions, one-way cuts, filters).
 */

import { EventEmitter } from 'eventemitter3';
import { RaftError } from '../raft/errors.js';
import { hasListeners } from '../runtime/listeners.js';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Scheduler } from '../runtime/scheduler.js';
import type { NodeId } from '../raft/types.js';
import type { Envelope, Transport } from './transport.js';

/**
 * A message delay in milliseconds: a fixed number, or `[min, max]` drawn uniformly per message
 * (whole milliseconds when both bounds are integers).
 *
 * @example
 * ```ts
 * import type { Latency } from 'raftkit';
 * const lan: Latency = [1, 5];
 * const fixed: Latency = 10;
 * ```
 */
export type Latency = number | readonly [min: number, max: number];

/**
 * The network conditions that can be changed mid-run with {@link InMemoryNetwork.configure}.
 *
 * @example
 * ```ts
 * import type { NetworkConditions } from 'raftkit';
 * const lossy: NetworkConditions = { latencyMs: [5, 50], dropRate: 0.1, duplicateRate: 0.05, reorder: true };
 * ```
 */
export interface NetworkConditions {
  /** Delay of each message, fixed or `[min, max]` (default 0). Long tails of seconds are fine. */
  latencyMs?: Latency;
  /** Probability in [0, 1] that a message is lost (default 0). */
  dropRate?: number;
  /** Probability in [0, 1] that a message is delivered twice (default 0). */
  duplicateRate?: number;
  /**
   * When false (default), each directed link is FIFO: a message is never delivered before an
   * earlier one on the same link. When true, every message has its own delay and may overtake.
   */
  reorder?: boolean;
}

/**
 * Options for {@link InMemoryNetwork}.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom, type InMemoryNetworkOptions } from 'raftkit';
 * const options: InMemoryNetworkOptions = {
 *   scheduler: new VirtualScheduler(),
 *   random: new SeededRandom(1),
 *   latencyMs: [1, 10],
 * };
 * const network = new InMemoryNetwork(options);
 * ```
 */
export interface InMemoryNetworkOptions extends NetworkConditions {
  /** Time source on which deliveries are scheduled (a VirtualScheduler in simulations); default a {@link RealScheduler}. */
  scheduler?: Scheduler;
  /** Randomness for latency, drops and duplicates (a SeededRandom makes runs replayable); default {@link MathRandom}. */
  random?: Random;
  /**
   * Whether to measure each message's size as `JSON.stringify(message).length` for
   * {@link InMemoryNetwork.stats} (default true). Set false in benchmarks: bytes are then 0.
   */
  countBytes?: boolean;
}

/**
 * What a {@link MessageFilter} decides for one message: `'deliver'` (no opinion: apply the
 * normal rules), `'drop'`, or `{ delayMs }` (deliver after exactly this delay, bypassing random
 * drops, duplication and the link's FIFO order: a way to force reordering).
 *
 * @example
 * ```ts
 * import type { FilterVerdict } from 'raftkit';
 * const slow: FilterVerdict = { delayMs: 500 };
 * ```
 */
export type FilterVerdict =
  | 'deliver'
  | 'drop'
  | {
      /** Deliver after exactly this many milliseconds (finite, ≥ 0). */
      readonly delayMs: number;
    };

/**
 * Intercepts each message at send time (after reachability checks). See {@link InMemoryNetwork.filter}.
 *
 * @example
 * ```ts
 * import type { MessageFilter } from 'raftkit';
 * const noVotes: MessageFilter = (message) => (message.type === 'RequestVote' ? 'drop' : 'deliver');
 * ```
 */
export type MessageFilter<M extends Envelope = Envelope> = (message: M, from: NodeId, to: NodeId) => FilterVerdict;

/**
 * Why a message was not delivered:
 * - `'partition'`: sender and receiver are in different partition groups (at send or arrival);
 * - `'disconnected'`: either end is disconnected (at send or arrival);
 * - `'cut'`: the directed link is cut (at send or arrival);
 * - `'random'`: lost to the configured drop rate;
 * - `'filter'`: a filter returned `'drop'`;
 * - `'no-endpoint'`: the receiver had no open endpoint when the message was sent;
 * - `'closed'`: the receiver's endpoint was closed while the message was in flight;
 * - `'no-listener'`: the receiver's endpoint had no handler registered on arrival.
 *
 * @example
 * ```ts
 * import type { DropReason } from 'raftkit';
 * const reason: DropReason = 'partition';
 * ```
 */
export type DropReason = 'partition' | 'disconnected' | 'cut' | 'random' | 'filter' | 'no-endpoint' | 'closed' | 'no-listener';

/**
 * The events of an {@link InMemoryNetwork}. Emitting costs next to nothing when nobody listens.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
 * network.on('drop', (message, from, to, reason) => console.log(`${message.type} ${from}→${to} dropped: ${reason}`));
 * network.transport('a').send('b', { type: 'Ping', from: 'a', to: 'b' }); // Ping a→b dropped: no-endpoint
 * ```
 */
export interface NetworkEvents<M extends Envelope = Envelope> {
  /** A node sent a message (emitted for every send from an open endpoint, before any fault applies). */
  send: (message: M, from: NodeId, to: NodeId) => void;
  /** A message (or a duplicate copy) is being handed to the receiver's handler. */
  deliver: (message: M, from: NodeId, to: NodeId) => void;
  /** A message (or a duplicate copy) was lost, and why. */
  drop: (message: M, from: NodeId, to: NodeId, reason: DropReason) => void;
}

/**
 * Sees every message an {@link InMemoryNetwork} handles, synchronously, in the order it happens:
 * each send (`seq` numbers the network's sends from 1, before any fault applies), and each
 * outcome of it, a delivery or a drop (with the same `seq`; `copies` is how many outcomes the
 * send has in all: 2 when the network duplicated it; `reason` only for drops). Unlike the
 * `send`, `deliver` and `drop` events, it costs one plain call per event: it is for tracers that
 * record every message.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom, type NetworkObserver } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
 * const log: NetworkObserver = (event, message, from, to, seq, copies, reason) => console.log(event, seq, message.type, reason);
 * network.observe(log);
 * network.transport('a').send('b', { type: 'Ping', from: 'a', to: 'b' }); // send 1 Ping undefined, then drop 1 Ping no-endpoint
 * ```
 */
export type NetworkObserver<M extends Envelope = Envelope> = (
  event: 'send' | 'deliver' | 'drop',
  message: M,
  from: NodeId,
  to: NodeId,
  seq: number,
  copies: number,
  reason: DropReason | undefined,
) => void;

/**
 * Message count and total size for one message type.
 *
 * @example
 * ```ts
 * import type { TypeCounts } from 'raftkit';
 * const votes: TypeCounts = { messages: 4, bytes: 312 };
 * ```
 */
export interface TypeCounts {
  /** Number of messages. */
  messages: number;
  /** Total of `JSON.stringify(message).length` (0 when byte counting is off). */
  bytes: number;
}

/**
 * Message counts and sizes, in total and by message `type`.
 *
 * @example
 * ```ts
 * import type { TrafficCounts } from 'raftkit';
 * const none: TrafficCounts = { messages: 0, bytes: 0, byType: {} };
 * ```
 */
export interface TrafficCounts extends TypeCounts {
  /** Counts per message type (a null-prototype object: any type string is a safe key). */
  byType: Record<string, TypeCounts>;
}

/**
 * A snapshot of an {@link InMemoryNetwork}'s traffic since creation or the last
 * {@link InMemoryNetwork.resetStats}. Each duplicate copy counts once more in `delivered` or
 * `dropped`, so `sent + duplicated = delivered + dropped + inFlight` (for counts made since the
 * same reset, with no messages in flight at the reset).
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
 * const { sent, delivered, dropped } = network.stats();
 * console.log(sent.messages, delivered.bytes, dropped.byType['AppendEntries']?.messages ?? 0);
 * ```
 */
export interface NetworkStats {
  /** Every message sent from an open endpoint. */
  sent: TrafficCounts;
  /** Every copy handed to a receiver. */
  delivered: TrafficCounts;
  /** Every copy lost, whatever the reason. */
  dropped: TrafficCounts;
  /** Number of extra copies created by duplication. */
  duplicated: number;
  /** Copies scheduled for delivery and not yet delivered or dropped. */
  inFlight: number;
}

/**
 * One node's endpoint on an {@link InMemoryNetwork}: a {@link Transport} that also knows its id.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
 * const endpoint = network.transport('n1');
 * endpoint.id;     // 'n1'
 * endpoint.closed; // false
 * ```
 */
export interface MemoryTransport<M extends Envelope = Envelope> extends Transport<M> {
  /** The node this endpoint belongs to. */
  readonly id: NodeId;
  /** True once closed (or replaced by a newer endpoint for the same id). */
  readonly closed: boolean;
}

class Counter {
  messages = 0;
  bytes = 0;
  readonly byType = new Map<string, TypeCounts>();

  add(type: string, bytes: number): void {
    this.messages++;
    this.bytes += bytes;
    const entry = this.byType.get(type);
    if (entry === undefined) this.byType.set(type, { messages: 1, bytes });
    else {
      entry.messages++;
      entry.bytes += bytes;
    }
  }

  snapshot(): TrafficCounts {
    const byType = Object.create(null) as Record<string, TypeCounts>;
    for (const [type, c] of this.byType) byType[type] = { messages: c.messages, bytes: c.bytes };
    return { messages: this.messages, bytes: this.bytes, byType };
  }
}

class Endpoint<M extends Envelope> implements MemoryTransport<M> {
  handler: ((message: unknown) => void) | undefined = undefined;
  closed = false;
  declare readonly id: NodeId;
  declare private readonly route: (from: NodeId, to: NodeId, message: M) => void;
  declare private readonly detach: (endpoint: Endpoint<M>) => void;

  // Declared, not defined as class fields: set here once, so the bundle carries each name once.
  constructor(id: NodeId, route: (from: NodeId, to: NodeId, message: M) => void, detach: (endpoint: Endpoint<M>) => void) {
    this.id = id;
    this.route = route;
    this.detach = detach;
  }

  send(to: NodeId, message: M): void {
    if (!this.closed) this.route(this.id, to, message);
  }

  listen(handler: (message: unknown) => void): void {
    if (typeof handler !== 'function') throw new TypeError('listen: handler must be a function');
    this.handler = handler;
  }

  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.handler = undefined;
      this.detach(this);
    }
    return Promise.resolve();
  }
}

/** Per directed link: when its last FIFO delivery is due. */
interface LinkState {
  lastDelivery: number;
}

function checkRate(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0 && value <= 1)) {
    throw new RangeError(`InMemoryNetwork: ${name} must be a probability in [0, 1], got ${String(value)}`);
  }
  return value;
}

function checkDelay(name: string, value: unknown): number {
  if (typeof value !== 'number' || !(value >= 0) || value === Infinity) {
    throw new RangeError(`InMemoryNetwork: ${name} must be a finite number ≥ 0, got ${String(value)}`);
  }
  return value;
}

function checkLatency(value: unknown): readonly [number, number] {
  if (typeof value === 'number') {
    const d = checkDelay('latencyMs', value);
    return [d, d];
  }
  if (Array.isArray(value) && value.length === 2) {
    const min = checkDelay('latencyMs[0]', value[0]);
    const max = checkDelay('latencyMs[1]', value[1]);
    if (min > max) throw new RangeError(`InMemoryNetwork: latencyMs min (${min}) must not exceed max (${max})`);
    return [min, max];
  }
  throw new TypeError(`InMemoryNetwork: latencyMs must be a number or a [min, max] pair, got ${String(value)}`);
}

function checkId(who: string, id: unknown): NodeId {
  if (typeof id !== 'string' || id.length === 0) {
    throw new TypeError(`InMemoryNetwork.${who}: node id must be a non-empty string, got ${String(id)}`);
  }
  return id;
}

/**
 * Many nodes in one process: an in-memory network delivering messages on the injected
 * {@link Scheduler}, with fault injection driven by the injected {@link Random} (so a
 * `SeededRandom` on a `VirtualScheduler` replays a run exactly).
 *
 * Reachability (partitions, disconnections, cuts) is checked when a message is sent and again
 * when it arrives, so a message in flight when a partition starts is lost. Messages are never
 * copied: the receiver gets the very object that was sent (messages are immutable). Random
 * numbers are drawn only for the features in use (none with the defaults).
 *
 * @typeParam M - The messages carried (default: any {@link Envelope}).
 * @example
 * ```ts
 * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(7), latencyMs: [1, 5] });
 * const a = network.transport('a');
 * const b = network.transport('b');
 * b.listen((message) => console.log('b got', message, 'at', scheduler.now()));
 * a.send('b', { type: 'Ping', from: 'a', to: 'b' });
 * scheduler.runFor(10); // b got { type: 'Ping', … } at 1..5
 * network.partition(['a'], ['b']);
 * a.send('b', { type: 'Ping', from: 'a', to: 'b' }); // dropped: 'partition'
 * network.stats().dropped.byType['Ping']; // { messages: 1, bytes: 35 }
 * ```
 */
export class InMemoryNetwork<M extends Envelope = Envelope> extends EventEmitter<NetworkEvents<M>, unknown> {
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  readonly #countBytes: boolean;

  #latencyMin = 0;
  #latencyMax = 0;
  #latencyIsInt = true;
  #dropRate = 0;
  #duplicateRate = 0;
  #reorder = false;

  readonly #endpoints = new Map<NodeId, Endpoint<M>>();
  readonly #links = new Map<NodeId, Map<NodeId, LinkState>>();
  /** Partition group per named node; null when not partitioned. Unnamed nodes share group -1. */
  #groups: Map<NodeId, number> | null = null;
  readonly #disconnected = new Set<NodeId>();
  readonly #cuts = new Map<NodeId, Set<NodeId>>();
  #cutCount = 0;
  /** True when any reachability fault is active: lets the hot path skip all the checks. */
  #faulty = false;
  #filters: ReadonlyArray<MessageFilter<M>> = [];

  #sent = new Counter();
  #delivered = new Counter();
  #dropped = new Counter();
  #duplicated = 0;
  #inFlight = 0;
  #observer: NetworkObserver<M> | null = null;
  /** Sends so far (each one's `seq` for the observer). */
  #seq = 0;
  /** Zero-latency deliveries waiting for the next drain, flattened: message, from, to, bytes, seq, copies. */
  readonly #immediate: unknown[] = [];
  #drainScheduled = false;
  /** Messages in flight with a delay (not in the zero-latency queue). */
  #delayedInFlight = 0;

  /**
   * Creates a network. No endpoint exists until {@link InMemoryNetwork.transport} is called.
   * With no options: the real clock, `Math.random`, no latency and no faults.
   *
   * @throws TypeError or RangeError for an invalid option.
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({
   *   scheduler: new VirtualScheduler(),
   *   random: new SeededRandom('net'),
   *   latencyMs: [5, 20],
   *   dropRate: 0.01,
   * });
   * ```
   */
  constructor(options: InMemoryNetworkOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) throw new TypeError('InMemoryNetwork: options must be an object');
    const { scheduler = new RealScheduler(), random = new MathRandom() } = options;
    if (typeof scheduler?.schedule !== 'function' || typeof scheduler.now !== 'function') {
      throw new TypeError('InMemoryNetwork: options.scheduler must be a Scheduler');
    }
    if (typeof random?.next !== 'function' || typeof random.int !== 'function') {
      throw new TypeError('InMemoryNetwork: options.random must be a Random');
    }
    const countBytes = options.countBytes ?? true;
    if (typeof countBytes !== 'boolean') throw new TypeError('InMemoryNetwork: countBytes must be a boolean');
    this.#scheduler = scheduler;
    this.#random = random;
    this.#countBytes = countBytes;
    this.configure(options);
  }

  /**
   * Creates the endpoint for node `id`, closing and replacing any earlier endpoint for that id
   * (as when a crashed node restarts). Messages already in flight to `id` reach the new endpoint.
   *
   * @throws TypeError when `id` is not a non-empty string.
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * const n1 = network.transport('n1');
   * n1.listen((message) => console.log(message));
   * ```
   */
  transport(id: NodeId): MemoryTransport<M> {
    checkId('transport', id);
    void this.#endpoints.get(id)?.close();
    const endpoint = new Endpoint<M>(
      id,
      (from, to, message) => this.#route(from, to, message),
      (e) => {
        if (this.#endpoints.get(e.id) === e) this.#endpoints.delete(e.id);
      },
    );
    this.#endpoints.set(id, endpoint);
    return endpoint;
  }

  /**
   * Changes network conditions mid-run; omitted fields keep their current value. Messages
   * already in flight keep their delays.
   *
   * @throws TypeError or RangeError for an invalid value (nothing is changed then).
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.configure({ latencyMs: [10, 3000], dropRate: 0.2, reorder: true }); // a bad day
   * network.configure({ latencyMs: 1, dropRate: 0, reorder: false });         // back to normal
   * ```
   */
  configure(conditions: NetworkConditions): void {
    const latency = conditions.latencyMs === undefined ? undefined : checkLatency(conditions.latencyMs);
    const dropRate = conditions.dropRate === undefined ? undefined : checkRate('dropRate', conditions.dropRate);
    const duplicateRate =
      conditions.duplicateRate === undefined ? undefined : checkRate('duplicateRate', conditions.duplicateRate);
    if (conditions.reorder !== undefined && typeof conditions.reorder !== 'boolean') {
      throw new TypeError('InMemoryNetwork: reorder must be a boolean');
    }
    if (latency !== undefined) {
      [this.#latencyMin, this.#latencyMax] = latency;
      this.#latencyIsInt = Number.isInteger(latency[0]) && Number.isInteger(latency[1]);
    }
    if (dropRate !== undefined) this.#dropRate = dropRate;
    if (duplicateRate !== undefined) this.#duplicateRate = duplicateRate;
    if (conditions.reorder !== undefined) this.#reorder = conditions.reorder;
  }

  /**
   * Splits the nodes into groups that cannot talk to each other. Nodes not named in any group
   * form one more group together. Replaces any earlier partition; `partition()` with no groups
   * removes it. Messages in flight across the new boundary are lost on arrival.
   *
   * @throws RangeError when a node is named in two groups; TypeError for an invalid id.
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.partition(['n1', 'n2'], ['n3']); // n4, n5 … (unnamed) form a third group
   * ```
   */
  partition(...groups: Array<readonly NodeId[]>): void {
    const map = new Map<NodeId, number>();
    groups.forEach((group, index) => {
      if (!Array.isArray(group)) throw new TypeError('InMemoryNetwork.partition: each group must be an array of ids');
      for (const id of group) {
        checkId('partition', id);
        const other = map.get(id);
        if (other !== undefined && other !== index) {
          throw new RangeError(`InMemoryNetwork.partition: node ${id} is in more than one group`);
        }
        map.set(id, index);
      }
    });
    this.#groups = map.size === 0 ? null : map;
    this.#updateFaulty();
  }

  /**
   * Removes every reachability fault: partitions, disconnections and one-way cuts. Latency,
   * drop and duplicate rates and filters are unchanged.
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.partition(['n1'], ['n2']);
   * network.heal();
   * ```
   */
  heal(): void {
    this.#groups = null;
    this.#disconnected.clear();
    this.#cuts.clear();
    this.#cutCount = 0;
    this.#updateFaulty();
  }

  /**
   * Isolates node `id`: it can neither send nor receive until {@link InMemoryNetwork.reconnect}.
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.disconnect('n3');
   * ```
   */
  disconnect(id: NodeId): void {
    this.#disconnected.add(checkId('disconnect', id));
    this.#updateFaulty();
  }

  /**
   * Undoes {@link InMemoryNetwork.disconnect} for node `id` (partitions and cuts still apply).
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.disconnect('n3');
   * network.reconnect('n3');
   * ```
   */
  reconnect(id: NodeId): void {
    this.#disconnected.delete(checkId('reconnect', id));
    this.#updateFaulty();
  }

  /**
   * Cuts the one-way link `from → to`: messages from `from` to `to` are lost, the reverse
   * direction still works.
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.cut('n1', 'n2'); // n1 can hear n2, n2 cannot hear n1
   * ```
   */
  cut(from: NodeId, to: NodeId): void {
    checkId('cut', from);
    checkId('cut', to);
    let targets = this.#cuts.get(from);
    if (targets === undefined) this.#cuts.set(from, (targets = new Set()));
    if (!targets.has(to)) {
      targets.add(to);
      this.#cutCount++;
    }
    this.#updateFaulty();
  }

  /**
   * Restores the one-way link `from → to` cut by {@link InMemoryNetwork.cut}.
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.cut('n1', 'n2');
   * network.restore('n1', 'n2');
   * ```
   */
  restore(from: NodeId, to: NodeId): void {
    checkId('restore', from);
    checkId('restore', to);
    const targets = this.#cuts.get(from);
    if (targets?.delete(to) === true) {
      this.#cutCount--;
      if (targets.size === 0) this.#cuts.delete(from);
    }
    this.#updateFaulty();
  }

  /**
   * Whether a message sent now from `from` would get to `to` as far as partitions,
   * disconnections and one-way cuts go (random drops and filters aside).
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.cut('n1', 'n2');
   * network.reachable('n1', 'n2'); // false
   * network.reachable('n2', 'n1'); // true
   * ```
   */
  reachable(from: NodeId, to: NodeId): boolean {
    return !this.#faulty || this.#unreachable(from, to) === undefined;
  }

  /**
   * Adds a filter that sees every message at send time (after the reachability checks) and
   * decides: `'deliver'` (no opinion: normal rules apply), `'drop'`, or `{ delayMs }` (deliver
   * after exactly that delay, with no random drop or duplication, outside the link's FIFO
   * order). Filters run in the order added; the first verdict other than `'deliver'` wins.
   * Returns a function that removes this filter.
   *
   * @throws TypeError when `filter` is not a function. A filter returning an invalid verdict
   *   makes the send throw a RangeError.
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * const remove = network.filter((message, from) => (from === 'n1' && message.type === 'AppendEntries' ? { delayMs: 200 } : 'deliver'));
   * remove();
   * ```
   */
  filter(filter: MessageFilter<M>): () => void {
    if (typeof filter !== 'function') throw new TypeError('InMemoryNetwork.filter: filter must be a function');
    // Copy on write, so a filter may add or remove filters while the list is being run.
    this.#filters = [...this.#filters, filter];
    return () => {
      const index = this.#filters.indexOf(filter);
      if (index >= 0) this.#filters = this.#filters.filter((_, i) => i !== index);
    };
  }

  /**
   * Sets the one {@link NetworkObserver} that sees every send, delivery and drop; null removes
   * it. A simulated `Cluster` that traces sets its own (follow its trace with `Cluster.onTrace`,
   * or this network's `send`, `deliver` and `drop` events).
   *
   * @throws TypeError when `observer` is neither a function nor null; a RaftError with code
   *   `OBSERVED` when another observer is set (remove it first: one never silently replaces another).
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * let sends = 0;
   * network.observe((event) => void (event === 'send' && sends++));
   * network.observe(null);
   * ```
   */
  observe(observer: NetworkObserver<M> | null): void {
    if (observer !== null && typeof observer !== 'function') throw new TypeError('InMemoryNetwork.observe: observer must be a function or null');
    if (observer !== null && this.#observer !== null && observer !== this.#observer) {
      throw new RaftError('OBSERVED', 'InMemoryNetwork.observe: another observer is set (a traced Cluster sets one); remove it with observe(null) first');
    }
    this.#observer = observer;
  }

  /**
   * A snapshot of traffic counts and sizes (a copy: later traffic does not change it).
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.stats().sent.messages; // 0
   * ```
   */
  stats(): NetworkStats {
    return {
      sent: this.#sent.snapshot(),
      delivered: this.#delivered.snapshot(),
      dropped: this.#dropped.snapshot(),
      duplicated: this.#duplicated,
      inFlight: this.#inFlight,
    };
  }

  /**
   * Zeroes the traffic counters (messages in flight are still delivered, and counted then).
   *
   * @example
   * ```ts
   * import { InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
   * network.resetStats();
   * ```
   */
  resetStats(): void {
    this.#sent = new Counter();
    this.#delivered = new Counter();
    this.#dropped = new Counter();
    this.#duplicated = 0;
  }

  /** The send path, called by endpoints. */
  #route(from: NodeId, to: NodeId, message: M): void {
    const bytes = this.#countBytes ? JSON.stringify(message).length : 0;
    this.#sent.add(message.type, bytes);
    const seq = ++this.#seq;
    this.#observer?.('send', message, from, to, seq, 1, undefined);
    if (hasListeners(this)) this.emit('send', message, from, to);

    if (this.#faulty) {
      const reason = this.#unreachable(from, to);
      if (reason !== undefined) return this.#drop(message, from, to, bytes, reason, seq, 1);
    }
    if (!this.#endpoints.has(to)) return this.#drop(message, from, to, bytes, 'no-endpoint', seq, 1);

    const filters = this.#filters;
    for (let i = 0; i < filters.length; i++) {
      const verdict = (filters[i] as MessageFilter<M>)(message, from, to);
      if (verdict === 'deliver') continue;
      if (verdict === 'drop') return this.#drop(message, from, to, bytes, 'filter', seq, 1);
      const delay = typeof verdict === 'object' && verdict !== null ? verdict.delayMs : undefined;
      this.#dispatch(message, from, to, bytes, checkDelay('filter delayMs', delay), seq, 1);
      return;
    }

    if (this.#dropRate > 0 && this.#random.next() < this.#dropRate) {
      return this.#drop(message, from, to, bytes, 'random', seq, 1);
    }
    const copies = this.#duplicateRate > 0 && this.#random.next() < this.#duplicateRate ? 2 : 1;
    if (copies === 2) this.#duplicated++;
    // No latency and nothing delayed in flight: the delivery queue alone keeps every link FIFO.
    if (this.#latencyMax === 0 && this.#delayedInFlight === 0) {
      for (let copy = 0; copy < copies; copy++) this.#dispatch(message, from, to, bytes, 0, seq, copies);
      return;
    }
    // Read the clock once: a real clock moves between two reads, which would make the delay negative.
    const now = this.#scheduler.now();
    for (let copy = 0; copy < copies; copy++) {
      let at = now + this.#drawLatency();
      if (!this.#reorder) {
        const link = this.#link(from, to);
        // FIFO per link: never arrive before an earlier message on the same link.
        if (at < link.lastDelivery) at = link.lastDelivery;
        link.lastDelivery = at;
      }
      this.#dispatch(message, from, to, bytes, at - now, seq, copies);
    }
  }

  #drawLatency(): number {
    const min = this.#latencyMin;
    const max = this.#latencyMax;
    if (min === max) return min;
    return this.#latencyIsInt ? this.#random.int(min, max) : min + this.#random.next() * (max - min);
  }

  #link(from: NodeId, to: NodeId): LinkState {
    let outgoing = this.#links.get(from);
    if (outgoing === undefined) this.#links.set(from, (outgoing = new Map()));
    let link = outgoing.get(to);
    if (link === undefined) outgoing.set(to, (link = { lastDelivery: -Infinity }));
    return link;
  }

  /** Schedules one copy's arrival. */
  #dispatch(message: M, from: NodeId, to: NodeId, bytes: number, delayMs: number, seq: number, copies: number): void {
    this.#inFlight++;
    if (delayMs > 0) {
      this.#delayedInFlight++;
      this.#scheduler.schedule(delayMs, () => {
        this.#delayedInFlight--;
        this.#arrive(message, from, to, bytes, seq, copies);
      });
      return;
    }
    // Zero latency: queue it, and deliver the whole queue in order after the current task.
    this.#immediate.push(message, from, to, bytes, seq, copies);
    if (!this.#drainScheduled) {
      this.#drainScheduled = true;
      this.#scheduler.defer(this.#drain);
    }
  }

  /** Delivers the zero-latency messages queued so far (those sent meanwhile wait for the next drain). */
  readonly #drain = (): void => {
    this.#drainScheduled = false;
    const queue = this.#immediate;
    const end = queue.length;
    let i = 0;
    try {
      while (i < end) {
        i += 6; // advance first: a handler that throws does not get the same message again
        this.#arrive(queue[i - 6] as M, queue[i - 5] as NodeId, queue[i - 4] as NodeId, queue[i - 3] as number, queue[i - 2] as number, queue[i - 1] as number);
      }
    } finally {
      queue.splice(0, i);
    }
    if (queue.length > 0 && !this.#drainScheduled) {
      this.#drainScheduled = true;
      this.#scheduler.defer(this.#drain);
    }
  };

  #arrive(message: M, from: NodeId, to: NodeId, bytes: number, seq: number, copies: number): void {
    this.#inFlight--;
    if (this.#faulty) {
      const reason = this.#unreachable(from, to);
      if (reason !== undefined) return this.#drop(message, from, to, bytes, reason, seq, copies);
    }
    const endpoint = this.#endpoints.get(to);
    if (endpoint === undefined) return this.#drop(message, from, to, bytes, 'closed', seq, copies);
    const handler = endpoint.handler;
    if (handler === undefined) return this.#drop(message, from, to, bytes, 'no-listener', seq, copies);
    this.#delivered.add(message.type, bytes);
    this.#observer?.('deliver', message, from, to, seq, copies, undefined);
    if (hasListeners(this)) this.emit('deliver', message, from, to);
    handler(message);
  }

  #drop(message: M, from: NodeId, to: NodeId, bytes: number, reason: DropReason, seq: number, copies: number): void {
    this.#dropped.add(message.type, bytes);
    this.#observer?.('drop', message, from, to, seq, copies, reason);
    if (hasListeners(this)) this.emit('drop', message, from, to, reason);
  }

  #unreachable(from: NodeId, to: NodeId): DropReason | undefined {
    if (this.#disconnected.size > 0 && (this.#disconnected.has(from) || this.#disconnected.has(to))) {
      return 'disconnected';
    }
    const groups = this.#groups;
    if (groups !== null && (groups.get(from) ?? -1) !== (groups.get(to) ?? -1)) return 'partition';
    if (this.#cutCount > 0 && this.#cuts.get(from)?.has(to) === true) return 'cut';
    return undefined;
  }

  #updateFaulty(): void {
    this.#faulty = this.#groups !== null || this.#disconnected.size > 0 || this.#cutCount > 0;
  }
}
