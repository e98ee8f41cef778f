import type { SessionTag } from './sessions.js';
import type { LogEntry, Membership, NodeId } from './types.js';

/**
 * RequestVote (Raft Figure 2): a candidate asks for a vote in `term`.
 *
 * @example
 * ```ts
 * import type { RequestVote } from 'raftkit';
 * const m: RequestVote = { type: 'RequestVote', from: '1', to: '2', term: 2, lastLogIndex: 5, lastLogTerm: 1 };
 * ```
 */
export interface RequestVote {
  /** Discriminates the message kind. */
  readonly type: 'RequestVote';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The sender's current term. */
  readonly term: number;
  /** The index of the candidate's last log entry. */
  readonly lastLogIndex: number;
  /** The term of the candidate's last log entry. */
  readonly lastLogTerm: number;
  /**
   * Set when the election was asked for (`campaign()`, leadership transfer) rather than caused
   * by a timeout: voters then grant it even while they still hear from a leader.
   */
  readonly force?: boolean;
}

/**
 * PreVote (thesis §9.6): "would you vote for me in `term`?" asked before a real election, so a
 * node that cannot win (stale log, or cut off from a healthy leader) never raises the term.
 * Nobody changes state on a PreVote.
 *
 * @example
 * ```ts
 * import type { PreVote } from 'raftkit';
 * const m: PreVote = { type: 'PreVote', from: '3', to: '1', term: 5, lastLogIndex: 9, lastLogTerm: 4 };
 * ```
 */
export interface PreVote {
  /** Discriminates the message kind. */
  readonly type: 'PreVote';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The term the sender would campaign in (its own term + 1). */
  readonly term: number;
  /** The index of the sender's last log entry. */
  readonly lastLogIndex: number;
  /** The term of the sender's last log entry. */
  readonly lastLogTerm: number;
}

/**
 * The answer to a {@link PreVote}. Granted: `term` is the term asked about. Refused: `term` is
 * the voter's own term, so a sender that is behind catches up.
 *
 * @example
 * ```ts
 * import type { PreVoteResponse } from 'raftkit';
 * const m: PreVoteResponse = { type: 'PreVoteResponse', from: '1', to: '3', term: 5, voteGranted: false };
 * ```
 */
export interface PreVoteResponse {
  /** Discriminates the message kind. */
  readonly type: 'PreVoteResponse';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The term asked about (granted) or the voter's term (refused). */
  readonly term: number;
  /** Whether the pre-vote was granted. */
  readonly voteGranted: boolean;
}

/**
 * The answer to a {@link RequestVote}.
 *
 * @example
 * ```ts
 * import type { RequestVoteResponse } from 'raftkit';
 * const m: RequestVoteResponse = { type: 'RequestVoteResponse', from: '2', to: '1', term: 2, voteGranted: true };
 * ```
 */
export interface RequestVoteResponse {
  /** Discriminates the message kind. */
  readonly type: 'RequestVoteResponse';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The sender's current term. */
  readonly term: number;
  /** Whether the vote was granted. */
  readonly voteGranted: boolean;
}

/**
 * AppendEntries (Raft Figure 2): replicates `entries` after (`prevLogIndex`, `prevLogTerm`) and
 * tells the follower how far the log is committed. With no entries it is a heartbeat.
 *
 * @example
 * ```ts
 * import type { AppendEntries } from 'raftkit';
 * const heartbeat: AppendEntries = {
 *   type: 'AppendEntries', from: '1', to: '2', term: 2, prevLogIndex: 5, prevLogTerm: 1, entries: [], leaderCommit: 5,
 * };
 * ```
 */
