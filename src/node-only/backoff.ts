/**
 * Capped exponential back-off with jitter, for reconnecting to a peer: the n-th consecutive
 * failure waits a random time in [d/2, d], d = min(maxMs, initialMs · 2^(n-1)). The random half
 * keeps the nodes of a cluster that lost a peer together from redialling it in lockstep.
 */
import type { Random } from '../runtime/random.js';

export class Backoff {
  #failures = 0;

  constructor(
    readonly initialMs: number,
    readonly maxMs: number,
    readonly random: Random,
  ) {}

  /** The delay before the next attempt; each call counts one more failure. */
  next(): number {
    const ceiling = Math.min(this.maxMs, this.initialMs * 2 ** Math.min(this.#failures, 30));
    this.#failures++;
    return ceiling / 2 + this.random.next() * (ceiling / 2);
  }

  /** After a success: the next failure waits `initialMs` (at most) again. */
  reset(): void {
    this.#failures = 0;
  }
}
