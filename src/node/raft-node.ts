import { EventEmitter } from 'eventemitter3';
import { RaftCore } from '../raft/core.js';
import type { MembershipChange } from '../raft/membership.js';
import { validateTimings } from '../raft/options.js';
import type { Ready } from '../raft/ready.js';
import type { RaftStatus } from '../raft/status.js';
import {
  AbortedError,
  ApplyError,
  InvalidMessageError,
  LeadershipLostError,
  MembershipError,
  NodeStoppedError,
  NotLeaderError,
  RaftError,
  SessionExpiredError,
} from '../raft/errors.js';
import { validateMessage, type Message, type ValidationLimits } from '../raft/messages.js';
import { alreadyAnswered, answerOf, ClientSession, DEFAULT_SESSION_TIMEOUT_MS, packSnapshot, SessionTable, unpackSnapshot, type SessionTag } from '../raft/sessions.js';
import type { StateMachine } from '../raft/state-machine.js';
import { jsonProblem } from '../raft/command.js';
import { validatePersistedState } from '../raft/persisted.js';
import { MemoryStorage, type PersistedState, type Storage, type StorageUpdate } from '../raft/storage.js';
import type { LogEntry, LogPosition, Membership, NodeId, Role, Snapshot } from '../raft/types.js';
import { MathRandom, type Random } from '../runtime/random.js';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { Transport } from '../transport/transport.js';
import { eventKey, hasListeners, listens } from '../runtime/listeners.js';
import { waitUntilCaughtUp } from './catch-up.js';
import { Forwarder, type ForwardingHost } from './forwarding.js';
import { guardOf } from './host.js';
import { Proposals } from './proposals.js';
import { Reads } from './reads.js';

/** Per-message and per-entry events: checked before each, since emitting costs even with no listener. */
const RECEIVE = eventKey('receive');
const SEND = eventKey('send');
const APPLY = eventKey('apply');

/**
 * Options of a {@link RaftNode}. Only `id`, `transport` and `peers` (or `join`) are required.
 *
 * @example
 * ```ts
 * import { RaftNode, InMemoryNetwork, RealScheduler, MathRandom } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom() });
 * const node = new RaftNode({ id: '1', peers: ['1', '2', '3'], transport: network.transport('1') });
 * ```
 */
export interface RaftNodeOptions<C = unknown, R = unknown> {
  /** This node's id, unique in the cluster. */
  readonly id: NodeId;
  /**
   * The peers of a new cluster: the other voters (this node is one; listing it too is harmless,
   * so every node can be given the same list). Once the log or a snapshot holds a membership,
   * that one is in force and this is ignored. Not needed with `join`.
   */
  readonly peers?: readonly NodeId[];
  /**
   * This node joins a running cluster: it starts with no membership, never campaigns, and waits
   * for the leader, which adds it with {@link RaftNode.addLearner} or {@link RaftNode.addVoter}.
   * Default false.
   */
  readonly join?: boolean;
  /**
   * How this node reaches its peers; the node owns it and closes it on {@link RaftNode.stop}.
   * A transport with a string `id` (as the endpoints of an InMemoryNetwork have) must be this node's.
   */
  readonly transport: Transport<Message>;
  /** Durable state; default a fresh {@link MemoryStorage}. */
  readonly storage?: Storage;
  /** Where committed commands are applied; default one that ignores them. */
  readonly stateMachine?: StateMachine<C, R>;
  /** Time and timers; default {@link RealScheduler}. */
  readonly scheduler?: Scheduler;
  /** Randomness for election timeouts; default {@link MathRandom}. */
  readonly random?: Random;
  /** Election timeout range [min, max] in ms. Default [150, 300]. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Leader heartbeat interval in ms. Default 50. */
  readonly heartbeatIntervalMs?: number;
  /** The most entries this node sends in one AppendEntries. Default 1024 (it accepts up to 65,536 or this, whichever is more). */
  readonly maxEntriesPerMessage?: number;
  /**
   * The most bytes of entries in one AppendEntries, as JSON text (one entry is always sent).
   * Default: no limit. Keep it below what the transport carries in one message.
   */
  readonly maxBytesPerMessage?: number;
  /** The most unacknowledged AppendEntries per follower. Default 64. */
  readonly maxInflightMessages?: number;
  /** Poll with a pre-vote before a timeout-driven election (thesis §9.6). Default true. */
  readonly preVote?: boolean;
  /** Leaders step down when cut off from a majority; followers keep a leader lease (thesis §6.2, §4.2.3). Default true. */
  readonly checkQuorum?: boolean;
  /** The clock drift lease reads tolerate, as a fraction of elapsed time. Default 0.1. */
  readonly maxClockDrift?: number;
  /**
   * Take a snapshot of the state machine and compact the log once this many entries were applied
   * since the last snapshot. Needs a state machine with `snapshot` and `restore`. Default 10,000;
   * 0 turns automatic snapshots off ({@link RaftNode.compact} still works).
   */
  readonly snapshotThreshold?: number;
  /** The most characters of snapshot data sent in one InstallSnapshot message. Default 65,536. */
  readonly snapshotChunkSize?: number;
  /**
   * On a follower, `propose` forwards the command to the leader instead of rejecting with
   * {@link NotLeaderError}, and resolves once this node applied it. Default false.
   */
  readonly forwardProposals?: boolean;
  /**
   * Checks each command given to {@link RaftNode.submit} and {@link RaftNode.propose}: returns
   * what is wrong with it (the call then fails with a {@link RaftError} `INVALID_COMMAND` with
   * that message, and nothing is appended), or undefined. Commands travel in messages, so the
   * default refuses any that has no faithful JSON form, naming what and where (`command.a[2]
   * is a bigint`), before it can break replication; it walks objects and arrays, and costs a
   * `typeof` for a primitive. Give your own check when your transport's codec carries more
   * (or less) than JSON, or `false` for none.
   */
  readonly validateCommand?: ((command: unknown) => string | undefined) | false;
}