export interface AppendEntries {
  /** Discriminates the message kind. */
  readonly type: 'AppendEntries';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The sender's current term. */
  readonly term: number;
  /** The index of the entry just before `entries`. */
  readonly prevLogIndex: number;
  /** The term of that entry. */
  readonly prevLogTerm: number;
  /** Entries to append, from `prevLogIndex + 1` (empty for a heartbeat). */
  readonly entries: readonly LogEntry[];
  /** The leader's commit index. */
  readonly leaderCommit: number;
  /** The leader's latest read round (ReadIndex), echoed back so it can confirm its leadership. */
  readonly round?: number;
}

/**
 * The answer to an {@link AppendEntries}. On success, `index` is the last index now known to match
 * the leader's log. On failure, `index` is the rejected `prevLogIndex`, and (`conflictTerm`,
 * `conflictIndex`) let the leader skip back a whole term at a time (0 when the follower's log
 * is simply too short; then `conflictIndex` is its last index + 1).
 *
 * @example
 * ```ts
 * import type { AppendEntriesResponse } from 'raftkit';
 * const ok: AppendEntriesResponse = {
 *   type: 'AppendEntriesResponse', from: '2', to: '1', term: 2, success: true, index: 7, conflictIndex: 0, conflictTerm: 0,
 * };
 * ```
 */
export interface AppendEntriesResponse {
  /** Discriminates the message kind. */
  readonly type: 'AppendEntriesResponse';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The sender's current term. */
  readonly term: number;
  /** Whether the entries were accepted. */
  readonly success: boolean;
  /** On success, the last index known to match; on failure, the rejected `prevLogIndex`. */
  readonly index: number;
  /** On failure, where the leader should retry from (0 on success). */
  readonly conflictIndex: number;
  /** On failure, the term of the follower's conflicting entry, or 0 (0 on success). */
  readonly conflictTerm: number;
  /** The read round of the AppendEntries this answers, if it had one. */
  readonly round?: number;
}

/**
 * TimeoutNow (thesis §3.10): the leader, handing over leadership, tells an up-to-date follower to
 * campaign at once (a forced election).
 *
 * @example
 * ```ts
 * import type { TimeoutNow } from 'raftkit';
 * const m: TimeoutNow = { type: 'TimeoutNow', from: '1', to: '2', term: 3 };
 * ```
 */
export interface TimeoutNow {
  /** Discriminates the message kind. */
  readonly type: 'TimeoutNow';
  /** The sender (the leader). */
  readonly from: NodeId;
  /** The receiver (the transfer's target). */
  readonly to: NodeId;
  /** The leader's term. */
  readonly term: number;
}

/**
 * ReadIndex (thesis §6.4): a follower asks the leader for an index that is safe to read at.
 *
 * @example
 * ```ts
 * import type { ReadIndex } from 'raftkit';
 * const m: ReadIndex = { type: 'ReadIndex', from: '2', to: '1', term: 3, id: 7 };
 * ```
 */
export interface ReadIndex {
  /** Discriminates the message kind. */
  readonly type: 'ReadIndex';
  /** The follower asking. */
  readonly from: NodeId;
  /** The leader. */
  readonly to: NodeId;
  /** The follower's term. */
  readonly term: number;
  /** The follower's id for this read. */
  readonly id: number;
}

/**
 * The answer to a {@link ReadIndex}: once the leader confirmed it still leads, the commit index
 * at the time of the request (`ok`), or a refusal (`ok: false`, index 0).
 *
 * @example
 * ```ts
 * import type { ReadIndexResponse } from 'raftkit';
 * const m: ReadIndexResponse = { type: 'ReadIndexResponse', from: '1', to: '2', term: 3, id: 7, index: 42, ok: true };
 * ```
 */
export interface ReadIndexResponse {
  /** Discriminates the message kind. */
  readonly type: 'ReadIndexResponse';
  /** The leader. */
  readonly from: NodeId;
  /** The follower that asked. */
  readonly to: NodeId;
  /** The leader's term. */
  readonly term: number;
  /** The follower's id for this read. */
  readonly id: number;
  /** The index to read at, once applied. */
  readonly index: number;
  /** False when the leader could not serve the read (it is no longer leading). */
  readonly ok: boolean;
}

