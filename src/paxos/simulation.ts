/**
 * Paxos on the simulator: N nodes on one virtual clock, one seeded random source and one
 * InMemoryNetwork, with crashes, restarts, partitions and the safety checker fed by every node.
 */
import { TimeoutError } from '../raft/errors.js';
import type { NodeId } from '../raft/types.js';
import { SeededRandom } from '../runtime/random.js';
import { VirtualScheduler } from '../sim/virtual-scheduler.js';
import { InMemoryNetwork, type MemoryTransport, type NetworkConditions } from '../transport/memory.js';
import type { Envelope, Transport } from '../transport/transport.js';
import { compareBallots } from './ballot.js';
import { PaxosChecker } from './checker.js';
import type { LogValue, MultiPaxosMessage, SynodMessage } from './messages.js';
import { MultiPaxosNode, type MultiPaxosNodeOptions, type PaxosStateMachine } from './multi-paxos.js';
import { MemoryAcceptorStorage, type AcceptorStorage } from './storage.js';
import { SynodNode, type SynodNodeOptions } from './synod.js';

/**
 * Options every Paxos simulation takes. Give `size` (ids '1'..'N') or `ids`.
 *
 * @example
 * ```ts
 * import { SynodCluster, type PaxosSimulationOptions, type SynodMessage } from 'raftkit';
 * const options: PaxosSimulationOptions<SynodMessage<string>, string> = { size: 5, seed: 42, network: { latencyMs: [1, 20], dropRate: 0.1 } };
 * new SynodCluster<string>(options);
 * ```
 */
export interface PaxosSimulationOptions<M extends Envelope, V> {
  /** Number of nodes, named '1'..'N'. */
  readonly size?: number;
  /** Explicit node ids (instead of `size`). */
  readonly ids?: readonly NodeId[];
  /** The seed of every random choice: same seed and same calls ⇒ same run. */
  readonly seed: number | string;
  /** The simulated network's conditions (default latency [1, 10] ms, no loss). */
  readonly network?: NetworkConditions;
  /** Check safety on every acceptance and learn (default true): a violation throws {@link PaxosSafetyViolation} out of `run`. */
  readonly checkSafety?: boolean;
  /** Each node's acceptor storage (default: one {@link MemoryAcceptorStorage} per id, kept across restarts). Called once per id. */
  readonly storage?: (id: NodeId) => AcceptorStorage<V>;
  /**
   * Wraps each node's network endpoint, e.g. to rewrite what it receives in an experiment.
   * Called at every boot and restart.
   */
  readonly transport?: (id: NodeId, endpoint: MemoryTransport<M>) => Transport<M>;
}

/** Ids from `size` or `ids`. */
function idsOf(options: { size?: number; ids?: readonly NodeId[] }): NodeId[] {
  if (options.ids !== undefined) {
    const ids = [...options.ids];
    if (ids.length === 0 || new Set(ids).size !== ids.length || ids.some((id) => typeof id !== 'string' || id.length === 0)) {
      throw new TypeError('Paxos simulation: ids must be unique, non-empty strings');
    }
    if (options.size !== undefined && options.size !== ids.length) throw new RangeError('Paxos simulation: size and ids disagree');
    return ids;
  }
  const size = options.size;
  if (!(Number.isSafeInteger(size) && (size as number) >= 1 && (size as number) <= 1000)) throw new RangeError(`Paxos simulation: size must be 1..1000, got ${String(size)}`);
  return Array.from({ length: size as number }, (_, i) => String(i + 1));
}

/**
 * What {@link SynodCluster} and {@link MultiPaxosCluster} share: the virtual clock, the network,
 * the checker, and crashing and restarting nodes (a restarted node is a new instance on the same
 * acceptor storage).
 *
 * @typeParam N - The node class.
 * @typeParam M - The messages on the network.
 * @typeParam V - What an acceptor stores.
 * @example
 * ```ts
 * import { PaxosSimulation, SynodCluster, MultiPaxosCluster } from 'raftkit';
 * const clusters = [new SynodCluster({ size: 3, seed: 1 }), new MultiPaxosCluster({ size: 3, seed: 1 })];
 * for (const cluster of clusters) if (cluster instanceof PaxosSimulation) cluster.crash('1'); // both are
 * ```
 */
