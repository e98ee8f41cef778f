import { committedMembership, RaftNode, type ProposalResult, type RaftNodeEvents, type RaftNodeOptions } from '../node/raft-node.js';
import { LeadershipLostError, MembershipError, NodeStoppedError, NotLeaderError, RaftError, SessionExpiredError, TimeoutError, TransferError } from '../raft/errors.js';
import type { ClientSession } from '../raft/sessions.js';
import type { Message } from '../raft/messages.js';
import type { StateMachine } from '../raft/state-machine.js';
import { MemoryStorage, type StorageUpdate } from '../raft/storage.js';
import type { LogEntry, LogPosition, Membership, NodeId } from '../raft/types.js';
import { InMemoryNetwork, type NetworkConditions } from '../transport/memory.js';
import type { Transport } from '../transport/transport.js';
import type { Cancel } from '../runtime/scheduler.js';
import { InvariantViolation, SafetyChecker } from './invariants.js';
import { SeededRandom } from '../runtime/random.js';
import { electionRounds, type RoundReport } from './mini-project.js';
import { TRACE_VERSION, type TraceDocument, type TraceEvent, type VoteRefusal } from './trace.js';
import { TraceLog } from './trace-log.js';
import { VirtualScheduler } from './virtual-scheduler.js';
import { NodeClock, type ClockReading, type ClockSetting } from './node-clock.js';

/**
 * Options of a simulated {@link Cluster}. Give `size` (ids '1'..'N') or explicit `ids` (both
 * only if they agree).
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * const cluster = new Cluster({
 *   size: 5,
 *   seed: 42,
 *   network: { latencyMs: [1, 20], dropRate: 0.05 },
 *   nodeOptions: (id) => (id === '1' ? { electionTimeoutMs: [100, 110] } : {}), // node 1 campaigns first
 * });
 * ```
 */
export interface ClusterOptions<C = unknown, R = unknown> {
  /** Number of nodes, named '1'..'N'. */
  readonly size?: number;
  /** Explicit node ids (instead of `size`). */
  readonly ids?: readonly NodeId[];
  /** The seed of every random choice in the run: same seed and same calls ⇒ same run. */
  readonly seed: number | string;
  /** The simulated network (default latency [1, 10] ms, no loss). */
  readonly network?: ClusterNetworkOptions;
  /** Election timeout range for every node (default [150, 300]). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Heartbeat interval for every node (default 50). */
  readonly heartbeatIntervalMs?: number;
  /** Makes a node's state machine; called again on each restart (the state is rebuilt from the log). */
  readonly stateMachine?: (id: NodeId) => StateMachine<C, R>;
  /** Per-node overrides of any {@link RaftNodeOptions}. */
  readonly nodeOptions?: (id: NodeId) => Partial<RaftNodeOptions<C, R>>;
  /** Check the safety properties after every event (default true). */
  readonly checkInvariants?: boolean;
  /**
   * How many trace events to keep, newest last: a whole number (default 10,000; 0 turns tracing
   * off, and then it costs nothing). Older events are dropped, and {@link Cluster.traceDocument}
   * counts them.
   */
  readonly traceLimit?: number;
  /**
   * How long (virtual ms, drawn per save) each node's saves take to reach its simulated disk.
   * Default: none, a save is durable at once. A crash loses the saves still in flight, as a power
   * cut would, so this tests what a node sends before its writes are durable.
   */
  readonly diskLatencyMs?: readonly [number, number];
}

/**
 * The network of a {@link Cluster}: its conditions, and whether statistics measure bytes.
 *
 * @example
 * ```ts
 * import { Cluster, type ClusterNetworkOptions } from 'raftkit';
 * const network: ClusterNetworkOptions = { latencyMs: [1, 20], dropRate: 0.05, countBytes: false };
 * const cluster = new Cluster({ size: 3, seed: 1, network });
 * ```
 */
export interface ClusterNetworkOptions extends NetworkConditions {
  /** Measure each message's JSON size for `network.stats()` (default true; false is faster). */
  readonly countBytes?: boolean;
}

/**
 * One entry a node applied, as {@link Cluster.applied} lists it.
 *
 * @example
 * ```ts
 * import { Cluster, type AppliedEntry } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const { leaderId } = await cluster.propose({ set: 'x', to: 1 });
 * const entries: AppliedEntry[] = cluster.applied(leaderId);
 * console.log(entries); // [ { index: 2, term: 1, kind: 'command', command: { set: 'x', to: 1 } } ]
 * ```
 */
export interface AppliedEntry<C = unknown> extends LogPosition {
  /** The command that was applied. */
  readonly command: C;
}

/**
 * What {@link Cluster.propose} resolves with: the proposal's result and the leader that applied it.
 *
 * @example
 * ```ts
 * import { Cluster, type ClusterProposalResult } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1, stateMachine: () => ({ apply: (n: number) => n * 2 }) });
 * const { index, result, leaderId }: ClusterProposalResult<number> = await cluster.propose(21);
 * console.log(`leader ${leaderId} applied it at index ${index}: ${result}`); // leader 2 applied it at index 2: 42
 * ```
 */
export interface ClusterProposalResult<R = unknown> extends ProposalResult<R> {
  /** The leader that accepted and applied the command. */
  readonly leaderId: NodeId;
}

/** A listener of `Cluster.onNode`, and its wrapper on each incarnation it is attached to. */
interface NodeListener<C, R> {
  readonly event: keyof RaftNodeEvents<C, R>;
  readonly listener: (id: NodeId, ...args: never[]) => void;
  readonly attached: Map<RaftNode<C, R>, (...args: never[]) => void>;
}

/** The simulated disk's write latency: each save lands after `latency` virtual ms. */
interface Disk {
  readonly scheduler: VirtualScheduler;
  latency(): number;
}

/**
 * Storage that lets the safety checker see each write before it happens. On a simulated disk
 * with latency, a save lands (and is checked) only when its time comes, and a crash loses it.
 */
