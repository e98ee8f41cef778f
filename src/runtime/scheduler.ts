/**
 * Time, injected. Everything in raftkit that waits goes through a {@link Scheduler}, so a
 * simulation can run on virtual time and a service on real timers with the same code.
 */

/**
 * Cancels a scheduled callback. Calling it after the callback ran, or twice, does nothing.
 *
 * @example
 * ```ts
 * import { VirtualScheduler, type Cancel } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const cancel: Cancel = scheduler.schedule(100, () => console.log('never printed'));
 * cancel();
 * scheduler.runFor(200); // 0 events run
 * ```
 */
export type Cancel = () => void;

/**
 * A source of time and timers.
 *
 * @example
 * ```ts
 * import { VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * scheduler.schedule(100, () => console.log('at', scheduler.now()));
 * scheduler.runFor(1000); // prints "at 100"
 * ```
 */
export interface Scheduler {
  /** The current time in milliseconds (virtual or real). */
  now(): number;
  /** Runs `callback` once after `delayMs` (≥ 0) milliseconds; returns a function that cancels it. */
  schedule(delayMs: number, callback: () => void): Cancel;
  /**
   * Runs `callback` after the current task and before anything scheduled for a later time.
   * Used to batch work done in one turn (e.g. proposals) into one flush.
   */
  defer(callback: () => void): void;
}