/**
 * What {@link RaftNode.role} reports: the Raft role while the node runs (`'follower'` before it
 * started), `'stopped'` once it stopped or crashed.
 *
 * @example
 * ```ts
 * import { Cluster, type NodeRole } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = await cluster.waitForLeader();
 * cluster.crash(leader);
 * const role: NodeRole = cluster.node(leader).role;
 * console.log(role); // stopped
 * ```
 */
export type NodeRole = Role | 'stopped';

/**
 * The events a {@link RaftNode} emits, with their arguments.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const node = cluster.node('1');
 * node.on('leader', (leaderId, term) => console.log(`leader ${leaderId} in term ${term}`));
 * node.on('apply', (entry, result) => console.log(entry.index, result));
 * await cluster.propose({ set: 'x', to: 1 }); // prints "leader 2 in term 1"
 * await cluster.run(100);                    // node 1 applies it: prints "2 undefined"
 * ```
 */
export interface RaftNodeEvents<C = unknown, R = unknown> {
  /** The node's role changed. */
  role: (role: Role, term: number) => void;
  /** The known leader changed (null: unknown). */
  leader: (leaderId: NodeId | null, term: number) => void;
  /** The node moved to a new term. */
  term: (term: number) => void;
  /** The commit index advanced. */
  commit: (commitIndex: number) => void;
  /**
   * A command entry was applied to the state machine, which returned `result` (undefined when
   * `apply` threw: that is reported as an `error` event too).
   */
  apply: (entry: LogEntry<C>, result: R) => void;
  /** The membership in force changed (a config entry was appended or removed, or a snapshot installed). */
  membership: (membership: Membership) => void;
  /** A snapshot was taken here (log compaction) or installed from the leader (`installed`). */
  snapshot: (snapshot: { readonly index: number; readonly term: number; readonly installed: boolean }) => void;
  /** A message is handed to the transport (after what it depends on was persisted). */
  send: (message: Message) => void;
  /** A valid message arrived and is about to be processed. */
  receive: (message: Message) => void;
  /** Something went wrong that the node survived: an invalid message, a storage or apply failure. */
  error: (error: Error) => void;
}

/**
 * The answer to {@link RaftNode.propose}: where the command landed and what applying it returned.
 *
 * @example
 * ```ts
 * import { Cluster, type ProposalResult } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1, stateMachine: () => ({ apply: (command) => `did ${command}` }) });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const proposal = leader.propose('incr');
 * await cluster.run(100); // virtual time: replicate, commit, apply
 * const { index, term, result }: ProposalResult = await proposal;
 * console.log(index, term, result); // 2 1 'did incr'
 * ```
 */
export interface ProposalResult<R = unknown> extends LogPosition {
  /** What the state machine's `apply` returned for the command. */
  readonly result: R;
}

const NOOP_STATE_MACHINE: StateMachine = { apply: () => undefined };

/**
 * The membership in force on `node` once it is committed; throws {@link MembershipError}
 * (`CHANGE_IN_PROGRESS`) while the change that set it is not. For a change found already made.
 */
export function committedMembership(node: RaftNode<unknown, unknown>): Membership {
  const { membership, membershipIndex, commitIndex } = node.status();
  if (commitIndex >= membershipIndex) return membership;
  throw new MembershipError('CHANGE_IN_PROGRESS', `node ${node.id}: the membership change at index ${membershipIndex} is not committed yet`);
}

/** What storage must persist of a Ready (only the fields that are set). */
function updateOf(ready: Ready): StorageUpdate {
  if (ready.hardState === null && ready.snapshot === null) return { entries: ready.entries };
  return {
    ...(ready.hardState !== null && { hardState: ready.hardState }),
    ...(ready.snapshot !== null && { snapshot: ready.snapshot }),
    entries: ready.entries,
  };
}

/**
 * One Raft server: drives the pure {@link RaftCore} with a scheduler, a transport, storage and
 * a state machine, and turns its outputs into events and promises.
 *
 * The persistence contract holds for any {@link Storage}: hard state and log entries are saved
 * before any message that depends on them is sent. Proposals made in one turn of the event loop
 * go out in one AppendEntries per follower, and replication is pipelined.
 *
 * @example
 * ```ts
 * import { RaftNode, InMemoryNetwork, RealScheduler, MathRandom } from 'raftkit';
 * const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom() });
 * const ids = ['1', '2', '3'];
 * const nodes = ids.map((id) => new RaftNode({ id, peers: ids, transport: network.transport(id) }));
 * await Promise.all(nodes.map((n) => n.start()));
 * const first = nodes[0]!;
 * const elected = new Promise((resolve) => first.once('leader', resolve));
 * first.campaign();
 * await elected;
 * const { index } = await first.propose({ set: 'x', to: 1 });
 * console.log('applied at', index); // applied at 2
 * await Promise.all(nodes.map((n) => n.stop()));
 * ```
 */
export class RaftNode<C = unknown, R = unknown> extends EventEmitter<RaftNodeEvents<C, R>> {
  /** This node's id. */
  readonly id: NodeId;
  readonly #options: RaftNodeOptions<C, R>;
  readonly #transport: Transport<Message>;
  readonly #storage: Storage;
  readonly #stateMachine: StateMachine<C, R>;
  readonly #scheduler: Scheduler;
  readonly #random: Random;
  /** What a received message may carry: peers may be configured differently, so generous, still bounded. */
  readonly #accepted: ValidationLimits;
  #core: RaftCore | null = null;
  #state: 'new' | 'starting' | 'running' | 'stopped' = 'new';

