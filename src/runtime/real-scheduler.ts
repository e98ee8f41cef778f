/**
 * A {@link Scheduler} on real time and real timers, for running nodes in a service or a page.
 * This module and the default random are the only places allowed to touch the wall clock and
 * the host's timers. Browser-safe: no Node built-ins are imported.
 */

import type { Cancel, Scheduler } from './scheduler.js';

/** The host timer functions we may use, looked up at run time so browsers without setImmediate work. */
interface TimerHost {
  setImmediate?: (callback: () => void) => unknown;
  clearImmediate?: (handle: unknown) => void;
  performance?: { now(): number; readonly timeOrigin?: number };
}

const host = globalThis as unknown as TimerHost;

/**
 * How many callbacks {@link RealScheduler.defer} runs as microtasks before it lets the host run
 * a macrotask: microtasks are the fastest way to hand work on within a process, but an endless
 * chain of them would starve timers and I/O.
 */
const MAX_MICROTASK_BURST = 1024;

/**
 * Deferred callbacks run as reactions to this settled promise: the same microtask queue as
 * `queueMicrotask`, at half the cost in Node (which wraps each queued callback in an async resource).
 */
const SETTLED = Promise.resolve();

/** The longest delay setTimeout honours (a signed 32-bit millisecond count). */
const MAX_TIMEOUT = 2 ** 31 - 1;

/**
 * A {@link Scheduler} backed by the host's clock and timers: `now()` reads `performance.now()`
 * (falling back to `Date.now()`), `schedule(0, …)` uses `setImmediate` when the host has it
 * (else `setTimeout(…, 0)`), longer delays use `setTimeout`, and `defer` queues a microtask.
 *
 * @example
 * ```ts
 * import { RealScheduler } from 'raftkit';
 * const scheduler = new RealScheduler();
 * const started = scheduler.now();
 * await new Promise<void>((resolve) => scheduler.schedule(50, () => resolve()));
 * console.log(`after ~${Math.round(scheduler.now() - started)} ms`); // after ~50 ms
 * ```
 */
export class RealScheduler implements Scheduler {
  /** Callbacks deferred as microtasks since the host last ran a macrotask of ours. */
  #burst = 0;
  readonly #endBurst = (): void => {
    this.#burst = 0;
  };

  /**
   * The current time in milliseconds since the Unix epoch: `performance.timeOrigin +
   * performance.now()` when available (monotonic within the process, and comparable across
   * processes up to clock skew, which client sessions' log time needs), else `Date.now()`.
   *
   * @example
   * ```ts
   * import { RealScheduler } from 'raftkit';
   * const t = new RealScheduler().now();
   * ```
   */
  now(): number {
    return this.#origin + this.#clock.now();
  }

  /** Where `performance.now()` counts from, as epoch ms (0 for `Date.now()`, which is epoch time already). */
  readonly #origin: number = host.performance?.timeOrigin ?? 0;

  /** Looked up once: in Node, `globalThis.performance` is a getter, which a hot clock read should not pay for. */
  readonly #clock: { now(): number } = host.performance ?? Date;

  /**
   * Runs `callback` once after `delayMs` milliseconds; returns a function that cancels it.
   * Delays beyond setTimeout's 32-bit limit are honoured by re-arming the timer.
   *
   * @throws RangeError when `delayMs` is negative or NaN.
   * @example
   * ```ts
   * import { RealScheduler } from 'raftkit';
   * const cancel = new RealScheduler().schedule(1000, () => console.log('late'));
   * cancel();
   * ```
   */
  schedule(delayMs: number, callback: () => void): Cancel {
    if (!(delayMs >= 0)) throw new RangeError(`RealScheduler: delay must be ≥ 0, got ${String(delayMs)}`);
    if (typeof callback !== 'function') throw new TypeError('RealScheduler: callback must be a function');
    if (delayMs === 0 && host.setImmediate !== undefined && host.clearImmediate !== undefined) {
      const handle = host.setImmediate(callback);
      return () => host.clearImmediate?.(handle);
    }
    if (delayMs <= MAX_TIMEOUT) {
      const handle = setTimeout(callback, delayMs);
      return () => clearTimeout(handle);
    }
    // Hosts fire timers longer than 2^31-1 ms at once; wait in chunks instead.
    let handle: ReturnType<typeof setTimeout>;
    const due = this.now() + delayMs;
    const arm = (wait: number): void => {
      handle = setTimeout(() => {
        const left = due - this.now();
        if (wait === MAX_TIMEOUT && left > 0) arm(Math.min(left, MAX_TIMEOUT));
        else callback();
      }, wait);
    };
    arm(Math.min(delayMs, MAX_TIMEOUT));
    return () => clearTimeout(handle);
  }

  /**
   * Runs `callback` in a microtask: after the current task, before any timer. After a long run
   * of deferred callbacks (1,024) without a macrotask, the next ones wait for one
   * (`setImmediate`), so that timers and I/O are never starved.
   *
   * @example
   * ```ts
   * import { RealScheduler } from 'raftkit';
   * const scheduler = new RealScheduler();
   * const order: string[] = [];
   * scheduler.schedule(0, () => order.push('timer'));
   * scheduler.defer(() => order.push('deferred')); // a microtask: runs first
   * await new Promise<void>((resolve) => scheduler.schedule(10, () => resolve()));
   * console.log(order); // [ 'deferred', 'timer' ]
   * ```
   */
  defer(callback: () => void): void {
    if (typeof callback !== 'function') throw new TypeError('RealScheduler: callback must be a function');
    if (this.#burst >= MAX_MICROTASK_BURST) {
      this.schedule(0, callback);
      return;
    }
    if (this.#burst++ === 0) this.schedule(0, this.#endBurst);
    void SETTLED.then(callback);
  }
}