/**
 * A proposal a follower forwards to its leader (option `forwardProposals`): a command (made in a
 * client session when `session` is set), or, with `kind: 'session'`, the opening of a session.
 *
 * @example
 * ```ts
 * import type { Propose } from 'raftkit';
 * const m: Propose = { type: 'Propose', from: '2', to: '1', term: 3, id: 9, command: { op: 'incr' }, session: { id: 4, seq: 1, ack: 1 } };
 * ```
 */
export interface Propose {
  /** Discriminates the message kind. */
  readonly type: 'Propose';
  /** The follower forwarding it. */
  readonly from: NodeId;
  /** The leader. */
  readonly to: NodeId;
  /** The follower's term: only the leader of exactly this term appends it. */
  readonly term: number;
  /** The follower's id for this request (unique to the follower's incarnation). */
  readonly id: number;
  /** `'session'`: open a client session rather than propose a command. */
  readonly kind?: 'session';
  /** The user's command (absent when opening a session). */
  readonly command?: unknown;
  /** The client session the command is made in. */
  readonly session?: SessionTag;
  /** When opening a session: how long it lives without a command (ms of log time). */
  readonly timeoutMs?: number;
}

/**
 * What became of a forwarded proposal: `appended` at (`index`, `term`) in the leader's log (it
 * may still be lost to another leader, which the entry's term at that index then shows);
 * `refused`, for certain: no copy of the request was or will ever be appended; `unknown`: a copy
 * may have been appended, or may be later.
 *
 * @example
 * ```ts
 * import type { ProposeOutcome } from 'raftkit';
 * const retryable: ProposeOutcome[] = ['unknown'];
 * ```
 */
export type ProposeOutcome = 'appended' | 'refused' | 'unknown';

/**
 * The leader's answer to a {@link Propose}. A refusal is definitive: the receiver never led the
 * request's term (so no copy of it was appended, or ever will be). When the receiver cannot
 * know, it answers `unknown`.
 *
 * @example
 * ```ts
 * import type { ProposeResponse } from 'raftkit';
 * const m: ProposeResponse = { type: 'ProposeResponse', from: '1', to: '2', term: 3, id: 9, index: 57, outcome: 'appended' };
 * ```
 */
export interface ProposeResponse {
  /** Discriminates the message kind. */
  readonly type: 'ProposeResponse';
  /** The leader. */
  readonly from: NodeId;
  /** The follower. */
  readonly to: NodeId;
  /** The leader's term, also the entry's term when appended. */
  readonly term: number;
  /** The follower's id for this request. */
  readonly id: number;
  /** The entry's index when appended (0 otherwise). */
  readonly index: number;
  /** What became of the request. */
  readonly outcome: ProposeOutcome;
}

/**
 * InstallSnapshot (thesis §5, Figure 5.3): the leader sends a follower the snapshot that replaced
 * the entries it is missing, one chunk at a time; `offset` is where `data` starts in the whole.
 *
 * @example
 * ```ts
 * import type { InstallSnapshot } from 'raftkit';
 * const m: InstallSnapshot = {
 *   type: 'InstallSnapshot', from: '1', to: '3', term: 4, index: 10_000, lastTerm: 3,
 *   membership: { voters: ['1', '2', '3'], learners: [] }, offset: 0, data: '[["x",1]]', done: true,
 * };
 * ```
 */
export interface InstallSnapshot {
  /** Discriminates the message kind. */
  readonly type: 'InstallSnapshot';
  /** The sender (the leader). */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The leader's term. */
  readonly term: number;
  /** The last log index the snapshot includes. */
  readonly index: number;
  /** The term of that entry. */
  readonly lastTerm: number;
  /** The membership at `index`. */
  readonly membership: Membership;
  /** Where this chunk starts in the snapshot's data. */
  readonly offset: number;
  /** This chunk of the snapshot's data. */
  readonly data: string;
  /** Whether this is the last chunk. */
  readonly done: boolean;
}