class CheckedStorage extends MemoryStorage {
  /** Bumped at each crash: a save from an earlier epoch never lands. */
  private epoch = 0;
  constructor(
    private readonly before: (storage: CheckedStorage, update: StorageUpdate) => void,
    private readonly disk: Disk | null,
    /** Runs a landed write's completion on the node (held while the node is paused). */
    private readonly onNode: (work: () => void) => void,
  ) {
    super();
  }
  override save(update: StorageUpdate): void {
    if (this.disk !== null) return this.saveLater(update, this.disk) as unknown as void;
    this.before(this, update);
    super.save(update);
  }
  /** The machine lost power: saves in flight never land. */
  powerCut(): void {
    this.epoch++;
  }
  private saveLater(update: StorageUpdate, disk: Disk): PromiseLike<void> {
    const epoch = this.epoch;
    const write = new DiskWrite();
    disk.scheduler.schedule(disk.latency(), () =>
      this.onNode(() => {
        if (epoch !== this.epoch) return;
        try {
          this.before(this, update);
          super.save(update);
          write.settle(true, undefined);
        } catch (error) {
          write.settle(false, error);
        }
      }),
    );
    return write;
  }
}

/**
 * A save in flight on the simulated disk. It runs its callbacks in the scheduler event that
 * lands it: a Promise would run them only once the simulation yields, long after that virtual
 * time. (Only what RaftNode uses: `then(ok, fail)` and `catch`.)
 */
class DiskWrite implements PromiseLike<void> {
  private outcome: { ok: boolean; error: unknown } | null = null;
  private readonly callbacks: Array<[(() => void) | undefined, ((error: unknown) => void) | undefined]> = [];
  settle(ok: boolean, error: unknown): void {
    this.outcome = { ok, error };
    for (const [onOk, onFail] of this.callbacks.splice(0)) (ok ? onOk?.() : onFail?.(error));
  }
  then<A = void, B = never>(onOk?: ((value: void) => A | PromiseLike<A>) | null, onFail?: ((error: unknown) => B | PromiseLike<B>) | null): PromiseLike<A | B> {
    const ok = onOk === null || onOk === undefined ? undefined : () => void onOk();
    const fail = onFail === null || onFail === undefined ? undefined : (error: unknown) => void onFail(error);
    if (this.outcome === null) this.callbacks.push([ok, fail]);
    else if (this.outcome.ok) ok?.();
    else fail?.(this.outcome.error);
    return this as unknown as PromiseLike<A | B>;
  }
  catch(onFail: (error: unknown) => unknown): PromiseLike<void> {
    return this.then(undefined, onFail) as PromiseLike<void>;
  }
}

/** A call's `timeoutMs` (default `fallback` virtual ms), checked before anything is done. */
function timeoutOf(who: string, options: { timeoutMs?: number }, fallback = 10_000): number {
  const timeoutMs = options.timeoutMs ?? fallback;
  if (typeof timeoutMs !== 'number' || !(timeoutMs >= 0) || timeoutMs === Infinity) {
    throw new RangeError(`Cluster.${who}: timeoutMs must be a finite number ≥ 0, got ${String(timeoutMs)}`);
  }
  return timeoutMs;
}

const DEFAULT_LATENCY: readonly [number, number] = [1, 10];

/** The simulated disk for `diskLatencyMs`, or null for saves durable at once. */
function diskOf(latencyMs: readonly [number, number] | undefined, scheduler: VirtualScheduler, random: SeededRandom): Disk | null {
  if (latencyMs === undefined) return null;
  const [min, max] = latencyMs;
  if (!(Number.isFinite(min) && Number.isFinite(max) && min >= 0 && max >= min)) {
    throw new RangeError(`Cluster: diskLatencyMs must be [min, max] with 0 ≤ min ≤ max, got [${String(min)}, ${String(max)}]`);
  }
  const disk = random.fork('disk');
  return { scheduler, latency: () => min + disk.next() * (max - min) };
}

/**
 * A deterministic simulation of a Raft cluster: N {@link RaftNode}s on one virtual clock, one
 * seeded random source and one {@link InMemoryNetwork}, with crashes, restarts, partitions,
 * continuous safety checks and a replayable trace. Runs much faster than real time.
 *
 * Storage given through `nodeOptions` must save synchronously (as {@link MemoryStorage} does):
 * the simulation runs its events without yielding, so a save that resolves a promise would
 * only complete after `run` returns. To simulate a slow disk, use `diskLatencyMs`.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * const cluster = new Cluster({ size: 5, seed: 42 });
 * const leader = await cluster.waitForLeader();
 * console.log(`Node ${leader} elected leader for term ${cluster.node(leader).term}`);
 * await cluster.propose({ set: 'x', to: 1 });
 * cluster.crash(leader);
 * await cluster.waitForLeader();
 * ```
 */
export class Cluster<C = unknown, R = unknown> {
  /** The ids the cluster started with (its initial voters). */
  private readonly initialIds: readonly NodeId[];
  /** Every member's id: the initial ones and those added, less those removed. */
  private readonly members: NodeId[];
  /** The seed of this run. */
  readonly seed: number | string;
  /** The simulated network; use it for finer faults (`cut`, `filter`, `configure`, `stats`). */
  readonly network: InMemoryNetwork<Message>;
  private readonly scheduler: VirtualScheduler;
  private readonly random: SeededRandom;
  private readonly options: ClusterOptions<C, R>;
  private readonly current = new Map<NodeId, RaftNode<C, R>>();
  private readonly storages = new Map<NodeId, CheckedStorage>();
  /** Each node's clock (kept across restarts: it is the machine's) and the state machine of its current incarnation. */
  private readonly clocks = new Map<NodeId, NodeClock>();
  private readonly machines = new Map<NodeId, StateMachine<C, R> | undefined>();
  private readonly crashed = new Set<NodeId>();
  private readonly incarnations = new Map<NodeId, number>();
  private readonly appliedBy = new Map<NodeId, AppliedEntry<C>[]>();
  /** The client session `propose` makes its commands in (opened by the first proposal). */
  private session: ClientSession | null = null;
  private readonly checker: SafetyChecker | null;
  private readonly traceLog: TraceLog;
  private readonly disk: Disk | null;
  /** Listeners of {@link onNode}: attached to every incarnation of every node. */
  private readonly nodeListeners: NodeListener<C, R>[] = [];
  /** The last client operation id given (trace only). */
  private ops = 0;
  /** Nodes whose next campaign was asked for, and why (trace only). */
  private readonly campaignCause = new Map<NodeId, 'campaign' | 'TimeoutNow'>();
  /** Each node's last vote request: its type, term and time (trace only). */
  private readonly lastCampaign = new Map<NodeId, { type: string; term: number; time: number }>();
  /** The last InstallSnapshot each node received (trace only). */
  private readonly installing = new Map<NodeId, { index: number; lastTerm: number }>();

