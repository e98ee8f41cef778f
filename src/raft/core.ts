/**
 * The role machine of Raft: follower, pre-candidate, candidate and leader, and how each answers
 * its inputs. The rest lives beside it: progress (what a leader knows of each follower), quorum
 * (majorities), membership (changes as pure functions), reads (ReadIndex rounds and the lease),
 * forwarded proposals, snapshot transfer (chunks), and the options, Ready and status records.
 *
 * Reading order: state, inputs, step, ready/advance, election, replication, commit, then the
 * leader's reads and the membership in force.
 */
import { MembershipError, NotLeaderError, TransferError } from './errors.js';
import { answerForwarded, proposeResponse, type ForwardedIds } from './forwarded.js';
import { RaftLog } from './log.js';
import { withinBytes } from './entry-bytes.js';
import { changed, configEntryAt, configOf, membershipOf, type Config, type MembershipChange } from './membership.js';
import { assertSessionTag } from './messages.js';
import type { AppendEntries, AppendEntriesResponse, InstallSnapshot, InstallSnapshotResponse, Message, PreVote, PreVoteResponse, Propose, ReadIndex, ReadIndexResponse, RequestVote, RequestVoteResponse, TimeoutNow } from './messages.js';
import { settingsOf, type RaftCoreOptions, type Settings } from './options.js';
import { acknowledge, backUpTo, becomeProbe, becomeReplicate, becomeSnapshot, isPaused, mostUpToDate, pipelineStalled, sentAppend, syncProgress, type Progress } from './progress.js';
import { countVoters, majorityValue, quorumActive } from './quorum.js';
import { confirmRounds, joinRound, leaseHolds, newReads, nextRound, takeWaiting, type ReadRequest, type Reads } from './reads.js';
import type { ForwardState, ReadState, Ready } from './ready.js';
import type { SessionTag } from './sessions.js';
import { chunkMessage, receiveChunk, type IncomingSnapshot } from './snapshot-transfer.js';
import { statusOf, type RaftStatus } from './status.js';
import type { LogEntry, LogPosition, Membership, NodeId, Role, Snapshot } from './types.js';

/** How long (ms) a leader holds back a message that would only carry a new commit index, hoping to send it with entries. */
const COMMIT_DELAY_MS = 1;

const matchOf = (pr: Progress): number => pr.match;
const answeredRoundOf = (pr: Progress): number => pr.answeredRound;

