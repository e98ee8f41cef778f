/**
 * Client sessions (thesis §6.3): what makes a retried or duplicated command take effect once.
 *
 * A client opens a session with a `session` entry in the log; the session's id is that entry's
 * index, so no two sessions ever share an id. Each command the client proposes in the session
 * carries a {@link SessionTag}: the session, a sequence number, and the lowest sequence number
 * the client still waits on. Every node keeps the same {@link SessionTable}, built only from
 * committed entries (and snapshots), so every node agrees on which copy of a command took
 * effect: the first one in the log. Later copies are answered with its result.
 */
import { ApplyError, RaftError } from './errors.js';
import type { LogEntry, LogPosition, NodeId } from './types.js';

/**
 * Marks a command proposed in a client session: the session, the command's sequence number
 * (from 1, unique in the session) and `ack`: every command numbered below it has had its
 * answer, so the cluster may forget those results.
 *
 * @example
 * ```ts
 * import type { SessionTag } from 'raftkit';
 * const tag: SessionTag = { id: 7, seq: 3, ack: 2 }; // session 7's third command; its first was answered
 * ```
 */
export interface SessionTag {
  /** The session: the index of the log entry that opened it. */
  readonly id: number;
  /** The command's sequence number in the session, from 1. */
  readonly seq: number;
  /** The lowest sequence number the client has not yet had an answer for (at most `seq`). */
  readonly ack: number;
}

/**
 * The client side of a session: hands out sequence numbers and tracks which commands still wait
 * for an answer. Reuse a tag, unchanged, to retry its command (on any node, after any failure):
 * the cluster applies it at most once and answers every copy with the first result.
 *
 * @example
 * ```ts
 * import { Cluster, ClientSession } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const session: ClientSession = await cluster.runUntilSettled(leader.openSession());
 * const tag = session.next(); // { id: 2, seq: 1, ack: 1 }
 * const first = await cluster.runUntilSettled(leader.propose('x', { session: tag }));
 * const again = await cluster.runUntilSettled(leader.propose('x', { session: tag })); // a retry
 * session.done(tag.seq);
 * console.log(first.index === again.index); // true: applied once, at the first copy
 * ```
 */
export class ClientSession {
  /** The session's id (the index of the entry that opened it). */
  readonly id: number;
  #next = 1;
  /** Sequence numbers handed out and not yet done, in increasing order (a Set keeps insertion order). */
  readonly #waiting = new Set<number>();

  constructor(id: number) {
    if (!Number.isSafeInteger(id) || id < 1) throw new RangeError(`ClientSession: id must be a log index ≥ 1, got ${String(id)}`);
    this.id = id;
  }

  /** The tag for a new command: the next sequence number. */
  next(): SessionTag {
    const seq = this.#next++;
    this.#waiting.add(seq);
    return { id: this.id, seq, ack: this.#waiting.values().next().value as number };
  }

  /** The command numbered `seq` has its answer (or the client gave up on it): the cluster may forget its result. */
  done(seq: number): void {
    this.#waiting.delete(seq);
  }
}

/** What the table says of a command made in a session, before it is applied. */
export type SessionVerdict =
  /** The command's first copy in the log: apply it, then {@link SessionTable.record} the result. */
  | { readonly kind: 'apply' }
  /** A later copy: do not apply it; answer with the first copy's outcome. */
  | { readonly kind: 'duplicate'; readonly response: SessionResponse }
  /** The session expired (or never existed): the command is not applied. */
  | { readonly kind: 'expired' }
  /** The client already had its answer, which the table forgot: the command is not applied. */
  | { readonly kind: 'answered' };

/** The outcome of a command's first copy: where it took effect, and its result (or the failure). */
export interface SessionResponse {
  readonly index: number;
  readonly term: number;
  /** The state machine's result as JSON text (undefined: it had none), or the failure's message. */
  readonly result: string | undefined;
  readonly failed: boolean;
}

interface Session {
  readonly term: number;
  readonly timeoutMs: number;
  /** Log time of its latest command (or of its opening). */
  lastActive: number;
  /** Every sequence number below this was answered to the client: forgotten, and never applied again. */
  lowest: number;
  readonly responses: Map<number, SessionResponse>;
}

/** The most sessions a table keeps: opening one more forgets the least recently used. */
export const MAX_SESSIONS = 10_000;

/** The default lifetime of a session without commands, in ms of log time: one hour. */
export const DEFAULT_SESSION_TIMEOUT_MS = 3_600_000;

/**
 * The replicated record of client sessions, built from committed entries alone: the same on
 * every node, whatever order of restarts and snapshots it went through.
 *
 * Log time is the latest leader timestamp seen on a session entry (never going back). A session
 * expires once log time passes its last command by its timeout; expiry is decided when a command
 * of the session is applied, so it is deterministic.
 */
export class SessionTable {
  #time = 0;
  /** Least recently used first (an entry is re-inserted on use). */
  readonly #sessions = new Map<number, Session>();

