import type { Random } from '../runtime/random.js';
import { MembershipError, NotLeaderError, TransferError } from './errors.js';
import { RaftLog } from './log.js';
import type {
  AppendEntries,
  AppendEntriesResponse,
  InstallSnapshot,
  InstallSnapshotResponse,
  Message,
  PreVote,
  PreVoteResponse,
  Propose,
  ProposeOutcome,
  ProposeResponse,
  ReadIndex,
  ReadIndexResponse,
  RequestVote,
  RequestVoteResponse,
  TimeoutNow,
} from './messages.js';
import { assertSessionTag } from './messages.js';
import type { SessionTag } from './sessions.js';
import type { PersistedState } from './storage.js';
import type { HardState, LogEntry, LogPosition, Membership, NodeId, Role, Snapshot } from './types.js';

/**
 * Options of the pure core. Times are milliseconds of whatever clock drives {@link RaftCore.elapse}.
 *
 * @example
 * ```ts
 * import { RaftCore, SeededRandom } from 'raftkit';
 * const core = new RaftCore({ id: '1', peers: ['2', '3'], random: new SeededRandom(1) });
 * ```
 */
export interface RaftCoreOptions {
  /** This node's id. */
  readonly id: NodeId;
  /**
   * The voters of a new cluster (`id` itself is one, whether listed or not). Ignored once the
   * log or a snapshot holds a membership: that one is in force.
   */
  readonly peers: readonly NodeId[];
  /**
   * This node is joining a running cluster: it starts with no membership, never campaigns, and
   * learns the membership from the leader (which added it with a membership change). Default false.
   */
  readonly join?: boolean;
  /** The most characters of snapshot data sent in one InstallSnapshot. Default 65,536. */
  readonly snapshotChunkSize?: number;
  /** Source of the randomized election timeouts. */
  readonly random: Random;
  /** Election timeout range; each timeout is drawn uniformly from it. Default [150, 300]. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** How often a leader sends heartbeats. Default 50. Must be below the minimum election timeout. */
  readonly heartbeatIntervalMs?: number;
  /** State loaded from storage after a restart. */
  readonly initialState?: PersistedState;
  /** The most entries sent in one AppendEntries. Default 1024. */
  readonly maxEntriesPerMessage?: number;
  /** The most unacknowledged AppendEntries in flight to one follower. Default 64. */
  readonly maxInflightMessages?: number;
  /**
   * Poll with a pre-vote before a timeout-driven election (thesis §9.6), so a node that cannot
   * win never raises the cluster's term. Default true.
   */
  readonly preVote?: boolean;
  /**
   * A leader that has not heard from a majority for a minimum election timeout steps down
   * (thesis §6.2), and followers that hear from a leader ignore timeout-driven vote requests
   * (§4.2.3). Default true.
   */
  readonly checkQuorum?: boolean;
  /**
   * For lease reads: the most the clocks of two nodes may drift apart, as a fraction of elapsed
   * time (default 0.1). A leader trusts its lease for a minimum election timeout × (1 − this).
   */
  readonly maxClockDrift?: number;
  /**
   * The time (ms) when the core starts, on the clock whose passing {@link RaftCore.elapse}
   * reports (default 0). A leader stamps session entries with it plus the time elapsed since:
   * the log time by which client sessions expire.
   */
  readonly now?: number;
}

/**
 * What the core asks its driver to do, in this order: persist `hardState`, `snapshot` and
 * `entries` (durably), then send `messages`, then restore the state machine from `snapshot` when
 * its index is past what was applied (the leader sent it), then apply `committed`; finally call
 * {@link RaftCore.advance} with this object.
 *
 * @example
 * ```ts
 * import { RaftCore, MemoryStorage, SeededRandom } from 'raftkit';
 * const core = new RaftCore({ id: '1', peers: ['1'], random: new SeededRandom(1) }); // a one-node cluster
 * const storage = new MemoryStorage();
 * core.campaign(); // the only voter: it wins at once
 * core.propose('x');
 * while (core.hasReady()) {
 *   const ready = core.ready();
 *   storage.save({ hardState: ready.hardState ?? undefined, snapshot: ready.snapshot ?? undefined, entries: ready.entries }); // 1. persist
 *   for (const m of ready.messages) console.log('send', m.type, 'to', m.to);         // 2. send
 *   for (const e of ready.committed) if (e.kind === 'command') console.log('apply', e.command); // 3. apply
 *   core.advance(ready);
 * }
 * ```
 */
export interface Ready {
  /** The new hard state to persist, or null when it did not change. */
  readonly hardState: HardState | null;
  /** A snapshot to persist (taken with {@link RaftCore.compact}, or received from the leader), or null. */
  readonly snapshot: Snapshot | null;
  /** Log entries to persist: replace stored entries from `entries[0].index` on. */
  readonly entries: readonly LogEntry[];
  /** Messages to send, only after the above is durable. */
  readonly messages: readonly Message[];
  /** Newly committed entries to apply, in index order. */
  readonly committed: readonly LogEntry[];
  /** Reads requested with {@link RaftCore.read} that are now settled. */
  readonly reads: readonly ReadState[];
  /** Proposals forwarded with {@link RaftCore.forward} that the leader has answered. */
  readonly forwarded: readonly ForwardState[];
}

/**
 * The leader's answer to a proposal forwarded with {@link RaftCore.forward}: when `appended`,
 * the command is at (`index`, `term`) in the leader's log (wait until that entry is applied,
 * and check its term); `refused` is definitive (no copy was or will be appended); `unknown`
 * means a copy may yet take effect. Several copies of one request get consistent answers.
 *
 * @example
 * ```ts
 * import type { ForwardState } from 'raftkit';
 * const landed: ForwardState = { id: 3, index: 57, term: 2, outcome: 'appended' };
 * ```
 */
export interface ForwardState {
  /** The id the proposal was forwarded with. */
  readonly id: number;
  /** Its index in the leader's log (0 unless appended). */
  readonly index: number;
  /** The leader's term (the entry's term when appended). */
  readonly term: number;
  /** What became of it. */
  readonly outcome: ProposeOutcome;
}

/**
 * The outcome of a read requested with {@link RaftCore.read}: when `ok`, reading the state
 * machine once it has applied `index` is linearizable; otherwise the read failed (leadership
 * was lost) and should be retried.
 *
 * @example
 * ```ts
 * import type { ReadState } from 'raftkit';
 * const done: ReadState = { id: 1, index: 42, ok: true };
 * ```
 */
export interface ReadState {
  /** The id the read was requested with. */
  readonly id: number;
  /** The index to read at (0 when not ok). */
  readonly index: number;
  /** Whether the read can be served. */
  readonly ok: boolean;
}

/** A read waiting on this leader: who asked (this node or a follower) and under which id. */
interface ReadRequest {
  readonly id: number;
  readonly from: NodeId;
}

/** A ReadIndex round: requests that read at `index` once a majority confirms `round`. */
interface ReadRound {
  readonly round: number;
  index: number;
  readonly acks: Set<NodeId>;
  readonly requests: ReadRequest[];
}

/** How many forwarded proposal ids a leader remembers per follower, to answer duplicates. */
const FORWARD_MEMORY = 1024;

/** How long (ms) a leader holds back a message that would only carry a new commit index, hoping to send it with entries. */
const COMMIT_DELAY_MS = 1;

/** How many recent rounds' send times a leader remembers for its lease (older answers are too old anyway). */
const LEASE_ROUNDS = 64;

/**
 * A plain snapshot of a node's Raft state, for display and tests.
 *
 * @example
 * ```ts
 * import { Cluster, type RaftStatus } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const status: RaftStatus = cluster.node(await cluster.waitForLeader()).status();
 * console.log(JSON.stringify(status)); // {"id":"2","role":"leader","term":1,"votedFor":"2",…,"followers":{…}}
 * ```
 */
export interface RaftStatus {
  /** The node's id. */
  readonly id: NodeId;
  /** Its role. */
  readonly role: Role;
  /** Its current term. */
  readonly term: number;
  /** Whom it voted for in this term. */
  readonly votedFor: NodeId | null;
  /** The leader it knows of in this term. */
  readonly leaderId: NodeId | null;
  /** The highest log index known committed. */
  readonly commitIndex: number;
  /** The highest log index applied to the state machine. */
  readonly lastApplied: number;
  /** The index of its last log entry. */
  readonly lastLogIndex: number;
  /** The term of its last log entry. */
  readonly lastLogTerm: number;
  /** Votes granted to this node in its current term (itself included) when it campaigned in it. */
  readonly votes: number;
  /** The last index covered by its latest snapshot (0 when none): its log holds entries after it. */
  readonly snapshotIndex: number;
  /** The membership in force on this node (the latest in its log, committed or not). */
  readonly membership: Membership;
  /** The log index of the entry that set it (0: it came from a snapshot or the initial `peers`); committed once `commitIndex` reaches it. */
  readonly membershipIndex: number;
  /** On a leader: what it knows of each follower's log. */
  readonly followers?: Readonly<Record<NodeId, FollowerProgress>>;
}