/**
 * The answer to an {@link InstallSnapshot}: how much of the snapshot at `index` the follower holds
 * (`offset`: where the next chunk should start), and whether it installed the snapshot.
 *
 * @example
 * ```ts
 * import type { InstallSnapshotResponse } from 'raftkit';
 * const m: InstallSnapshotResponse = { type: 'InstallSnapshotResponse', from: '3', to: '1', term: 4, index: 10_000, offset: 65_536, done: false };
 * ```
 */
export interface InstallSnapshotResponse {
  /** Discriminates the message kind. */
  readonly type: 'InstallSnapshotResponse';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver (the leader). */
  readonly to: NodeId;
  /** The sender's current term. */
  readonly term: number;
  /** The snapshot's last index. */
  readonly index: number;
  /** Where the next chunk should start. */
  readonly offset: number;
  /** Whether the snapshot is installed (the follower's log now continues from `index`). */
  readonly done: boolean;
}

/**
 * Every message Raft nodes exchange: plain, immutable, JSON-serialisable objects.
 *
 * @example
 * ```ts
 * import type { Message } from 'raftkit';
 * function describe(m: Message): string { return `${m.type} ${m.from}→${m.to} term ${m.term}`; }
 * ```
 */
export type Message =
  | Propose
  | ProposeResponse
  | ReadIndex
  | ReadIndexResponse
  | RequestVote
  | RequestVoteResponse
  | PreVote
  | PreVoteResponse
  | AppendEntries
  | AppendEntriesResponse
  | TimeoutNow
  | InstallSnapshot
  | InstallSnapshotResponse;

/**
 * The `type` of each {@link Message}.
 *
 * @example
 * ```ts
 * import type { MessageType } from 'raftkit';
 * const electionTraffic: MessageType[] = ['PreVote', 'PreVoteResponse', 'RequestVote', 'RequestVoteResponse'];
 * ```
 */
export type MessageType = Message['type'];

/**
 * Limits applied when validating untrusted messages.
 *
 * @example
 * ```ts
 * import { validateMessage, type ValidationLimits } from 'raftkit';
 * const limits: ValidationLimits = { maxEntries: 1024 };
 * validateMessage({ type: 'TimeoutNow', from: '1', to: '2', term: 3 }, limits); // the message, now typed
 * ```
 */
export interface ValidationLimits {
  /** The most entries one AppendEntries may carry. */
  readonly maxEntries: number;
  /** The most characters of snapshot data one InstallSnapshot may carry (default: no limit). */
  readonly maxSnapshotChunk?: number;
}

/** Keys that only a hostile sender puts in a message: they could rewrite prototypes downstream. */
const hasOwn = Object.prototype.hasOwnProperty;
const hostileKey = (o: object): boolean => hasOwn.call(o, '__proto__') || hasOwn.call(o, 'constructor') || hasOwn.call(o, 'prototype');

const isIndex = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0; // (false for non-numbers)
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;

/**
 * Checks that `raw` (untrusted: it came from a transport) is a well-formed {@link Message}.
 * Returns the message typed, or a string saying what is wrong. Never throws (even on proxies or
 * throwing getters), never mutates. Messages with own `__proto__`, `constructor` or `prototype`
 * keys (top level or in an entry) are rejected; user commands inside entries are not inspected.
 *
 * @example
 * ```ts
 * import { validateMessage } from 'raftkit';
 * const result = validateMessage(JSON.parse('{"type":"RequestVote","term":-1}'), { maxEntries: 1000 });
 * if (typeof result === 'string') console.log('dropped:', result);
 * ```
 */
export function validateMessage(raw: unknown, limits: ValidationLimits): Message | string {
  try {
    return check(raw, limits);
  } catch {
    return 'message could not be read';
  }
}

