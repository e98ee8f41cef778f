/**
 * Proposals a follower forwards to its leader, made exactly once by client sessions.
 *
 * Every forwarded command is made in a session (the node's own, opened on first use, or the
 * caller's), so any number of copies of it, sent to any number of leaders, takes effect once:
 * at its first copy in the log. The forwarder therefore resends freely (when the leader changes,
 * or answers that it cannot say), and settles a proposal only when this node applies the command
 * (or a snapshot that holds its result). It says "not applied" only when every copy it sent was
 * definitively refused.
 */
import { NodeStoppedError, NotLeaderError, RaftError, SessionExpiredError, TransferError } from '../raft/errors.js';
import type { RaftCore } from '../raft/core.js';
import type { ForwardState } from '../raft/ready.js';
import { assertSessionTag } from '../raft/messages.js';
import { answerOf, ClientSession, DEFAULT_SESSION_TIMEOUT_MS, type SessionTable, type SessionTag } from '../raft/sessions.js';
import type { LogEntry, LogPosition, NodeId } from '../raft/types.js';
import type { Cancel } from '../runtime/scheduler.js';
import type { NodeHost } from './host.js';

/** What the forwarder needs of its node. */
export interface ForwardingHost extends NodeHost {
  /** A request id unique to this incarnation. */
  requestId(): number;
  /** The node's session table (replaced when a snapshot is restored). */
  sessions(): SessionTable;
  /** Has the node flush what the core now has to send. */
  flush(core: RaftCore): void;
  /** How long to wait before resending a request answered `unknown` (a heartbeat interval). */
  readonly retryMs: number;
  /** How long to wait before resending a request that is not applied yet, whatever was heard (a maximum election timeout). */
  readonly resendMs: number;
}

/** A request to the leader: a command, or the opening of a session. Resent until settled. */
interface Request {
  /** Copies sent, and how many of those were definitively refused. */
  sent: number;
  refused: number;
  retry: Cancel | null;
}

interface ForwardedCommand extends Request {
  readonly kind: 'command';
  readonly command: unknown;
  /** Null while it waits for the node's own session to open. */
  tag: SessionTag | null;
  /** The node's own session (its `done` is called on settling), or null for the caller's. */
  readonly own: ClientSession | null;
  readonly resolve: (value: { index: number; term: number; result: unknown }) => void;
  readonly reject: (error: Error) => void;
  cleanup: () => void;
  settled: boolean;
  /** While it waits for the node's own session to open: what to take back if it gives up first. */
  waiting: { opening: Opening; waiter: Waiter } | null;
}

interface Waiter {
  readonly resolve: (id: number) => void;
  readonly reject: (error: Error) => void;
}

interface Opening extends Request {
  readonly kind: 'open';
  readonly timeoutMs: number;
  /** Where the leader appended it (0 until an answer says so). */
  index: number;
  term: number;
  readonly waiters: Waiter[];
}

type Pending = ForwardedCommand | Opening;

export class Forwarder {
  readonly #host: ForwardingHost;
  /** Requests by the id of each copy sent. */
  readonly #attempts = new Map<number, Pending>();
  /** Commands waiting to be applied, by session and sequence number. */
  readonly #commands = new Map<string, ForwardedCommand>();
  readonly #openings = new Set<Opening>();
  /** The node's own session for forwarding, once open, and when (node clock) it was last used. */
  #session: ClientSession | null = null;
  #sessionUsedAt = 0;
  #ownOpening: Opening | null = null;

  constructor(host: ForwardingHost) {
    this.#host = host;
  }

  /** Whether any request waits (the node then tells the forwarder about applied entries). */
  get busy(): boolean {
    return this.#commands.size > 0 || this.#openings.size > 0;
  }

  /** Forwards `command`, in the caller's session (`tag`) or the node's own; settles once applied here. */
  propose(command: unknown, tag: SessionTag | undefined, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<{ index: number; term: number; result: unknown }> {
    try {
      if (tag !== undefined) assertSessionTag(tag);
    } catch (error) {
      return Promise.reject(error);
    }
    const refusal = this.#cannotForward();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const own = tag === undefined ? this.#ownSession() : null;
      const forward: ForwardedCommand = {
        kind: 'command',
        command,
        tag: tag ?? null,
        own: own instanceof ClientSession ? own : null,
        sent: 0,
        refused: 0,
        retry: null,
        resolve,
        reject,
        cleanup: () => undefined,
        settled: false,
        waiting: null,
      };
      if (forward.own !== null) forward.tag = forward.own.next();
      else if (forward.tag !== null && this.#commands.has(keyOf(forward.tag))) {
        return reject(new RangeError(`node ${this.#host.id}: a command with session tag ${keyOf(forward.tag)} is already waiting here`));
      }
      forward.cleanup = this.#host.guard('forwarded proposal (its outcome is unknown)', timeoutMs, signal, (error) => this.#finish(forward, error));
      if (forward.tag !== null) {
        this.#commands.set(keyOf(forward.tag), forward);
        this.#send(forward);
      } else {
        // The node's session is still opening: send once it is open.
        const waiter: Waiter = { resolve: () => this.#startInOwnSession(forward), reject: (error) => this.#finish(forward, error) };
        forward.waiting = { opening: own as Opening, waiter };
        (own as Opening).waiters.push(waiter);
      }
    });
  }