/**
 * What a leader reports about one follower in {@link RaftStatus.followers}.
 *
 * @example
 * ```ts
 * import { Cluster, type FollowerProgress } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const { lastLogIndex, followers = {} } = leader.status();
 * for (const [id, progress] of Object.entries<FollowerProgress>(followers)) {
 *   console.log(`node ${id} is ${lastLogIndex - progress.matchIndex} entries behind`); // 1 (the new leader's no-op)
 * }
 * ```
 */
export interface FollowerProgress {
  /** The highest index known to be replicated on the follower. */
  readonly matchIndex: number;
  /** The next index the leader will send it. */
  readonly nextIndex: number;
}

/** What a leader knows about one follower (Figure 2's nextIndex/matchIndex, plus flow control). */
interface Progress {
  match: number;
  next: number;
  /**
   * probe: one message at a time until the follower's log position is found; replicate:
   * pipeline; snapshot: it needs entries the log no longer holds, so it is sent the snapshot.
   */
  state: 'probe' | 'replicate' | 'snapshot';
  /** In probe and snapshot state: a message is out and we wait for its answer or the next heartbeat. */
  paused: boolean;
  /**
   * In snapshot state: the snapshot being sent (kept until installed, even if the leader
   * compacts again meanwhile, so a slow transfer still finishes) and where its next chunk starts.
   */
  snapshot: Snapshot | null;
  snapshotOffset: number;
  /** In replicate state: last index of each unacknowledged AppendEntries, oldest first. */
  inflight: number[];
  /** The oldest in-flight index at the previous heartbeat, to notice a pipeline that stopped moving. */
  oldestInflightAtHeartbeat: number;
  /** Whether it answered since the last check-quorum round. */
  recentActive: boolean;
  /** Whether it is a voter (else a learner). */
  voter: boolean;
  /** The newest read/heartbeat round it has answered (for the leader's lease). */
  answeredRound: number;
  /** The highest index this follower was last told is committed (and could check it holds). */
  sentCommit: number;
}

const DEFAULT_ELECTION_TIMEOUT: readonly [number, number] = [150, 300];

/**
 * A membership change, proposed on the leader with {@link RaftCore.changeMembership}; one at a
 * time, each committed before the next (thesis §4.1, single-server changes).
 *
 * @example
 * ```ts
 * import type { MembershipChange } from 'raftkit';
 * const changes: MembershipChange[] = [
 *   { type: 'addLearner', id: '4' }, // receives the log, does not vote
 *   { type: 'promote', id: '4' },    // now a voter
 *   { type: 'remove', id: '1' },     // gone (a leader removing itself steps down once it commits)
 * ];
 * ```
 */
export interface MembershipChange {
  /** What to do with the server. */
  readonly type: 'addLearner' | 'promote' | 'remove';
  /** The server. */
  readonly id: NodeId;
}

/** The last element, if any. (`xs[xs.length - 1]` on an empty array reads index -1: V8's slow path, ~10× slower.) */
function lastOf<T>(xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[xs.length - 1];
}

/** A snapshot a follower is receiving: from which leader (and term), and the chunks so far. */
interface IncomingSnapshot {
  readonly from: NodeId;
  readonly leaderTerm: number;
  readonly index: number;
  readonly term: number;
  readonly chunks: string[];
  length: number;
}

const matchOf = (pr: Progress): number => pr.match;
const answeredRoundOf = (pr: Progress): number => pr.answeredRound;

function newProgress(next: number, voter: boolean): Progress {
  return {
    voter,
    match: 0,
    next,
    state: 'probe',
    paused: false,
    snapshot: null,
    snapshotOffset: 0,
    inflight: [],
    oldestInflightAtHeartbeat: 0,
    recentActive: false,
    answeredRound: 0,
    sentCommit: 0,
  };
}

/** A membership with sorted, unique ids. */
function membershipOf(voters: Iterable<NodeId>, learners: Iterable<NodeId> = []): Membership {
  return { voters: [...new Set(voters)].sort(), learners: [...new Set(learners)].sort() };
}

/**
 * Raft as a pure, synchronous, deterministic state machine (the idea of etcd's RawNode).
 *
 * It never touches a clock, a timer, the network or a disk. Feed it inputs — {@link step} for a
 * message, {@link elapse} for passing time, {@link propose} and {@link campaign} — then take its
 * outputs with {@link ready}: what to persist, send and apply. Call {@link advance} when done.
 * The same inputs always give the same outputs, so a lecture or a test can drive it by hand.
 *
 * Messages given to {@link step} must already be validated ({@link validateMessage}).
 *
 * @example
 * ```ts
 * import { RaftCore, SeededRandom } from 'raftkit';
 * const core = new RaftCore({ id: '1', peers: ['1', '2', '3'], random: new SeededRandom(7) });
 * core.campaign();
 * const ready = core.ready();
 * console.log(ready.hardState);           // { term: 1, votedFor: '1' }
 * console.log(ready.messages.map((m) => `${m.type} → ${m.to}`)); // RequestVote → 2, RequestVote → 3
 * core.advance(ready);
 * core.step({ type: 'RequestVoteResponse', from: '2', to: '1', term: 1, voteGranted: true });
 * console.log(core.role); // 'leader'
 * ```
 */
export class RaftCore {
  /** This node's id. */
  readonly id: NodeId;
  // The membership in force and what follows from it: all set by #setMembership (first in the constructor).
  /** The other members (voters and learners) of the membership in force. */
  #others!: readonly NodeId[];
  #voters!: ReadonlySet<NodeId>;
  #currentMembership!: Membership;
  /** The log index of the entry that set the membership in force (0: the snapshot's or the initial one). */
  #configIndex!: number;
  #quorum!: number;
  readonly #initialMembership: Membership;
  /** Scratch space for quorumValue. */
  readonly #scratch: number[] = [];
  /** The latest snapshot (taken here or received), kept to send to followers that need it. */
  #latestSnapshot: Snapshot | null = null;
  /** A snapshot not yet handed to storage. */
  #unstableSnapshot: Snapshot | null = null;
  /** A snapshot arriving from the leader in chunks. */
  #incoming: IncomingSnapshot | null = null;
  readonly #snapshotChunkSize: number;
  readonly #random: Random;
  readonly #electionTimeout: readonly [number, number];
  readonly #heartbeatInterval: number;
  readonly #maxEntriesPerMessage: number;
  readonly #maxInflight: number;
  readonly #preVote: boolean;
  readonly #checkQuorum: boolean;
  readonly #leaseMs: number;

  readonly #log: RaftLog;
  #currentTerm: number;
  #vote: NodeId | null;
  #hardStateDirty = false;
  #currentRole: Role = 'follower';
  #leader: NodeId | null = null;
  #commit = 0;
  /** Highest index handed out for applying (in a Ready). */
  #applying = 0;
  /** Highest index the driver confirmed applied. */
  #applied = 0;

