/**
 * Single-decree Paxos, the Synod of Lamport's "Paxos Made Simple": one node plays proposer,
 * acceptor and learner, on an injected transport, scheduler, random source and acceptor storage.
 */
import { EventEmitter } from 'eventemitter3';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { NodeId } from '../raft/types.js';
import type { Transport } from '../transport/transport.js';
import { Acceptor } from './acceptor.js';
import { ballotText, compareBallots, type Ballot } from './ballot.js';
import { checkMembers, checkRange, MessageLoop } from './message-loop.js';
import { validateSynodMessage, type AcceptedValue, type SynodMessage } from './messages.js';
import { MemoryAcceptorStorage, type AcceptorStorage } from './storage.js';

/**
 * How a proposer waits before its next round after one failed (refused, or silent until
 * `retryTimeoutMs`): `'randomized'` waits a random time in [0, min(max, min × 2^(failures − 1))]
 * (exponential back-off with full jitter), so that duelling proposers drift apart; `'none'`
 * retries at once, so that two proposers can pre-empt each other for ever.
 *
 * @example
 * ```ts
 * import type { Backoff } from 'raftkit';
 * const polite: Backoff = 'randomized';
 * ```
 */
export type Backoff = 'randomized' | 'none';

/**
 * Options of a {@link SynodNode}. Only `id`, `peers` and `transport` are required.
 *
 * @example
 * ```ts
 * import { SynodNode, InMemoryNetwork, VirtualScheduler, SeededRandom, type SynodNodeOptions } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: 5 });
 * const options: SynodNodeOptions<string> = {
 *   id: 'a', peers: ['a', 'b', 'c'], transport: network.transport('a'), scheduler, random: new SeededRandom('a'), retryTimeoutMs: 50,
 * };
 * new SynodNode(options);
 * ```
 */
export interface SynodNodeOptions<V = unknown> {
  /** This node's id. */
  readonly id: NodeId;
  /** Every node (each one proposer, acceptor and learner), this one included. */
  readonly peers: readonly NodeId[];
  /** How this node reaches the others; the node owns it and closes it on {@link SynodNode.stop}. */
  readonly transport: Transport<SynodMessage<V>>;
  /** Time and timers (default: the real clock). */
  readonly scheduler?: Scheduler;
  /** Randomness for the back-off (default: Math.random). */
  readonly random?: Random;
  /** Where the acceptor keeps its promise and accepted value (default: in memory). Give the same one to a restarted node. */
  readonly storage?: AcceptorStorage<V>;
  /** How long each phase of a round waits for a majority of answers before the round counts as failed (default 100 ms). */
  readonly retryTimeoutMs?: number;
  /** How to wait between failed rounds (default `'randomized'`). */
  readonly backoff?: Backoff;
  /** `[min, max]` of the randomized back-off, in ms (default [10, 400]). */
  readonly backoffMs?: readonly [number, number];
}

/**
 * The events of a {@link SynodNode}.
 *
 * @example
 * ```ts
 * import type { SynodNodeEvents } from 'raftkit';
 * const onLearn: SynodNodeEvents<string>['learn'] = (value) => console.log('learned', value);
 * ```
 */
export interface SynodNodeEvents<V = unknown> {
  /** The proposer started a round (phase 1) in `ballot`. */
  round: (ballot: Ballot) => void;
  /** The acceptor promised `ballot` (and saved the promise). */
  promise: (ballot: Ballot) => void;
  /** The acceptor accepted `value` in `ballot` (and saved it). */
  accept: (ballot: Ballot, value: V) => void;
  /** The learner learned the chosen value. */
  learn: (value: V) => void;
  /** Something was wrong but the node carried on (an invalid message, dropped). */
  error: (error: Error) => void;
}

/** What the proposer is doing. */
type Phase = 'idle' | 'prepare' | 'accept' | 'backoff';

