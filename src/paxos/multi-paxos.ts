/**
 * Multi-Paxos: a replicated log of Paxos instances, one per slot, with a stable leader that runs
 * phase 1 once for every future slot and then one phase 2 per slot.
 */
import { EventEmitter } from 'eventemitter3';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { NodeId } from '../raft/types.js';
import type { Transport } from '../transport/transport.js';
import { Acceptor } from './acceptor.js';
import { compareBallots, type Ballot } from './ballot.js';
import { PaxosNotLeaderError } from './errors.js';
import { checkMembers, checkRange, MessageLoop } from './message-loop.js';
import { validateMultiPaxosMessage, type AcceptedSlot, type LogValue, type MultiPaxosMessage } from './messages.js';
import { MemoryAcceptorStorage, type AcceptorStorage } from './storage.js';

/**
 * What a Multi-Paxos node applies chosen commands to, in slot order (no-ops are skipped). A
 * Raft `StateMachine` such as `KeyValueStore` fits.
 *
 * @example
 * ```ts
 * import type { PaxosStateMachine } from 'raftkit';
 * const counter: PaxosStateMachine<number, number> & { total: number } = {
 *   total: 0,
 *   apply(command) { return (this.total += command); },
 * };
 * ```
 */
export interface PaxosStateMachine<C = unknown, R = unknown> {
  /** Applies one chosen command; what it returns is the command's result. Must be deterministic. */
  apply(command: C, slot: number): R;
}

/**
 * A Multi-Paxos node's role: following a leader, running phase 1 to become one, or leading.
 *
 * @example
 * ```ts
 * import type { MultiPaxosRole } from 'raftkit';
 * const role: MultiPaxosRole = 'leader';
 * ```
 */
export type MultiPaxosRole = 'follower' | 'candidate' | 'leader';

/**
 * Options of a {@link MultiPaxosNode}. Only `id`, `peers` and `transport` are required.
 *
 * @example
 * ```ts
 * import { MultiPaxosNode, InMemoryNetwork, VirtualScheduler, SeededRandom, type MultiPaxosNodeOptions } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1) });
 * const options: MultiPaxosNodeOptions<string> = {
 *   id: '1', peers: ['1', '2', '3'], transport: network.transport('1'), scheduler, random: new SeededRandom('1'), electionTimeoutMs: [150, 300],
 * };
 * new MultiPaxosNode(options);
 * ```
 */
export interface MultiPaxosNodeOptions<C = unknown, R = unknown> {
  /** This node's id. */
  readonly id: NodeId;
  /** Every node (each one proposer, acceptor and learner), this one included. */
  readonly peers: readonly NodeId[];
  /** How this node reaches the others; the node owns it and closes it on {@link MultiPaxosNode.stop}. */
  readonly transport: Transport<MultiPaxosMessage<C>>;
  /** Time and timers (default: the real clock). */
  readonly scheduler?: Scheduler;
  /** Randomness for election timeouts (default: Math.random). */
  readonly random?: Random;
  /** Where the acceptor keeps its promise and accepted values (default: in memory). Give the same one to a restarted node. */
  readonly storage?: AcceptorStorage<LogValue<C>>;
  /** What chosen commands are applied to, in slot order (default: none). */
  readonly stateMachine?: PaxosStateMachine<C, R>;
  /** A follower that hears no leader for a random time in this range runs phase 1 (default [150, 300] ms). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** How often the leader says it is alive, and retransmits unanswered accepts (default 50 ms). */
  readonly heartbeatIntervalMs?: number;
  /** The most chosen values one catch-up message carries (default 256). */
  readonly maxCatchUp?: number;
}

/**
 * The events of a {@link MultiPaxosNode}.
 *
 * @example
 * ```ts
 * import type { MultiPaxosNodeEvents } from 'raftkit';
 * const onApply: MultiPaxosNodeEvents<string, void>['apply'] = (slot, command) => console.log(slot, command);
 * ```
 */