  #electionElapsed = 0;
  #randomizedElectionTimeout = 0;
  /** The start time plus everything elapsed: the leader's clock for session entries. */
  #clock: number;
  #heartbeatElapsed = 0;
  readonly #votesGranted = new Set<NodeId>();
  readonly #progress = new Map<NodeId, Progress>();
  #outbox: Message[] = [];
  /** Leader: ReadIndex rounds awaiting a majority, oldest first, and reads awaiting a commit in this term. */
  #readRound = 0;
  #readRoundOpen = false;
  readonly #readRounds: ReadRound[] = [];
  readonly #readsBeforeCommit: ReadRequest[] = [];
  /** Until a minimum election timeout has passed since start (or a leader is heard): see heardFromLeader. */
  #justStarted = true;
  /** Leader: a TimeoutNow went out this term, so an election may be forced at any time: no lease. */
  #transferTried = false;
  /** Leader: time led, and since when (on that clock) a majority is known to follow (lease reads). */
  #leaderClock = 0;
  /** When (on the leader's clock) each recent round went out, indexed by round % LEASE_ROUNDS. */
  readonly #roundSentAt: number[] = new Array<number>(LEASE_ROUNDS).fill(-Infinity);
  /** Settled reads of this node, for the next Ready. */
  #readStates: ReadState[] = [];
  /** Leader: the ids of proposals each follower forwarded in this term, and where they landed. */
  readonly #forwardedIds = new Map<NodeId, Map<number, number>>();
  /** Answers to forwarded proposals, for the next Ready. */
  #forwardStates: ForwardState[] = [];
  /** Leader: the node leadership is being handed to, and for how long (ms) it has been tried. */
  #transferee: NodeId | null = null;
  #transferElapsed = 0;
  /** Leader (only a leader sets it; stepping down clears it): appends may be due; sent when the next Ready is taken, so proposals batch. */
  #replicationDue = false;
  /**
   * Leader: when (on the leader's clock) followers that have yet to learn a new commit index are
   * told it on their own; Infinity when none is due. Meanwhile it rides on any append: under load
   * this saves a message to every follower per commit.
   */
  #commitDueAt = Infinity;

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    this.#clock = options.now ?? 0;
    if (!Number.isFinite(this.#clock)) throw new RangeError(`now must be a finite number, got ${this.#clock}`);
    this.#initialMembership = membershipOf(options.join === true ? [] : [options.id, ...options.peers]);
    const chunkSize = options.snapshotChunkSize ?? 65_536;
    if (!(Number.isSafeInteger(chunkSize) && chunkSize > 0)) throw new RangeError(`snapshotChunkSize must be a positive integer, got ${chunkSize}`);
    this.#snapshotChunkSize = chunkSize;
    this.#random = options.random;
    this.#electionTimeout = options.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT;
    this.#heartbeatInterval = options.heartbeatIntervalMs ?? 50;
    this.#maxEntriesPerMessage = options.maxEntriesPerMessage ?? 1024;
    this.#maxInflight = options.maxInflightMessages ?? 64;
    this.#preVote = options.preVote ?? true;
    this.#checkQuorum = options.checkQuorum ?? true;
    const drift = options.maxClockDrift ?? 0.1;
    if (!(drift >= 0 && drift < 1)) throw new RangeError(`maxClockDrift must be in [0, 1), got ${drift}`);
    validateTimings(this.#electionTimeout, this.#heartbeatInterval);
    this.#leaseMs = this.#electionTimeout[0] * (1 - drift);
    const initial = options.initialState;
    this.#currentTerm = initial?.hardState.term ?? 0;
    this.#vote = initial?.hardState.votedFor ?? null;
    const snapshot = initial?.snapshot;
    const entries = initial?.entries ?? [];
    const first = (snapshot?.index ?? 0) + 1;
    if (entries.length > 0 && entries[0]?.index !== first) {
      throw new RangeError(`initialState: the log must start at index ${first}, not ${String(entries[0]?.index)}`);
    }
    this.#log = new RaftLog(entries, snapshot?.index ?? 0, snapshot?.term ?? 0);
    if (snapshot !== undefined) {
      this.#latestSnapshot = snapshot;
      // Everything in the snapshot is committed, and the driver restores it before anything else.
      this.#commit = this.#applying = this.#applied = snapshot.index;
    }
    this.#recomputeMembership();
    this.#resetElectionTimer();
  }

  // ── State ────────────────────────────────────────────────────────────────────────────────

  /** The other members (voters and learners) of the membership in force. */
  get peers(): readonly NodeId[] {
    return this.#others;
  }
  /** The membership in force: the latest in the log (committed or not), else the snapshot's, else the initial one. */
  get membership(): Membership {
    return this.#currentMembership;
  }
  /** The last index its latest snapshot covers (0 when none): the log holds entries after it. */
  get snapshotIndex(): number {
    return this.#log.snapshotIndex;
  }
  /** The latest snapshot this node took or received, or null. */
  get snapshot(): Snapshot | null {
    return this.#latestSnapshot;
  }
  /** Follower, candidate or leader. */
  get role(): Role {
    return this.#currentRole;
  }
  /** The current term. */
  get term(): number {
    return this.#currentTerm;
  }
  /** Whom this node voted for in the current term, or null. */
  get votedFor(): NodeId | null {
    return this.#vote;
  }
  /** The leader of the current term, as far as this node knows, or null. */
  get leaderId(): NodeId | null {
    return this.#leader;
  }
  /** The highest log index known to be committed. */
  get commitIndex(): number {
    return this.#commit;
  }
  /** The highest log index the driver confirmed applied (through {@link advance}). */
  get lastApplied(): number {
    return this.#applied;
  }
  /** The index of the last log entry (0 when the log is empty). */
  get lastLogIndex(): number {
    return this.#log.lastIndex;
  }
  /** The term of the last log entry (0 when the log is empty). */
  get lastLogTerm(): number {
    return this.#log.lastTerm;
  }
  /** Votes granted to this node in the current term, itself included. */
  get votes(): number {
    return this.#votesGranted.size;
  }

  /** The entry at `index`, if the log holds it. */
  entry(index: number): LogEntry | undefined {
    return this.#log.entry(index);
  }

  /** Log entries `from`..`to` inclusive (default: the whole log; a copy of the array, the entries are shared). */
  entries(from = 1, to?: number): LogEntry[] {
    return this.#log.slice(from, to);
  }

  /**
   * Milliseconds of {@link elapse} until the core next acts on its own: a heartbeat, a quorum
   * check, an election, or (on a leader, at most 1 ms after a commit) telling followers a new
   * commit index that no append carried. Drivers should call {@link elapse} when it is due.
   */
  get msUntilTimeout(): number {
    if (this.#currentRole !== 'leader') return Math.max(0, this.#randomizedElectionTimeout - this.#electionElapsed);
    if (this.#commitDueAt !== Infinity) return Math.max(0, this.#commitDueAt - this.#leaderClock);
    // The next heartbeat, or the next quorum check if that comes first.
    return Math.max(
      0,
      Math.min(this.#heartbeatInterval - this.#heartbeatElapsed, this.#checkQuorum ? this.#electionTimeout[0] - this.#electionElapsed : Infinity),
    );
  }

  /** A plain, JSON-serialisable snapshot of this node's state. */
  status(): RaftStatus {
    const status = {
      id: this.id,
      role: this.#currentRole,
      term: this.#currentTerm,
      votedFor: this.#vote,
      leaderId: this.#leader,
      commitIndex: this.#commit,
      lastApplied: this.#applied,
      lastLogIndex: this.#log.lastIndex,
      lastLogTerm: this.#log.lastTerm,
      votes: this.#votesGranted.size,
      snapshotIndex: this.#log.snapshotIndex,
      membership: this.#currentMembership,
      membershipIndex: this.#configIndex,
    };
    if (this.#currentRole !== 'leader') return status;
    const followers: Record<NodeId, FollowerProgress> = Object.create(null);
    for (const [id, pr] of this.#progress) followers[id] = { matchIndex: pr.match, nextIndex: pr.next };
    return { ...status, followers };
  }

  // ── Inputs ───────────────────────────────────────────────────────────────────────────────

  /**
   * Lets `ms` milliseconds pass: may fire a heartbeat or a quorum check (leader), or an election
   * (others: a pre-vote first when `preVote` is on).
   */
  elapse(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`elapse: ms must be ≥ 0, got ${ms}`);
    this.#clock += ms;
    this.#electionElapsed += ms;
    if (this.#currentRole === 'leader') {
      this.#leaderClock += ms;
      if (this.#leaderClock >= this.#commitDueAt) {
        this.#commitDueAt = Infinity;
        this.#replicationDue = true; // tell the followers that still lack the commit index
      }
      if (this.#transferee !== null) {
        this.#transferElapsed += ms;
        // The target did not take over within an election timeout: give up, serve again.
        if (this.#transferElapsed >= this.#electionTimeout[1]) this.#transferee = null;
      }
      if (this.#checkQuorum && this.#electionElapsed >= this.#electionTimeout[0]) {
        this.#electionElapsed = 0;
        // Cut off from a majority: stop serving.
        if (!this.#quorumActive()) return this.#becomeFollower(this.#currentTerm, null);
      }
      this.#heartbeatElapsed += ms;
      if (this.#heartbeatElapsed >= this.#heartbeatInterval) {
        this.#heartbeatElapsed = 0;
        this.#heartbeat();
      }
    } else {
      if (this.#electionElapsed >= this.#electionTimeout[0]) this.#justStarted = false;
      if (this.#electionElapsed >= this.#randomizedElectionTimeout) {
        if (!this.#promotable()) this.#resetElectionTimer(); // learners and outsiders never campaign
        else if (this.#preVote) this.#startPreVote();
        else this.#startElection(false);
      }
    }
  }

  /**
   * Starts an election now, skipping the pre-vote, and asks voters to grant it even if they
   * still hear from a leader (an explicit request, like a leadership transfer). Does nothing on
   * a leader, or on a node that is not a voter.
   */
  campaign(): void {
    if (this.#currentRole === 'leader' || !this.#promotable()) return;
    this.#startElection(true);
  }

  /**
   * Appends a command to the leader's log (made in a client session when `session` is given:
   * the entry then carries the tag and the leader's clock); it is replicated when the next Ready
   * is taken. Throws {@link NotLeaderError} on any other node.
   */
  propose(command: unknown, session?: SessionTag): LogPosition {
    this.#assertAppendable();
    if (session !== undefined) assertSessionTag(session); // (peers would refuse the entry, and replication would stop at it)
    const index = this.#log.lastIndex + 1;
    const term = this.#currentTerm;
    this.#log.push(
      session === undefined ? { index, term, kind: 'command', command } : { index, term, kind: 'command', command, session, time: this.#clock },
    );
    this.#replicationDue = true;
    return { index, term };
  }

  /**
   * Leader only: appends a `session` entry, which opens a client session (thesis §6.3) whose id
   * is the entry's index, living `timeoutMs` of log time without a command. Returns its position.
   */
  openSession(timeoutMs: number): LogPosition {
    this.#assertAppendable();
    if (!(Number.isSafeInteger(timeoutMs) && timeoutMs > 0)) throw new RangeError(`openSession: timeoutMs must be a positive integer, got ${timeoutMs}`);
    const index = this.#log.lastIndex + 1;
    this.#log.push({ index, term: this.#currentTerm, kind: 'session', time: this.#clock, timeoutMs });
    this.#replicationDue = true;
    return { index, term: this.#currentTerm };
  }

  /** Throws unless this node is a leader that takes new entries (it is not handing over). */
  #assertAppendable(): void {
    if (this.#currentRole !== 'leader') throw new NotLeaderError(this.id, this.#leader);
    if (this.#transferee !== null) {
      throw new TransferError('TRANSFER_IN_PROGRESS', `node ${this.id} is handing leadership to ${this.#transferee}`, this.#transferee);
    }
  }

  /**
   * Asks for a linearizable read (ReadIndex, thesis §6.4) under the caller's `id`. The answer
   * comes in a later Ready's `reads`: read the state machine once it has applied the given
   * index. A leader confirms it still leads with one round of heartbeats (after committing an
   * entry of its term); a follower asks its leader. Throws {@link NotLeaderError} when no leader
   * is known.
   */
  read(id: number, options?: { lease?: boolean }): void {
    if (this.#currentRole === 'leader') {
      // A lease read skips the heartbeat round while a majority is known to follow this leader.
      if (options?.lease === true && this.#leaseValid() && this.#log.term(this.#commit) === this.#currentTerm) {
        return this.#settleRead({ id, from: this.id }, this.#commit, true);
      }
      return this.#leaderRead({ id, from: this.id });
    }
    this.#send<ReadIndex>({ type: 'ReadIndex', from: this.id, to: this.#leaderToAsk(), term: this.#currentTerm, id });
  }

  /** A follower's leader, to send a request to; throws NotLeaderError when there is none (or this node does not follow). */
  #leaderToAsk(): NodeId {
    if (this.#currentRole !== 'follower' || this.#leader === null) throw new NotLeaderError(this.id, this.#leader);
    return this.#leader;
  }

  /**
   * Follower: sends `command` (made in a client session when `session` is given) to the leader to
   * be proposed there, under the caller's `id`, unique to this incarnation; the answer comes in
   * a later Ready's `forwarded`. Throws {@link NotLeaderError} when no leader is known (and on
   * the leader itself: use {@link propose}).
   */
  forward(id: number, command: unknown, session?: SessionTag): void {
    const to = this.#leaderToAsk();
    const term = this.#currentTerm;
    this.#send<Propose>(session === undefined ? { type: 'Propose', from: this.id, to, term, id, command } : { type: 'Propose', from: this.id, to, term, id, command, session });
  }

  /** Follower: asks the leader to open a client session ({@link openSession}), under the caller's `id`; answered like {@link forward}. */
  forwardOpenSession(id: number, timeoutMs: number): void {
    this.#send<Propose>({ type: 'Propose', from: this.id, to: this.#leaderToAsk(), term: this.#currentTerm, id, kind: 'session', timeoutMs });
  }

  /**
   * Every copy of one Propose carries the term it was sent in, and only the leader of exactly
   * that term appends it (step() answered every other term). A node leads a term at most once,
   * so its memory of this leadership covers every copy it ever appended.
   */
  #onForwardedProposal(m: Propose): void {
    // Not leading this term: if it never campaigned in it, it never led it, so no copy was ever
    // appended (or will be). Otherwise it may have led it before stepping down (or restarting).
    if (this.#currentRole !== 'leader') return this.#answerForward(m, 0, this.#vote === this.id ? 'unknown' : 'refused');
    // Transports duplicate messages: a repeat gets the first answer, not a second entry.
    let seen = this.#forwardedIds.get(m.from);
    if (seen === undefined) this.#forwardedIds.set(m.from, (seen = new Map()));
    let index = seen.get(m.id);
    if (index === undefined) {
      // Handing over: not now, but a copy that arrives after the transfer gives up is appended.
      if (this.#transferee !== null) return this.#answerForward(m, 0, 'unknown');
      index = m.kind === 'session' ? this.openSession(m.timeoutMs as number).index : this.propose(m.command, m.session).index;
      seen.set(m.id, index);
      if (seen.size > FORWARD_MEMORY) seen.delete(seen.keys().next().value as number);
    }
    this.#answerForward(m, index, 'appended');
  }

  #answerForward(m: Propose, index: number, outcome: ProposeOutcome): void {
    this.#send<ProposeResponse>({ type: 'ProposeResponse', from: this.id, to: m.from, term: this.#currentTerm, id: m.id, index, outcome });
  }

  #leaderRead(request: ReadRequest): void {
    // The commit index may lag until this term commits.
    if (this.#log.term(this.#commit) !== this.#currentTerm) return void this.#readsBeforeCommit.push(request);
    if (this.#quorum === 1 && this.#voters.has(this.id)) return this.#settleRead(request, this.#commit, true);
    // Requests made before the next heartbeat share one round; each raises its index to now.
    let round = lastOf(this.#readRounds);
    if (!this.#readRoundOpen || round === undefined) {
      round = { round: this.#nextRound(), index: this.#commit, acks: new Set([this.id]), requests: [] };
      this.#readRounds.push(round);
      this.#readRoundOpen = true;
      this.#replicationDue = true;
    }
    round.index = this.#commit;
    round.requests.push(request);
  }

  /**
   * Thesis §6.4.1: followers ignore vote requests for a minimum election timeout after hearing
   * from this leader (check-quorum's lease rule), so until then no other leader can exist. A
   * transfer (which forces an election) ends the lease.
   */
  #leaseValid(): boolean {
    if (!this.#checkQuorum || this.#transferTried) return false;
    // The newest round a majority (this leader included) has answered: the lease runs from its send time.
    const round = this.#quorumValue(this.#readRound, answeredRoundOf);
    return round !== 0 && this.#readRound - round < LEASE_ROUNDS && this.#leaderClock < (this.#roundSentAt[round % LEASE_ROUNDS] as number) + this.#leaseMs;
  }

  /** Starts a new round (a read round, or a heartbeat) and notes when it went out. */
  #nextRound(): number {
    const round = ++this.#readRound;
    this.#roundSentAt[round % LEASE_ROUNDS] = this.#leaderClock;
    return round;
  }

  /** A follower answered an AppendEntries of read round `round` (or later): it still follows us. */
  #ackReads(from: NodeId, round: number): void {
    for (const r of this.#readRounds) {
      if (r.round > round) break;
      r.acks.add(from);
    }
    while (this.#readRounds.length > 0 && this.#countVoters((this.#readRounds[0] as ReadRound).acks) >= this.#quorum) {
      const done = this.#readRounds.shift() as ReadRound;
      for (const request of done.requests) this.#settleRead(request, done.index, true);
    }
  }

  #settleRead(request: ReadRequest, index: number, ok: boolean): void {
    if (request.from === this.id) this.#readStates.push({ id: request.id, index, ok });
    else {
      this.#send<ReadIndexResponse>({ type: 'ReadIndexResponse', from: this.id, to: request.from, term: this.#currentTerm, id: request.id, index, ok });
    }
  }

  /** No longer leading: every read waiting here fails (the caller retries with the new leader). */
  #failReads(): void {
    for (const request of this.#readsBeforeCommit.splice(0)) this.#settleRead(request, 0, false);
    for (const round of this.#readRounds.splice(0)) for (const request of round.requests) this.#settleRead(request, 0, false);
    this.#readRoundOpen = false;
  }

  // ── Membership ───────────────────────────────────────────────────────────────────────────

  /**
   * Leader only: appends a membership change to the log; it is in force on each node as soon as
   * that node holds the entry. One change at a time: throws {@link MembershipError}
   * (`CHANGE_IN_PROGRESS`) until the previous one is committed, and until this leader has
   * committed an entry of its own term (the fix to single-server changes in the thesis errata);
   * `INVALID_CHANGE` when the change does not fit the membership. Returns the entry's position.
   */
  changeMembership(change: MembershipChange): LogPosition {
    this.#assertAppendable();
    const membership = this.#changed(change);
    if (this.#configIndex > this.#commit) {
      throw new MembershipError('CHANGE_IN_PROGRESS', `node ${this.id}: the membership change at index ${this.#configIndex} is not committed yet`);
    }
    if (this.#log.term(this.#commit) !== this.#currentTerm) {
      throw new MembershipError('CHANGE_IN_PROGRESS', `node ${this.id} has not yet committed an entry of its term ${this.#currentTerm}`);
    }
    const entry: LogEntry = { index: this.#log.lastIndex + 1, term: this.#currentTerm, kind: 'config', membership };
    this.#appendToLog([entry]);
    this.#replicationDue = true;
    return { index: entry.index, term: entry.term };
  }

  /** The membership after `change`, or a MembershipError saying why the change does not fit. */
  #changed(change: MembershipChange): Membership {
    const { voters, learners } = this.#currentMembership;
    const id = change?.id;
    const invalid = (why: string): MembershipError => new MembershipError('INVALID_CHANGE', `cannot ${String(change?.type)} ${String(id)}: ${why}`);
    if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw invalid('a server id is a non-empty string of at most 256 characters');
    switch (change.type) {
      case 'addLearner':
        if (voters.includes(id) || learners.includes(id)) throw invalid('it is already a member');
        return membershipOf(voters, [...learners, id]);
      case 'promote':
        if (!learners.includes(id)) throw invalid('it is not a learner');
        return membershipOf([...voters, id], learners.filter((l) => l !== id));
      case 'remove':
        if (!voters.includes(id) && !learners.includes(id)) throw invalid('it is not a member');
        if (voters.length === 1 && voters[0] === id) throw invalid('it is the last voter');
        return membershipOf(voters.filter((v) => v !== id), learners.filter((l) => l !== id));
      default:
        throw invalid('the change type must be addLearner, promote or remove');
    }
  }

  /** Appends entries to the log; a membership they carry is in force at once (thesis §4.1). */
  #appendToLog(entries: readonly LogEntry[]): void {
    this.#log.append(entries);
    for (const entry of entries) if (entry.kind === 'config') this.#setMembership(entry.membership as Membership, entry.index);
  }

  /** Sets the membership from the newest config entry in the log, else the snapshot's, else the initial one. */
  #recomputeMembership(): void {
    this.#setMembership(...this.#configAt(this.#log.lastIndex));
  }

  /** The membership in force once the log held entries through `index` (for a snapshot there). */
  #membershipAt(index: number): Membership {
    return this.#configIndex <= index ? this.#currentMembership : this.#configAt(index)[0];
  }

  /** The newest config entry at or before `index` and its index; else the snapshot's (or initial) membership, at 0. */
  #configAt(index: number): [Membership, number] {
    for (let i = index; i > this.#log.snapshotIndex; i--) {
      const entry = this.#log.entry(i) as LogEntry;
      if (entry.kind === 'config') return [entry.membership as Membership, i];
    }
    return [this.#latestSnapshot?.membership ?? this.#initialMembership, 0];
  }

  #setMembership(membership: Membership, index: number): void {
    this.#currentMembership = membership;
    this.#configIndex = index;
    this.#voters = new Set(membership.voters);
    this.#others = [...membership.voters, ...membership.learners].filter((id) => id !== this.id);
    this.#quorum = Math.floor(membership.voters.length / 2) + 1;
    if (this.#currentRole !== 'leader') return;
    this.#syncProgress();
    if (this.#transferee !== null && !this.#voters.has(this.#transferee)) this.#transferee = null;
  }

  /** Leader: progress for exactly the other members; one that is new starts after the log's end. */
  #syncProgress(): void {
    for (const id of this.#progress.keys()) if (!this.#others.includes(id)) this.#progress.delete(id); // (safe while iterating a Map)
    for (const id of this.#others) {
      const pr = this.#progress.get(id);
      if (pr === undefined) this.#progress.set(id, newProgress(this.#log.lastIndex + 1, this.#voters.has(id)));
      else pr.voter = this.#voters.has(id);
    }
  }

  // ── Snapshots ────────────────────────────────────────────────────────────────────────────

  /**
   * Replaces the log through `index` (at most {@link lastApplied}) with `data`, a snapshot of
   * the state machine taken when it had applied exactly through `index`. The snapshot comes out
   * in the next Ready for storage; followers that need the dropped entries are sent it instead.
   * Does nothing when the log is already compacted that far.
   */
  compact(index: number, data: string): void {
    if (!Number.isSafeInteger(index) || index > this.#applied) {
      throw new RangeError(`compact: index must be an applied index (≤ ${this.#applied}), got ${index}`);
    }
    if (typeof data !== 'string') throw new TypeError('compact: snapshot data must be a string');
    if (index <= this.#log.snapshotIndex) return;
    const snapshot: Snapshot = { index, term: this.#log.term(index) as number, membership: this.#membershipAt(index), data };
    this.#log.compact(index);
    this.#latestSnapshot = this.#unstableSnapshot = snapshot;
  }

  /** Sends the next chunk of the snapshot to a follower whose next entry was compacted away. */
  #sendSnapshot(to: NodeId, pr: Progress): boolean {
    let snapshot = pr.snapshot;
    if (pr.state !== 'snapshot' || snapshot === null) {
      pr.state = 'snapshot';
      pr.snapshot = snapshot = this.#latestSnapshot as Snapshot;
      pr.snapshotOffset = 0;
      pr.paused = false;
      pr.inflight.length = 0;
    }
    if (pr.paused) return false;
    const offset = Math.min(pr.snapshotOffset, snapshot.data.length);
    const data = snapshot.data.slice(offset, offset + this.#snapshotChunkSize);
    this.#send<InstallSnapshot>({
      type: 'InstallSnapshot',
      from: this.id,
      to,
      term: this.#currentTerm,
      index: snapshot.index,
      lastTerm: snapshot.term,
      membership: snapshot.membership,
      offset,
      data,
      done: offset + data.length >= snapshot.data.length,
    });
    pr.paused = true; // one chunk at a time: the next goes when this one is acknowledged
    return true;
  }

  #onSnapshotResponse(m: InstallSnapshotResponse): void {
    if (this.#currentRole !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.index !== pr.snapshot?.index) return;
    if (m.done) {
      if (!this.#matched(pr, m.index)) return;
      this.#becomeProbe(pr, m.index + 1); // its log continues from the snapshot: find out how far
    } else {
      // An answer to a duplicate (a heartbeat's resend) while the next chunk is out: nothing new.
      if (pr.paused && m.offset === pr.snapshotOffset) return;
      // The follower holds none of it (it restarted): start over with the latest snapshot.
      if (m.offset === 0) pr.snapshot = this.#latestSnapshot;
      pr.snapshotOffset = m.offset;
      pr.paused = false;
    }
    this.#replicationDue = true;
  }

  #onInstallSnapshot(m: InstallSnapshot): void {
    this.#followLeader(m.from);
    if (m.index <= this.#commit) {
      // Everything in it is already committed here (so it matches): nothing to install.
      this.#incoming = null;
      return this.#answerSnapshot(m, m.offset + m.data.length, true);
    }
    // Chunks join only within one snapshot of one leader (another may serialise its state
    // differently); a first chunk starts a new transfer, any other must continue the current one.
    const current = this.#incoming;
    const incoming =
      current?.from === m.from && current.leaderTerm === m.term && current.index === m.index && current.term === m.lastTerm
        ? current
        : m.offset === 0
          ? (this.#incoming = { from: m.from, leaderTerm: m.term, index: m.index, term: m.lastTerm, chunks: [], length: 0 })
          : null;
    // A chunk of another snapshot, or out of order: say where to resume.
    if (incoming === null) return this.#answerSnapshot(m, 0, false);
    if (incoming.length !== m.offset) return this.#answerSnapshot(m, incoming.length, false);
    incoming.chunks.push(m.data);
    incoming.length += m.data.length;
    if (!m.done) return this.#answerSnapshot(m, incoming.length, false);
    this.#incoming = null;
    const snapshot: Snapshot = { index: m.index, term: m.lastTerm, membership: m.membership, data: incoming.chunks.join('') };
    // Figure 13 (rules 6–7): keep the entries after the snapshot if the log agrees at its index.
    if (this.#log.term(m.index) === m.lastTerm) this.#log.compact(m.index);
    else this.#log.reset(m.index, m.lastTerm);
    this.#latestSnapshot = this.#unstableSnapshot = snapshot;
    this.#commit = this.#applying = m.index; // the driver restores the state machine from it
    this.#recomputeMembership();
    this.#answerSnapshot(m, incoming.length, true);
  }

  /** Tells the sender of `m` how much of its snapshot this node holds (`offset`), and whether it is installed. */
  #answerSnapshot(m: InstallSnapshot, offset: number, done: boolean): void {
    this.#send<InstallSnapshotResponse>({ type: 'InstallSnapshotResponse', from: this.id, to: m.from, term: this.#currentTerm, index: m.index, offset, done });
  }

  /** The node this leader is handing leadership to, or null. */
  get transferTarget(): NodeId | null {
    return this.#transferee;
  }

  /**
   * Leader only: hands leadership to `to` (default: the most up-to-date follower). Proposals are
   * refused meanwhile; the target is brought up to date, then told to campaign at once
   * (TimeoutNow). Gives up after a maximum election timeout. Returns the target.
   */
  transferLeadership(to?: NodeId): NodeId {
    if (this.#currentRole !== 'leader') throw new NotLeaderError(this.id, this.#leader);
    const target = to ?? this.#mostUpToDateFollower();
    if (target === undefined || !this.#progress.has(target) || !this.#voters.has(target)) {
      throw new TransferError('TRANSFER_FAILED', `cannot transfer leadership to ${String(target)}: not a voting follower of ${this.id}`, target ?? null);
    }
    if (this.#transferee === target) return target;
    this.#transferee = target;
    this.#transferElapsed = 0;
    const pr = this.#progress.get(target) as Progress;
    if (pr.match === this.#log.lastIndex) this.#sendTimeoutNow(target);
    else this.#replicationDue = true;
    return target;
  }

  #mostUpToDateFollower(): NodeId | undefined {
    let best: NodeId | undefined;
    let bestMatch = -1;
    for (const [id, pr] of this.#progress) {
      if (pr.match > bestMatch && this.#voters.has(id)) {
        best = id;
        bestMatch = pr.match;
      }
    }
    return best;
  }

  #sendTimeoutNow(to: NodeId): void {
    this.#transferTried = true; // even a late copy forces an election: the lease is over for this term
    this.#send<TimeoutNow>({ type: 'TimeoutNow', from: this.id, to, term: this.#currentTerm });
  }

  /** Processes one validated message addressed to this node. */
  step(message: Message): void {
    // Senders outside the membership in force are heard too (thesis §4.1): a new leader may not be
    // in this node's membership yet, and a joining node knows none. Only voters' votes count.
    if (message.to !== this.id || message.from === this.id) return;
    // Pre-votes change nobody's term or vote.
    if (message.type === 'PreVote') return this.#onPreVote(message);
    if (message.type === 'PreVoteResponse') return this.#onPreVoteResponse(message);
    // §4.2.3: while a leader is heard from, a vote request caused by a timeout is ignored
    // outright (not even its term is adopted): that node merely lost touch.
    // (With check-quorum on, a leader, and a node hearing from one, are in that leader's lease.)
    if (
      message.type === 'RequestVote' &&
      message.term > this.#currentTerm &&
      message.force !== true &&
      this.#checkQuorum &&
      (this.#currentRole === 'leader' || this.#heardFromLeader())
    ) {
      return;
    }
    if (message.term > this.#currentTerm) {
      // Only a leader sends AppendEntries and TimeoutNow: a newer one names the new leader.
      const fromLeader = message.type === 'AppendEntries' || message.type === 'InstallSnapshot' || message.type === 'TimeoutNow';
      this.#becomeFollower(message.term, fromLeader ? message.from : null);
    } else if (message.term < this.#currentTerm) {
      return this.#rejectStale(message);
    }
    switch (message.type) {
      case 'RequestVote':
        return this.#onRequestVote(message);
      case 'RequestVoteResponse':
        return this.#onVote(message);
      case 'AppendEntries':
        return this.#onAppendEntries(message);
      case 'AppendEntriesResponse':
        return this.#onAppendResponse(message);
      case 'InstallSnapshot':
        return this.#onInstallSnapshot(message);
      case 'InstallSnapshotResponse':
        return this.#onSnapshotResponse(message);
      case 'Propose':
        return this.#onForwardedProposal(message);
      case 'ProposeResponse':
        this.#forwardStates.push({ id: message.id, index: message.index, term: message.term, outcome: message.outcome });
        return;
      case 'ReadIndex':
        // A leader keeps the request until its round ends: a copy, not the message, which the sender owns.
        if (this.#currentRole === 'leader') this.#leaderRead({ id: message.id, from: message.from });
        else this.#settleRead(message, 0, false);
        return;
      case 'ReadIndexResponse':
        this.#readStates.push({ id: message.id, index: message.index, ok: message.ok });
        return;
      case 'TimeoutNow':
        // Our leader hands over (only a follower has a leader other than itself): campaign at once, past everyone's lease.
        if (message.from === this.#leader && this.#promotable()) this.#startElection(true);
    }
  }

  // ── Outputs ──────────────────────────────────────────────────────────────────────────────

  /** Whether {@link ready} has anything to persist, send or apply. */
  hasReady(): boolean {
    return (
      this.#hardStateDirty ||
      this.#unstableSnapshot !== null ||
      this.#outbox.length > 0 ||
      this.#readStates.length > 0 ||
      this.#forwardStates.length > 0 ||
      this.#log.hasUnstable() ||
      this.#commit > this.#applying ||
      this.#replicationDue
    );
  }

  /** Takes the pending outputs. Call {@link advance} with the result before the next `ready()`. */
  ready(): Ready {
    if (this.#replicationDue) {
      this.#replicationDue = false;
      this.#replicate();
    }
    const hardState = this.#hardStateDirty ? { term: this.#currentTerm, votedFor: this.#vote } : null;
    this.#hardStateDirty = false;
    const committed = this.#commit > this.#applying ? this.#log.slice(this.#applying + 1, this.#commit) : [];
    this.#applying = this.#commit;
    const messages = this.#outbox;
    this.#outbox = [];
    const reads = this.#readStates;
    if (reads.length > 0) this.#readStates = [];
    const forwarded = this.#forwardStates;
    if (forwarded.length > 0) this.#forwardStates = [];
    const snapshot = this.#unstableSnapshot;
    this.#unstableSnapshot = null;
    return { hardState, snapshot, entries: this.#log.takeUnstable(), messages, committed, reads, forwarded };
  }

  /** Confirms a Ready was persisted, sent and applied. */
  advance(ready: Ready): void {
    // A snapshot from the leader was restored into the state machine: it is applied through there.
    if (ready.snapshot !== null && ready.snapshot.index > this.#applied) this.#applied = ready.snapshot.index;
    const lastEntry = lastOf(ready.entries);
    if (lastEntry !== undefined) {
      this.#log.markPersisted(lastEntry.index);
      // The leader's own copy counts towards commitment only once it is durable.
      if (this.#currentRole === 'leader') this.#maybeCommit();
    }
    const lastApplied = lastOf(ready.committed);
    if (lastApplied !== undefined && lastApplied.index > this.#applied) this.#applied = lastApplied.index;
  }

  // ── Elections ────────────────────────────────────────────────────────────────────────────

  #onRequestVote(m: RequestVote): void {
    // Not yet voted for another in this term, and the candidate's log is at least as up to date.
    const granted =
      (this.#vote === null || this.#vote === m.from) &&
      this.#isUpToDate(m.lastLogIndex, m.lastLogTerm) &&
      (this.#currentRole === 'follower' || this.#currentRole === 'precandidate');
    if (granted) {
      if (this.#currentRole === 'precandidate') this.#becomeFollower(this.#currentTerm, null);
      this.#setHardState(this.#currentTerm, m.from);
      this.#resetElectionTimer();
    }
    this.#send<RequestVoteResponse>({
      type: 'RequestVoteResponse',
      from: this.id,
      to: m.from,
      term: this.#currentTerm,
      voteGranted: granted,
    });
  }

  #onVote(m: RequestVoteResponse): void {
    if (!m.voteGranted || !this.#voters.has(m.from) || (this.#currentRole !== 'candidate' && this.#currentRole !== 'leader')) return;
    this.#votesGranted.add(m.from);
    if (this.#currentRole === 'candidate' && this.#countVoters(this.#votesGranted) >= this.#quorum) this.#becomeLeader();
  }

  /** Becomes a candidate in the next term and asks for votes (`force`: past voters' leader lease). */
  #startElection(force: boolean): void {
    this.#currentRole = 'candidate';
    this.#setHardState(this.#currentTerm + 1, this.id);
    this.#leader = null;
    this.#votesGranted.clear();
    this.#votesGranted.add(this.id);
    this.#resetElectionTimer();
    if (this.#countVoters(this.#votesGranted) >= this.#quorum) return this.#becomeLeader();
    const lastLogIndex = this.#log.lastIndex;
    const lastLogTerm = this.#log.lastTerm;
    for (const to of this.#others) {
      if (this.#voters.has(to)) this.#send<RequestVote>({ type: 'RequestVote', from: this.id, to, term: this.#currentTerm, lastLogIndex, lastLogTerm, force });
    }
  }

  /** Polls the others: would they vote for this node in the next term? Changes no durable state. */
  #startPreVote(): void {
    this.#currentRole = 'precandidate';
    this.#leader = null;
    this.#votesGranted.clear();
    this.#votesGranted.add(this.id);
    this.#resetElectionTimer();
    if (this.#countVoters(this.#votesGranted) >= this.#quorum) return this.#startElection(false);
    const term = this.#currentTerm + 1;
    const lastLogIndex = this.#log.lastIndex;
    const lastLogTerm = this.#log.lastTerm;
    for (const to of this.#others) {
      if (this.#voters.has(to)) this.#send<PreVote>({ type: 'PreVote', from: this.id, to, term, lastLogIndex, lastLogTerm });
    }
  }

  #onPreVote(m: PreVote): void {
    // Thesis §9.6: grant if the sender's log is up to date and no leader was heard from recently.
    const granted =
      m.term > this.#currentTerm &&
      this.#isUpToDate(m.lastLogIndex, m.lastLogTerm) &&
      this.#currentRole !== 'leader' &&
      !this.#heardFromLeader();
    this.#send<PreVoteResponse>({
      type: 'PreVoteResponse',
      from: this.id,
      to: m.from,
      term: granted ? m.term : this.#currentTerm,
      voteGranted: granted,
    });
  }

  #onPreVoteResponse(m: PreVoteResponse): void {
    // A refusal from a voter in a later term: catch up with it (as a follower, without a leader).
    if (!m.voteGranted && m.term > this.#currentTerm) return this.#becomeFollower(m.term, null);
    if (!m.voteGranted || !this.#voters.has(m.from) || this.#currentRole !== 'precandidate' || m.term !== this.#currentTerm + 1) return;
    this.#votesGranted.add(m.from);
    if (this.#countVoters(this.#votesGranted) >= this.#quorum) this.#startElection(false);
  }

  #isUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    return lastLogTerm > this.#log.lastTerm || (lastLogTerm === this.#log.lastTerm && lastLogIndex >= this.#log.lastIndex);
  }

  /** A leader was heard from within the minimum election timeout. */
  #heardFromLeader(): boolean {
    // A node that just started may have answered a leader before a crash: it keeps that
    // leader's lease (refusing timeout-driven votes) for a minimum election timeout after boot.
    return (this.#leader !== null || this.#justStarted) && this.#electionElapsed < this.#electionTimeout[0];
  }

  /** Check-quorum: did a majority (this leader included) answer since the last check? Resets the marks. */
  #quorumActive(): boolean {
    let active = this.#voters.has(this.id) ? 1 : 0;
    for (const [id, pr] of this.#progress) {
      if (pr.recentActive && this.#voters.has(id)) active++;
      pr.recentActive = false;
    }
    return active >= this.#quorum;
  }

  #becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.#currentTerm) {
      this.#setHardState(term, null);
      this.#votesGranted.clear();
    }
    // Figure 2: only the leader's messages and granted votes restart a follower's election timer,
    // so a candidate with a stale log cannot hold off elections by raising the term. A leader
    // stepping down starts a fresh timeout (it had none running).
    if (this.#currentRole === 'leader') this.#resetElectionTimer();
    this.#currentRole = 'follower';
    this.#leader = leader;
    this.#progress.clear();
    this.#replicationDue = false;
    this.#commitDueAt = Infinity;
    this.#transferee = null;
    this.#failReads();
  }

  #becomeLeader(): void {
    this.#currentRole = 'leader';
    this.#leader = this.id;
    this.#heartbeatElapsed = 0;
    this.#electionElapsed = 0; // the leader's clock for check-quorum rounds
    this.#leaderClock = 0;
    this.#roundSentAt.fill(-Infinity);
    this.#forwardedIds.clear();
    this.#transferTried = false;
    this.#syncProgress(); // (none yet: only a leader has progress)
    // A no-op from the new term lets the leader commit everything before it (Figure 8).
    this.#log.push({ index: this.#log.lastIndex + 1, term: this.#currentTerm, kind: 'noop' });
    this.#replicationDue = true;
  }

  // ── Replication (follower side) ──────────────────────────────────────────────────────────

  /** A message only the leader of this term sends arrived: follow it, and its lease restarts. */
  #followLeader(leader: NodeId): void {
    if (this.#currentRole !== 'follower') this.#becomeFollower(this.#currentTerm, leader);
    this.#leader = leader;
    this.#justStarted = false;
    this.#electionElapsed = 0;
  }

  #onAppendEntries(m: AppendEntries): void {
    this.#followLeader(m.from);
    const entries = m.entries;
    const matched = m.prevLogIndex + entries.length;
    // Entries up to this node's snapshot are committed, so they match the leader's: skip them.
    let i = Math.max(0, Math.min(entries.length, this.#log.snapshotIndex - m.prevLogIndex));
    const prevIndex = m.prevLogIndex + i;
    if (prevIndex < this.#log.snapshotIndex) return this.#respondAppend(m, true, matched, 0, 0); // all of it is in the snapshot
    const prevTerm = this.#log.term(prevIndex);
    if (prevTerm === undefined) return this.#respondAppend(m, false, m.prevLogIndex, this.#log.lastIndex + 1, 0);
    if (prevTerm !== (i === 0 ? m.prevLogTerm : (entries[i - 1] as LogEntry).term)) {
      if (i > 0) return; // contradicts a committed entry: only a faulty peer does that
      return this.#respondAppend(m, false, m.prevLogIndex, this.#log.firstIndexOfTerm(prevTerm, m.prevLogIndex), prevTerm);
    }
    // Skip entries we already hold; truncate only at a real conflict, so a stale or duplicated
    // message can never remove entries that match.
    for (; i < entries.length; i++) {
      const entry = entries[i] as LogEntry;
      const existing = this.#log.term(entry.index);
      if (existing === undefined) break;
      if (existing !== entry.term) {
        // Only a faulty or hostile peer contradicts a committed entry: refuse it, change nothing.
        if (entry.index <= this.#commit) return;
        this.#log.truncateFrom(entry.index);
        if (this.#configIndex >= entry.index) this.#recomputeMembership(); // the membership it set is gone
        break;
      }
    }
    if (i < entries.length) this.#appendToLog(i === 0 ? entries : entries.slice(i));
    const commit = Math.min(m.leaderCommit, matched);
    if (commit > this.#commit) this.#commit = commit;
    this.#respondAppend(m, true, matched, 0, 0);
  }

  #respondAppend(m: AppendEntries, success: boolean, index: number, conflictIndex: number, conflictTerm: number): void {
    // Echo the read round: it tells the leader we still followed it when the round began.
    // (Every field always present: one object shape keeps the hot path fast.)
    this.#send<AppendEntriesResponse>({
      type: 'AppendEntriesResponse',
      from: this.id,
      to: m.from,
      term: this.#currentTerm,
      success,
      index,
      conflictIndex,
      conflictTerm,
      round: m.round ?? 0,
    });
  }

  // ── Replication (leader side) ────────────────────────────────────────────────────────────

  #onAppendResponse(m: AppendEntriesResponse): void {
    if (this.#currentRole !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    // A round this leader never issued (an echo meant for an earlier incarnation) confirms nothing.
    if (m.round !== undefined && m.round > pr.answeredRound && m.round <= this.#readRound) {
      pr.answeredRound = m.round;
      if (this.#readRounds.length > 0) this.#ackReads(m.from, m.round);
    }
    if (m.success) {
      if (!this.#matched(pr, m.index)) return;
      if (pr.state === 'snapshot') return; // an answer to an append sent before the snapshot: wait for the snapshot
      if (pr.state === 'probe') {
        // The follower's position is found: pipeline from just after what it holds.
        pr.state = 'replicate';
        pr.next = pr.match + 1;
        pr.inflight.length = 0;
      } else {
        if (pr.next <= m.index) pr.next = m.index + 1;
        let acked = 0;
        while (acked < pr.inflight.length && (pr.inflight[acked] as number) <= m.index) acked++;
        if (acked > 0) pr.inflight.splice(0, acked);
      }
      pr.paused = false;
      if (pr.next <= this.#log.lastIndex) this.#replicationDue = true;
      else if (this.#commitNews(pr)) this.#markCommitDue();
      if (m.from === this.#transferee && pr.match === this.#log.lastIndex) this.#sendTimeoutNow(m.from);
      return;
    }
    // A rejection: ignore it when it answers a message we have moved past.
    if (m.index <= pr.match || pr.state === 'snapshot' || (pr.state === 'probe' && m.index !== pr.next - 1)) return;
    let next = m.conflictIndex;
    if (m.conflictTerm > 0) {
      const last = this.#log.lastIndexOfTerm(m.conflictTerm, m.index);
      if (last > 0) next = last + 1;
    }
    this.#becomeProbe(pr, Math.max(pr.match + 1, Math.min(next, m.index)));
    this.#replicationDue = true;
  }

  /**
   * The follower holds everything through `index`: count it towards commitment. False when that
   * made this leader step down (its own removal committed): nothing more to do as leader.
   */
  #matched(pr: Progress, index: number): boolean {
    if (index > pr.match) {
      pr.match = index;
      this.#maybeCommit();
    }
    return this.#currentRole === 'leader';
  }

  #becomeProbe(pr: Progress, next: number): void {
    pr.state = 'probe';
    pr.snapshot = null;
    pr.next = next;
    pr.paused = false;
    pr.inflight.length = 0;
  }

  /** Sends every follower what it is missing, within its flow-control window. */
  #replicate(): void {
    // A new read round needs every follower to answer something sent from now on.
    const readRound = this.#readRoundOpen;
    this.#readRoundOpen = false;
    for (const id of this.#others) {
      const pr = this.#progress.get(id) as Progress;
      let sent = false;
      while (this.#sendAppend(id, pr)) sent = true;
      if (!sent && pr.state !== 'snapshot' && (readRound || this.#commitNews(pr))) this.#sendCommit(id, pr);
    }
    this.#commitDueAt = Infinity; // every follower that can take it has now been told the commit index
  }

  /** Sends the next batch of entries to one follower if flow control allows; false when it did not. */
  #sendAppend(to: NodeId, pr: Progress): boolean {
    if (pr.next <= this.#log.snapshotIndex || pr.state === 'snapshot') return this.#sendSnapshot(to, pr);
    if (pr.next > this.#log.lastIndex) return false;
    if (pr.state === 'probe' ? pr.paused : pr.inflight.length >= this.#maxInflight) return false;
    const last = Math.min(this.#log.lastIndex, pr.next + this.#maxEntriesPerMessage - 1);
    this.#sendAppendFrom(to, pr, pr.next - 1, this.#log.slice(pr.next, last));
    if (pr.state === 'replicate') {
      pr.next = last + 1;
      pr.inflight.push(last);
    } else {
      pr.paused = true;
    }
    return true;
  }

  #markCommitDue(): void {
    if (this.#commitDueAt === Infinity) this.#commitDueAt = this.#leaderClock + COMMIT_DELAY_MS;
  }

  /** Whether the follower could commit more than it was last told (given what it is known to hold). */
  #commitNews(pr: Progress): boolean {
    return Math.min(this.#commit, pr.match) > pr.sentCommit;
  }

  /**
   * An empty AppendEntries after what the follower is known to hold: carries commit, never
   * rejected (unless what it holds was compacted here: then it starts at the snapshot).
   */
  #sendCommit(to: NodeId, pr: Progress): void {
    this.#sendAppendFrom(to, pr, Math.max(pr.match, this.#log.snapshotIndex), []);
  }

  #sendAppendFrom(to: NodeId, pr: Progress, prevLogIndex: number, entries: readonly LogEntry[]): void {
    this.#send<AppendEntries>({
      type: 'AppendEntries',
      from: this.id,
      to,
      term: this.#currentTerm,
      prevLogIndex,
      prevLogTerm: this.#log.term(prevLogIndex) as number,
      entries,
      leaderCommit: this.#commit,
      round: this.#readRound,
    });
    // The follower commits no further than the message lets it check its log: send again later if short.
    pr.sentCommit = Math.min(this.#commit, prevLogIndex + entries.length);
  }

  #heartbeat(): void {
    // Each heartbeat starts a round too, so a majority's answers keep the lease fresh.
    if (this.#checkQuorum) {
      this.#nextRound();
      this.#readRoundOpen = false;
    }
    for (const id of this.#others) {
      const pr = this.#progress.get(id) as Progress;
      if (pr.state === 'snapshot') {
        // Send the current chunk again: it may be lost, and the follower must hear from its
        // leader every interval. (A duplicate is answered with where to resume.)
        pr.paused = false;
        this.#sendAppend(id, pr);
        continue;
      }
      const oldest = pr.inflight[0] ?? 0;
      if (pr.state === 'replicate' && oldest > 0 && oldest === pr.oldestInflightAtHeartbeat) {
        // Unacknowledged for a whole interval: presume it lost and find the follower's position again.
        this.#becomeProbe(pr, pr.match + 1);
      }
      pr.oldestInflightAtHeartbeat = pr.inflight[0] ?? 0;
      if (pr.state === 'probe') {
        // Probing: (re)send from next; an empty probe still checks the follower's log position.
        pr.paused = false;
        if (!this.#sendAppend(id, pr)) {
          this.#sendAppendFrom(id, pr, pr.next - 1, []);
          pr.paused = true;
        }
      } else if (!this.#sendAppend(id, pr)) {
        this.#sendCommit(id, pr);
      }
    }
  }

  /** Commits the highest index a majority holds, if it is from this term (Figure 8). */
  #maybeCommit(): void {
    const candidate = this.#quorumValue(this.#log.persistedIndex, matchOf);
    if (candidate > this.#commit && this.#log.term(candidate) === this.#currentTerm) {
      this.#commit = candidate;
      this.#markCommitDue();
      // Now the commit index is this term's: reads that waited for it can start.
      for (const request of this.#readsBeforeCommit.splice(0)) this.#leaderRead(request);
      // Thesis §4.2.2: a leader that removed itself leads until that change commits, then hands
      // over to the most up-to-date voter at once (no election timeout lost) and steps down.
      if (!this.#voters.has(this.id) && this.#commit >= this.#configIndex) {
        const successor = this.#mostUpToDateFollower();
        if (successor !== undefined) this.#sendTimeoutNow(successor);
        this.#becomeFollower(this.#currentTerm, null);
      }
    }
  }

  // ── Helpers ──────────────────────────────────────────────────────────────────────────────

  #rejectStale(m: Message): void {
    // Answer stale requests so an old leader or candidate learns the newer term and steps down.
    if (m.type === 'AppendEntries') {
      // round 0: an answer to an old term's message must not confirm anyone's read round.
      this.#respondAppend({ ...m, round: 0 }, false, m.prevLogIndex, 0, 0);
    } else if (m.type === 'InstallSnapshot') {
      this.#answerSnapshot(m, 0, false);
    } else if (m.type === 'Propose') {
      this.#answerForward(m, 0, 'unknown'); // it may have led that term and appended a copy then
    } else if (m.type === 'ReadIndex') {
      this.#settleRead(m, 0, false);
    } else if (m.type === 'RequestVote') {
      this.#send<RequestVoteResponse>({
        type: 'RequestVoteResponse',
        from: this.id,
        to: m.from,
        term: this.#currentTerm,
        voteGranted: false,
      });
    }
  }

  /**
   * Whether this node may campaign: it is a voter, or its removal is not committed yet (a leader
   * that crashed while removing itself must be able to finish the change: it then counts only
   * the new voters, and steps down once the change commits).
   */
  #promotable(): boolean {
    return this.#voters.has(this.id) || (this.#configIndex > this.#commit && this.#membershipAt(this.#commit).voters.includes(this.id));
  }

  /** How many of `ids` are voters. */
  #countVoters(ids: Iterable<NodeId>): number {
    let count = 0;
    for (const id of ids) if (this.#voters.has(id)) count++;
    return count;
  }

  /** The highest value a majority of voters has reached: this node's is `own`, each follower's is `of` its progress. */
  #quorumValue(own: number, of: (pr: Progress) => number): number {
    // On every acknowledgement: no allocation, and an insertion sort (clusters are small).
    const values = this.#scratch;
    let n = 0;
    if (this.#voters.has(this.id)) values[n++] = own;
    for (const pr of this.#progress.values()) if (pr.voter) values[n++] = of(pr);
    for (let i = 1; i < n; i++) {
      const value = values[i] as number;
      let j = i - 1;
      for (; j >= 0 && (values[j] as number) < value; j--) values[j + 1] = values[j] as number;
      values[j + 1] = value;
    }
    return n >= this.#quorum ? (values[this.#quorum - 1] as number) : 0;
  }

  #setHardState(term: number, votedFor: NodeId | null): void {
    this.#currentTerm = term;
    this.#vote = votedFor;
    this.#hardStateDirty = true;
  }

  #resetElectionTimer(): void {
    this.#electionElapsed = 0;
    this.#randomizedElectionTimeout = this.#random.int(this.#electionTimeout[0], this.#electionTimeout[1]);
  }

  #send<M extends Message>(message: M): void {
    this.#outbox.push(message);
  }
}

/** Throws a RangeError unless the timings can work: whole ms, heartbeats well inside the election timeout. */
export function validateTimings(election: readonly [number, number] = DEFAULT_ELECTION_TIMEOUT, heartbeat = 50): void {
  const [min, max] = Array.isArray(election) ? election : [NaN, NaN];
  if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min > 0 && max >= min)) {
    throw new RangeError(`electionTimeoutMs must be [min, max], whole ms, 0 < min ≤ max; got ${JSON.stringify(election)}`);
  }
  if (!(Number.isFinite(heartbeat) && heartbeat > 0 && heartbeat < min)) {
    throw new RangeError(`heartbeatIntervalMs must be > 0 and below the minimum election timeout (${min}), got ${heartbeat}`);
  }
}