  constructor(options: ClusterOptions<C, R>) {
    this.options = options;
    this.initialIds = clusterIds(options);
    this.members = [...this.initialIds];
    if (typeof options.seed !== 'number' && typeof options.seed !== 'string') {
      throw new TypeError('Cluster: seed must be a number or a string');
    }
    this.seed = options.seed;
    this.random = new SeededRandom(options.seed);
    this.checker = options.checkInvariants === false ? null : new SafetyChecker();
    this.scheduler = new VirtualScheduler(this.checker === null ? {} : { onEvent: () => this.throwIfViolated() });
    const traceLimit = options.traceLimit ?? 10_000;
    if (!Number.isSafeInteger(traceLimit) || traceLimit < 0) throw new RangeError(`Cluster: traceLimit must be a whole number ≥ 0, got ${String(traceLimit)}`);
    this.traceLog = new TraceLog(traceLimit, this.scheduler);
    this.disk = diskOf(options.diskLatencyMs, this.scheduler, this.random);
    this.network = new InMemoryNetwork<Message>({
      scheduler: this.scheduler,
      random: this.random.fork('network'),
      latencyMs: DEFAULT_LATENCY,
      ...options.network,
    });
    if (this.traceLog.enabled) this.traceNetwork();
    const checker = this.checker;
    if (checker !== null) {
      this.network.on('send', (m) => {
        if (m.type === 'RequestVoteResponse' && m.voteGranted) checker.voteSent(m.from, m.term, m.to);
      });
    }
    for (const id of this.ids) this.boot(id);
  }

  // ── Inspection ───────────────────────────────────────────────────────────────────────────

  /** The current virtual time in ms. */
  get now(): number {
    return this.scheduler.now();
  }

  /** Every member's id, in the order they joined (added nodes last, removed ones gone). */
  get ids(): readonly NodeId[] {
    return this.members;
  }

  /** The node with this id (its current incarnation, running or crashed). */
  node(id: NodeId): RaftNode<C, R> {
    const node = this.current.get(id);
    if (node === undefined) throw new RangeError(`Cluster: no node ${JSON.stringify(id)}`);
    return node;
  }

  /** Every node's current incarnation, in id order. */
  get nodes(): RaftNode<C, R>[] {
    return this.ids.map((id) => this.node(id));
  }

  /** Ids of the nodes that are running: neither crashed nor stopped (e.g. by a failed snapshot restore). */
  get liveIds(): NodeId[] {
    return this.ids.filter((id) => !this.crashed.has(id) && this.node(id).running);
  }

  /**
   * The live leader with the highest term that the network lets talk, both ways, with a
   * majority of its voters (through partitions, disconnections and cuts; crashed voters count
   * as reachable), if any: never one this cluster crashed, paused, disconnected or put on a
   * minority side, even while it still believes it leads.
   */
  leader(): NodeId | undefined {
    let best: RaftNode<C, R> | undefined;
    for (const id of this.liveIds) {
      if (this.clockOf(id).paused) continue;
      const node = this.node(id);
      if (node.role === 'leader' && (best === undefined || node.term > best.term) && this.reachesMajority(node)) best = node;
    }
    return best?.id;
  }

  /** Whether the network lets `node` talk both ways with a majority of its voters (itself included, if one). */
  private reachesMajority(node: RaftNode<C, R>): boolean {
    const { voters } = node.membership;
    const net = this.network;
    const reached = voters.filter((v) => v === node.id || (net.reachable(node.id, v) && net.reachable(v, node.id)));
    return reached.length * 2 > voters.length;
  }

  /** The state machine of the node's current incarnation, as `stateMachine` made it (undefined without one). */
  stateMachine(id: NodeId): StateMachine<C, R> | undefined {
    this.node(id);
    return this.machines.get(id);
  }

  /** What node `id`'s clock reads now, its offset from virtual time and its drift (see {@link setClock}). */
  clock(id: NodeId): ClockReading {
    const clock = this.clockOf(this.node(id).id);
    return { now: clock.now(), offsetMs: clock.offsetMs, drift: clock.drift };
  }

  /** Whether node `id` is paused (see {@link pause}). */
  paused(id: NodeId): boolean {
    return this.clockOf(this.node(id).id).paused;
  }

  /** Every command entry the node's current incarnation applied, in order (shared entries: do not mutate). */
  applied(id: NodeId): AppliedEntry<C>[] {
    this.node(id);
    return (this.appliedBy.get(id) ?? []).slice();
  }

  /** The retained trace events, oldest first (plain JSON). */
  trace(): TraceEvent[] {
    return this.traceLog.toArray();
  }

  /**
   * The trace as a versioned document (plain JSON): the schema version, the seed, the nodes the
   * cluster started with, the limit, how many older events it dropped, and the retained events.
   */
  traceDocument(): TraceDocument {
    const log = this.traceLog;
    return { version: TRACE_VERSION, seed: this.seed, nodes: [...this.initialIds], limit: log.limit, dropped: log.dropped, events: log.toArray() };
  }

  /**
   * Calls `listener` with each trace event as it is recorded (in the scheduler event that made
   * it; whatever node restarts). Returns a function that stops it. Needs tracing on (a
   * `traceLimit` above 0): the limit bounds what is kept, not what listeners see. A listener
   * that throws does not break the step it sees: its error is thrown by the simulation's next
   * event, out of the `run`, `propose` or other call that is running (or the next one).
   */
  onTrace(listener: (event: TraceEvent) => void): () => void {
    if (!this.traceLog.enabled) throw new RaftError('TRACE_OFF', 'Cluster.onTrace: tracing is off (traceLimit: 0)');
    return this.traceLog.follow(listener);
  }