  /** The log time: the latest timestamp of a session entry applied. */
  get time(): number {
    return this.#time;
  }

  /** How many sessions the table holds (expired ones are dropped when a session opens). */
  get size(): number {
    return this.#sessions.size;
  }

  /** Applies a `session` entry: opens the session whose id is its index. */
  open(entry: LogEntry): void {
    this.#advance(entry.time);
    // Opening is rare: drop expired sessions now, and the least recently used beyond the bound.
    for (const [id, session] of this.#sessions) if (this.#expired(session)) this.#sessions.delete(id);
    while (this.#sessions.size >= MAX_SESSIONS) this.#sessions.delete(this.#sessions.keys().next().value as number);
    const timeoutMs = entry.timeoutMs ?? DEFAULT_SESSION_TIMEOUT_MS;
    this.#sessions.set(entry.index, { term: entry.term, timeoutMs, lastActive: this.#time, lowest: 1, responses: new Map() });
  }

  /** Whether the session `id` is open and was opened by an entry of `term` (a client checks its own). */
  opened(id: number, term: number): boolean {
    const session = this.#sessions.get(id);
    return session !== undefined && session.term === term && !this.#expired(session);
  }

  /** Whether the table holds session `id` (expired or not). */
  has(id: number): boolean {
    return this.#sessions.has(id);
  }

  /** Decides what applying a command entry made in a session does (and notes the session's activity). */
  check(entry: LogEntry): SessionVerdict {
    const tag = entry.session as SessionTag;
    this.#advance(entry.time);
    const session = this.#sessions.get(tag.id);
    if (session === undefined || this.#expired(session)) {
      this.#sessions.delete(tag.id);
      return EXPIRED;
    }
    session.lastActive = this.#time;
    this.#sessions.delete(tag.id); // most recently used: to the end
    this.#sessions.set(tag.id, session);
    if (tag.ack > session.lowest) {
      for (const seq of session.responses.keys()) if (seq < tag.ack) session.responses.delete(seq);
      session.lowest = tag.ack;
    }
    const response = session.responses.get(tag.seq);
    if (response !== undefined) return { kind: 'duplicate', response };
    return tag.seq < session.lowest ? ANSWERED : APPLY;
  }

  /** Records the outcome of a command's first copy (after {@link check} said to apply it). */
  record(entry: LogEntry, result: unknown, failure: Error | undefined): void {
    const tag = entry.session as SessionTag;
    const response: SessionResponse = {
      index: entry.index,
      term: entry.term,
      // The failure's own cause (not its wording on this node), so every node records the same.
      result: failure === undefined ? jsonOrUndefined(result) : causeOf(failure),
      failed: failure !== undefined,
    };
    this.#sessions.get(tag.id)?.responses.set(tag.seq, response);
  }

  /** The first copy's outcome of command `seq` in session `id`, if the table holds it. */
  response(id: number, seq: number): SessionResponse | undefined {
    return this.#sessions.get(id)?.responses.get(seq);
  }

  /** The table as JSON text (for a snapshot). */
  toJSON(): string {
    const sessions = [...this.#sessions].map(([id, s]) => [id, s.term, s.timeoutMs, s.lastActive, s.lowest, [...s.responses].map(([seq, r]) => [seq, r.index, r.term, r.result ?? null, r.failed])]);
    return JSON.stringify([this.#time, sessions]);
  }

  /** A table from {@link toJSON}'s text; throws a TypeError when it is not one. */
  static fromJSON(text: string): SessionTable {
    const table = new SessionTable();
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed) || typeof parsed[0] !== 'number' || !Array.isArray(parsed[1])) throw new TypeError('not a session table');
    table.#time = parsed[0];
    for (const [id, term, timeoutMs, lastActive, lowest, responses] of parsed[1] as [number, number, number, number, number, [number, number, number, string | null, boolean][]][]) {
      const map = new Map<number, SessionResponse>();
      for (const [seq, index, rterm, result, failed] of responses) map.set(seq, { index, term: rterm, result: result ?? undefined, failed });
      table.#sessions.set(id, { term, timeoutMs, lastActive, lowest, responses: map });
    }
    return table;
  }

  #advance(time: number | undefined): void {
    if (time !== undefined && time > this.#time) this.#time = time;
  }

  #expired(session: Session): boolean {
    return this.#time - session.lastActive > session.timeoutMs;
  }
}

const APPLY: SessionVerdict = { kind: 'apply' };
const EXPIRED: SessionVerdict = { kind: 'expired' };
const ANSWERED: SessionVerdict = { kind: 'answered' };

/** What a failure says, by the error that caused it (an ApplyError wraps what the state machine threw). */
function causeOf(failure: Error): string {
  const cause: unknown = failure.cause ?? failure;
  return cause instanceof Error ? cause.message : String(cause);
}

/** How a remembered response answers a later copy of its command on node `node`: [failure, where it took effect and its result]. */
export function answerOf(node: NodeId, response: SessionResponse): [Error | undefined, LogPosition & { result: unknown }] {
  const at = { index: response.index, term: response.term };
  if (response.failed) return [new ApplyError(node, response.index, new Error(response.result)), { ...at, result: undefined }];
  return [undefined, { ...at, result: response.result === undefined ? undefined : JSON.parse(response.result) }];
}

/** The error for a command whose client already had its answer (the table forgot its result). */
export function alreadyAnswered(node: NodeId, tag: SessionTag): RaftError {
  return new RaftError('OUTCOME_UNKNOWN', `node ${node}: command ${tag.seq} of session ${tag.id} was answered before; its result is forgotten`);
}

/** A result's JSON text, or undefined when it has none (undefined, a function, a BigInt, a cycle). */
function jsonOrUndefined(value: unknown): string | undefined {
  try {
    return JSON.stringify(value) as string | undefined;
  } catch {
    return undefined;
  }
}

/**
 * What RaftNode stores as a snapshot's data: the session table, then the state machine's own
 * snapshot, as `<length of the table's JSON>:<the table's JSON><the state machine's data>`.
 */
export function packSnapshot(sessions: SessionTable, data: string): string {
  const table = sessions.toJSON();
  return `${table.length}:${table}${data}`;
}

/** Splits what {@link packSnapshot} made; throws a TypeError for anything else. */
export function unpackSnapshot(packed: string): { sessions: SessionTable; data: string } {
  const colon = packed.indexOf(':');
  const length = colon > 0 && colon <= 16 ? Number(packed.slice(0, colon)) : NaN;
  if (!Number.isSafeInteger(length) || colon + 1 + length > packed.length) throw new TypeError('not a RaftNode snapshot (no session table)');
  const end = colon + 1 + length;
  return { sessions: SessionTable.fromJSON(packed.slice(colon + 1, end)), data: packed.slice(end) };
}