export interface MultiPaxosNodeEvents<C = unknown, R = unknown> {
  /** The node's role (or, as a follower, the leader it follows) changed; `ballot` is its own as candidate or leader, null as follower. */
  role: (role: MultiPaxosRole, ballot: Ballot | null) => void;
  /** The acceptor accepted `value` in `slot` and `ballot` (and saved it). */
  accept: (slot: number, ballot: Ballot, value: LogValue<C>) => void;
  /** The learner learned what was chosen in `slot`. */
  learn: (slot: number, value: LogValue<C>) => void;
  /** A chosen command was applied, in slot order. */
  apply: (slot: number, command: C, result: R) => void;
  /** Something was wrong but the node carried on: an invalid message (dropped), or a command the state machine threw on (it counts as applied). */
  error: (error: Error) => void;
}

/** A slot the leader is getting chosen. */
interface Pending<C> {
  readonly value: LogValue<C>;
  readonly acks: Set<NodeId>;
  sentAt: number;
}

const NOOP: LogValue<never> = { kind: 'noop' };

/**
 * One node of Multi-Paxos, playing proposer, acceptor and learner for every slot of a log.
 *
 * - **Leader election:** a follower that hears no leader for a randomized election timeout runs
 *   phase 1 once, for all slots from the first it has not learned, in a ballot above any it has
 *   seen. A majority of promises makes it leader: for every slot some promise reports, it
 *   proposes the value of the highest ballot reported there, and a no-op in the gaps.
 * - **Steady state:** each submitted command gets the next slot and one phase 2 (accept, then a
 *   majority of accepted). The leader piggybacks how far the log is chosen on its accepts and
 *   heartbeats; a follower learns the slots it accepted in the leader's ballot, and asks for the
 *   others (catch-up).
 * - **A stable leader:** an acceptor refuses another node's prepare while it hears from a live
 *   leader, and a leader that meets a higher promise runs phase 1 again at once.
 *
 * Chosen commands are applied to the state machine in slot order. What the acceptor promised and
 * accepted is saved before it answers; what the learner learned is not (a restarted node learns it
 * again from the leader).
 *
 * @example
 * ```ts
 * import { MultiPaxosNode, InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: [1, 10] });
 * const ids = ['1', '2', '3'];
 * const nodes = ids.map((id) => new MultiPaxosNode<string>({ id, peers: ids, transport: network.transport(id), scheduler, random: new SeededRandom(id) }));
 * nodes.forEach((node) => node.start());
 * scheduler.runUntil(() => nodes.some((node) => node.role === 'leader'));
 * const leader = nodes.find((node) => node.role === 'leader')!;
 * leader.submit('x=1');
 * leader.submit('y=2');
 * scheduler.runFor(200);
 * console.log(nodes.map((node) => node.log().length)); // [ 2, 2, 2 ]
 * ```
 */
export class MultiPaxosNode<C = unknown, R = unknown> extends EventEmitter<MultiPaxosNodeEvents<C, R>> {
  /** This node's id. */
  readonly id: NodeId;
  readonly #peers: readonly NodeId[];
  readonly #quorum: number;
  readonly #loop: MessageLoop<MultiPaxosMessage<C>>;
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  readonly #stateMachine: PaxosStateMachine<C, R> | null;
  readonly #electionMs: readonly [number, number];
  readonly #heartbeatMs: number;
  readonly #maxCatchUp: number;

  /** The acceptor, for every slot (durable: loaded from storage at start). */
  readonly #acceptor: Acceptor<LogValue<C>>;

  // Learner.
  readonly #chosen = new Map<number, LogValue<C>>();
  #applied = 0;
  #catchUpAt = -Infinity;