export abstract class PaxosSimulation<
  N extends {
    /** The node's id. */
    readonly id: NodeId;
    /** Starts the node. */
    start(): void;
    /** Stops the node. */
    stop(): Promise<void>;
  },
  M extends Envelope,
  V,
> {
  /** Every node's id. */
  readonly ids: readonly NodeId[];
  /** The seed of this run. */
  readonly seed: number | string;
  /** The simulated network: use it for finer faults (`cut`, `filter`, `configure`) and for `stats()`. */
  readonly network: InMemoryNetwork<M>;
  /** The safety checker every node reports to (null when `checkSafety` is false). */
  readonly checker: PaxosChecker | null;
  /** The virtual clock. */
  readonly scheduler: VirtualScheduler;
  readonly #random: SeededRandom;
  readonly #options: PaxosSimulationOptions<M, V>;
  readonly #nodes = new Map<NodeId, N>();
  readonly #storages = new Map<NodeId, AcceptorStorage<V>>();
  readonly #crashed = new Set<NodeId>();
  readonly #incarnations = new Map<NodeId, number>();

  protected constructor(options: PaxosSimulationOptions<M, V>) {
    if (typeof options.seed !== 'number' && typeof options.seed !== 'string') throw new TypeError('Paxos simulation: seed must be a number or a string');
    this.ids = idsOf(options);
    this.seed = options.seed;
    this.#options = options;
    this.#random = new SeededRandom(options.seed);
    this.scheduler = new VirtualScheduler();
    this.network = new InMemoryNetwork<M>({ scheduler: this.scheduler, random: this.#random.fork('network'), latencyMs: [1, 10], ...options.network });
    this.checker = options.checkSafety === false ? null : new PaxosChecker({ acceptors: this.ids, seed: options.seed });
  }

  /**
   * Makes one incarnation of node `id` (not started).
   *
   * @internal
   */
  protected abstract create(id: NodeId, parts: { transport: Transport<M>; random: SeededRandom; storage: AcceptorStorage<V> }): N;

  /**
   * Boots every node: call at the end of the subclass's constructor.
   *
   * @internal
   */
  protected bootAll(): void {
    for (const id of this.ids) this.#boot(id);
  }

  /**
   * The current virtual time in ms.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * new SynodCluster({ size: 3, seed: 1 }).now; // 0
   * ```
   */
  get now(): number {
    return this.scheduler.now();
  }

  /**
   * The node with this id (its current incarnation, running or crashed).
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * new SynodCluster({ size: 3, seed: 1 }).node('2').id; // '2'
   * ```
   */
  node(id: NodeId): N {
    const node = this.#nodes.get(id);
    if (node === undefined) throw new RangeError(`Paxos simulation: no node ${JSON.stringify(id)}`);
    return node;
  }

  /**
   * Every node's current incarnation, in id order.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * new SynodCluster({ size: 3, seed: 1 }).nodes.length; // 3
   * ```
   */
  get nodes(): N[] {
    return this.ids.map((id) => this.node(id));
  }

  /**
   * The ids of the nodes not crashed.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.crash('1');
   * cluster.liveIds; // ['2', '3']
   * ```
   */
  get liveIds(): NodeId[] {
    return this.ids.filter((id) => !this.#crashed.has(id));
  }

  /**
   * Runs `ms` of virtual time.
   *
   * @throws PaxosSafetyViolation the moment a safety property breaks.
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.run(1000);
   * cluster.now; // 1000
   * ```
   */
  run(ms: number): void {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`Paxos simulation: run needs a finite ms ≥ 0, got ${ms}`);
    this.scheduler.runFor(ms);
  }

  /**
   * Runs until `predicate()` holds (checked after every event) or `timeoutMs` of virtual time
   * pass (default 10,000); returns whether it held.
   *
   * @throws PaxosSafetyViolation the moment a safety property breaks.
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.node('1').propose('x');
   * cluster.runUntil(() => cluster.node('1').learned !== null, { timeoutMs: 1000 }); // true
   * ```
   */
  runUntil(predicate: () => boolean, options: { timeoutMs?: number } = {}): boolean {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!(timeoutMs >= 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`Paxos simulation: timeoutMs must be a finite number ≥ 0, got ${timeoutMs}`);
    return this.scheduler.runUntil(predicate, { timeoutMs });
  }

  /**
   * Crashes node `id`: it stops at once (timers, endpoint) and loses everything but its acceptor
   * storage. Messages in flight to it are lost.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.crash('3');
   * ```
   */
  crash(id: NodeId): void {
    if (this.#crashed.has(id)) return;
    void this.node(id).stop();
    this.#crashed.add(id);
  }

  /**
   * Restarts a crashed node `id`: a new instance on the same acceptor storage (a node not crashed
   * is left alone).
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.crash('3');
   * cluster.restart('3');
   * cluster.node('3').promised; // what it promised before the crash (null here)
   * ```
   */
  restart(id: NodeId): void {
    this.node(id);
    if (!this.#crashed.delete(id)) return;
    this.#boot(id);
  }

  /**
   * Splits the nodes into groups that cannot talk to each other (see `InMemoryNetwork.partition`).
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 5, seed: 1 });
   * cluster.partition(['1', '2'], ['3', '4', '5']);
   * ```
   */
  partition(...groups: Array<readonly NodeId[]>): void {
    this.network.partition(...groups);
  }

  /**
   * Removes every partition, disconnection and cut.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 5, seed: 1 });
   * cluster.partition(['1'], ['2', '3', '4', '5']);
   * cluster.heal();
   * ```
   */
  heal(): void {
    this.network.heal();
  }

  #boot(id: NodeId): void {
    const incarnation = (this.#incarnations.get(id) ?? 0) + 1;
    this.#incarnations.set(id, incarnation);
    let storage = this.#storages.get(id);
    if (storage === undefined) this.#storages.set(id, (storage = this.#options.storage?.(id) ?? new MemoryAcceptorStorage<V>()));
    const endpoint = this.network.transport(id);
    const transport = this.#options.transport?.(id, endpoint) ?? endpoint;
    const node = this.create(id, { transport, random: this.#random.fork(`node ${id}#${incarnation}`), storage });
    this.#nodes.set(id, node);
    node.start();
  }
}

/**
 * Options of a {@link SynodCluster}: the simulation's, and the Synod nodes' own.
 *
 * @example
 * ```ts
 * import { SynodCluster, type SynodClusterOptions } from 'raftkit';
 * const options: SynodClusterOptions<string> = { size: 3, seed: 7, node: { backoff: 'none' } };
 * new SynodCluster(options);
 * ```
 */
export interface SynodClusterOptions<V = unknown> extends PaxosSimulationOptions<SynodMessage<V>, V> {
  /** Options for every node (`retryTimeoutMs`, `backoff`, `backoffMs`). */
  readonly node?: Pick<SynodNodeOptions<V>, 'retryTimeoutMs' | 'backoff' | 'backoffMs'>;
}

/**
 * Single-decree Paxos on the simulator: N {@link SynodNode}s, each proposer, acceptor and
 * learner, with every acceptance and learn checked by a {@link PaxosChecker}.
 *
 * @example
 * ```ts
 * import { SynodCluster } from 'raftkit';
 * const cluster = new SynodCluster<string>({ size: 5, seed: 42, network: { latencyMs: [1, 20], dropRate: 0.1 } });
 * cluster.node('1').propose('blue');
 * cluster.node('5').propose('green');
 * cluster.runUntil(() => cluster.nodes.every((node) => node.learned !== null));
 * console.log(`chosen: ${cluster.chosen()?.value} at ${cluster.now} ms`);
 * ```
 */
export class SynodCluster<V = unknown> extends PaxosSimulation<SynodNode<V>, SynodMessage<V>, V> {
  readonly #node: SynodClusterOptions<V>['node'];

  constructor(options: SynodClusterOptions<V>) {
    super(options);
    this.#node = options.node;
    this.bootAll();
  }

  /**
   * The value chosen (by a majority of acceptors in one ballot), if one is yet; needs the checker.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster<string>({ size: 3, seed: 1 });
   * cluster.node('2').propose('x');
   * cluster.run(100);
   * cluster.chosen(); // { value: 'x' }
   * ```
   */
  chosen():
    | {
        /** The chosen value. */
        value: V;
      }
    | undefined {
    return this.checker?.chosen(0) as { value: V } | undefined;
  }

  /** @internal */
  protected create(id: NodeId, parts: { transport: Transport<SynodMessage<V>>; random: SeededRandom; storage: AcceptorStorage<V> }): SynodNode<V> {
    const node = new SynodNode<V>({ ...this.#node, id, peers: this.ids, scheduler: this.scheduler, ...parts });
    const checker = this.checker;
    if (checker !== null) {
      node.on('accept', (ballot, value) => checker.accepted(id, 0, ballot, value));
      node.on('learn', (value) => checker.learned(id, 0, value));
    }
    return node;
  }
}

/**
 * Options of a {@link MultiPaxosCluster}: the simulation's, a state machine per node, and the
 * Multi-Paxos nodes' own.
 *
 * @example
 * ```ts
 * import { MultiPaxosCluster, KeyValueStore, type MultiPaxosClusterOptions, type KeyValueCommand, type KeyValueResult } from 'raftkit';
 * const options: MultiPaxosClusterOptions<KeyValueCommand, KeyValueResult> = { size: 5, seed: 3, stateMachine: () => new KeyValueStore() };
 * new MultiPaxosCluster(options);
 * ```
 */
export interface MultiPaxosClusterOptions<C = unknown, R = unknown> extends PaxosSimulationOptions<MultiPaxosMessage<C>, LogValue<C>> {
  /** Makes a node's state machine; called again on each restart (the node learns the log again). */
  readonly stateMachine?: (id: NodeId) => PaxosStateMachine<C, R>;
  /** Options for every node (`electionTimeoutMs`, `heartbeatIntervalMs`, `maxCatchUp`). */
  readonly node?: Pick<MultiPaxosNodeOptions<C, R>, 'electionTimeoutMs' | 'heartbeatIntervalMs' | 'maxCatchUp'>;
}

/**
 * What {@link MultiPaxosCluster.propose} returns: the slot the command was chosen in, its result,
 * and the leader that applied it.
 *
 * @example
 * ```ts
 * import { MultiPaxosCluster, type MultiPaxosProposal } from 'raftkit';
 * const cluster = new MultiPaxosCluster<string, number>({ size: 3, seed: 1, stateMachine: () => ({ apply: (c: string) => c.length }) });
 * const { slot, result }: MultiPaxosProposal<number> = cluster.propose('hello');
 * console.log(slot, result); // 1 5
 * ```
 */
export interface MultiPaxosProposal<R = unknown> {
  /** The slot the command was chosen in. */
  readonly slot: number;
  /** What the leader's state machine returned for it. */
  readonly result: R;
  /** The leader that applied it. */
  readonly leaderId: NodeId;
}

/**
 * Multi-Paxos on the simulator: N {@link MultiPaxosNode}s, every acceptance and learn in every
 * slot checked by a {@link PaxosChecker}.
 *
 * @example
 * ```ts
 * import { MultiPaxosCluster } from 'raftkit';
 * const cluster = new MultiPaxosCluster<string>({ size: 5, seed: 42 });
 * const leader = cluster.waitForLeader();
 * for (const command of ['a', 'b', 'c']) cluster.propose(command);
 * cluster.crash(leader);
 * cluster.propose('d'); // the next leader recovers the log in one phase 1, then carries on
 * cluster.run(500);
 * console.log(cluster.liveIds.map((id) => cluster.node(id).log().length)); // 4 (or more, with no-ops) everywhere
 * ```
 */
export class MultiPaxosCluster<C = unknown, R = unknown> extends PaxosSimulation<MultiPaxosNode<C, R>, MultiPaxosMessage<C>, LogValue<C>> {
  readonly #stateMachine: MultiPaxosClusterOptions<C, R>['stateMachine'];
  readonly #node: MultiPaxosClusterOptions<C, R>['node'];

  constructor(options: MultiPaxosClusterOptions<C, R>) {
    super(options);
    this.#stateMachine = options.stateMachine;
    this.#node = options.node;
    this.bootAll();
  }

  /**
   * The live leader with the highest ballot, if any (it may be cut off from a majority).
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * new MultiPaxosCluster({ size: 3, seed: 1 }).leader(); // undefined: no election yet
   * ```
   */
  leader(): NodeId | undefined {
    let best: MultiPaxosNode<C, R> | undefined;
    for (const id of this.liveIds) {
      const node = this.node(id);
      if (node.role === 'leader' && (best === undefined || compareBallots(node.ballot, best.ballot) > 0)) best = node;
    }
    return best?.id;
  }

  /**
   * Runs until a live node leads; returns its id.
   *
   * @throws TimeoutError when none does within `timeoutMs` (default 10,000).
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 5, seed: 1 });
   * console.log(`leader ${cluster.waitForLeader()} at ${cluster.now} ms`);
   * ```
   */
  waitForLeader(options: { timeoutMs?: number } = {}): NodeId {
    const timeoutMs = options.timeoutMs ?? 10_000;
    if (!this.runUntil(() => this.leader() !== undefined, { timeoutMs })) throw new TimeoutError('waiting for a Multi-Paxos leader', timeoutMs);
    return this.leader() as NodeId;
  }

  /**
   * Submits `command` to the leader (see {@link MultiPaxosCluster.leader}) and runs until the
   * leader applied the slot. When leadership moves on first, it submits again to the next leader;
   * a command may then be chosen twice (there are no client sessions here).
   *
   * @throws TimeoutError when it is not applied within `timeoutMs` (default 10,000); the state
   *   machine's error when it threw on the command.
   * @example
   * ```ts
   * import { MultiPaxosCluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * const cluster = new MultiPaxosCluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 1, stateMachine: () => new KeyValueStore() });
   * cluster.propose({ op: 'put', key: 'x', value: 1 });
   * const { result } = cluster.propose({ op: 'get', key: 'x' });
   * console.log(result.previous); // 1
   * ```
   */
  propose(command: C, options: { timeoutMs?: number } = {}): MultiPaxosProposal<R> {
    const timeoutMs = options.timeoutMs ?? 10_000;
    const deadline = this.now + timeoutMs;
    const fail = (): never => {
      throw new TimeoutError('a Multi-Paxos proposal', timeoutMs);
    };
    for (;;) {
      const left = deadline - this.now;
      if (left <= 0 || !this.runUntil(() => this.leader() !== undefined, { timeoutMs: left })) fail();
      const leader = this.node(this.leader() as NodeId);
      const slot = leader.submit(command);
      let outcome: { result: R } | { error: Error } | null = null;
      const ours = (): boolean => {
        const value = leader.chosen(slot);
        return value?.kind === 'command' && value.command === command;
      };
      const onApply = (at: number, applied: C, result: R): void => {
        if (at === slot && applied === command) outcome = { result };
      };
      // A state machine that throws is reported while the slot is being applied.
      const onError = (error: Error): void => {
        if (outcome === null && leader.appliedSlot === slot && ours()) outcome = { error };
      };
      leader.on('apply', onApply);
      leader.on('error', onError);
      try {
        // Until applied, or until it stops leading (or a leader of a higher ballot appears: one
        // cut off from a majority does not know it has been replaced).
        this.runUntil(() => leader.appliedSlot >= slot || leader.role !== 'leader' || this.leader() !== leader.id, { timeoutMs: Math.max(0, deadline - this.now) });
      } finally {
        leader.off('apply', onApply);
        leader.off('error', onError);
      }
      const settled = outcome as { result: R } | { error: Error } | null;
      if (settled !== null && 'error' in settled) throw settled.error;
      if (settled !== null) return { slot, result: settled.result, leaderId: leader.id };
      if (this.now >= deadline) fail();
    }
  }

  /** @internal */
  protected create(id: NodeId, parts: { transport: Transport<MultiPaxosMessage<C>>; random: SeededRandom; storage: AcceptorStorage<LogValue<C>> }): MultiPaxosNode<C, R> {
    const stateMachine = this.#stateMachine?.(id);
    const node = new MultiPaxosNode<C, R>({ ...this.#node, id, peers: this.ids, scheduler: this.scheduler, ...parts, ...(stateMachine !== undefined && { stateMachine }) });
    const checker = this.checker;
    if (checker !== null) {
      node.on('accept', (slot, ballot, value) => checker.accepted(id, slot, ballot, value));
      node.on('learn', (slot, value) => checker.learned(id, slot, value));
    }
    return node;
  }
}