  /**
   * Listens to `event` on every node: the current incarnations, each one a restart makes, and
   * nodes added later (a listener put on `cluster.node(id)` stays with that incarnation). The
   * listener gets the node's id first, then the event's arguments. Returns a function that stops it.
   */
  onNode<E extends keyof RaftNodeEvents<C, R>>(event: E, listener: (id: NodeId, ...args: Parameters<RaftNodeEvents<C, R>[E]>) => void): () => void {
    const entry: NodeListener<C, R> = { event, listener: listener as unknown as NodeListener<C, R>['listener'], attached: new Map() };
    this.nodeListeners.push(entry);
    for (const node of this.current.values()) this.attach(entry, node);
    return () => {
      const at = this.nodeListeners.indexOf(entry);
      if (at >= 0) this.nodeListeners.splice(at, 1);
      for (const [node, fn] of entry.attached) node.off(event, fn as never);
      entry.attached.clear();
    };
  }

  private attach(entry: NodeListener<C, R>, node: RaftNode<C, R>): void {
    const id = node.id;
    const fn = (...args: never[]): void => entry.listener(id, ...args);
    entry.attached.set(node, fn);
    node.on(entry.event, fn as never);
  }

  /**
   * The trace events from now on, as an async iterator (it ends when `signal` aborts). Events
   * arrive as the simulation yields, in order; none are lost while the loop body awaits.
   */
  async *traceEvents(options: { signal?: AbortSignal } = {}): AsyncGenerator<TraceEvent, void, undefined> {
    const queue: TraceEvent[] = [];
    let wake: (() => void) | undefined;
    const stop = this.onTrace((event) => {
      queue.push(event);
      wake?.();
    });
    const signal = options.signal;
    const onAbort = (): void => wake?.();
    signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        while (queue.length > 0) yield queue.shift() as TraceEvent;
        if (signal?.aborted === true) return;
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      stop();
      signal?.removeEventListener('abort', onAbort);
    }
  }

  // ── Running ──────────────────────────────────────────────────────────────────────────────

  /** Runs `ms` milliseconds of virtual time. Throws {@link InvariantViolation} on a safety violation. */
  async run(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) throw new RangeError(`Cluster.run: ms must be a finite number ≥ 0, got ${ms}`);
    this.scheduler.runFor(ms);
    this.throwIfViolated();
  }

  /**
   * Runs `callback` after `delayMs` of virtual time, as an event of the simulation (the
   * cluster's time, not a node's clock): a fault at a given time, a client's own timeout.
   * Returns a function that cancels it.
   */
  schedule(delayMs: number, callback: () => void): Cancel {
    return this.scheduler.schedule(delayMs, callback);
  }

  /**
   * Calls `call` with node `id`'s current incarnation as a client's request reaching that node
   * would: at once while it runs, or, while it is paused, once it resumes (a crash meanwhile
   * loses the request, and the promise never settles). Resolves or rejects as `call` does.
   */
  request<T>(id: NodeId, call: (node: RaftNode<C, R>) => T | PromiseLike<T>): Promise<T> {
    this.node(id);
    return new Promise<T>((resolve, reject) =>
      this.clockOf(id).run(() => {
        try {
          resolve(call(this.node(id)));
        } catch (error) {
          reject(error);
        }
      }),
    );
  }

  /**
   * Runs until `predicate()` is true (checked after every event) or `timeoutMs` of virtual time
   * pass (default 10,000). Resolves with whether the predicate became true.
   */
  async runUntil(predicate: () => boolean, options: { timeoutMs?: number } = {}): Promise<boolean> {
    const met = this.scheduler.runUntil(predicate, { timeoutMs: timeoutOf('runUntil', options) });
    this.throwIfViolated();
    return met;
  }

  /**
   * Runs virtual time until `promise` settles (a node's `read()`, `addVoter()`…), letting promise
   * callbacks run every few virtual milliseconds; resolves or rejects as it does. Throws
   * {@link TimeoutError} when it has not settled within `timeoutMs` of virtual time (default 10,000).
   */
  async runUntilSettled<T>(promise: Promise<T>, options: { timeoutMs?: number } = {}): Promise<T> {
    const timeoutMs = timeoutOf('runUntilSettled', options);
    let outcome: { value: T } | { error: unknown } | undefined;
    promise.then(
      (value) => (outcome = { value }),
      (error: unknown) => (outcome = { error }),
    );
    const deadline = this.now + timeoutMs;
    // The scheduler runs synchronously, so promise callbacks only run between slices of time.
    for (;;) {
      for (let hop = 0; hop < 8 && outcome === undefined; hop++) await Promise.resolve();
      if (outcome !== undefined || this.now >= deadline) break;
      await this.run(Math.min(5, deadline - this.now));
    }
    if (outcome === undefined) throw new TimeoutError('waiting for a promise', timeoutMs);
    if ('error' in outcome) throw outcome.error;
    return outcome.value;
  }

  /** Runs until a live node is leader; resolves with its id. Throws {@link TimeoutError}. */
  async waitForLeader(options: { timeoutMs?: number } = {}): Promise<NodeId> {
    const timeoutMs = timeoutOf('waitForLeader', options);
    if (!(await this.runUntil(() => this.leader() !== undefined, { timeoutMs }))) {
      throw new TimeoutError('waiting for a leader', timeoutMs);
    }
    return this.leader() as NodeId;
  }

  /**
   * Proposes `command` to the current leader and runs until the leader applied it, exactly once:
   * the command is made in the Cluster's client session (opened by the first proposal), so when
   * the leader is lost or refuses (no leader, {@link NotLeaderError}, {@link TransferError},
   * {@link LeadershipLostError}, a crash), it is proposed again to the next leader, and however
   * many copies reach the log, only the first takes effect. Rejects with {@link TimeoutError}
   * after `timeoutMs` (default 10,000; the command may still take effect), with the state
   * machine's {@link ApplyError}, or with {@link SessionExpiredError}.
   */
  async propose(command: C, options: { timeoutMs?: number } = {}): Promise<ClusterProposalResult<R>> {
    const timeoutMs = timeoutOf('propose', options);
    const deadline = this.now + timeoutMs;
    const session = (this.session ??= await this.onLeader('opening a client session', deadline, timeoutMs, (leader) => leader.openSession()));
    const tag = session.next();
    try {
      return await this.onLeader(`proposal #${tag.seq}`, deadline, timeoutMs, async (leader) => {
        const proposal = leader.propose(command, { session: tag }); // (traced as any node's proposal)
        return { ...(await proposal), leaderId: leader.id };
      });
    } catch (error) {
      if (error instanceof SessionExpiredError && this.session === session) this.session = null;
      throw error;
    } finally {
      session.done(tag.seq);
    }
  }

  /**
   * Runs `call` on the leader until it settles, and again (on the next leader) when it fails in a
   * way that a later attempt can fix, until `deadline`. Every call given is safe to repeat: a
   * proposal in a session, a session opening, a membership change that checks what is done.
   */
  private async onLeader<T>(what: string, deadline: number, timeoutMs: number, call: (leader: RaftNode<C, R>) => Promise<T>): Promise<T> {
    for (;;) {
      const leaderId = this.leader();
      if (leaderId !== undefined) {
        try {
          return await this.runUntilSettled(call(this.node(leaderId)), { timeoutMs: Math.max(0, deadline - this.now) });
        } catch (error) {
          const retry =
            error instanceof NotLeaderError ||
            error instanceof TransferError ||
            error instanceof LeadershipLostError ||
            error instanceof NodeStoppedError ||
            (error instanceof MembershipError && error.code === 'CHANGE_IN_PROGRESS') ||
            (error instanceof RaftError && error.code === 'OUTCOME_UNKNOWN');
          if (!retry && !(error instanceof TimeoutError)) throw error;
        }
      }
      if (this.now >= deadline) throw new TimeoutError(what, timeoutMs);
      const previous = leaderId;
      await this.runUntil(() => this.leader() !== undefined && this.leader() !== previous, { timeoutMs: Math.min(deadline - this.now, 50) });
    }
  }

  // ── Membership ───────────────────────────────────────────────────────────────────────────

  /**
   * Starts a new node `id` (empty storage, `join: true`) and has the leader add it: as a learner,
   * then, once it has caught up, as a voter (unless `voter: false`). Retries while another change
   * or an election is in progress. Resolves with the membership; throws {@link TimeoutError}.
   */
  async addNode(id: NodeId, options: { voter?: boolean; timeoutMs?: number } = {}): Promise<Membership> {
    if (typeof id !== 'string' || id.length === 0) throw new TypeError('Cluster.addNode: id must be a non-empty string');
    if (this.current.has(id)) throw new RangeError(`Cluster.addNode: node ${JSON.stringify(id)} exists or existed (ids are never reused)`);
    const timeoutMs = timeoutOf('addNode', options, 20_000); // (before anything changes)
    this.members.push(id);
    this.record({ time: this.now, kind: 'join', node: id });
    this.boot(id);
    const voter = options.voter ?? true;
    return this.onLeader(`adding node ${id}`, this.now + timeoutMs, timeoutMs, async (leader) => {
      if (voter) return leader.addVoter(id);
      return leader.membership.learners.includes(id) ? committedMembership(leader) : leader.addLearner(id);
    });
  }

  /**
   * Has the leader remove node `id` (the leader itself included: it steps down once the change
   * commits), then stops that node for good. Retries while another change or an election is in
   * progress. Resolves with the membership; throws {@link TimeoutError}.
   */
  async removeNode(id: NodeId, options: { timeoutMs?: number } = {}): Promise<Membership> {
    this.node(id);
    if (!this.members.includes(id)) throw new RangeError(`Cluster.removeNode: node ${id} was already removed`);
    const timeoutMs = timeoutOf('removeNode', options, 20_000);
    const membership = await this.onLeader(`removing node ${id}`, this.now + timeoutMs, timeoutMs, async (leader) => {
      const { voters, learners } = leader.membership;
      return voters.includes(id) || learners.includes(id) ? leader.removeServer(id) : committedMembership(leader);
    });
    await this.run(0); // let the removed leader's hand-over message go out
    this.members.splice(this.members.indexOf(id), 1);
    this.crashed.add(id);
    this.record({ time: this.now, kind: 'leave', node: id });
    await this.node(id).stop();
    return membership;
  }

  // ── Faults ───────────────────────────────────────────────────────────────────────────────

  /** Crashes a node: it stops at once and loses everything it had not persisted (and, if paused, everything held). */
  crash(id: NodeId): void {
    const node = this.node(id);
    if (this.crashed.has(id)) return;
    this.crashed.add(id);
    this.storages.get(id)?.powerCut();
    this.clockOf(id).discard();
    void node.stop();
    this.record({ time: this.now, kind: 'crash', node: id });
  }

  /** Restarts a crashed node from its storage, with a fresh state machine. */
  restart(id: NodeId): void {
    this.node(id);
    if (!this.members.includes(id)) throw new RangeError(`Cluster.restart: node ${id} was removed from the cluster`);
    if (!this.crashed.has(id) && this.node(id).running) throw new RaftError('NOT_CRASHED', `Cluster.restart: node ${id} is running`);
    this.crashed.delete(id);
    this.record({ time: this.now, kind: 'restart', node: id });
    this.boot(id);
  }

  /**
   * Pauses a running node, as a stopped process (SIGSTOP, a long garbage collection, a frozen
   * VM): it keeps its state and its clock keeps going, but it handles nothing (timers, messages,
   * disk writes, client requests made through {@link request}) until {@link resume}, when what
   * was held runs in order. Messages keep arriving and wait. Throws for a crashed node.
   */
  pause(id: NodeId): void {
    this.node(id);
    if (!this.liveIds.includes(id)) throw new RaftError('NOT_RUNNING', `Cluster.pause: node ${id} is not running`);
    const clock = this.clockOf(id);
    if (clock.paused) return;
    clock.pause();
    this.record({ time: this.now, kind: 'pause', node: id });
  }

  /** Resumes a node paused with {@link pause}; a no-op for one that is not paused. */
  resume(id: NodeId): void {
    const clock = this.clockOf(this.node(id).id);
    if (!clock.paused) return;
    clock.resume();
    this.record({ time: this.now, kind: 'resume', node: id });
  }

  /**
   * Changes node `id`'s clock (see {@link ClockSetting}): a step of its offset from virtual
   * time, and its drift rate from now on. The node measures every timeout and lease on it, so a
   * drift beyond the nodes' `maxClockDrift` can break lease reads. Cluster time (`now`) stays
   * virtual time. Kept across restarts.
   */
  setClock(id: NodeId, setting: ClockSetting): void {
    const clock = this.clockOf(this.node(id).id);
    clock.set(setting);
    this.record({ time: this.now, kind: 'clock', node: id, offsetMs: clock.offsetMs, drift: clock.drift });
  }

  /** Cuts a node off the network (it keeps running). */
  disconnect(id: NodeId): void {
    this.node(id);
    this.network.disconnect(id); // (traced by the network's wrapper)
  }

  /** Reconnects a node cut off with {@link disconnect}. */
  reconnect(id: NodeId): void {
    this.node(id);
    this.network.reconnect(id);
  }

  /** Splits the network into groups that cannot talk to each other (unnamed nodes form one more group). */
  partition(...groups: NodeId[][]): void {
    for (const group of groups) for (const id of group) this.node(id);
    this.network.partition(...groups);
  }

  /** Removes every partition, disconnection and cut. */
  heal(): void {
    this.network.heal();
  }

  // ── Safety ───────────────────────────────────────────────────────────────────────────────

  /**
   * Checks the safety properties now, including a full cross-check of every live node's log.
   * Throws {@link InvariantViolation}. (The incremental checks also run after every event
   * unless `checkInvariants: false`.)
   */
  checkInvariants(): void {
    const checker = this.checker ?? new SafetyChecker();
    const logs = new Map<NodeId, readonly LogEntry[]>();
    for (const id of this.liveIds) logs.set(id, this.node(id).entries());
    checker.checkLogs(logs);
    const leadersByTerm = new Map<number, NodeId>();
    for (const id of this.liveIds) {
      const node = this.node(id);
      if (node.role !== 'leader') continue;
      const other = leadersByTerm.get(node.term);
      if (other !== undefined) throw this.violation('Election Safety', `two leaders in term ${node.term}`, [other, id]);
      leadersByTerm.set(node.term, id);
    }
    this.throwIfViolated(checker);
  }

  // ── The mini project ─────────────────────────────────────────────────────────────────────

  /**
   * The leader-election mini project: each round a random node fails, a random live node starts
   * an election and the live nodes vote (real Raft votes); then the failed node recovers.
   * Returns a report per round; `log` receives the narrated lines as they happen.
   */
  simulate(options: { rounds: number; log?: (line: string) => void }): Promise<RoundReport[]> {
    return electionRounds(this, this.random, this.options.electionTimeoutMs?.[1] ?? 300, options);
  }

  // ── Internals ────────────────────────────────────────────────────────────────────────────

  private boot(id: NodeId): void {
    const incarnation = (this.incarnations.get(id) ?? 0) + 1;
    this.incarnations.set(id, incarnation);
    const clock = this.clockOf(id);
    let storage = this.storages.get(id);
    if (storage === undefined) {
      storage = new CheckedStorage((s, update) => this.checkPersist(id, s, update), this.disk, (work) => clock.run(work));
      this.storages.set(id, storage);
    }
    const o = this.options;
    const applied: AppliedEntry<C>[] = [];
    const overrides = o.nodeOptions?.(id);
    const machine = overrides?.stateMachine ?? o.stateMachine?.(id);
    this.machines.set(id, machine);
    const log = this.traceLog;
    const traceApply = log.enabled ? (entry: LogEntry) => log.entry('apply', id, entry.index, entry.term) : undefined;
    const node = new RaftNode<C, R>({
      id,
      ...(this.initialIds.includes(id) ? { peers: this.initialIds } : { join: true }),
      transport: pausable(this.network.transport(id), clock),
      storage,
      scheduler: clock,
      random: this.random.fork(`node:${id}:${incarnation}`),
      ...(o.electionTimeoutMs && { electionTimeoutMs: o.electionTimeoutMs }),
      ...(o.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: o.heartbeatIntervalMs }),
      ...overrides,
      stateMachine: recording(machine, applied, traceApply),
    });
    const previous = this.current.get(id);
    this.current.set(id, node);
    this.appliedBy.set(id, applied);
    this.observe(node);
    for (const entry of this.nodeListeners) {
      const fn = previous === undefined ? undefined : entry.attached.get(previous);
      if (previous !== undefined && fn !== undefined) {
        previous.off(entry.event, fn as never);
        entry.attached.delete(previous);
      }
      this.attach(entry, node);
    }
    void node.start();
  }

  /** The node's clock, made on first use. */
  private clockOf(id: NodeId): NodeClock {
    let clock = this.clocks.get(id);
    if (clock === undefined) this.clocks.set(id, (clock = new NodeClock(this.scheduler)));
    return clock;
  }

  private observe(node: RaftNode<C, R>): void {
    const id = node.id;
    const tracing = this.traceLog.enabled;
    let leading = -1; // the term it leads in, or -1
    node.on('role', (role, term) => {
      if (tracing) {
        // A leader steps down in its own term only when its check-quorum timer finds no majority,
        // or when its own removal commits (it is no longer a voter then).
        if (leading === term && role !== 'leader' && node.membership.voters.includes(id)) this.record({ time: this.now, kind: 'timeout', node: id, term, cause: 'check-quorum' });
        else if ((role === 'leader' && leading !== term) || role === 'candidate' || role === 'precandidate') this.traceSilentCampaign(id, role, term);
        leading = role === 'leader' ? term : -1;
        this.record({ time: this.now, kind: 'role', node: id, role, term });
      }
      if (role === 'leader') this.checker?.leaderElected(id, term, node.entries(), node.status().snapshotIndex);
    });
    let committedSeen = 0;
    node.on('commit', (index) => {
      if (tracing) this.traceLog.entry('commit', id, index, this.termAt(node, index));
      if (this.checker) for (const entry of node.entries(committedSeen + 1, index)) this.checker.committedEntry(id, node.term, entry);
      committedSeen = index;
    });
    const checker = this.checker;
    if (checker !== null) node.on('apply', (entry) => checker.appliedEntry(id, entry)); // (traced by its state machine's wrapper)
    if (tracing) this.traceNode(node);
  }

  /** The term of the entry at `index` in the node's log or its stored snapshot (0 if neither holds it). */
  private termAt(node: RaftNode<C, R>, index: number): number {
    const entry = node.entries(index, index)[0];
    if (entry !== undefined) return entry.term;
    const snapshot = this.storages.get(node.id)?.snapshot;
    if (snapshot?.index === index) return snapshot.term;
    const installing = this.installing.get(node.id); // (a snapshot commits before it is saved)
    return installing?.index === index ? installing.lastTerm : 0;
  }

  /** Traces what only the node shows: its terms, snapshots, campaigns asked for and client calls. */
  private traceNode(node: RaftNode<C, R>): void {
    const id = node.id;
    node.on('term', (term) => this.record({ time: this.now, kind: 'term', node: id, term, votedFor: node.status().votedFor }));
    node.on('snapshot', ({ index, term, installed }) => this.record({ time: this.now, kind: 'snapshot', node: id, index, term, installed }));
    const campaign = node.campaign.bind(node);
    node.campaign = () => {
      this.campaignCause.set(id, 'campaign');
      campaign();
    };
    const fail = (op: number, error: unknown): void =>
      this.record({ time: this.now, kind: 'fail', node: id, op, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) });
    let inPropose = false;
    const submit = node.submit;
    node.submit = (command, options) => {
      const op = ++this.ops;
      let position;
      try {
        position = submit.call(node, command, options);
      } catch (error) {
        if (!inPropose) fail(op, error); // (propose's rejection says it)
        throw error;
      }
      this.traceLog.entry('propose', id, position.index, position.term, op);
      return position;
    };
    const propose = node.propose.bind(node);
    node.propose = (command, options) => {
      const before = this.ops;
      inPropose = true;
      let promise;
      try {
        promise = propose(command, options);
      } finally {
        inPropose = false;
      }
      const op = this.ops > before ? this.ops : ++this.ops; // submit's, or (forwarded, refused early) its own
      promise.then(
        ({ index, term }) => this.record({ time: this.now, kind: 'ack', node: id, op, index, term }),
        (error: unknown) => fail(op, error),
      );
      return promise;
    };
  }

  private checkPersist(id: NodeId, storage: CheckedStorage, update: StorageUpdate): void {
    const node = this.current.get(id);
    this.checker?.persisting(id, node?.role === 'leader', storage, update.hardState, update.entries ?? [], update.snapshot);
    if (this.traceLog.enabled) this.traceSave(id, storage, update);
  }

  /** Traces what a save does to the node's log: the entries it discards and those it writes. */
  private traceSave(id: NodeId, storage: CheckedStorage, update: StorageUpdate): void {
    const time = this.now;
    let last = storage.lastIndex;
    const { snapshot, entries } = update;
    if (snapshot !== undefined && storage.entry(snapshot.index)?.term !== snapshot.term && !(storage.snapshot?.index === snapshot.index && storage.snapshot.term === snapshot.term)) {
      // An installed snapshot that does not match the log replaces all of it.
      if (last > snapshot.index) this.record({ time, kind: 'truncate', node: id, from: snapshot.index + 1, to: last });
      last = snapshot.index;
    }
    if (entries === undefined || entries.length === 0) return;
    const from = (entries[0] as LogEntry).index;
    if (from <= last) this.record({ time, kind: 'truncate', node: id, from, to: last });
    this.traceLog.appended(id, entries);
  }

  private traceNetwork(): void {
    const log = this.traceLog;
    /** The vote request each voter last received from each candidate (for a refusal's reason). */
    const asked = new Map<string, Message>();
    /** The sends the network duplicated whose first outcome came: the next one is the copy's. */
    const halfSettled = new Set<number>();
    const other = (event: 'send' | 'deliver' | 'drop', m: Message, from: NodeId, to: NodeId, seq: number, copies: number, reason: string | undefined): void => {
      const time = this.now;
      if (event === 'send') {
        if (m.type === 'RequestVote' || m.type === 'PreVote') this.traceCampaign(m.type, from, m.term);
        if (m.type !== 'RequestVoteResponse' && m.type !== 'PreVoteResponse') return log.sent(seq, m, from, to);
        const request = asked.get(`${to}\u0000${from}`);
        const refusal = m.voteGranted ? undefined : this.refusal(from, to, request);
        this.record({ time, kind: 'vote', node: from, candidate: to, term: request?.term ?? m.term, preVote: m.type === 'PreVoteResponse', granted: m.voteGranted, ...(refusal !== undefined && { reason: refusal }) });
        return log.sent(seq, m, from, to, refusal);
      }
      if (event === 'deliver') {
        if (m.type === 'RequestVote' || m.type === 'PreVote') asked.set(`${from}\u0000${to}`, m);
        else if (m.type === 'TimeoutNow') this.campaignCause.set(to, 'TimeoutNow');
        else if (m.type === 'InstallSnapshot') this.installing.set(to, m);
      }
      // The first outcome of a duplicated send is the message's own; the second, its copy's.
      let duplicate = false;
      if (copies > 1 && !(duplicate = halfSettled.delete(seq))) halfSettled.add(seq);
      log.settled(event, seq, m, from, to, duplicate, reason);
    };
    this.network.observe(log.observer(other));
    // The network's own fault calls, whoever makes them (this cluster's methods included).
    const network = this.network;
    const partition = network.partition.bind(network);
    const heal = network.heal.bind(network);
    const disconnect = network.disconnect.bind(network);
    const reconnect = network.reconnect.bind(network);
    network.partition = (...groups) => {
      partition(...groups);
      this.record({ time: this.now, kind: 'partition', groups: groups.map((g) => [...g]) });
    };
    network.heal = () => {
      heal();
      this.record({ time: this.now, kind: 'heal' });
    };
    network.disconnect = (id) => {
      disconnect(id);
      this.record({ time: this.now, kind: 'disconnect', node: id });
    };
    network.reconnect = (id) => {
      reconnect(id);
      this.record({ time: this.now, kind: 'reconnect', node: id });
    };
    const cut = network.cut.bind(network);
    const restore = network.restore.bind(network);
    const configure = network.configure.bind(network);
    network.cut = (from, to) => {
      cut(from, to);
      this.record({ time: this.now, kind: 'cut', from, to });
    };
    network.restore = (from, to) => {
      restore(from, to);
      this.record({ time: this.now, kind: 'restore', from, to });
    };
    network.configure = (conditions) => {
      configure(conditions);
      this.record({ time: this.now, kind: 'configure', conditions: { ...conditions } });
    };
  }

  /**
   * A node sends a vote request: the first of a new campaign is traced as a timeout (or as the
   * campaign asked for). A RequestVote after a won pre-vote in the same term is the same campaign.
   */
  private traceCampaign(type: 'RequestVote' | 'PreVote', id: NodeId, term: number): void {
    const time = this.now;
    const last = this.lastCampaign.get(id);
    this.lastCampaign.set(id, { type, term, time });
    if (last !== undefined && last.term === term) {
      if (last.time === time) return; // the same round, to another peer
      if (type === 'RequestVote' && last.type === 'PreVote') return; // the pre-vote was won
    }
    const cause = this.campaignCause.get(id) ?? 'timer';
    this.campaignCause.delete(id);
    // A PreVote carries the term it would campaign in, a RequestVote the term it campaigns in.
    this.record({ time, kind: 'timeout', node: id, term: term - 1, cause });
  }

  /**
   * A campaign is traced at its first vote request; one that sends none (a single voter wins at
   * once) is traced when the node's role shows it, just before that role event.
   */
  private traceSilentCampaign(id: NodeId, role: 'leader' | 'candidate' | 'precandidate', term: number): void {
    const last = this.lastCampaign.get(id);
    if (role === 'precandidate' ? last?.term === term + 1 && last.time === this.now : last?.term === term) return;
    this.traceCampaign(role === 'precandidate' ? 'PreVote' : 'RequestVote', id, role === 'precandidate' ? term + 1 : term);
  }

  /** Why `voter` refused `candidate`'s vote request, from the request and the voter's state now. */
  private refusal(voter: NodeId, candidate: NodeId, request: Message | undefined): VoteRefusal | undefined {
    if (request === undefined || (request.type !== 'RequestVote' && request.type !== 'PreVote')) return undefined;
    const node = this.current.get(voter);
    if (node === undefined) return undefined;
    const status = node.status();
    if (request.term < status.term) return 'stale-term';
    if (request.type === 'RequestVote' && request.term === status.term && status.votedFor !== null && status.votedFor !== candidate) return 'already-voted';
    if (request.lastLogTerm < status.lastLogTerm || (request.lastLogTerm === status.lastLogTerm && request.lastLogIndex < status.lastLogIndex)) return 'log-behind';
    return 'leader-known';
  }

  private record(event: TraceEvent): void {
    this.traceLog.push(event);
  }

  private violation(property: InvariantViolation['property'], detail: string, nodes: readonly NodeId[]): InvariantViolation {
    return new InvariantViolation(property, detail, nodes, this.seed, this.traceLog.tail(50));
  }

  private throwIfViolated(checker: SafetyChecker | null = this.checker): void {
    const finding = checker?.violation;
    if (finding) throw this.violation(finding.property, finding.detail, finding.nodes);
  }
}

