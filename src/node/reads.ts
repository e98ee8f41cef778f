/**
 * Linearizable and lease reads waiting on this node: each waits for its read index (from the
 * core's read states), then for this node's state machine to apply that index.
 */
import { NotLeaderError } from '../raft/errors.js';
import type { ReadState } from '../raft/ready.js';
import type { NodeId } from '../raft/types.js';
import type { NodeHost } from './host.js';

/** A read waiting for its index (-1 until known) and then for the state machine to apply it. */
interface PendingRead {
  readonly id: number;
  index: number;
  readonly resolve: (index: number) => void;
  readonly reject: (error: Error) => void;
  readonly cleanup: () => void;
}

/** A node's waiting reads, by request id. */
export class Reads {
  readonly #host: NodeHost;
  readonly #waiting = new Map<number, PendingRead>();

  constructor(host: NodeHost) {
    this.#host = host;
  }

  /**
   * Waits for the read the core was asked for with request `id`: resolves with its index once
   * applied here; rejects on `signal` or after `timeoutMs` (default twice the maximum election timeout).
   */
  wait(id: number, signal: AbortSignal | undefined, timeoutMs: number | undefined): Promise<number> {
    return new Promise<number>((resolve, reject) => {
      const read: PendingRead = {
        id,
        index: -1,
        resolve,
        reject,
        cleanup: this.#host.guard('read', timeoutMs, signal, (e) => this.#finish(read, e)),
      };
      this.#waiting.set(id, read);
    });
  }

  /** A Ready's read states: each gives its read the index to wait for, or fails it (`leaderId`: whom to ask instead). */
  settled(states: readonly ReadState[], leaderId: NodeId | null): void {
    for (const state of states) {
      const read = this.#waiting.get(state.id);
      // Timed out or aborted meanwhile, or answered already (the first answer to a copy is as good as any).
      if (read === undefined || read.index >= 0) continue;
      if (!state.ok) this.#finish(read, new NotLeaderError(this.#host.id, leaderId));
      else read.index = state.index;
    }
  }

  /** Answers every read whose index is at most `lastApplied`. */
  applied(lastApplied: number): void {
    if (this.#waiting.size === 0) return;
    for (const read of this.#waiting.values()) if (read.index >= 0 && read.index <= lastApplied) this.#finish(read, undefined);
  }

  /** Fails every waiting read with `makeError()` (the node stops). */
  fail(makeError: () => Error): void {
    // Each finish deletes only its own entry: safe while iterating.
    for (const read of this.#waiting.values()) this.#finish(read, makeError());
  }

  #finish(read: PendingRead, error: Error | undefined): void {
    if (!this.#waiting.delete(read.id)) return;
    read.cleanup();
    if (error) read.reject(error);
    else read.resolve(read.index);
  }
}