function check(raw: unknown, limits: ValidationLimits): Message | string {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return 'message is not an object';
  if (hostileKey(raw)) return 'message has a __proto__, constructor or prototype key';
  const m = raw as Record<string, unknown>;
  if (!isId(m.from) || !isId(m.to)) return 'from/to must be non-empty strings';
  if (!isIndex(m.term)) return 'term must be a non-negative safe integer';
  switch (m.type) {
    case 'RequestVote':
    case 'PreVote':
      if (!isIndex(m.lastLogIndex) || !isIndex(m.lastLogTerm)) return `${m.type}: bad lastLogIndex/lastLogTerm`;
      if (m.lastLogTerm > m.term) return `${m.type}: lastLogTerm is after term`;
      if (m.force !== undefined && (m.type === 'PreVote' || typeof m.force !== 'boolean')) return `${m.type}: bad force`;
      return raw as RequestVote | PreVote;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      if (typeof m.voteGranted !== 'boolean') return `${m.type}: voteGranted must be boolean`;
      return raw as RequestVoteResponse | PreVoteResponse;
    case 'TimeoutNow':
      return raw as TimeoutNow;
    case 'ReadIndex':
      return isIndex(m.id) ? (raw as ReadIndex) : 'ReadIndex: bad id';
    case 'Propose':
      if (!isIndex(m.id)) return 'Propose: bad id';
      if (m.kind === 'session') return isTimeout(m.timeoutMs) ? (raw as Propose) : 'Propose: bad session timeoutMs';
      if (m.kind !== undefined || !hasOwn.call(m, 'command')) return 'Propose: bad kind, or no command';
      return m.session === undefined || isSessionTag(m.session) ? (raw as Propose) : 'Propose: bad session';
    case 'ProposeResponse':
      if (!isIndex(m.id) || !isIndex(m.index) || (m.outcome !== 'appended' && m.outcome !== 'refused' && m.outcome !== 'unknown')) {
        return 'ProposeResponse: bad id/index/outcome';
      }
      return raw as ProposeResponse;
    case 'ReadIndexResponse':
      if (!isIndex(m.id) || !isIndex(m.index) || typeof m.ok !== 'boolean') return `${m.type}: bad id/index/ok`;
      return raw as ReadIndexResponse;
    case 'AppendEntriesResponse':
      if (typeof m.success !== 'boolean') return 'AppendEntriesResponse: success must be boolean';
      if (!isIndex(m.index) || !isIndex(m.conflictIndex) || !isIndex(m.conflictTerm)) {
        return 'AppendEntriesResponse: bad index/conflictIndex/conflictTerm';
      }
      if (m.round !== undefined && !isIndex(m.round)) return 'AppendEntriesResponse: bad round';
      return raw as AppendEntriesResponse;
    case 'AppendEntries':
      return validateAppendEntries(m, limits) ?? (raw as AppendEntries);
    case 'InstallSnapshot':
      if (!isIndex(m.index) || !isIndex(m.lastTerm) || !isIndex(m.offset) || m.index === 0) return 'InstallSnapshot: bad index/lastTerm/offset';
      if (m.lastTerm > (m.term as number)) return 'InstallSnapshot: lastTerm is after term';
      if (typeof m.data !== 'string' || typeof m.done !== 'boolean') return 'InstallSnapshot: bad data/done';
      if (m.data.length > (limits.maxSnapshotChunk ?? Infinity)) return `InstallSnapshot: more than ${limits.maxSnapshotChunk} characters of data`;
      if (!isMembership(m.membership)) return 'InstallSnapshot: bad membership';
      return raw as InstallSnapshot;
    case 'InstallSnapshotResponse':
      if (!isIndex(m.index) || !isIndex(m.offset) || typeof m.done !== 'boolean') return 'InstallSnapshotResponse: bad index/offset/done';
      return raw as InstallSnapshotResponse;
    default:
      return 'unknown message type';
  }
}