/** A node's transport whose deliveries wait while the node is paused. */
function pausable(transport: Transport<Message>, clock: NodeClock): Transport<Message> {
  return {
    send: (to, message) => transport.send(to, message),
    listen: (handler) => transport.listen((message) => (clock.paused ? clock.run(() => handler(message)) : handler(message))),
    close: () => transport.close(),
  };
}

/**
 * Wraps a node's state machine (or none) so that every command it applies is recorded, with its
 * result for a `propose` waiting on that index: at the state machine, with no event per entry.
 * A command whose apply throws is recorded too, and so is it in the trace (`traced`).
 */
function recording<C, R>(inner: StateMachine<C, R> | undefined, applied: AppliedEntry<C>[], traced: ((entry: LogEntry) => void) | undefined): StateMachine<C, R> {
  const machine: StateMachine<C, R> = {
    apply(command, position) {
      const entry = position as LogEntry as AppliedEntry<C>; // RaftNode passes the entry itself: shared, never copied
      applied.push(entry);
      if (traced === undefined) return inner === undefined ? (undefined as R) : inner.apply(command, position);
      let result: R;
      try {
        result = inner === undefined ? (undefined as R) : inner.apply(command, position);
      } catch (error) {
        traced(entry as LogEntry);
        throw error;
      }
      traced(entry as LogEntry);
      return result;
    },
  };
  if (typeof inner?.snapshot === 'function' && typeof inner.restore === 'function') {
    machine.snapshot = () => (inner.snapshot as () => string).call(inner);
    machine.restore = (snapshot) => (inner.restore as (s: string) => void).call(inner, snapshot);
  }
  return machine;
}

function clusterIds(options: ClusterOptions<unknown, unknown>): NodeId[] {
  if (options.ids !== undefined) {
    const ids = [...options.ids];
    if (options.size !== undefined && options.size !== ids.length) {
      throw new RangeError(`Cluster: size ${String(options.size)} does not match the ${ids.length} ids given (give size or ids)`);
    }
    if (ids.length === 0) throw new RangeError('Cluster: ids must not be empty');
    if (!ids.every((id) => typeof id === 'string' && id.length > 0)) throw new TypeError('Cluster: ids must be non-empty strings');
    if (new Set(ids).size !== ids.length) throw new RangeError('Cluster: ids must be unique');
    return ids;
  }
  const size = options.size;
  if (size === undefined || !Number.isSafeInteger(size) || size < 1 || size > 1000) {
    throw new RangeError(`Cluster: size must be an integer from 1 to 1000 (or give ids), got ${String(size)}`);
  }
  return Array.from({ length: size }, (_, i) => String(i + 1));
}