  // Proposer / leader.
  #role: MultiPaxosRole = 'follower';
  #ballot: Ballot | null = null;
  #leaderId: NodeId | null = null;
  #heardAt = -Infinity;
  #maxRound = 0;
  #fromSlot = 1;
  readonly #promises = new Map<NodeId, readonly AcceptedSlot<LogValue<C>>[]>();
  readonly #nacks = new Set<NodeId>();
  readonly #pending = new Map<number, Pending<C>>();
  #nextSlot = 1;
  #electionTimer: Cancel | null = null;
  #heartbeatTimer: Cancel | null = null;

  /**
   * Creates a node; it does nothing until {@link MultiPaxosNode.start}.
   *
   * @throws TypeError or RangeError for an invalid option (peers must include `id`).
   * @example
   * ```ts
   * import { MultiPaxosNode, InMemoryNetwork, VirtualScheduler, KeyValueStore, type KeyValueCommand } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * const network = new InMemoryNetwork({ scheduler });
   * const node = new MultiPaxosNode<KeyValueCommand>({ id: '1', peers: ['1'], transport: network.transport('1'), scheduler, stateMachine: new KeyValueStore() });
   * ```
   */
  constructor(options: MultiPaxosNodeOptions<C, R>) {
    super();
    this.#peers = checkMembers('MultiPaxosNode', options.id, options.peers);
    this.id = options.id;
    this.#quorum = Math.floor(this.#peers.length / 2) + 1;
    this.#scheduler = options.scheduler ?? new RealScheduler();
    this.#random = options.random ?? new MathRandom();
    this.#acceptor = new Acceptor(options.storage ?? new MemoryAcceptorStorage<LogValue<C>>());
    this.#stateMachine = options.stateMachine ?? null;
    const [min, max] = checkRange('MultiPaxosNode', 'electionTimeoutMs', options.electionTimeoutMs ?? [150, 300]);
    if (min === 0) throw new RangeError('MultiPaxosNode: electionTimeoutMs must be above 0');
    this.#electionMs = [min, max];
    const heartbeat = options.heartbeatIntervalMs ?? 50;
    if (!(heartbeat > 0 && heartbeat < min)) throw new RangeError(`MultiPaxosNode: heartbeatIntervalMs must be > 0 and below the election timeout, got ${heartbeat}`);
    this.#heartbeatMs = heartbeat;
    const maxCatchUp = options.maxCatchUp ?? 256;
    if (!(Number.isSafeInteger(maxCatchUp) && maxCatchUp >= 1)) throw new RangeError(`MultiPaxosNode: maxCatchUp must be a whole number ≥ 1, got ${maxCatchUp}`);
    this.#maxCatchUp = maxCatchUp;
    this.#loop = new MessageLoop(this.id, this.#peers, options.transport, validateMultiPaxosMessage<C>, (m) => this.#handle(m), (e) => this.emit('error', e));
  }

  // ── Inspection ───────────────────────────────────────────────────────────────────────────

  /**
   * This node's role.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
   * cluster.node('1').role; // 'follower', until an election timeout
   * ```
   */
  get role(): MultiPaxosRole {
    return this.#role;
  }

  /**
   * The leader this node knows of (itself when leading), or null.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
   * const leader = cluster.waitForLeader();
   * cluster.run(100);
   * cluster.nodes.every((node) => node.leaderId === leader); // true
   * ```
   */
  get leaderId(): NodeId | null {
    return this.#leaderId;
  }

  /**
   * The node's own ballot while it is a candidate or the leader, else null.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
   * const leader = cluster.waitForLeader();
   * cluster.node(leader).ballot; // { round: 1, node: leader }
   * ```
   */
  get ballot(): Ballot | null {
    return this.#role === 'follower' ? null : this.#ballot;
  }

  /**
   * The highest slot applied: every slot up to it is learned, and its command applied.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster<string>({ size: 3, seed: 1 });
   * cluster.propose('x=1');
   * cluster.node(cluster.waitForLeader()).appliedSlot; // 1
   * ```
   */
  get appliedSlot(): number {
    return this.#applied;
  }