/** The last element, if any. (`xs[xs.length - 1]` on an empty array reads index -1: V8's slow path, ~10× slower.) */
function lastOf<T>(xs: readonly T[]): T | undefined {
  return xs.length === 0 ? undefined : xs[xs.length - 1];
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
 * const core = new RaftCore({ id: '1', peers: ['2', '3'], random: new SeededRandom(7) });
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
  readonly #settings: Settings;
  readonly #log: RaftLog;

  // Durable state (Figure 2), persisted through the Ready's hardState.
  #term: number;
  #votedFor: NodeId | null;
  #hardStateDirty = false;

  // Volatile state.
  #role: Role = 'follower';
  #leaderId: NodeId | null = null;
  #commitIndex = 0;
  /** The highest index handed out for applying (in a Ready). */
  #applying = 0;
  /** The highest index the driver confirmed applied. */
  #lastApplied = 0;
  readonly #votesGranted = new Set<NodeId>();
  /** Until a minimum election timeout has passed since start (or a leader is heard): see heardFromLeader. */
  #justStarted = true;

  // Membership: the one in force, and what the core looks up from it (set by #setMembership).
  #config!: Config;
  readonly #initialMembership: Membership;

  // Snapshots.
  /** The latest snapshot (taken here or received), kept to send to followers that need it. */
  #latestSnapshot: Snapshot | null = null;
  /** A snapshot not yet handed to storage. */
  #unstableSnapshot: Snapshot | null = null;
  /** A snapshot arriving from the leader in chunks. */
  #incoming: IncomingSnapshot | null = null;

  // Time.
  #electionElapsed = 0;
  #randomizedElectionTimeout = 0;
  #heartbeatElapsed = 0;
  /** The start time plus everything elapsed: the leader's clock for session entries. */
  #clock: number;
  /** Leader: time led (the clock of its lease and its read rounds). */
  #leaderClock = 0;

  // Leader only.
  readonly #progress = new Map<NodeId, Progress>();
  /** Scratch space for #quorumValue. */
  readonly #scratch: number[] = [];
  readonly #reads: Reads = newReads();
  /** A TimeoutNow went out this term, so an election may be forced at any time: no lease. */
  #transferTried = false;
  /** The node leadership is being handed to, and for how long (ms) it has been tried. */
  #transferee: NodeId | null = null;
  #transferElapsed = 0;
  /** The ids of proposals each follower forwarded in this term, and where they landed. */
  readonly #forwardedIds: ForwardedIds = new Map();
  /** Appends may be due: sent when the next Ready is taken, so proposals batch. */
  #replicationDue = false;
  /**
   * When (on the leader's clock) followers that have yet to learn a new commit index are told
   * it on their own; Infinity when none is due. Meanwhile it rides on any append: under load
   * this saves a message to every follower per commit.
   */
  #commitDueAt = Infinity;

  // Outputs for the next Ready.
  #outbox: Message[] = [];
  #readStates: ReadState[] = [];
  #forwardStates: ForwardState[] = [];

  constructor(options: RaftCoreOptions) {
    this.id = options.id;
    this.#settings = settingsOf(options);
    this.#clock = options.now ?? 0;
    if (!Number.isFinite(this.#clock)) throw new RangeError(`now must be a finite number, got ${this.#clock}`);
    this.#initialMembership = membershipOf(options.join === true ? [] : [options.id, ...options.peers]);
    const initial = options.initialState;
    this.#term = initial?.hardState.term ?? 0;
    this.#votedFor = initial?.hardState.votedFor ?? null;
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
      this.#commitIndex = this.#applying = this.#lastApplied = snapshot.index;
    }
    this.#recomputeMembership();
    this.#resetElectionTimer();
  }

  // ── State ─────────────────────────────────────────────────────────────────────────────────

  /** The other members (voters and learners) of the membership in force. */
  get peers(): readonly NodeId[] { return this.#config.peers; }
  /** The membership in force: the latest in the log (committed or not), else the snapshot's, else the initial one. */
  get membership(): Membership { return this.#config.membership; }
  /** The last index its latest snapshot covers (0 when none): the log holds entries after it. */
  get snapshotIndex(): number { return this.#log.snapshotIndex; }
  /** The latest snapshot this node took or received, or null. */
  get snapshot(): Snapshot | null { return this.#latestSnapshot; }
  /** Follower, candidate or leader. */
  get role(): Role { return this.#role; }
  /** The current term. */
  get term(): number { return this.#term; }
  /** Whom this node voted for in the current term, or null. */
  get votedFor(): NodeId | null { return this.#votedFor; }
  /** The leader of the current term, as far as this node knows, or null. */
  get leaderId(): NodeId | null { return this.#leaderId; }
  /** The highest log index known to be committed. */
  get commitIndex(): number { return this.#commitIndex; }
  /** The highest log index the driver confirmed applied (through {@link advance} or {@link appliedThrough}). */
  get lastApplied(): number { return this.#lastApplied; }
  /** The highest log index storage confirmed durable here. */
  get persistedIndex(): number { return this.#log.persistedIndex; }
  /** The index of the last log entry (0 when the log is empty). */
  get lastLogIndex(): number { return this.#log.lastIndex; }
  /** The term of the last log entry (0 when the log is empty). */
  get lastLogTerm(): number { return this.#log.lastTerm; }
  /** Votes granted to this node in the current term, itself included. */
  get votes(): number { return this.#votesGranted.size; }
  /** The node this leader is handing leadership to, or null. */
  get transferTarget(): NodeId | null { return this.#transferee; }

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
    if (this.#role !== 'leader') return Math.max(0, this.#randomizedElectionTimeout - this.#electionElapsed);
    if (this.#commitDueAt !== Infinity) return Math.max(0, this.#commitDueAt - this.#leaderClock);
    // The next heartbeat, or the next quorum check if that comes first.
    return Math.max(
      0,
      Math.min(this.#settings.heartbeatIntervalMs - this.#heartbeatElapsed, this.#settings.checkQuorum ? this.#settings.electionTimeoutMs[0] - this.#electionElapsed : Infinity),
    );
  }

  /** A plain, JSON-serialisable snapshot of this node's state. */
  status(): RaftStatus {
    return statusOf(this, this.#config.membershipIndex, this.#progress);
  }

  // ── Inputs ────────────────────────────────────────────────────────────────────────────────

  /**
   * Lets `ms` milliseconds pass: may fire a heartbeat or a quorum check (leader), or an election
   * (others: a pre-vote first when `preVote` is on).
   */
  elapse(ms: number): void {
    if (!(ms >= 0)) throw new RangeError(`elapse: ms must be ≥ 0, got ${ms}`);
    this.#clock += ms;
    this.#electionElapsed += ms;
    if (this.#role === 'leader') {
      this.#leaderClock += ms;
      if (this.#leaderClock >= this.#commitDueAt) {
        this.#commitDueAt = Infinity;
        this.#replicationDue = true; // tell the followers that still lack the commit index
      }
      if (this.#transferee !== null) {
        this.#transferElapsed += ms;
        // The target did not take over within an election timeout: give up, serve again.
        if (this.#transferElapsed >= this.#settings.electionTimeoutMs[1]) this.#transferee = null;
      }
      if (this.#settings.checkQuorum && this.#electionElapsed >= this.#settings.electionTimeoutMs[0]) {
        this.#electionElapsed = 0;
        // Cut off from a majority: stop serving.
        if (!quorumActive(this.#progress, this.#config.voters, this.#config.quorum, this.id)) return this.#becomeFollower(this.#term, null);
      }
      this.#heartbeatElapsed += ms;
      if (this.#heartbeatElapsed >= this.#settings.heartbeatIntervalMs) {
        this.#heartbeatElapsed = 0;
        this.#heartbeat();
      }
    } else {
      if (this.#electionElapsed >= this.#settings.electionTimeoutMs[0]) this.#justStarted = false;
      if (this.#electionElapsed >= this.#randomizedElectionTimeout) {
        if (!this.#promotable()) this.#resetElectionTimer(); // learners and outsiders never campaign
        else if (this.#settings.preVote) this.#startPreVote();
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
    if (this.#role === 'leader' || !this.#promotable()) return;
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
    const term = this.#term;
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
    this.#log.push({ index, term: this.#term, kind: 'session', time: this.#clock, timeoutMs });
    this.#replicationDue = true;
    return { index, term: this.#term };
  }

  /**
   * Leader only: appends a membership change to the log; it is in force on each node as soon as
   * that node holds the entry. One change at a time: throws {@link MembershipError}
   * (`CHANGE_IN_PROGRESS`) until the previous one is committed, and until this leader has
   * committed an entry of its own term (the fix to single-server changes in the thesis errata);
   * `INVALID_CHANGE` when the change does not fit the membership. Returns the entry's position.
   */
  changeMembership(change: MembershipChange): LogPosition {
    this.#assertAppendable();
    const membership = changed(this.#config.membership, change);
    if (this.#config.membershipIndex > this.#commitIndex) {
      throw new MembershipError('CHANGE_IN_PROGRESS', `node ${this.id}: the membership change at index ${this.#config.membershipIndex} is not committed yet`);
    }
    if (this.#log.term(this.#commitIndex) !== this.#term) {
      throw new MembershipError('CHANGE_IN_PROGRESS', `node ${this.id} has not yet committed an entry of its term ${this.#term}`);
    }
    const entry: LogEntry = { index: this.#log.lastIndex + 1, term: this.#term, kind: 'config', membership };
    this.#appendToLog([entry]);
    this.#replicationDue = true;
    return { index: entry.index, term: entry.term };
  }

  /**
   * Replaces the log through `index` (at most {@link lastApplied}) with `data`, a snapshot of
   * the state machine taken when it had applied exactly through `index`. The snapshot comes out
   * in the next Ready for storage; followers that need the dropped entries are sent it instead.
   * Does nothing when the log is already compacted that far.
   */
  compact(index: number, data: string): void {
    if (!Number.isSafeInteger(index) || index > this.#lastApplied) {
      throw new RangeError(`compact: index must be an applied index (≤ ${this.#lastApplied}), got ${index}`);
    }
    if (typeof data !== 'string') throw new TypeError('compact: snapshot data must be a string');
    if (index <= this.#log.snapshotIndex) return;
    const snapshot: Snapshot = { index, term: this.#log.term(index) as number, membership: this.#membershipAt(index), data };
    this.#log.compact(index);
    this.#latestSnapshot = this.#unstableSnapshot = snapshot;
  }

  /**
   * Leader only: hands leadership to `to` (default: the most up-to-date follower). Proposals are
   * refused meanwhile; the target is brought up to date, then told to campaign at once
   * (TimeoutNow). Gives up after a maximum election timeout. Returns the target.
   */
  transferLeadership(to?: NodeId): NodeId {
    if (this.#role !== 'leader') throw new NotLeaderError(this.id, this.#leaderId);
    const target = to ?? mostUpToDate(this.#progress, this.#config.voters);
    if (target === undefined || !this.#progress.has(target) || !this.#config.voters.has(target)) {
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

  /**
   * Asks for a linearizable read (ReadIndex, thesis §6.4) under the caller's `id`. The answer
   * comes in a later Ready's `reads`: read the state machine once it has applied the given
   * index. A leader confirms it still leads with one round of heartbeats (after committing an
   * entry of its term); a follower asks its leader. Throws {@link NotLeaderError} when no leader
   * is known.
   */
  read(id: number, options?: { lease?: boolean }): void {
    if (this.#role === 'leader') {
      // A lease read skips the heartbeat round while a majority is known to follow this leader.
      if (options?.lease === true && this.#leaseValid() && this.#log.term(this.#commitIndex) === this.#term) {
        return this.#settleRead({ id, from: this.id }, this.#commitIndex, true);
      }
      return this.#leaderRead({ id, from: this.id });
    }
    this.#send<ReadIndex>({ type: 'ReadIndex', from: this.id, to: this.#leaderToAsk(), term: this.#term, id });
  }

  /**
   * Follower: sends `command` (made in a client session when `session` is given) to the leader to
   * be proposed there, under the caller's `id`, unique to this incarnation; the answer comes in
   * a later Ready's `forwarded`. Throws {@link NotLeaderError} when no leader is known (and on
   * the leader itself: use {@link propose}).
   */
  forward(id: number, command: unknown, session?: SessionTag): void {
    const to = this.#leaderToAsk();
    const term = this.#term;
    this.#send<Propose>(session === undefined ? { type: 'Propose', from: this.id, to, term, id, command } : { type: 'Propose', from: this.id, to, term, id, command, session });
  }

  /** Follower: asks the leader to open a client session ({@link openSession}), under the caller's `id`; answered like {@link forward}. */
  forwardOpenSession(id: number, timeoutMs: number): void {
    this.#send<Propose>({ type: 'Propose', from: this.id, to: this.#leaderToAsk(), term: this.#term, id, kind: 'session', timeoutMs });
  }

  /** Throws unless this node is a leader that takes new entries (it is not handing over). */
  #assertAppendable(): void {
    if (this.#role !== 'leader') throw new NotLeaderError(this.id, this.#leaderId);
    if (this.#transferee !== null) {
      throw new TransferError('TRANSFER_IN_PROGRESS', `node ${this.id} is handing leadership to ${this.#transferee}`, this.#transferee);
    }
  }

  /** A follower's leader, to send a request to; throws NotLeaderError when there is none (or this node does not follow). */
  #leaderToAsk(): NodeId {
    if (this.#role !== 'follower' || this.#leaderId === null) throw new NotLeaderError(this.id, this.#leaderId);
    return this.#leaderId;
  }

  // ── Step ──────────────────────────────────────────────────────────────────────────────────

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
      message.term > this.#term &&
      message.force !== true &&
      this.#settings.checkQuorum &&
      (this.#role === 'leader' || this.#heardFromLeader())
    ) {
      return;
    }
    if (message.term > this.#term) {
      // Only a leader sends AppendEntries and TimeoutNow: a newer one names the new leader.
      const fromLeader = message.type === 'AppendEntries' || message.type === 'InstallSnapshot' || message.type === 'TimeoutNow';
      this.#becomeFollower(message.term, fromLeader ? message.from : null);
    } else if (message.term < this.#term) {
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
        return this.#send(answerForwarded(this, this.#forwardedIds, message));
      case 'ProposeResponse':
        this.#forwardStates.push({ id: message.id, index: message.index, term: message.term, outcome: message.outcome });
        return;
      case 'ReadIndex':
        // A leader keeps the request until its round ends: a copy, not the message, which the sender owns.
        if (this.#role === 'leader') this.#leaderRead({ id: message.id, from: message.from });
        else this.#settleRead(message, 0, false);
        return;
      case 'ReadIndexResponse':
        this.#readStates.push({ id: message.id, index: message.index, ok: message.ok });
        return;
      case 'TimeoutNow':
        // Our leader hands over (only a follower has a leader other than itself): campaign at once, past everyone's lease.
        if (message.from === this.#leaderId && this.#promotable()) this.#startElection(true);
    }
  }

  #rejectStale(m: Message): void {
    // Answer stale requests so an old leader or candidate learns the newer term and steps down.
    if (m.type === 'AppendEntries') {
      // round 0: an answer to an old term's message must not confirm anyone's read round.
      this.#respondAppend({ ...m, round: 0 }, false, m.prevLogIndex, 0, 0);
    } else if (m.type === 'InstallSnapshot') {
      this.#answerSnapshot(m, 0, false);
    } else if (m.type === 'Propose') {
      this.#send(proposeResponse(this.id, this.#term, m, 0, 'unknown')); // it may have led that term and appended a copy then
    } else if (m.type === 'ReadIndex') {
      this.#settleRead(m, 0, false);
    } else if (m.type === 'RequestVote') {
      this.#send<RequestVoteResponse>({ type: 'RequestVoteResponse', from: this.id, to: m.from, term: this.#term, voteGranted: false });
    }
  }

  // ── Ready and advance ─────────────────────────────────────────────────────────────────────

  /** Whether {@link ready} has anything to persist, send or apply. */
  hasReady(): boolean {
    return (
      this.#hardStateDirty ||
      this.#unstableSnapshot !== null ||
      this.#outbox.length > 0 ||
      this.#readStates.length > 0 ||
      this.#forwardStates.length > 0 ||
      this.#log.hasUnstable() ||
      this.#commitIndex > this.#applying ||
      this.#replicationDue
    );
  }

  /** Takes the pending outputs. Call {@link advance} with the result before the next `ready()`. */
  ready(): Ready {
    if (this.#replicationDue) {
      this.#replicationDue = false;
      this.#replicate();
    }
    const hardState = this.#hardStateDirty ? { term: this.#term, votedFor: this.#votedFor } : null;
    this.#hardStateDirty = false;
    const committed = this.#commitIndex > this.#applying ? this.#log.slice(this.#applying + 1, this.#commitIndex) : [];
    this.#applying = this.#commitIndex;
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

  /** Confirms a Ready's `committed` applied through `index` before the Ready is advanced (they were durable here already). */
  appliedThrough(index: number): void {
    if (index > this.#applying) throw new RangeError(`appliedThrough: ${index} was not handed out for applying (through ${this.#applying})`);
    if (index > this.#lastApplied) this.#lastApplied = index;
  }

  /** Confirms a Ready was persisted, sent and applied. */
  advance(ready: Ready): void {
    // A snapshot from the leader was restored into the state machine: it is applied through there.
    if (ready.snapshot !== null && ready.snapshot.index > this.#lastApplied) this.#lastApplied = ready.snapshot.index;
    const lastEntry = lastOf(ready.entries);
    if (lastEntry !== undefined) {
      this.#log.markPersisted(lastEntry.index);
      // The leader's own copy counts towards commitment only once it is durable.
      if (this.#role === 'leader') this.#maybeCommit();
    }
    const lastApplied = lastOf(ready.committed);
    if (lastApplied !== undefined && lastApplied.index > this.#lastApplied) this.#lastApplied = lastApplied.index;
  }

  // ── Election ──────────────────────────────────────────────────────────────────────────────

  #onRequestVote(m: RequestVote): void {
    // Not yet voted for another in this term, and the candidate's log is at least as up to date.
    const granted =
      (this.#votedFor === null || this.#votedFor === m.from) &&
      this.#isUpToDate(m.lastLogIndex, m.lastLogTerm) &&
      (this.#role === 'follower' || this.#role === 'precandidate');
    if (granted) {
      if (this.#role === 'precandidate') this.#becomeFollower(this.#term, null);
      this.#setHardState(this.#term, m.from);
      this.#resetElectionTimer();
    }
    this.#send<RequestVoteResponse>({ type: 'RequestVoteResponse', from: this.id, to: m.from, term: this.#term, voteGranted: granted });
  }

  #onVote(m: RequestVoteResponse): void {
    if (!m.voteGranted || !this.#config.voters.has(m.from) || (this.#role !== 'candidate' && this.#role !== 'leader')) return;
    this.#votesGranted.add(m.from);
    if (this.#role === 'candidate' && countVoters(this.#votesGranted, this.#config.voters) >= this.#config.quorum) this.#becomeLeader();
  }

  /** Becomes a candidate in the next term and asks for votes (`force`: past voters' leader lease). */
  #startElection(force: boolean): void {
    this.#role = 'candidate';
    this.#setHardState(this.#term + 1, this.id);
    this.#leaderId = null;
    this.#votesGranted.clear();
    this.#votesGranted.add(this.id);
    this.#resetElectionTimer();
    if (countVoters(this.#votesGranted, this.#config.voters) >= this.#config.quorum) return this.#becomeLeader();
    const lastLogIndex = this.#log.lastIndex;
    const lastLogTerm = this.#log.lastTerm;
    for (const to of this.#config.peers) {
      if (this.#config.voters.has(to)) this.#send<RequestVote>({ type: 'RequestVote', from: this.id, to, term: this.#term, lastLogIndex, lastLogTerm, force });
    }
  }

  /** Polls the others: would they vote for this node in the next term? Changes no durable state. */
  #startPreVote(): void {
    this.#role = 'precandidate';
    this.#leaderId = null;
    this.#votesGranted.clear();
    this.#votesGranted.add(this.id);
    this.#resetElectionTimer();
    if (countVoters(this.#votesGranted, this.#config.voters) >= this.#config.quorum) return this.#startElection(false);
    const term = this.#term + 1;
    const lastLogIndex = this.#log.lastIndex;
    const lastLogTerm = this.#log.lastTerm;
    for (const to of this.#config.peers) {
      if (this.#config.voters.has(to)) this.#send<PreVote>({ type: 'PreVote', from: this.id, to, term, lastLogIndex, lastLogTerm });
    }
  }

  #onPreVote(m: PreVote): void {
    // Thesis §9.6: grant if the sender's log is up to date and no leader was heard from recently.
    const granted =
      m.term > this.#term &&
      this.#isUpToDate(m.lastLogIndex, m.lastLogTerm) &&
      this.#role !== 'leader' &&
      !this.#heardFromLeader();
    this.#send<PreVoteResponse>({ type: 'PreVoteResponse', from: this.id, to: m.from, term: granted ? m.term : this.#term, voteGranted: granted });
  }

  #onPreVoteResponse(m: PreVoteResponse): void {
    // A refusal from a voter in a later term: catch up with it (as a follower, without a leader).
    if (!m.voteGranted && m.term > this.#term) return this.#becomeFollower(m.term, null);
    if (!m.voteGranted || !this.#config.voters.has(m.from) || this.#role !== 'precandidate' || m.term !== this.#term + 1) return;
    this.#votesGranted.add(m.from);
    if (countVoters(this.#votesGranted, this.#config.voters) >= this.#config.quorum) this.#startElection(false);
  }

  #isUpToDate(lastLogIndex: number, lastLogTerm: number): boolean {
    return lastLogTerm > this.#log.lastTerm || (lastLogTerm === this.#log.lastTerm && lastLogIndex >= this.#log.lastIndex);
  }

  /** A leader was heard from within the minimum election timeout. */
  #heardFromLeader(): boolean {
    // A node that just started may have answered a leader before a crash: it keeps that
    // leader's lease (refusing timeout-driven votes) for a minimum election timeout after boot.
    return (this.#leaderId !== null || this.#justStarted) && this.#electionElapsed < this.#settings.electionTimeoutMs[0];
  }

  /**
   * Whether this node may campaign: it is a voter, or its removal is not committed yet (a leader
   * that crashed while removing itself must be able to finish the change: it then counts only
   * the new voters, and steps down once the change commits).
   */
  #promotable(): boolean {
    return this.#config.voters.has(this.id) || (this.#config.membershipIndex > this.#commitIndex && this.#membershipAt(this.#commitIndex).voters.includes(this.id));
  }

  #becomeFollower(term: number, leader: NodeId | null): void {
    if (term > this.#term) {
      this.#setHardState(term, null);
      this.#votesGranted.clear();
    }
    // Figure 2: only the leader's messages and granted votes restart a follower's election timer,
    // so a candidate with a stale log cannot hold off elections by raising the term. A leader
    // stepping down starts a fresh timeout (it had none running).
    if (this.#role === 'leader') this.#resetElectionTimer();
    this.#role = 'follower';
    this.#leaderId = leader;
    this.#progress.clear();
    this.#replicationDue = false;
    this.#commitDueAt = Infinity;
    this.#transferee = null;
    this.#failReads();
  }

  #becomeLeader(): void {
    this.#role = 'leader';
    this.#leaderId = this.id;
    this.#heartbeatElapsed = 0;
    this.#electionElapsed = 0; // the leader's clock for check-quorum rounds
    this.#leaderClock = 0;
    this.#reads.sentAt.fill(-Infinity);
    this.#forwardedIds.clear();
    this.#transferTried = false;
    syncProgress(this.#progress, this.#config.peers, this.#config.voters, this.#log.lastIndex + 1); // (none yet: only a leader has progress)
    // A no-op from the new term lets the leader commit everything before it (Figure 8).
    this.#log.push({ index: this.#log.lastIndex + 1, term: this.#term, kind: 'noop' });
    this.#replicationDue = true;
  }

  /** A message only the leader of this term sends arrived: follow it, and its lease restarts. */
  #followLeader(leader: NodeId): void {
    if (this.#role !== 'follower') this.#becomeFollower(this.#term, leader);
    this.#leaderId = leader;
    this.#justStarted = false;
    this.#electionElapsed = 0;
  }

  // ── Replication: follower ─────────────────────────────────────────────────────────────────

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
    i = this.#log.firstNotHeld(entries, i);
    const conflict = i < entries.length && this.#log.term((entries[i] as LogEntry).index) !== undefined ? (entries[i] as LogEntry).index : 0;
    if (conflict > 0) {
      // Only a faulty or hostile peer contradicts a committed entry: refuse it, change nothing.
      if (conflict <= this.#commitIndex) return;
      this.#log.truncateFrom(conflict);
      if (this.#config.membershipIndex >= conflict) this.#recomputeMembership(); // the membership it set is gone
    }
    if (i < entries.length) this.#appendToLog(i === 0 ? entries : entries.slice(i));
    const commit = Math.min(m.leaderCommit, matched);
    if (commit > this.#commitIndex) this.#commitIndex = commit;
    this.#respondAppend(m, true, matched, 0, 0);
  }

  #respondAppend(m: AppendEntries, success: boolean, index: number, conflictIndex: number, conflictTerm: number): void {
    // Echo the read round: it tells the leader we still followed it when the round began.
    // (Every field always present: one object shape keeps the hot path fast.)
    this.#send<AppendEntriesResponse>({
      type: 'AppendEntriesResponse',
      from: this.id,
      to: m.from,
      term: this.#term,
      success,
      index,
      conflictIndex,
      conflictTerm,
      round: m.round ?? 0,
    });
  }

  #onInstallSnapshot(m: InstallSnapshot): void {
    this.#followLeader(m.from);
    if (m.index <= this.#commitIndex) {
      // Everything in it is already committed here (so it matches): nothing to install.
      this.#incoming = null;
      return this.#answerSnapshot(m, m.offset + m.data.length, true);
    }
    const received = receiveChunk(this.#incoming, m);
    this.#incoming = received.incoming;
    const snapshot = received.snapshot;
    if (snapshot === null) return this.#answerSnapshot(m, received.resumeAt, false); // more to come, or resume elsewhere
    // Figure 13 (rules 6–7): keep the entries after the snapshot if the log agrees at its index.
    if (this.#log.term(m.index) === m.lastTerm) this.#log.compact(m.index);
    else this.#log.reset(m.index, m.lastTerm);
    this.#latestSnapshot = this.#unstableSnapshot = snapshot;
    this.#commitIndex = this.#applying = m.index; // the driver restores the state machine from it
    this.#recomputeMembership();
    this.#answerSnapshot(m, received.resumeAt, true);
  }

  /** Tells the sender of `m` how much of its snapshot this node holds (`offset`), and whether it is installed. */
  #answerSnapshot(m: InstallSnapshot, offset: number, done: boolean): void {
    this.#send<InstallSnapshotResponse>({ type: 'InstallSnapshotResponse', from: this.id, to: m.from, term: this.#term, index: m.index, offset, done });
  }

  // ── Replication: leader ───────────────────────────────────────────────────────────────────

  /** Sends every follower what it is missing, within its flow-control window. */
  #replicate(): void {
    // A new read round needs every follower to answer something sent from now on.
    const readRound = this.#reads.open;
    this.#reads.open = false;
    for (const id of this.#config.peers) {
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
    if (isPaused(pr, this.#settings.maxInflightMessages)) return false;
    const prev = pr.next - 1;
    const entries = withinBytes(this.#log.slice(pr.next, Math.min(this.#log.lastIndex, prev + this.#settings.maxEntriesPerMessage)), this.#settings.maxBytesPerMessage);
    this.#sendAppendFrom(to, pr, prev, entries);
    sentAppend(pr, prev + entries.length);
    return true;
  }

  /** Sends the next chunk of the snapshot to a follower whose next entry was compacted away. */
  #sendSnapshot(to: NodeId, pr: Progress): boolean {
    if (pr.state !== 'snapshot' || pr.snapshot === null) becomeSnapshot(pr, this.#latestSnapshot as Snapshot);
    if (pr.paused) return false;
    this.#send(chunkMessage(this.id, to, this.#term, pr.snapshot as Snapshot, pr.snapshotOffset, this.#settings.snapshotChunkSize));
    pr.paused = true; // one chunk at a time: the next goes when this one is acknowledged
    return true;
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
      term: this.#term,
      prevLogIndex,
      prevLogTerm: this.#log.term(prevLogIndex) as number,
      entries,
      leaderCommit: this.#commitIndex,
      round: this.#reads.round,
    });
    // The follower commits no further than the message lets it check its log: send again later if short.
    pr.sentCommit = Math.min(this.#commitIndex, prevLogIndex + entries.length);
  }

  /** Whether the follower could commit more than it was last told (given what it is known to hold). */
  #commitNews(pr: Progress): boolean {
    return Math.min(this.#commitIndex, pr.match) > pr.sentCommit;
  }

  #markCommitDue(): void {
    if (this.#commitDueAt === Infinity) this.#commitDueAt = this.#leaderClock + COMMIT_DELAY_MS;
  }

  #heartbeat(): void {
    // Each heartbeat starts a round too, so a majority's answers keep the lease fresh.
    if (this.#settings.checkQuorum) {
      nextRound(this.#reads, this.#leaderClock);
      this.#reads.open = false;
    }
    for (const id of this.#config.peers) {
      const pr = this.#progress.get(id) as Progress;
      if (pr.state === 'snapshot') {
        // Send the current chunk again: it may be lost, and the follower must hear from its
        // leader every interval. (A duplicate is answered with where to resume.)
        pr.paused = false;
        this.#sendAppend(id, pr);
        continue;
      }
      // Unacknowledged for a whole interval: presume it lost and find the follower's position again.
      if (pipelineStalled(pr)) becomeProbe(pr, pr.match + 1);
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

  #onAppendResponse(m: AppendEntriesResponse): void {
    if (this.#role !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    // A round this leader never issued (an echo meant for an earlier incarnation) confirms nothing.
    if (m.round !== undefined && m.round > pr.answeredRound && m.round <= this.#reads.round) {
      pr.answeredRound = m.round;
      if (this.#reads.rounds.length > 0) this.#ackReads(m.from, m.round);
    }
    if (m.success) {
      if (!this.#matched(pr, m.index)) return;
      if (pr.state === 'snapshot') return; // an answer to an append sent before the snapshot: wait for the snapshot
      if (pr.state === 'probe') becomeReplicate(pr); // its position is found
      else acknowledge(pr, m.index);
      if (pr.next <= this.#log.lastIndex) this.#replicationDue = true;
      else if (this.#commitNews(pr)) this.#markCommitDue();
      if (m.from === this.#transferee && pr.match === this.#log.lastIndex) this.#sendTimeoutNow(m.from);
      return;
    }
    // A rejection: ignore it when it answers a message we have moved past.
    if (m.index <= pr.match || pr.state === 'snapshot' || (pr.state === 'probe' && m.index !== pr.next - 1)) return;
    becomeProbe(pr, backUpTo(this.#log, m.index, m.conflictIndex, m.conflictTerm));
    this.#replicationDue = true;
  }

  #onSnapshotResponse(m: InstallSnapshotResponse): void {
    if (this.#role !== 'leader') return;
    const pr = this.#progress.get(m.from);
    if (pr === undefined) return;
    pr.recentActive = true;
    if (pr.state !== 'snapshot' || m.index !== pr.snapshot?.index) return;
    if (m.done) {
      if (!this.#matched(pr, m.index)) return;
      becomeProbe(pr, m.index + 1); // its log continues from the snapshot: find out how far
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

  #sendTimeoutNow(to: NodeId): void {
    this.#transferTried = true; // even a late copy forces an election: the lease is over for this term
    this.#send<TimeoutNow>({ type: 'TimeoutNow', from: this.id, to, term: this.#term });
  }

  // ── Commit ────────────────────────────────────────────────────────────────────────────────

  /**
   * The follower holds everything through `index`: count it towards commitment. False when that
   * made this leader step down (its own removal committed): nothing more to do as leader.
   */
  #matched(pr: Progress, index: number): boolean {
    if (index > pr.match) {
      pr.match = index;
      this.#maybeCommit();
    }
    return this.#role === 'leader';
  }

  /** Commits the highest index a majority holds, if it is from this term (Figure 8). */
  #maybeCommit(): void {
    const candidate = this.#quorumValue(this.#log.persistedIndex, matchOf);
    if (candidate > this.#commitIndex && this.#log.term(candidate) === this.#term) {
      this.#commitIndex = candidate;
      this.#markCommitDue();
      // Now the commit index is this term's: reads that waited for it can start.
      for (const request of this.#reads.beforeCommit.splice(0)) this.#leaderRead(request);
      // Thesis §4.2.2: a leader that removed itself leads until that change commits, then hands
      // over to the most up-to-date voter at once (no election timeout lost) and steps down.
      if (!this.#config.voters.has(this.id) && this.#commitIndex >= this.#config.membershipIndex) {
        const successor = mostUpToDate(this.#progress, this.#config.voters);
        if (successor !== undefined) this.#sendTimeoutNow(successor);
        this.#becomeFollower(this.#term, null);
      }
    }
  }

  /** The highest value a majority of voters has reached: this node's is `own`, each follower's is `of` its progress. */
  #quorumValue(own: number, of: (pr: Progress) => number): number {
    return majorityValue(this.#progress, this.#config.voters, this.#config.quorum, this.id, own, of, this.#scratch);
  }

  // ── Reads ─────────────────────────────────────────────────────────────────────────────────

  #leaderRead(request: ReadRequest): void {
    // The commit index may lag until this term commits.
    if (this.#log.term(this.#commitIndex) !== this.#term) return void this.#reads.beforeCommit.push(request);
    if (this.#config.quorum === 1 && this.#config.voters.has(this.id)) return this.#settleRead(request, this.#commitIndex, true);
    // Requests made before the next heartbeat share one round; each raises its index to now.
    if (joinRound(this.#reads, request, this.#commitIndex, this.id, this.#leaderClock)) this.#replicationDue = true;
  }

  /**
   * Thesis §6.4.1: followers ignore vote requests for a minimum election timeout after hearing
   * from this leader (check-quorum's lease rule), so until then no other leader can exist. A
   * transfer (which forces an election) ends the lease.
   */
  #leaseValid(): boolean {
    if (!this.#settings.checkQuorum || this.#transferTried) return false;
    // The newest round a majority (this leader included) has answered: the lease runs from its send time.
    const answered = this.#quorumValue(this.#reads.round, answeredRoundOf);
    return leaseHolds(this.#reads, answered, this.#leaderClock, this.#settings.leaseMs);
  }

  /** A follower answered an AppendEntries of read round `round` (or later): it still follows us. */
  #ackReads(from: NodeId, round: number): void {
    const done = confirmRounds(this.#reads, from, round, this.#config.voters, this.#config.quorum);
    if (done !== undefined) for (const r of done) for (const request of r.requests) this.#settleRead(request, r.index, true);
  }

  #settleRead(request: ReadRequest, index: number, ok: boolean): void {
    if (request.from === this.id) this.#readStates.push({ id: request.id, index, ok });
    else {
      this.#send<ReadIndexResponse>({ type: 'ReadIndexResponse', from: this.id, to: request.from, term: this.#term, id: request.id, index, ok });
    }
  }

  /** No longer leading: every read waiting here fails (the caller retries with the new leader). */
  #failReads(): void {
    for (const request of takeWaiting(this.#reads)) this.#settleRead(request, 0, false);
  }

  // ── Membership ────────────────────────────────────────────────────────────────────────────

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
    return this.#config.membershipIndex <= index ? this.#config.membership : this.#configAt(index)[0];
  }

  /** The newest config entry at or before `index` and its index; else the snapshot's (or initial) membership, at 0. */
  #configAt(index: number): [Membership, number] {
    return configEntryAt(this.#log, index) ?? [this.#latestSnapshot?.membership ?? this.#initialMembership, 0];
  }

  #setMembership(membership: Membership, index: number): void {
    this.#config = configOf(membership, index, this.id);
    if (this.#role !== 'leader') return;
    syncProgress(this.#progress, this.#config.peers, this.#config.voters, this.#log.lastIndex + 1);
    if (this.#transferee !== null && !this.#config.voters.has(this.#transferee)) this.#transferee = null;
  }

  // ── Helpers ───────────────────────────────────────────────────────────────────────────────

  #setHardState(term: number, votedFor: NodeId | null): void {
    this.#term = term;
    this.#votedFor = votedFor;
    this.#hardStateDirty = true;
  }

  #resetElectionTimer(): void {
    this.#electionElapsed = 0;
    this.#randomizedElectionTimeout = this.#settings.random.int(this.#settings.electionTimeoutMs[0], this.#settings.electionTimeoutMs[1]);
  }

  #send<M extends Message>(message: M): void {
    this.#outbox.push(message);
  }
}