function validateAppendEntries(m: Record<string, unknown>, limits: ValidationLimits): string | undefined {
  const { term, prevLogIndex, prevLogTerm, leaderCommit, entries } = m;
  if (!isIndex(prevLogIndex) || !isIndex(prevLogTerm) || !isIndex(leaderCommit)) {
    return 'AppendEntries: bad prevLogIndex/prevLogTerm/leaderCommit';
  }
  if (prevLogTerm > (term as number)) return 'AppendEntries: prevLogTerm is after term';
  if (m.round !== undefined && !isIndex(m.round)) return 'AppendEntries: bad round';
  if (!Array.isArray(entries)) return 'AppendEntries: entries must be an array';
  if (entries.length > limits.maxEntries) return `AppendEntries: more than ${limits.maxEntries} entries`;
  // Entries must continue from prevLogIndex with consecutive indexes and non-decreasing terms
  // no later than the message's term: anything else could corrupt the log.
  let previousTerm = prevLogTerm;
  for (let i = 0; i < entries.length; i++) {
    const e: unknown = entries[i];
    if (typeof e !== 'object' || e === null) return 'AppendEntries: entry is not an object';
    if (hostileKey(e)) return 'AppendEntries: entry has a __proto__, constructor or prototype key';
    const entry = e as Record<string, unknown>;
    if (entry.index !== prevLogIndex + i + 1) return 'AppendEntries: entry indexes are not consecutive';
    if (!isIndex(entry.term) || entry.term < previousTerm || entry.term > (term as number) || entry.term === 0) {
      return 'AppendEntries: bad entry term';
    }
    if (entry.kind === 'command') {
      if (entry.session !== undefined && !(isSessionTag(entry.session) && isTime(entry.time))) return 'AppendEntries: bad session or time on a command';
    } else if (entry.kind === 'config') {
      if (!isMembership(entry.membership)) return 'AppendEntries: bad membership in a config entry';
    } else if (entry.kind === 'session') {
      if (!isTime(entry.time) || !isTimeout(entry.timeoutMs)) return 'AppendEntries: bad time or timeoutMs on a session entry';
    } else if (entry.kind !== 'noop') return 'AppendEntries: bad entry kind';
    previousTerm = entry.term;
  }
  return undefined;
}

const isTime = (v: unknown): v is number => typeof v === 'number' && v >= 0 && v < Infinity;
const isTimeout = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) > 0;

/** Throws a RangeError unless `tag` is a well-formed {@link SessionTag} (peers would refuse an entry carrying a malformed one). */
export function assertSessionTag(tag: unknown): asserts tag is SessionTag {
  if (!isSessionTag(tag)) throw new RangeError(`a session tag is { id, seq, ack }, positive integers with ack ≤ seq; got ${JSON.stringify(tag)}`);
}

/** A session id (a log index), a sequence number from 1, and an ack from 1 to it: a well-formed {@link SessionTag}. */
function isSessionTag(v: unknown): v is SessionTag {
  if (typeof v !== 'object' || v === null || hostileKey(v)) return false;
  const { id, seq, ack } = v as Record<string, unknown>;
  return isIndex(id) && id > 0 && isIndex(seq) && seq > 0 && isIndex(ack) && ack > 0 && ack <= seq;
}

/** At least one voter; ids unique, voters and learners disjoint. */
function isMembership(v: unknown): v is Membership {
  if (typeof v !== 'object' || v === null || hostileKey(v)) return false;
  const { voters, learners } = v as Record<string, unknown>;
  if (!Array.isArray(voters) || !Array.isArray(learners) || voters.length === 0) return false;
  if (voters.length + learners.length > 10_000 || !voters.every(isId) || !learners.every(isId)) return false;
  return new Set([...voters, ...learners]).size === voters.length + learners.length;
}