  /**
   * The log as far as it is applied: what was chosen in slots 1..{@link MultiPaxosNode.appliedSlot}.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster<string>({ size: 3, seed: 1 });
   * cluster.propose('x=1');
   * cluster.node(cluster.waitForLeader()).log(); // [ { slot: 1, value: { kind: 'command', command: 'x=1' } } ]
   * ```
   */
  log(): Array<{
    /** The slot. */
    slot: number;
    /** What was chosen there. */
    value: LogValue<C>;
  }> {
    const entries: Array<{ slot: number; value: LogValue<C> }> = [];
    for (let slot = 1; slot <= this.#applied; slot++) entries.push({ slot, value: this.#chosen.get(slot) as LogValue<C> });
    return entries;
  }

  /**
   * What this node learned was chosen in `slot`, if it did (applied or not).
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster<string>({ size: 3, seed: 1 });
   * cluster.node('1').chosen(1); // undefined: nothing chosen yet
   * ```
   */
  chosen(slot: number): LogValue<C> | undefined {
    return this.#chosen.get(slot);
  }

  // ── Lifecycle and clients ────────────────────────────────────────────────────────────────

  /**
   * Loads the acceptor's state from storage, starts listening, and arms the election timer.
   *
   * @example
   * ```ts
   * import { MultiPaxosNode, InMemoryNetwork, VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * const network = new InMemoryNetwork({ scheduler });
   * const node = new MultiPaxosNode({ id: '1', peers: ['1'], transport: network.transport('1'), scheduler });
   * node.start();
   * scheduler.runFor(500);
   * node.role; // 'leader': a majority of one
   * ```
   */
  start(): void {
    if (this.#loop.open) return;
    this.#acceptor.load();
    this.#maxRound = Math.max(this.#maxRound, this.#acceptor.promised?.round ?? 0);
    this.#loop.start();
    this.#armElection();
  }

  /**
   * Stops: cancels the timers and closes the transport. The storage keeps what the acceptor
   * promised and accepted, for a restarted node.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
   * await cluster.node('2').stop(); // as cluster.crash('2') does
   * ```
   */
  stop(): Promise<void> {
    this.#cancelTimers();
    return this.#loop.stop();
  }

  /**
   * Proposes `command` in the next free slot and returns that slot (the leader only). The
   * command is chosen there unless leadership is lost first; then a later leader may fill the
   * slot with a no-op (watch the `apply` or `learn` events, or {@link MultiPaxosNode.chosen}).
   *
   * @throws PaxosNotLeaderError when this node is not the leader (it carries the leader known).
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster<string>({ size: 3, seed: 1 });
   * const leader = cluster.node(cluster.waitForLeader());
   * const slot = leader.submit('x=1');
   * cluster.runUntil(() => leader.appliedSlot >= slot);
   * ```
   */
  submit(command: C): number {
    if (this.#role !== 'leader' || !this.#loop.open) throw new PaxosNotLeaderError(this.id, this.#leaderId === this.id ? null : this.#leaderId);
    const slot = this.#nextSlot++;
    this.#loop.input(() => this.#propose(slot, { kind: 'command', command }));
    return slot;
  }

  /**
   * Runs phase 1 now, rather than waiting for an election timeout.
   *
   * @example
   * ```ts
   * import { MultiPaxosCluster } from 'raftkit';
   * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
   * cluster.node('2').campaign();
   * cluster.run(100);
   * cluster.node('2').role; // 'leader'
   * ```
   */
  campaign(): void {
    if (this.#loop.open) this.#loop.input(() => this.#startElection());
  }

  // ── Roles ────────────────────────────────────────────────────────────────────────────────

  #startElection(): void {
    this.#cancelTimers();
    const ballot: Ballot = { round: this.#maxRound + 1, node: this.id };
    this.#maxRound = ballot.round;
    this.#ballot = ballot;
    this.#fromSlot = this.#applied + 1;
    this.#promises.clear();
    this.#nacks.clear();
    this.#pending.clear();
    this.#setRole('candidate', null);
    // Our own promise is durable before any prepare leaves: a restarted node never reuses the round.
    this.#acceptor.promise(ballot);
    this.#armElection(); // a failed phase 1 is retried in a higher ballot
    this.#loop.broadcast((to) => ({ type: 'LogPrepare', from: this.id, to, ballot, fromSlot: this.#fromSlot }));
  }

  #becomeLeader(): void {
    this.#cancelTimers();
    this.#setRole('leader', this.id);
    // For each slot a promise reports, the value of the highest ballot accepted there.
    const highest = new Map<number, AcceptedSlot<LogValue<C>>>();
    let last = this.#fromSlot - 1;
    for (const accepted of this.#promises.values()) {
      for (const a of accepted) {
        if (compareBallots(a.ballot, highest.get(a.slot)?.ballot ?? null) > 0) highest.set(a.slot, a);
        last = Math.max(last, a.slot);
      }
    }
    for (const slot of this.#chosen.keys()) last = Math.max(last, slot);
    this.#nextSlot = last + 1;
    this.#heartbeat();
    // Phase 2 for every slot not known to be chosen: the value found, or a no-op in a gap.
    for (let slot = this.#fromSlot; slot <= last; slot++) {
      if (!this.#chosen.has(slot)) this.#propose(slot, highest.get(slot)?.value ?? NOOP);
    }
  }

  #becomeFollower(leaderId: NodeId | null): void {
    this.#cancelTimers();
    this.#pending.clear();
    this.#setRole('follower', leaderId);
    this.#armElection();
  }

  #setRole(role: MultiPaxosRole, leaderId: NodeId | null): void {
    const changed = role !== this.#role || leaderId !== this.#leaderId;
    this.#role = role;
    this.#leaderId = leaderId;
    if (changed) this.emit('role', role, role === 'follower' ? null : this.#ballot);
  }

  /** `from` leads in `ballot` (which this node has not refused): follow it, and hold off elections. */
  #heardFromLeader(from: NodeId, ballot: Ballot): void {
    if (from === this.id) return;
    if (this.#role !== 'follower' && compareBallots(ballot, this.#ballot) > 0) this.#becomeFollower(from);
    if (this.#role !== 'follower') return;
    if (this.#leaderId !== from) this.#setRole('follower', from);
    this.#heardAt = this.#scheduler.now();
    this.#armElection();
  }

  /** Whether a leader other than `from` is alive, as far as this node can tell. */
  #otherLeaderAlive(from: NodeId): boolean {
    if (this.#role === 'leader') return true;
    return this.#leaderId !== null && this.#leaderId !== from && this.#scheduler.now() - this.#heardAt < this.#electionMs[0];
  }

  // ── Proposer / leader ────────────────────────────────────────────────────────────────────

  #propose(slot: number, value: LogValue<C>): void {
    const ballot = this.#ballot as Ballot;
    this.#pending.set(slot, { value, acks: new Set(), sentAt: this.#scheduler.now() });
    this.#loop.broadcast((to) => ({ type: 'LogAccept', from: this.id, to, ballot, slot, value, commit: this.#applied }));
  }

  #onPromise(from: NodeId, ballot: Ballot, accepted: readonly AcceptedSlot<LogValue<C>>[]): void {
    if (this.#role !== 'candidate' || compareBallots(ballot, this.#ballot) !== 0) return;
    this.#promises.set(from, accepted);
    if (this.#promises.size >= this.#quorum) this.#becomeLeader();
  }

  #onAccepted(from: NodeId, ballot: Ballot, slot: number): void {
    if (this.#role !== 'leader' || compareBallots(ballot, this.#ballot) !== 0) return;
    const pending = this.#pending.get(slot);
    if (pending === undefined) return;
    pending.acks.add(from);
    if (pending.acks.size < this.#quorum) return;
    this.#pending.delete(slot);
    this.#learn(slot, pending.value);
  }

  #onNack(from: NodeId, ballot: Ballot, promised: Ballot | null): void {
    if (promised !== null) this.#maxRound = Math.max(this.#maxRound, promised.round);
    if (this.#role === 'follower' || compareBallots(ballot, this.#ballot) !== 0) return;
    if (this.#role === 'leader') {
      // Someone promised a higher ballot: take leadership back with phase 1 in a higher one.
      if (compareBallots(promised, ballot) > 0) this.#startElection();
      return;
    }
    this.#nacks.add(from);
    if (this.#nacks.size > this.#peers.length - this.#quorum) this.#becomeFollower(null);
  }

  #onCatchUp(from: NodeId, ballot: Ballot, fromSlot: number): void {
    if (this.#role !== 'leader' || compareBallots(ballot, this.#ballot) !== 0) return;
    const entries: Array<{ slot: number; value: LogValue<C> }> = [];
    for (let slot = fromSlot; slot <= this.#applied && entries.length < this.#maxCatchUp; slot++) entries.push({ slot, value: this.#chosen.get(slot) as LogValue<C> });
    this.#loop.send({ type: 'LogChosen', from: this.id, to: from, ballot, entries, commit: this.#applied });
  }

  #heartbeat(): void {
    const ballot = this.#ballot as Ballot;
    const commit = this.#applied;
    this.#loop.broadcast((to) => ({ type: 'LogHeartbeat', from: this.id, to, ballot, commit }), false);
    // Accepts unanswered for a heartbeat interval go again to those that did not answer.
    const now = this.#scheduler.now();
    for (const [slot, pending] of this.#pending) {
      if (now - pending.sentAt < this.#heartbeatMs) continue;
      pending.sentAt = now;
      for (const to of this.#peers) {
        if (!pending.acks.has(to)) this.#loop.send({ type: 'LogAccept', from: this.id, to, ballot, slot, value: pending.value, commit });
      }
    }
    this.#heartbeatTimer = this.#scheduler.schedule(this.#heartbeatMs, () => this.#loop.input(() => this.#heartbeat()));
  }

  // ── Acceptor ─────────────────────────────────────────────────────────────────────────────

  #onPrepare(from: NodeId, ballot: Ballot, fromSlot: number): void {
    if (from !== this.id && (this.#otherLeaderAlive(from) || !this.#acceptor.allows(ballot))) return this.#nack(from, ballot);
    this.#acceptor.promise(ballot);
    this.#loop.send({ type: 'LogPromise', from: this.id, to: from, ballot, accepted: this.#acceptor.acceptedFrom(fromSlot) });
    if (from === this.id) return;
    if (this.#role !== 'follower') this.#becomeFollower(null);
    else this.#armElection(); // give the candidate time
  }

  #onAccept(from: NodeId, ballot: Ballot, slot: number, value: LogValue<C>, commit: number): void {
    if (!this.#acceptor.allows(ballot)) return this.#nack(from, ballot);
    this.#acceptor.accept(slot, ballot, value);
    this.emit('accept', slot, ballot, value);
    this.#loop.send({ type: 'LogAccepted', from: this.id, to: from, ballot, slot });
    this.#heardFromLeader(from, ballot);
    this.#learnThrough(from, ballot, commit);
  }

  #onHeartbeat(from: NodeId, ballot: Ballot, commit: number): void {
    if (!this.#acceptor.allows(ballot)) return this.#nack(from, ballot);
    this.#heardFromLeader(from, ballot);
    this.#learnThrough(from, ballot, commit);
  }

  #nack(to: NodeId, ballot: Ballot): void {
    this.#loop.send({ type: 'LogNack', from: this.id, to, ballot, promised: this.#acceptor.promised });
  }

  // ── Learner ──────────────────────────────────────────────────────────────────────────────

  /**
   * The leader of `ballot` says every slot up to `commit` is chosen. A slot this node accepted in
   * that ballot holds the leader's value, so it is the chosen one; the others are asked for.
   */
  #learnThrough(leader: NodeId, ballot: Ballot, commit: number): void {
    const end = Math.min(commit, this.#acceptor.lastSlot); // (a hostile commit cannot make this loop long)
    for (let slot = this.#applied + 1; slot <= end; slot++) {
      const a = this.#acceptor.accepted(slot);
      if (a !== undefined && !this.#chosen.has(slot) && compareBallots(a.ballot, ballot) === 0) this.#learn(slot, a.value);
    }
    const now = this.#scheduler.now();
    if (this.#applied < commit && leader !== this.id && now - this.#catchUpAt >= this.#heartbeatMs) {
      this.#catchUpAt = now;
      this.#loop.send({ type: 'LogCatchUp', from: this.id, to: leader, ballot, fromSlot: this.#applied + 1 });
    }
  }

  #onChosen(from: NodeId, ballot: Ballot, entries: ReadonlyArray<{ slot: number; value: LogValue<C> }>, commit: number): void {
    for (const { slot, value } of entries) this.#learn(slot, value);
    this.#catchUpAt = -Infinity; // more may be missing: ask again at once
    this.#onHeartbeat(from, ballot, commit);
  }

  #learn(slot: number, value: LogValue<C>): void {
    if (this.#chosen.has(slot)) return;
    this.#chosen.set(slot, value);
    this.emit('learn', slot, value);
    for (let next = this.#chosen.get(this.#applied + 1); next !== undefined; next = this.#chosen.get(this.#applied + 1)) {
      const at = ++this.#applied;
      if (next.kind === 'command') this.#apply(at, next.command);
    }
  }

  /** Applies a command; one that throws is reported (deterministic, it throws on every node) and counts as applied. */
  #apply(slot: number, command: C): void {
    let result: R;
    try {
      result = this.#stateMachine === null ? (undefined as R) : this.#stateMachine.apply(command, slot);
    } catch (error) {
      return this.#loop.report(error instanceof Error ? error : new Error(String(error)));
    }
    this.emit('apply', slot, command, result);
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────────────────────

  #handle(m: MultiPaxosMessage<C>): void {
    this.#maxRound = Math.max(this.#maxRound, m.ballot.round);
    switch (m.type) {
      case 'LogPrepare':
        return this.#onPrepare(m.from, m.ballot, m.fromSlot);
      case 'LogPromise':
        return this.#onPromise(m.from, m.ballot, m.accepted);
      case 'LogAccept':
        return this.#onAccept(m.from, m.ballot, m.slot, m.value, m.commit);
      case 'LogAccepted':
        return this.#onAccepted(m.from, m.ballot, m.slot);
      case 'LogNack':
        return this.#onNack(m.from, m.ballot, m.promised);
      case 'LogHeartbeat':
        return this.#onHeartbeat(m.from, m.ballot, m.commit);
      case 'LogCatchUp':
        return this.#onCatchUp(m.from, m.ballot, m.fromSlot);
      case 'LogChosen':
        return this.#onChosen(m.from, m.ballot, m.entries, m.commit);
    }
  }

  #armElection(): void {
    this.#electionTimer?.();
    const [min, max] = this.#electionMs;
    this.#electionTimer = this.#scheduler.schedule(this.#random.int(min, max), () => {
      this.#electionTimer = null;
      this.#loop.input(() => this.#startElection());
    });
  }

  #cancelTimers(): void {
    this.#electionTimer?.();
    this.#electionTimer = null;
    this.#heartbeatTimer?.();
    this.#heartbeatTimer = null;
  }
}