/**
 * One node of single-decree Paxos (the Synod), playing all three roles of "Paxos Made Simple":
 *
 * - **proposer**: {@link SynodNode.propose} runs rounds, each in a ballot above every one it has
 *   seen: phase 1 (Prepare → Promise from a majority), then phase 2 (Accept, with the value of the
 *   highest ballot any promise reported, or its own if none did). A refused or silent round is
 *   retried after a back-off, until the node learns a value;
 * - **acceptor**: promises a ballot unless it promised a higher one, accepts unless that would
 *   break its promise, and saves both to its {@link AcceptorStorage} before answering;
 * - **learner**: learns a value once a majority of acceptors report accepting it in one ballot.
 *
 * Every message received is validated; an invalid one is dropped and reported as an `error`
 * event. A value is any JSON value.
 *
 * @example
 * ```ts
 * import { SynodNode, InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: 5 });
 * const ids = ['a', 'b', 'c'];
 * const nodes = ids.map((id) => new SynodNode<string>({ id, peers: ids, transport: network.transport(id), scheduler, random: new SeededRandom(id) }));
 * nodes.forEach((node) => node.start());
 * nodes[0]!.propose('blue');
 * nodes[2]!.propose('green');
 * scheduler.runFor(1000);
 * console.log(nodes.map((node) => node.learned?.value)); // the same value three times
 * ```
 */
export class SynodNode<V = unknown> extends EventEmitter<SynodNodeEvents<V>> {
  /** This node's id. */
  readonly id: NodeId;
  readonly #peers: readonly NodeId[];
  readonly #quorum: number;
  readonly #loop: MessageLoop<SynodMessage<V>>;
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  readonly #retryTimeoutMs: number;
  readonly #backoff: Backoff;
  readonly #backoffMs: readonly [number, number];

  /** The acceptor (durable: loaded from storage at start). The Synod's one value is slot 0. */
  readonly #acceptor: Acceptor<V>;

  // Proposer.
  #proposal: { readonly value: V } | null = null;
  #phase: Phase = 'idle';
  #ballot: Ballot | null = null;
  readonly #promises = new Map<NodeId, AcceptedValue<V> | null>();
  #maxRound = 0;
  #failures = 0;
  #rounds = 0;
  #timer: Cancel | null = null;

  // Learner.
  readonly #tallies = new Map<string, Set<NodeId>>();
  #learned: { readonly value: V } | null = null;

  /**
   * Creates a node; it does nothing until {@link SynodNode.start}.
   *
   * @throws TypeError or RangeError for an invalid option (peers must include `id`).
   * @example
   * ```ts
   * import { SynodNode, InMemoryNetwork, VirtualScheduler, SeededRandom } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1) });
   * const node = new SynodNode({ id: 'a', peers: ['a', 'b', 'c'], transport: network.transport('a'), scheduler });
   * ```
   */
  constructor(options: SynodNodeOptions<V>) {
    super();
    this.#peers = checkMembers('SynodNode', options.id, options.peers);
    this.id = options.id;
    this.#quorum = Math.floor(this.#peers.length / 2) + 1;
    this.#scheduler = options.scheduler ?? new RealScheduler();
    this.#random = options.random ?? new MathRandom();
    this.#acceptor = new Acceptor(options.storage ?? new MemoryAcceptorStorage<V>());
    const retry = options.retryTimeoutMs ?? 100;
    if (!(retry > 0) || !Number.isFinite(retry)) throw new RangeError(`SynodNode: retryTimeoutMs must be a finite number > 0, got ${retry}`);
    this.#retryTimeoutMs = retry;
    if (options.backoff !== undefined && options.backoff !== 'randomized' && options.backoff !== 'none') throw new TypeError(`SynodNode: backoff must be 'randomized' or 'none'`);
    this.#backoff = options.backoff ?? 'randomized';
    this.#backoffMs = checkRange('SynodNode', 'backoffMs', options.backoffMs ?? [10, 400]);
    this.#loop = new MessageLoop(this.id, this.#peers, options.transport, validateSynodMessage<V>, (m) => this.#handle(m), (e) => this.emit('error', e));
  }

  /**
   * The value this node learned, once it has: `{ value }`, else null.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster<string>({ size: 3, seed: 1 });
   * cluster.node('1').propose('blue');
   * cluster.run(500);
   * cluster.node('2').learned; // { value: 'blue' }
   * ```
   */
  get learned(): {
    /** The value learned. */
    readonly value: V;
  } | null {
    return this.#learned;
  }