  #lastElapse = 0;
  #timerDue = Infinity;
  #cancelTimer: Cancel | null = null;
  #flushScheduled = false;
  /** Between the first and the last apply of a Ready (see compact()). */
  #applyingReady = false;
  #compactRequested = false;
  #snapshotFailedAt = 0;
  /** Proposals appended here, waiting to be applied. */
  readonly #proposals: Proposals;
  /** Linearizable reads: waiting for their read index, then for it to be applied. */
  readonly #reads: Reads;
  /** Ids of requests to the leader (reads, forwards): from a random base per incarnation, so no answer meant for an earlier incarnation is ever taken for one of this one's. */
  #requestSeq = 0;
  /** Proposals forwarded to the leader, made exactly once by client sessions. */
  readonly #forwarder: Forwarder;
  /** What the trackers see of this node (shared by all of them). */
  readonly #host: ForwardingHost;
  /** The replicated record of client sessions (thesis §6.3): rebuilt from the log and snapshots on every start. */
  #sessions = new SessionTable();
  /** The save handed to storage and not yet confirmed, if any: nothing else is persisted meanwhile. */
  #inflightSave: Promise<void> | null = null;
  /** What made the node stop, if something failed: the cause of the NodeStoppedErrors that follow. */
  #stopCause: unknown;
  /** The command check (validateCommand), or null for none. */
  readonly #check: ((command: unknown) => string | undefined) | null;
  /** Pending leadership transfers: each rejects with the given error. */
  readonly #transfers = new Set<(error: Error) => void>();

  // What observers were last told, to emit events on change.
  #seenRole: Role = 'follower';
  #seenTerm = 0;
  #seenLeader: NodeId | null = null;
  #seenCommit = 0;
  #seenMembership: Membership | null = null;

  readonly #flushNow = (): void => this.#flush();
  /** The timer fired: let the time pass in the core. */
  readonly #onTimer = (): void => {
    this.#cancelTimer = null;
    this.#timerDue = Infinity;
    if (this.#state !== 'running') return;
    const core = this.#core as RaftCore;
    this.#catchUp(core);
    // The timer is due: if what is left is below the clock's resolution (virtual times are
    // floats), let that pass too, or the timer would fire again and again at the same instant.
    if (core.msUntilTimeout < 1e-6) core.elapse(1e-6);
    this.#afterInput(core);
  };

