/**
 * Proposals waiting to be applied on this node (the leader that appended them): answered in log
 * order as their entries are applied, or rejected when leadership is lost, a snapshot covers
 * them, the caller gives up, or the node stops.
 */
import { LeadershipLostError, RaftError } from '../raft/errors.js';
import type { LogPosition } from '../raft/types.js';
import { onAbort, type NodeHost } from './host.js';
import type { ProposalResult } from './raft-node.js';

/**
 * A proposal waiting to be applied; `resolve` is null once answered. Always created with every
 * field, in this order (one object shape, so the hot path stays monomorphic).
 */
interface Pending {
  readonly index: number;
  readonly term: number;
  resolve: ((value: ProposalResult) => void) | null;
  readonly reject: (error: Error) => void;
  cleanup: (() => void) | undefined;
}

/** The queue of a node's waiting proposals, in log order. */
export class Proposals {
  readonly #host: NodeHost;
  /** Waiting proposals in log order from `#head`; those before it are answered (dropped in chunks). */
  readonly queue: Pending[] = [];
  #head = 0;

  constructor(host: NodeHost) {
    this.#host = host;
  }

  /**
   * Resolves once this node applied the entry at `position`, rejects on `signal` or once
   * `timeoutMs` (no default) passed. Call in log order.
   */
  wait(position: LogPosition, signal: AbortSignal | undefined, timeoutMs?: number): Promise<ProposalResult> {
    return new Promise<ProposalResult>((resolve, reject) => {
      const pending: Pending = { index: position.index, term: position.term, resolve, reject, cleanup: undefined };
      if (timeoutMs !== undefined) pending.cleanup = this.#host.guard('proposal (its outcome is unknown)', timeoutMs, signal, (error) => this.#settle(pending, error));
      else if (signal) pending.cleanup = onAbort(signal, (error) => this.#settle(pending, error));
      this.queue.push(pending);
    });
  }

  /**
   * The entry at `entry` was applied: answers the proposal waiting for it with `result` (taken
   * effect at `at`) or `failure`, and any waiting below it (overwritten) with LeadershipLostError.
   */
  applied(entry: LogPosition, at: LogPosition, result: unknown, failure: Error | undefined): void {
    const queue = this.queue;
    let head = this.#head;
    while (head < queue.length) {
      const p = queue[head] as Pending;
      if (p.index > entry.index) break;
      head++;
      if (p.index < entry.index || p.term !== entry.term) this.#settle(p, new LeadershipLostError(this.#host.id, p.index));
      else if (failure) this.#settle(p, failure);
      else this.#settle(p, undefined, { index: at.index, term: at.term, result });
    }
    if (head === queue.length) {
      if (head > 0) queue.length = head = 0;
    } else if (head >= 1024 && head * 2 >= queue.length) {
      // Under sustained load the queue is never empty: drop answered proposals in chunks.
      queue.splice(0, head);
      head = 0;
    }
    this.#head = head;
  }

  /** Entries through `index` were never applied here one by one (a snapshot was installed): their outcome is unknown. */
  restored(index: number): void {
    const queue = this.queue;
    // Proposals kept when it stepped down as leader (committed, not yet applied here).
    while (this.#head < queue.length && (queue[this.#head] as Pending).index <= index) {
      const p = queue[this.#head++] as Pending;
      this.#settle(p, new RaftError('OUTCOME_UNKNOWN', `node ${this.#host.id}: proposal ${p.index} was applied within a snapshot`));
    }
  }

  /** Rejects the proposals waiting for entries after `above` (all by default) with `makeError(index)`; the others stay queued. */
  reject(makeError: (index: number) => Error, above = -1): void {
    const queue = this.queue;
    let keep = this.#head;
    while (keep < queue.length && (queue[keep] as Pending).index <= above) keep++;
    for (let i = keep; i < queue.length; i++) {
      const p = queue[i] as Pending;
      this.#settle(p, makeError(p.index));
    }
    if (keep === this.#head) this.#head = keep = 0; // none kept: start the queue afresh
    queue.length = keep;
  }

  #settle(p: Pending, error: Error | undefined, value?: ProposalResult): void {
    const resolve = p.resolve;
    if (resolve === null) return;
    p.resolve = null;
    p.cleanup?.();
    if (error) p.reject(error);
    else resolve(value as ProposalResult);
  }
}