  /**
   * The highest ballot this acceptor promised, or null.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.node('1').promised; // null
   * ```
   */
  get promised(): Ballot | null {
    return this.#acceptor.promised;
  }

  /**
   * How many rounds (ballots) this node's proposer started.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.node('1').propose('x');
   * cluster.run(500);
   * cluster.node('1').rounds; // 1: no competition
   * ```
   */
  get rounds(): number {
    return this.#rounds;
  }

  /**
   * Whether the proposer is still trying (it has a value, and has learned none).
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.node('1').propose('x');
   * cluster.node('1').proposing; // true, until it learns
   * ```
   */
  get proposing(): boolean {
    return this.#proposal !== null && this.#learned === null;
  }

  /**
   * Loads the acceptor's state from storage and starts listening.
   *
   * @example
   * ```ts
   * import { SynodNode, InMemoryNetwork, VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * const network = new InMemoryNetwork({ scheduler });
   * new SynodNode({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler }).start();
   * ```
   */
  start(): void {
    if (this.#loop.open) return;
    this.#acceptor.load();
    this.#maxRound = Math.max(this.#maxRound, this.#acceptor.promised?.round ?? 0);
    this.#loop.start();
  }

  /**
   * Stops: cancels the proposer's timer and closes the transport. The storage keeps what the
   * acceptor promised and accepted, for a restarted node.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * await cluster.node('3').stop(); // as cluster.crash('3') does
   * ```
   */
  stop(): Promise<void> {
    this.#cancelTimer();
    this.#phase = 'idle';
    return this.#loop.stop();
  }

  /**
   * Starts proposing `value` (or, when already proposing, makes `value` the one proposed from the
   * next round on). The node keeps trying until it learns a value, which may be another
   * proposer's. Does nothing once the node has learned.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster<string>({ size: 5, seed: 3 });
   * cluster.node('1').propose('blue');
   * cluster.node('2').propose('green');
   * cluster.runUntil(() => cluster.nodes.every((node) => node.learned !== null));
   * console.log(cluster.nodes.map((node) => node.learned?.value)); // one value, five times
   * ```
   */
  propose(value: V): void {
    if (this.#learned !== null || !this.#loop.open) return;
    this.#proposal = { value };
    if (this.#phase === 'idle') this.#loop.input(() => this.#startRound());
  }

  /**
   * Stops proposing (the acceptor and learner carry on). Any value it got accepted may still be
   * chosen, through other proposers' rounds.
   *
   * @example
   * ```ts
   * import { SynodCluster } from 'raftkit';
   * const cluster = new SynodCluster({ size: 3, seed: 1 });
   * cluster.node('1').propose('x');
   * cluster.node('1').withdraw();
   * cluster.node('1').proposing; // false
   * ```
   */
  withdraw(): void {
    this.#proposal = null;
    this.#cancelTimer();
    this.#phase = 'idle';
  }

  // ── Proposer ─────────────────────────────────────────────────────────────────────────────

  #startRound(): void {
    if (this.#proposal === null || this.#learned !== null || !this.#loop.open) return;
    const ballot: Ballot = { round: this.#maxRound + 1, node: this.id };
    this.#maxRound = ballot.round;
    this.#ballot = ballot;
    this.#phase = 'prepare';
    this.#promises.clear();
    this.#rounds++;
    this.emit('round', ballot);
    // Our own promise is durable before any Prepare leaves: a restarted node never reuses the round.
    this.#promise(ballot);
    this.#setTimer(this.#retryTimeoutMs, () => this.#roundFailed());
    this.#loop.broadcast((to) => ({ type: 'Prepare', from: this.id, to, ballot }));
  }

  /** The round was refused or timed out: back off, then try a higher ballot. */
  #roundFailed(): void {
    if (this.#phase !== 'prepare' && this.#phase !== 'accept') return;
    this.#failures++;
    this.#phase = 'backoff';
    this.#setTimer(this.#backoffDelay(), () => this.#startRound());
  }

  #backoffDelay(): number {
    if (this.#backoff === 'none') return 0;
    const [min, max] = this.#backoffMs;
    return this.#random.int(0, Math.min(max, min * 2 ** Math.min(this.#failures - 1, 30)));
  }

  #onPromise(from: NodeId, ballot: Ballot, accepted: AcceptedValue<V> | null): void {
    if (this.#phase !== 'prepare' || compareBallots(ballot, this.#ballot) !== 0) return;
    this.#promises.set(from, accepted);
    if (this.#promises.size < this.#quorum) return;
    // Phase 2: the value of the highest ballot any of the majority accepted, else our own.
    let highest: AcceptedValue<V> | null = null;
    for (const a of this.#promises.values()) if (a !== null && compareBallots(a.ballot, highest?.ballot ?? null) > 0) highest = a;
    const value = highest === null ? (this.#proposal as { value: V }).value : highest.value;
    this.#phase = 'accept';
    this.#setTimer(this.#retryTimeoutMs, () => this.#roundFailed());
    this.#loop.broadcast((to) => ({ type: 'Accept', from: this.id, to, ballot, value }));
  }

  #onNack(ballot: Ballot, promised: Ballot): void {
    this.#maxRound = Math.max(this.#maxRound, promised.round);
    if (compareBallots(ballot, this.#ballot) === 0) this.#roundFailed();
  }

  // ── Acceptor ─────────────────────────────────────────────────────────────────────────────

  #onPrepare(from: NodeId, ballot: Ballot): void {
    if (!this.#acceptor.allows(ballot)) return this.#nack(from, ballot);
    this.#promise(ballot);
    const last = this.#acceptor.accepted(0);
    this.#loop.send({ type: 'Promise', from: this.id, to: from, ballot, accepted: last === undefined ? null : { ballot: last.ballot, value: last.value } });
  }

  #promise(ballot: Ballot): void {
    if (this.#acceptor.promise(ballot)) this.emit('promise', ballot);
  }

  #nack(to: NodeId, ballot: Ballot): void {
    this.#loop.send({ type: 'Nack', from: this.id, to, ballot, promised: this.#acceptor.promised as Ballot });
  }

  #onAccept(from: NodeId, ballot: Ballot, value: V): void {
    if (!this.#acceptor.allows(ballot)) return this.#nack(from, ballot);
    this.#acceptor.accept(0, ballot, value);
    this.emit('accept', ballot, value);
    this.#loop.broadcast((to) => ({ type: 'Accepted', from: this.id, to, ballot, value }));
  }

  // ── Learner ──────────────────────────────────────────────────────────────────────────────

  #onAccepted(from: NodeId, ballot: Ballot, value: V): void {
    const key = ballotText(ballot);
    let tally = this.#tallies.get(key);
    if (tally === undefined) this.#tallies.set(key, (tally = new Set()));
    tally.add(from);
    // One ballot carries one value, so a majority for the ballot is a majority for its value.
    if (tally.size >= this.#quorum) this.#learn(value);
  }

  #learn(value: V): void {
    if (this.#learned !== null) return;
    this.#learned = { value };
    this.#tallies.clear();
    this.#cancelTimer();
    this.#phase = 'idle';
    this.emit('learn', value);
  }

  // ── Plumbing ─────────────────────────────────────────────────────────────────────────────

  #handle(m: SynodMessage<V>): void {
    if ('ballot' in m) this.#maxRound = Math.max(this.#maxRound, m.ballot.round);
    switch (m.type) {
      case 'Prepare':
      case 'Accept':
        // Once learned, answer a proposer with the chosen value rather than take part.
        if (this.#learned !== null) return this.#loop.send({ type: 'Chosen', from: this.id, to: m.from, value: this.#learned.value });
        return m.type === 'Prepare' ? this.#onPrepare(m.from, m.ballot) : this.#onAccept(m.from, m.ballot, m.value);
      case 'Promise':
        return this.#onPromise(m.from, m.ballot, m.accepted);
      case 'Nack':
        return this.#onNack(m.ballot, m.promised);
      case 'Accepted':
        return this.#onAccepted(m.from, m.ballot, m.value);
      case 'Chosen':
        return this.#learn(m.value);
    }
  }

  #setTimer(delayMs: number, callback: () => void): void {
    this.#cancelTimer();
    this.#timer = this.#scheduler.schedule(delayMs, () => {
      this.#timer = null;
      this.#loop.input(callback);
    });
  }

  #cancelTimer(): void {
    this.#timer?.();
    this.#timer = null;
  }
}