  constructor(options: RaftNodeOptions<C, R>) {
    super();
    if (typeof options.id !== 'string' || options.id.length === 0) throw new TypeError('RaftNode: id must be a non-empty string');
    if (!Array.isArray(options.peers) && options.join !== true) throw new TypeError('RaftNode: peers must be an array of node ids (or join: true)');
    const threshold = options.snapshotThreshold;
    if (threshold !== undefined && !(Number.isSafeInteger(threshold) && threshold >= 0)) {
      throw new RangeError(`RaftNode: snapshotThreshold must be an integer ≥ 0, got ${threshold}`);
    }
    const transportId = (options.transport as { id?: unknown } | undefined)?.id;
    if (typeof transportId === 'string' && transportId !== options.id) throw new RangeError(`RaftNode: the transport is for node '${transportId}', not '${options.id}'`);
    this.id = options.id;
    this.#options = options;
    this.#check = options.validateCommand === false ? null : (options.validateCommand ?? jsonProblem);
    this.#transport = options.transport;
    this.#storage = options.storage ?? new MemoryStorage();
    this.#stateMachine = options.stateMachine ?? (NOOP_STATE_MACHINE as StateMachine<C, R>);
    this.#scheduler = options.scheduler ?? new RealScheduler();
    this.#random = options.random ?? new MathRandom();
    this.#accepted = {
      maxEntries: Math.max(options.maxEntriesPerMessage ?? 0, 65_536),
      maxSnapshotChunk: Math.max(options.snapshotChunkSize ?? 0, 16 * 2 ** 20),
    };
    validateTimings(options.electionTimeoutMs, options.heartbeatIntervalMs);
    const host: ForwardingHost = (this.#host = {
      id: this.id,
      core: () => this.#requireCore(),
      requestId: () => this.#requestId(),
      sessions: () => this.#sessions,
      flush: (core) => this.#flushSoon(core),
      guard: guardOf(this.#scheduler, options),
      schedule: (delayMs, callback) => this.#scheduler.schedule(delayMs, callback),
      now: () => this.#scheduler.now(),
      retryMs: options.heartbeatIntervalMs ?? 50,
      resendMs: options.electionTimeoutMs?.[1] ?? 300,
    });
    this.#forwarder = new Forwarder(host);
    this.#proposals = new Proposals(host);
    this.#reads = new Reads(host);
  }

  // ── Lifecycle ────────────────────────────────────────────────────────────────────────────

  /**
   * Loads persisted state, starts listening and arms the election timer. With synchronous
   * storage the node is running as soon as this returns (the promise is already settled).
   */
  start(): Promise<void> {
    if (this.#state !== 'new') {
      const hint = this.#state === 'stopped' ? ' and is stopped; it cannot be restarted: create a new RaftNode on the same storage' : '';
      return Promise.reject(new RaftError('ALREADY_STARTED', `node ${this.id} was already started${hint}`));
    }
    this.#state = 'starting';
    // Loading or booting failed: the node is stopped, whichever way the storage answered.
    const fail = (error: unknown): Promise<never> => {
      this.#state = 'stopped';
      return Promise.reject(error);
    };
    try {
      const loaded = this.#storage.load();
      // Any thenable counts as asynchronous (not only this realm's Promise).
      if (typeof (loaded as Partial<PromiseLike<PersistedState>> | undefined)?.then !== 'function') {
        this.#boot(loaded as PersistedState);
        return Promise.resolve();
      }
      return Promise.resolve(loaded).then((state) => {
        if (this.#state !== 'starting') throw this.#stopped(); // stopped while loading
        this.#boot(state);
      }).catch(fail);
    } catch (error) {
      return fail(error);
    }
  }

  /** Called by start() only while 'starting' (a node stopped while loading never gets here). */
  #boot(initialState: PersistedState): void {
    validatePersistedState(initialState); // before anything is restored, armed or written
    const o = this.#options;
    if (initialState.snapshot !== undefined) this.#restoreStateMachine(initialState.snapshot);
    // The node's options include the core's (timings, flow control, modes); the core ignores the rest.
    this.#core = new RaftCore({ ...o, peers: o.peers ?? [], random: this.#random, initialState, now: this.#scheduler.now() });
    this.#seenTerm = this.#core.term;
    this.#seenMembership = this.#core.membership;
    this.#state = 'running';
    this.#lastElapse = this.#scheduler.now();
    this.#transport.listen((message) => this.#receive(message));
    this.#armTimer();
  }

  /**
   * Stops the node: no more timers, messages or applies; closes the transport. Pending proposals
   * reject with {@link NodeStoppedError}. Persisted state stays in storage for a restart.
   */
  async stop(): Promise<void> {
    if (this.#state === 'stopped') return;
    this.#state = 'stopped';
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    const stopped = (): Error => this.#stopped();
    this.#proposals.reject(stopped);
    this.#reads.fail(stopped);
    this.#forwarder.stop(this.#stopCause);
    for (const transfer of this.#transfers) transfer(stopped());
    await this.#transport.close();
    // A save already handed to storage must land before the storage is reused (e.g. a restart).
    await this.#inflightSave?.catch(() => undefined);
  }

  /** True between a completed {@link start} and {@link stop}. */
  get running(): boolean {
    return this.#state === 'running';
  }

  // ── State ────────────────────────────────────────────────────────────────────────────────

  /** Follower, precandidate, candidate or leader; `'stopped'` once stopped (or crashed); `'follower'` before it started. */
  get role(): NodeRole {
    return this.#state === 'stopped' ? 'stopped' : (this.#core?.role ?? 'follower');
  }
  /** The current term. */
  get term(): number {
    return this.#core?.term ?? 0;
  }
  /** The known leader of the current term, or null. */
  get leaderId(): NodeId | null {
    return this.#core?.leaderId ?? null;
  }
  /** The highest log index known committed. */
  get commitIndex(): number {
    return this.#core?.commitIndex ?? 0;
  }
  /** The highest log index applied to the state machine. */
  get lastApplied(): number {
    return this.#core?.lastApplied ?? 0;
  }

  /** The membership in force on this node (the latest in its log, committed or not; on a stopped node, the last). */
  get membership(): Membership {
    return this.#lastCore().membership;
  }

  /**
   * Log entries `from`..`to` inclusive (default: the whole log; on a stopped node, as it was).
   * The entries are shared: do not mutate. Throws {@link NodeStoppedError} before the node started.
   */
  entries(from?: number, to?: number): LogEntry[] {
    return this.#lastCore().entries(from, to);
  }

  /**
   * A plain snapshot of the node's Raft state, for display. On a stopped node, the state it
   * stopped in (its `role` is then the last Raft role: check {@link running} or {@link role},
   * which says `'stopped'`). Throws {@link NodeStoppedError} before the node started.
   */
  status(): RaftStatus {
    return this.#lastCore().status();
  }

  // ── Operations ───────────────────────────────────────────────────────────────────────────

  /**
   * Starts an election now, skipping the pre-vote, as a forced election: voters grant it even
   * while they still hear from a leader (so it can depose a healthy leader, and it voids the
   * assumptions of lease reads). For teaching, tests and operator action.
   */
  campaign(): void {
    const core = this.#requireCore();
    this.#catchUp(core);
    core.campaign();
    this.#afterInput(core);
  }

  /**
   * Appends `command` to the leader's log and returns where it landed, at once (made in a client
   * session when `options.session` is given; see {@link propose}). Throws
   * {@link NotLeaderError} (with the known `leaderId`) on a follower or candidate.
   */
  submit(command: C, options?: { session?: SessionTag }): LogPosition {
    const core = this.#requireCore();
    this.#validate(command);
    const position = core.propose(command, options?.session);
    this.#scheduleFlush();
    return position;
  }

  /**
   * Submits `command` and resolves once this node (the leader) applied it. Rejects with
   * {@link NotLeaderError} on a non-leader, {@link LeadershipLostError} if leadership is lost
   * before the entry is applied (its fate is then unknown), {@link AbortedError} when `signal`
   * aborts, and {@link NodeStoppedError} when the node stops.
   *
   * With `session` (a tag from {@link ClientSession.next}, see {@link openSession}) the command is
   * applied at most once however often it is proposed, on whichever leader: a retry after an
   * unknown outcome resolves with the first copy's position and result. A command in a session
   * the cluster no longer knows rejects with {@link SessionExpiredError}.
   *
   * On a follower with `forwardProposals`, the command goes to the leader in a session (the
   * node's own unless `session` is given), so that it is applied once: the node resends it when
   * the leader changes, and resolves once it applied the command itself. It rejects with
   * {@link NotLeaderError} only when the command was certainly not applied (no leader is known,
   * or every copy was refused), and with {@link TimeoutError} after `timeoutMs` (default twice
   * the maximum election timeout; the outcome is then unknown).
   *
   * On the leader, `timeoutMs` (no default) bounds the wait likewise: the call rejects with
   * {@link TimeoutError} once it passed, and the entry may still commit later.
   *
   * A command that `validateCommand` refuses (by default, one with no JSON form) rejects with a
   * {@link RaftError} `INVALID_COMMAND`, as {@link submit} throws.
   */
  propose(command: C, options?: { signal?: AbortSignal; timeoutMs?: number; session?: SessionTag }): Promise<ProposalResult<R>> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    let position: { index: number; term: number };
    try {
      if (this.#options.forwardProposals === true && this.#core !== null && this.#core.role !== 'leader') {
        this.#validate(command);
        return this.#forwarder.propose(command, options?.session, signal, options?.timeoutMs) as Promise<ProposalResult<R>>;
      }
      position = this.submit(command, options);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#proposals.wait(position, signal, options?.timeoutMs) as Promise<ProposalResult<R>>;
  }

  /** Throws INVALID_COMMAND when the command check refuses `command`. */
  #validate(command: C): void {
    const problem = this.#check?.(command);
    if (problem) throw new RaftError('INVALID_COMMAND', problem);
  }

  /**
   * Opens a client session (thesis §6.3) and resolves with it once this node applied the entry
   * that opened it: tag commands with {@link ClientSession.next} to make retries safe. The
   * session expires after `timeoutMs` (default one hour) of log time without a command. On the
   * leader; on a follower with `forwardProposals`, through the leader. Rejects like
   * {@link propose}.
   */
  openSession(options?: { timeoutMs?: number; signal?: AbortSignal; waitMs?: number }): Promise<ClientSession> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    const timeoutMs = options?.timeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    if (!(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) return Promise.reject(new RangeError(`openSession: timeoutMs must be a positive integer, got ${timeoutMs}`));
    try {
      const core = this.#requireCore();
      if (this.#options.forwardProposals === true && core.role !== 'leader') {
        return this.#forwarder.openSession(timeoutMs, signal, options?.waitMs).then((id) => new ClientSession(id));
      }
      const position = core.openSession(timeoutMs);
      this.#scheduleFlush();
      return this.#proposals.wait(position, signal).then(() => new ClientSession(position.index));
    } catch (error) {
      return Promise.reject(error);
    }
  }

  /**
   * Hands leadership to `to` (default: the most up-to-date follower): proposals are refused with
   * {@link TransferError} meanwhile, the target is brought up to date and then campaigns at once.
   * Resolves with the new leader's id once this node follows it; rejects with
   * {@link NotLeaderError} on a non-leader, {@link TransferError} for a bad target, and
   * {@link TimeoutError} when the target has not taken over within `timeoutMs` (default: twice
   * the maximum election timeout; the leader then serves again).
   */
  transferLeadership(to?: NodeId, options?: { timeoutMs?: number }): Promise<NodeId> {
    let target: NodeId;
    try {
      const core = this.#requireCore();
      this.#catchUp(core);
      target = core.transferLeadership(to);
      this.#afterInput(core);
    } catch (error) {
      return Promise.reject(error);
    }
    return new Promise<NodeId>((resolve, reject) => {
      const finish = (error: Error | undefined): void => {
        cancel();
        this.off('leader', onLeader);
        this.#transfers.delete(finish);
        if (error) reject(error);
        else resolve(target);
      };
      const cancel = this.#host.guard(`transferring leadership to ${target}`, options?.timeoutMs, undefined, finish);
      const onLeader = (leaderId: NodeId | null): void => {
        if (leaderId === target) finish(undefined);
      };
      this.on('leader', onLeader);
      this.#transfers.add(finish);
    });
  }

  // ── Snapshots and membership ─────────────────────────────────────────────────────────────

  /**
   * Takes a snapshot of the state machine now and drops the log through the last applied entry
   * (automatic every `snapshotThreshold` applied entries). Returns the snapshot's position, or
   * null when nothing was applied since the last snapshot, or when called while a batch of
   * entries is being applied (from an `apply` listener: the snapshot is then taken right after
   * the batch). Throws a {@link RaftError} (`SNAPSHOT_UNSUPPORTED`) when the state machine has
   * no `snapshot`/`restore`, and whatever `snapshot()` throws. A failing automatic snapshot is
   * reported as an `error` event (`SNAPSHOT_FAILED`) and the log is kept.
   */
  compact(): LogPosition | null {
    const core = this.#requireCore();
    if (!this.#canSnapshot) throw new RaftError('SNAPSHOT_UNSUPPORTED', `node ${this.id}: the state machine has no snapshot() and restore()`);
    if (this.#applyingReady) {
      // Called from an apply listener: the state machine is ahead of what the core knows applied,
      // so a snapshot now would be labelled with too low an index. Take it once the batch is done.
      this.#compactRequested = true;
      return null;
    }
    const index = core.lastApplied;
    if (index <= core.snapshotIndex) return null;
    core.compact(index, packSnapshot(this.#sessions, (this.#stateMachine.snapshot as () => string).call(this.#stateMachine)));
    const taken = core.snapshot as Snapshot;
    this.#notifyListeners('snapshot', { index: taken.index, term: taken.term, installed: false });
    this.#scheduleFlush(); // storage gets the snapshot and drops the entries it covers
    return { index: taken.index, term: taken.term };
  }

  /**
   * Leader only: adds `id` as a learner, which receives the log (or a snapshot) but does not vote.
   * Start that node with `join: true`. Resolves with the new membership once the change is
   * applied here. Rejects with {@link MembershipError} (`CHANGE_IN_PROGRESS`: another change is
   * not committed yet, retry; `INVALID_CHANGE`), {@link NotLeaderError} or
   * {@link LeadershipLostError} (the change may or may not take effect).
   */
  addLearner(id: NodeId, options?: { signal?: AbortSignal }): Promise<Membership> {
    return this.#changeMembership({ type: 'addLearner', id }, options?.signal);
  }

  /** Leader only: makes learner `id` a voter; resolves like {@link addLearner}. Prefer {@link addVoter}, which waits until it caught up. */
  promote(id: NodeId, options?: { signal?: AbortSignal }): Promise<Membership> {
    return this.#changeMembership({ type: 'promote', id }, options?.signal);
  }

  /**
   * Leader only: removes voter or learner `id`. A leader removing itself keeps leading until the
   * change commits, then hands over to the most up-to-date voter and steps down; its promise
   * still resolves, once the change is applied. Resolves like {@link addLearner}.
   */
  removeServer(id: NodeId, options?: { signal?: AbortSignal }): Promise<Membership> {
    return this.#changeMembership({ type: 'remove', id }, options?.signal);
  }

  /**
   * Leader only: adds `id` as a voter the safe way (thesis §4.2.1): as a learner first, then,
   * once it has caught up (a round of replication that ends within a minimum election timeout),
   * promotes it, so the cluster never waits on a voter that is far behind. Resolves with the new
   * membership; rejects like {@link addLearner}, or with {@link TimeoutError} when it has not
   * caught up within `timeoutMs` (default 10 × the maximum election timeout; it stays a learner).
   */
  async addVoter(id: NodeId, options?: { signal?: AbortSignal; timeoutMs?: number }): Promise<Membership> {
    if (this.#requireCore().role !== 'leader') throw new NotLeaderError(this.id, this.leaderId);
    const { voters, learners } = this.membership;
    // Already a voter (an earlier attempt's promotion survived): done once that is committed.
    if (voters.includes(id)) return committedMembership(this);
    if (!learners.includes(id)) await this.addLearner(id, options);
    const o = this.#options;
    await waitUntilCaughtUp(this.#host, id, options?.timeoutMs ?? 10 * (o.electionTimeoutMs?.[1] ?? 300), options?.signal, o.heartbeatIntervalMs ?? 50, o.electionTimeoutMs?.[0] ?? 150);
    return this.promote(id, options);
  }

  #changeMembership(change: MembershipChange, signal: AbortSignal | undefined): Promise<Membership> {
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    let core: RaftCore;
    let position: LogPosition;
    try {
      core = this.#requireCore();
      position = core.changeMembership(change);
    } catch (error) {
      return Promise.reject(error);
    }
    const done = this.#proposals.wait(position, signal);
    // Only now tell listeners (a 'membership' listener may propose): pending stays in log order.
    this.#afterInput(core);
    return done.then(({ result }) => result as Membership);
  }

  /** The next request id of this incarnation. */
  #requestId(): number {
    if (this.#requestSeq === 0) this.#requestSeq = this.#random.int(1, 2 ** 31 - 1) * 2 ** 21;
    return ++this.#requestSeq;
  }

  /**
   * A linearizable read (ReadIndex, thesis §6.4), without writing to the log: resolves with an
   * index once this node's state machine has applied it, so reading the state machine right
   * then sees every write acknowledged before the call (and maybe later ones). On the leader it
   * costs one heartbeat round; a follower asks the leader for the index, then waits for its own
   * state machine. Rejects with {@link NotLeaderError} when no leader is known or leadership
   * changed meanwhile (retry), {@link TimeoutError} after `timeoutMs` (default twice the maximum
   * election timeout), {@link AbortedError} on `signal`, {@link NodeStoppedError} on stop.
   *
   * With `lease: true`, a leader that heard from a majority within the lease (a minimum
   * election timeout × (1 − `maxClockDrift`), with check-quorum on) answers at once, without the
   * heartbeat round: safe as long as clocks drift less than `maxClockDrift`, every node runs
   * with the same minimum election timeout and check-quorum on, and no election is forced with
   * `campaign()` meanwhile; otherwise the read falls back to ReadIndex.
   */
  read(options?: { signal?: AbortSignal; timeoutMs?: number; lease?: boolean }): Promise<number> {
    const signal = options?.signal;
    if (signal?.aborted) return Promise.reject(new AbortedError(signal.reason));
    const id = this.#requestId();
    try {
      const core = this.#requireCore();
      this.#catchUp(core); // a lease is measured in time
      core.read(id, options); // (it reads only `lease`; no options: not a lease read)
      this.#afterInput(core);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.#reads.wait(id, signal, options?.timeoutMs);
  }

  // ── The driver loop ──────────────────────────────────────────────────────────────────────

  #receive(raw: unknown): void {
    if (this.#state !== 'running') return;
    const core = this.#core as RaftCore;
    const message = validateMessage(raw, this.#accepted);
    if (typeof message === 'string') return this.#report(new InvalidMessageError(this.id, message));
    if (message.to !== this.id) return this.#report(new InvalidMessageError(this.id, `addressed to ${message.to}`));
    if (message.from === this.id) return this.#report(new InvalidMessageError(this.id, 'sent by this node itself'));
    if (listens(this, RECEIVE)) this.#notifyListeners('receive', message);
    this.#catchUp(core);
    core.step(message);
    this.#afterInput(core);
  }

  /** Tells the core how much time passed since it last heard. */
  #catchUp(core: RaftCore): void {
    const now = this.#scheduler.now();
    const elapsed = now - this.#lastElapse;
    this.#lastElapse = now;
    if (elapsed > 0) core.elapse(elapsed);
  }

  #afterInput(core: RaftCore): void {
    this.#notify(core);
    this.#flushSoon(core);
  }

  /** After the core was given work: its timer may be due sooner, and what it has to do is flushed. */
  #flushSoon(core: RaftCore): void {
    this.#armTimer();
    if (core.hasReady()) this.#scheduleFlush();
  }

  /**
   * Keeps one timer, due when the core next acts on its own; moves it only when due sooner.
   * Measured from the core's last catch-up, whose clock reading it reuses.
   */
  #armTimer(): void {
    const now = this.#lastElapse;
    const due = now + (this.#core as RaftCore).msUntilTimeout;
    if (due >= this.#timerDue) return; // the current timer fires first and re-arms
    this.#cancelTimer?.();
    this.#timerDue = due;
    this.#cancelTimer = this.#scheduler.schedule(due - now, this.#onTimer);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled || this.#inflightSave !== null) return;
    this.#flushScheduled = true;
    this.#scheduler.defer(this.#flushNow);
  }

  /** Persist, then send, then apply: one Ready at a time, in order. */
  #flush(): void {
    this.#flushScheduled = false;
    const core = this.#core as RaftCore;
    while (this.#state === 'running' && this.#inflightSave === null && core.hasReady()) {
      const ready = core.ready();
      let saving: void | Promise<void> = undefined;
      if (ready.hardState !== null || ready.entries.length > 0 || ready.snapshot !== null) {
        try {
          saving = this.#storage.save(updateOf(ready));
        } catch (error) {
          return this.#storageFailed(error);
        }
      }
      if (saving === undefined) {
        this.#completeReady(core, ready, false, 0);
        continue;
      }
      // Thesis §10.2.1: a leader writes to its disk while its appends travel. None of its messages
      // depends on that write (its term and vote are already durable, or hardState would be set),
      // and it counts its own entries toward a commit only once advance() confirms them durable.
      const early = ready.hardState === null && core.role === 'leader';
      if (early) this.#send(ready.messages);
      // Committed entries already durable here need not wait for this save: they are applied at
      // once, below. (A leader's always are: it counts itself toward a commit only once durable.)
      const applied = ready.snapshot === null ? durablePrefix(ready.committed, core.persistedIndex) : 0;
      this.#inflightSave = saving;
      saving.then(
        () => {
          this.#inflightSave = null;
          if (this.#state !== 'running') return;
          this.#completeReady(core, ready, early, applied);
          this.#flush();
        },
        (error: unknown) => this.#storageFailed(error),
      );
      if (applied > 0) {
        this.#applyCommitted(ready.committed, 0, applied);
        core.appliedThrough((ready.committed[applied - 1] as LogEntry).index);
        if (this.#state !== 'running') return; // a listener stopped the node
        this.#reads.applied(core.lastApplied);
        this.#notify(core);
      }
    }
  }

  /** Sends `messages` (each with a `send` event when someone listens). */
  #send(messages: readonly Message[]): void {
    // Per-message and per-entry events cost a call each: skip them when nobody listens.
    const notifySend = listens(this, SEND);
    for (const message of messages) {
      if (notifySend) this.#notifyListeners('send', message);
      try {
        this.#transport.send(message.to, message);
      } catch (error) {
        // A transport must not throw; if one does, treat it as a lost message, not a broken node.
        this.#report(new RaftError('TRANSPORT_FAILED', `node ${this.id}: sending ${message.type} to ${message.to} threw`, { cause: error }));
      }
    }
  }

  /** What follows a Ready's save: send its messages (unless `sent` already), restore, apply (past the first `applied`), advance. */
  #completeReady(core: RaftCore, ready: Ready, sent: boolean, applied: number): void {
    if (!sent) this.#send(ready.messages);
    const snapshot = ready.snapshot;
    if (snapshot !== null && snapshot.index > core.lastApplied) {
      // The leader sent a snapshot: it replaces the state machine (and answers nothing pending here).
      try {
        this.#restoreStateMachine(snapshot);
      } catch (error) {
        // Its state would no longer match the log: stop rather than apply on top of it.
        this.#stopCause = error;
        this.#report(new RaftError('RESTORE_FAILED', `node ${this.id}: restoring the leader's snapshot failed; the node stops`, { cause: error }));
        return void this.stop();
      }
      // Entries through it were never applied here one by one: answers that waited on them are unknown.
      this.#forwarder.restored(snapshot.index);
      this.#proposals.restored(snapshot.index);
      this.#notifyListeners('snapshot', { index: snapshot.index, term: snapshot.term, installed: true });
    }
    this.#applyCommitted(ready.committed, applied, ready.committed.length);
    core.advance(ready);
    if (this.#state !== 'running') return; // a listener stopped the node
    this.#maybeCompact(core);
    this.#reads.settled(ready.reads, core.leaderId);
    for (const forward of ready.forwarded) this.#forwarder.answered(forward);
    this.#reads.applied(core.lastApplied);
    this.#notify(core);
    // advance() may have set the core a new deadline (a commit to pass on). Measured from the last
    // catch-up, without reading the clock again: at worst it fires a save's duration late.
    this.#armTimer();
  }

  /** Applies `entries[from..to)`, in order. */
  #applyCommitted(entries: readonly LogEntry[], from: number, to: number): void {
    if (from >= to) return;
    const notifyApply = listens(this, APPLY);
    this.#applyingReady = true;
    try {
      for (let i = from; i < to; i++) this.#apply(entries[i] as LogEntry, notifyApply);
    } finally {
      this.#applyingReady = false;
    }
  }

  /** Whether the state machine can take and restore snapshots (so the log can be compacted). */
  get #canSnapshot(): boolean {
    return typeof this.#stateMachine.snapshot === 'function' && typeof this.#stateMachine.restore === 'function';
  }

  /** The automatic snapshot: every `snapshotThreshold` applied entries, or as asked from an apply listener. */
  #maybeCompact(core: RaftCore): void {
    const threshold = this.#options.snapshotThreshold ?? 10_000;
    const due = this.#compactRequested || (threshold > 0 && core.lastApplied >= Math.max(core.snapshotIndex, this.#snapshotFailedAt) + threshold);
    if (!due || !this.#canSnapshot) return;
    this.#compactRequested = false;
    try {
      this.compact();
    } catch (error) {
      this.#snapshotFailedAt = core.lastApplied; // try again a threshold later, not on every Ready
      this.#report(new RaftError('SNAPSHOT_FAILED', `node ${this.id}: taking a snapshot failed; the log is kept`, { cause: error }));
    }
  }

  #restoreStateMachine(snapshot: Snapshot): void {
    if (typeof this.#stateMachine.restore !== 'function') {
      throw new RaftError('SNAPSHOT_UNSUPPORTED', `node ${this.id}: a snapshot must be restored, but the state machine has no restore()`);
    }
    // The snapshot holds the client sessions, then the state machine's own data.
    const { sessions, data } = unpackSnapshot(snapshot.data);
    this.#stateMachine.restore(data);
    this.#sessions = sessions;
  }

  #apply(entry: LogEntry, notify: boolean): void {
    let result: unknown;
    let failure: Error | undefined;
    /** Where the command took effect: here, or (for a repeat in a session) at its first copy. */
    let at: LogPosition = entry;
    if (entry.kind === 'command') {
      const tag = entry.session;
      // Thesis §6.3: in a session, only a command's first copy in the log takes effect; later ones get its answer.
      const verdict = tag === undefined ? undefined : this.#sessions.check(entry);
      if (verdict === undefined || verdict.kind === 'apply') {
        try {
          result = this.#stateMachine.apply(entry.command as C, entry);
        } catch (error) {
          failure = new ApplyError(this.id, entry.index, error);
        }
        if (notify) this.#notifyListeners('apply', entry, result);
        if (failure) this.#report(failure);
        if (verdict !== undefined) this.#sessions.record(entry, result, failure);
      } else if (verdict.kind === 'duplicate') {
        let value;
        [failure, value] = answerOf(this.id, verdict.response);
        result = value.result;
        at = value;
      } else failure = verdict.kind === 'expired' ? new SessionExpiredError(this.id, (tag as SessionTag).id) : alreadyAnswered(this.id, tag as SessionTag);
      if (tag !== undefined && this.#forwarder.busy) this.#forwarder.commandApplied(tag, at, result, failure);
    } else if (entry.kind === 'session') {
      this.#sessions.open(entry);
      result = entry.index; // the session's id
      if (this.#forwarder.busy) this.#forwarder.sessionOpened(entry);
    } else if (entry.kind === 'config') result = entry.membership;
    // Proposals are answered in log order; anything below this index was overwritten.
    this.#proposals.applied(entry, at, result, failure);
  }

  /** Emits events for whatever changed since observers were last told. */
  #notify(core: RaftCore): void {
    if (core.term !== this.#seenTerm) {
      this.#seenTerm = core.term;
      this.#notifyListeners('term', core.term);
    }
    if (core.role !== this.#seenRole) {
      // Entries it committed before stepping down are still applied here, and answered then.
      if (this.#seenRole === 'leader') this.#proposals.reject((index) => new LeadershipLostError(this.id, index), core.commitIndex);
      this.#seenRole = core.role;
      this.#notifyListeners('role', core.role, core.term);
    }
    if (core.leaderId !== this.#seenLeader) {
      this.#seenLeader = core.leaderId;
      if (core.leaderId !== null && this.#forwarder.busy) this.#forwarder.leaderChanged();
      this.#notifyListeners('leader', core.leaderId, core.term);
    }
    if (core.commitIndex !== this.#seenCommit) {
      this.#seenCommit = core.commitIndex;
      this.#notifyListeners('commit', core.commitIndex);
    }
    if (core.membership !== this.#seenMembership) {
      this.#seenMembership = core.membership;
      this.#notifyListeners('membership', core.membership);
    }
  }

  #storageFailed(error: unknown): void {
    // Without durable state the node cannot keep Raft's promises: stop rather than risk them.
    this.#stopCause = error;
    this.#report(new RaftError('STORAGE_FAILED', `node ${this.id}: storage failed; the node stops`, { cause: error }));
    void this.stop();
  }

  #report(error: Error): void {
    try {
      this.emit('error', error);
    } catch {
      // An 'error' listener that throws has nowhere left to report to.
    }
  }

  /**
   * Emits an event. A listener that throws is reported as an `error` event and cannot derail
   * the node: the rest of a Ready is still sent, applied and acknowledged.
   */
  #notifyListeners<E extends keyof RaftNodeEvents>(event: E, ...args: Parameters<RaftNodeEvents[E]>): void {
    if (!hasListeners(this)) return;
    try {
      (this.emit as unknown as (event: E, ...args: Parameters<RaftNodeEvents[E]>) => boolean)(event, ...args);
    } catch (error) {
      this.#report(new RaftError('LISTENER_FAILED', `node ${this.id}: a '${event}' listener threw`, { cause: error }));
    }
  }

  /** The queue of proposals waiting here (answered ones are dropped in chunks), for inspection. */
  private get pending(): readonly unknown[] {
    return this.#proposals.queue;
  }

  #requireCore(): RaftCore {
    if (this.#state !== 'running') throw this.#stopped();
    return this.#core as RaftCore; // set before the node runs
  }

  /** The core, running or as it stopped; throws NodeStoppedError before the node started. */
  #lastCore(): RaftCore {
    return this.#core ?? this.#requireCore();
  }

  #stopped(): NodeStoppedError {
    return new NodeStoppedError(this.id, this.#stopCause);
  }
}

/** How many of `committed` (ascending) lie at or below `durable`. */
function durablePrefix(committed: readonly LogEntry[], durable: number): number {
  let n = committed.length;
  while (n > 0 && (committed[n - 1] as LogEntry).index > durable) n--;
  return n;
}