  /** Opens a client session through the leader; resolves with its id once applied here. */
  openSession(timeoutMs: number, signal: AbortSignal | undefined, waitMs: number | undefined): Promise<number> {
    const refusal = this.#cannotForward();
    if (refusal !== undefined) return Promise.reject(refusal);
    return new Promise((resolve, reject) => {
      const opening = this.#open(timeoutMs);
      let cleanup = (): void => undefined;
      const waiter = {
        resolve: (id: number) => {
          cleanup();
          resolve(id);
        },
        reject: (error: Error) => {
          cleanup();
          reject(error);
        },
      };
      cleanup = this.#host.guard('opening a session', waitMs, signal, (error) => {
        this.#unwait(opening, waiter);
        reject(error);
      });
      opening.waiters.push(waiter);
    });
  }

  /** A Ready's answer to one of this node's requests. */
  answered(state: ForwardState): void {
    const request = this.#attempts.get(state.id);
    if (request === undefined) return;
    this.#attempts.delete(state.id); // each copy of a request is answered alike: the first answer is enough
    if (state.outcome === 'appended') {
      if (request.kind === 'open') {
        request.index = state.index;
        request.term = state.term;
        // Applied here before the answer came: the table knows whether it was this entry.
        if (state.index <= this.#host.core().lastApplied) this.#checkOpening(request);
      }
      return; // now wait for it to be applied (resent meanwhile, in case it is lost)
    }
    if (state.outcome === 'refused') request.refused++;
    // Every copy sent was refused for certain: nothing was appended.
    if (request.refused === request.sent) return this.#fail(request, new NotLeaderError(this.#host.id, this.#host.core().leaderId));
    this.#resendIn(request, this.#host.retryMs);
  }

  /** The node knows a (new) leader: resend everything not yet applied (a duplicate takes no effect). */
  leaderChanged(): void {
    for (const opening of this.#openings) this.#send(opening);
    for (const forward of this.#commands.values()) this.#send(forward);
  }

  /** A `session` entry was applied: it may be one this node asked for. */
  sessionOpened(entry: LogEntry): void {
    for (const opening of this.#openings) {
      if (opening.index !== entry.index) continue;
      if (opening.term === entry.term) this.#opened(opening, entry.index);
      else this.#send(opening); // another leader's entry took its place: ask again
    }
  }

  /** A command of `session` was applied (or answered as a duplicate, or refused): settle it if it is ours. */
  commandApplied(tag: SessionTag, at: LogPosition, result: unknown, failure: Error | undefined): void {
    const forward = this.#commands.get(keyOf(tag));
    if (forward === undefined) return;
    if (failure instanceof SessionExpiredError && forward.own === this.#session) this.#session = null;
    this.#finish(forward, failure, { index: at.index, term: at.term, result });
  }

  /** A snapshot through `snapshotIndex` replaced the state machine: settle what it already holds. */
  restored(snapshotIndex: number): void {
    for (const opening of this.#openings) if (opening.index > 0 && opening.index <= snapshotIndex) this.#checkOpening(opening);
    const sessions = this.#host.sessions();
    for (const forward of this.#commands.values()) {
      const tag = forward.tag as SessionTag;
      const response = sessions.response(tag.id, tag.seq);
      if (response !== undefined) this.#finish(forward, ...answerOf(this.#host.id, response));
      // A session opened within the snapshot and gone: it expired (a copy may have taken effect before).
      else if (tag.id <= snapshotIndex && !sessions.has(tag.id)) this.#finish(forward, new SessionExpiredError(this.#host.id, tag.id));
    }
  }

  /** The node stops (because of `cause`, if given): everything waiting fails. */
  stop(cause?: unknown): void {
    const error = new NodeStoppedError(this.#host.id, cause);
    for (const opening of [...this.#openings]) this.#fail(opening, error);
    for (const forward of [...this.#commands.values()]) this.#finish(forward, error);
  }

  // ── Internals ────────────────────────────────────────────────────────────────────────────

  /** Why nothing can be forwarded now (the node is stopped, or knows no leader), if so. */
  #cannotForward(): Error | undefined {
    try {
      const core = this.#host.core();
      return core.leaderId === null ? new NotLeaderError(this.#host.id, null) : undefined;
    } catch (error) {
      return error as Error;
    }
  }

  /** The node's own session, or the opening it waits for (a new one when the last is old). */
  #ownSession(): ClientSession | Opening {
    const now = this.#host.now();
    // Reopen well before the session could expire: log time is the leaders' clocks, not ours.
    if (this.#session !== null && now - this.#sessionUsedAt < DEFAULT_SESSION_TIMEOUT_MS / 2) {
      this.#sessionUsedAt = now;
      return this.#session;
    }
    this.#session = null;
    if (this.#ownOpening === null) {
      const opening = (this.#ownOpening = this.#open(DEFAULT_SESSION_TIMEOUT_MS));
      opening.waiters.unshift({
        resolve: (id) => {
          this.#ownOpening = null;
          this.#session = new ClientSession(id);
          this.#sessionUsedAt = this.#host.now();
        },
        reject: () => (this.#ownOpening = null),
      });
    }
    return this.#ownOpening;
  }

  #startInOwnSession(forward: ForwardedCommand): void {
    if (forward.settled) return; // timed out or aborted while the session opened
    forward.waiting = null;
    const session = this.#session;
    if (session === null) return this.#finish(forward, new NotLeaderError(this.#host.id, null));
    (forward as { own: ClientSession | null }).own = session;
    forward.tag = session.next();
    this.#commands.set(keyOf(forward.tag), forward);
    this.#send(forward);
  }

  /** An opening whose entry this node applied (one by one or in a snapshot): was it this one? */
  #checkOpening(opening: Opening): void {
    if (this.#host.sessions().opened(opening.index, opening.term)) this.#opened(opening, opening.index);
    else this.#send(opening); // another entry took its place: ask again
  }

  #open(timeoutMs: number): Opening {
    const opening: Opening = { kind: 'open', timeoutMs, index: 0, term: 0, sent: 0, refused: 0, retry: null, waiters: [] };
    this.#openings.add(opening);
    this.#send(opening);
    return opening;
  }

  #opened(opening: Opening, id: number): void {
    this.#openings.delete(opening);
    this.#settleRequest(opening);
    for (const waiter of opening.waiters.splice(0)) waiter.resolve(id);
  }

  /**
   * Sends a copy of the request to the leader (or, on the leader, appends it), and sends another
   * later unless it is settled by then: any copy may be lost, and more copies take no effect.
   */
  #send(request: Pending): void {
    let core: RaftCore;
    try {
      core = this.#host.core();
    } catch {
      return; // stopped: stop() settles everything
    }
    this.#resendIn(request, this.#host.resendMs);
    if (core.role === 'leader') {
      // This node leads now: append it here (what is appended is settled when applied).
      try {
        if (request.kind === 'open') {
          const position = core.openSession(request.timeoutMs);
          request.index = position.index;
          request.term = position.term;
        } else core.propose(request.command, request.tag as SessionTag);
        // A copy in this log that may commit: refusals of the forwarded copies can no longer
        // prove the request was not appended (so it is never failed as not applied).
        request.sent++;
      } catch (error) {
        if (!(error instanceof TransferError)) throw error;
        return this.#resendIn(request, this.#host.retryMs); // handing leadership over: try again soon
      }
      return this.#host.flush(core);
    }
    if (core.leaderId === null || core.role !== 'follower') return; // sent when a leader is known (or the timer fires)
    const id = this.#host.requestId();
    this.#attempts.set(id, request);
    request.sent++;
    if (request.kind === 'open') core.forwardOpenSession(id, request.timeoutMs);
    else core.forward(id, request.command, request.tag as SessionTag);
    this.#host.flush(core);
  }

  /** (Re)arms the request's resend timer. */
  #resendIn(request: Pending, delayMs: number): void {
    request.retry?.();
    request.retry = this.#host.schedule(delayMs, () => {
      request.retry = null;
      this.#send(request);
    });
  }

  /** Stops resending: forgets its copies' ids and any timer. */
  #settleRequest(request: Pending): void {
    request.retry?.();
    request.retry = null;
    for (const [id, r] of this.#attempts) if (r === request) this.#attempts.delete(id);
  }

  /** A waiter gave up: an opening that nobody waits for any more stops (if a copy was appended, that session just expires). */
  #unwait(opening: Opening, waiter: Waiter): void {
    const i = opening.waiters.indexOf(waiter);
    if (i >= 0) opening.waiters.splice(i, 1);
    const keep = opening === this.#ownOpening ? 1 : 0; // (the node's own opening has a waiter of its own)
    if (opening.waiters.length <= keep && this.#openings.has(opening)) this.#fail(opening, new RaftError('ABORTED', 'nobody waits for the session'));
  }

  #fail(request: Pending, error: Error): void {
    if (request.kind === 'command') return this.#finish(request, error);
    this.#openings.delete(request);
    this.#settleRequest(request);
    for (const waiter of request.waiters.splice(0)) waiter.reject(error);
  }

  #finish(forward: ForwardedCommand, error: Error | undefined, value?: { index: number; term: number; result: unknown }): void {
    if (forward.settled) return;
    forward.settled = true;
    if (forward.tag !== null) {
      this.#commands.delete(keyOf(forward.tag));
      forward.own?.done(forward.tag.seq);
    } else if (forward.waiting !== null) this.#unwait(forward.waiting.opening, forward.waiting.waiter);
    this.#settleRequest(forward);
    forward.cleanup();
    if (error) forward.reject(error);
    else forward.resolve(value as { index: number; term: number; result: unknown });
  }
}

const keyOf = (tag: SessionTag): string => `${tag.id}:${tag.seq}`;
