/**
 * One simulated node's view of the shared virtual clock: its own offset and drift rate (clock
 * faults), and a pause switch (the process stops, keeps its state, and later resumes).
 */

import type { Cancel, Scheduler } from '../runtime/scheduler.js';
import type { VirtualScheduler } from './virtual-scheduler.js';

/**
 * A change to a node's clock. `offsetMs` steps the clock so that it reads the virtual time plus
 * `offsetMs` now; `drift` sets how fast it runs from now on: `1 + drift` local milliseconds per
 * virtual millisecond (0.05: 5% fast; -0.05: 5% slow). What is not given stays as it is.
 *
 * @example
 * ```ts
 * import type { ClockSetting } from 'raftkit';
 * const fast: ClockSetting = { drift: 0.05 };        // runs 5% fast from now on
 * const step: ClockSetting = { offsetMs: -200 };     // jumps to 200 ms behind virtual time
 * ```
 */
export interface ClockSetting {
  /** What the clock reads, less the virtual time, right after the change (a step when it differs from now). */
  readonly offsetMs?: number;
  /** The rate error from now on: local time advances `1 + drift` ms per virtual ms (greater than −1). */
  readonly drift?: number;
}

/**
 * A node clock's state at one virtual instant.
 *
 * @example
 * ```ts
 * import { Cluster, type ClockReading } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * cluster.setClock('2', { drift: 0.5 });
 * await cluster.run(100);
 * const reading: ClockReading = cluster.clock('2');
 * console.log(reading); // { now: 150, offsetMs: 50, drift: 0.5 }
 * ```
 */
export interface ClockReading {
  /** What the node's clock reads (local milliseconds). */
  readonly now: number;
  /** `now` less the virtual time. */
  readonly offsetMs: number;
  /** Its current rate error. */
  readonly drift: number;
}

/** A timer on a node clock: where it is due in virtual time, and how to cancel its virtual event. */
interface Timer {
  due: number;
  callback: (() => void) | null;
  cancel: Cancel;
}

/**
 * A {@link Scheduler} for one node over a shared {@link VirtualScheduler}: local time is
 * `offset + (1 + drift) × elapsed virtual time`, and a timer of `d` local milliseconds fires
 * after `d / (1 + drift)` virtual ones (rescheduled when the drift changes; a step of the
 * offset moves readings, not timers, as a wall-clock step leaves an interval timer alone).
 * Paused, the node runs nothing: whatever falls due (timers, deferred work, messages and
 * requests passed to {@link NodeClock.run}) is held, in order, and runs when it resumes.
 *
 * With offset 0 and drift 0 (the start) it is the virtual scheduler itself, event for event.
 *
 * @example
 * ```ts
 * import { NodeClock, VirtualScheduler } from 'raftkit';
 * const virtual = new VirtualScheduler();
 * const clock = new NodeClock(virtual);
 * clock.set({ drift: 1 });               // twice as fast as virtual time
 * clock.schedule(100, () => console.log(`local ${clock.now()}, virtual ${virtual.now()}`));
 * virtual.runFor(100);                   // prints "local 100, virtual 50"
 * clock.pause();
 * clock.schedule(10, () => console.log('after the pause'));
 * virtual.runFor(100);                   // held: prints nothing
 * clock.resume();
 * virtual.runFor(0);                     // prints "after the pause"
 * ```
 */
export class NodeClock implements Scheduler {
  readonly #base: VirtualScheduler;
  /** The virtual time and local reading at the last change; local time advances at `#rate` from there. */
  #anchorVirtual = 0;
  #anchorLocal = 0;
  #rate = 1;
  #paused = false;
  #held: Array<() => void> = [];
  readonly #timers = new Set<Timer>();

  /**
   * A clock over `base`, reading what `base` reads (offset 0, drift 0) until {@link set} changes it.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler({ start: 30 }));
   * clock.now(); // 30
   * ```
   */
  constructor(base: VirtualScheduler) {
    this.#base = base;
    this.#anchorVirtual = this.#anchorLocal = base.now();
  }

  /**
   * What this node's clock reads, in local milliseconds.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler());
   * clock.set({ offsetMs: 1000 });
   * clock.now(); // 1000
   * ```
   */
  now(): number {
    return this.#anchorLocal + (this.#base.now() - this.#anchorVirtual) * this.#rate;
  }

  /**
   * The clock's offset from virtual time right now.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler());
   * clock.set({ offsetMs: -20 });
   * clock.offsetMs; // -20
   * ```
   */
  get offsetMs(): number {
    return this.now() - this.#base.now();
  }

  /**
   * The clock's rate error: it advances `1 + drift` local ms per virtual ms.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * new NodeClock(new VirtualScheduler()).drift; // 0
   * ```
   */
  get drift(): number {
    return this.#rate - 1;
  }

  /**
   * Changes the clock from now on (see {@link ClockSetting}). Timers already set keep the local
   * time they have left, which runs at the new rate.
   *
   * @throws RangeError for an offset that is not finite or a drift not greater than −1.
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const virtual = new VirtualScheduler();
   * const clock = new NodeClock(virtual);
   * clock.schedule(100, () => console.log(`fired at virtual ${virtual.now()}`));
   * virtual.runFor(50);
   * clock.set({ drift: -0.5 }); // half speed: the 50 local ms left take 100 virtual ms
   * virtual.runFor(200);        // prints "fired at virtual 150"
   * ```
   */
  set(setting: ClockSetting): void {
    const { offsetMs, drift } = setting;
    if (offsetMs !== undefined && !Number.isFinite(offsetMs)) throw new RangeError(`NodeClock: offsetMs must be a finite number, got ${String(offsetMs)}`);
    if (drift !== undefined && !(drift > -1 && Number.isFinite(drift))) throw new RangeError(`NodeClock: drift must be a finite number greater than -1, got ${String(drift)}`);
    const virtual = this.#base.now();
    this.#anchorLocal = offsetMs === undefined ? this.now() : virtual + offsetMs;
    this.#anchorVirtual = virtual;
    if (drift === undefined || 1 + drift === this.#rate) return;
    const old = this.#rate;
    this.#rate = 1 + drift;
    const timers = [...this.#timers];
    this.#timers.clear();
    for (const timer of timers) {
      timer.cancel();
      this.#arm(timer, ((timer.due - virtual) * old) / this.#rate);
    }
  }

  /**
   * Runs `callback` after `delayMs` milliseconds of this clock (held while paused). Returns a
   * function that cancels it.
   *
   * @throws RangeError when `delayMs` is negative, NaN or infinite.
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const virtual = new VirtualScheduler();
   * const clock = new NodeClock(virtual);
   * clock.set({ drift: 0.25 });
   * clock.schedule(50, () => console.log(virtual.now())); // 40: 50 local ms at 1.25 per virtual ms
   * virtual.runFor(100);
   * ```
   */
  schedule(delayMs: number, callback: () => void): Cancel {
    if (!(delayMs >= 0) || delayMs === Infinity) throw new RangeError(`NodeClock: delay must be a finite number ≥ 0, got ${String(delayMs)}`);
    if (typeof callback !== 'function') throw new TypeError('NodeClock: callback must be a function');
    const timer: Timer = { due: 0, callback, cancel: noop };
    this.#arm(timer, delayMs / this.#rate);
    return () => {
      if (timer.callback === null) return;
      timer.callback = null;
      this.#timers.delete(timer);
      timer.cancel();
    };
  }

  /**
   * Runs `callback` after the current task, before anything later (held while paused).
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const virtual = new VirtualScheduler();
   * new NodeClock(virtual).defer(() => console.log('flush'));
   * virtual.step(); // prints "flush"
   * ```
   */
  defer(callback: () => void): void {
    if (typeof callback !== 'function') throw new TypeError('NodeClock: callback must be a function');
    this.#base.defer(() => this.run(callback));
  }

  /**
   * Runs `work` on this node now, or, while it is paused, holds it until it resumes: how a
   * message or a client's request reaches a paused process.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const virtual = new VirtualScheduler();
   * const clock = new NodeClock(virtual);
   * clock.pause();
   * clock.run(() => console.log('handled'));
   * clock.resume();
   * virtual.runFor(0); // prints "handled"
   * ```
   */
  run(work: () => void): void {
    if (this.#paused) this.#held.push(work);
    else work();
  }

  /**
   * Whether the node is paused.
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler());
   * clock.pause();
   * clock.paused; // true
   * ```
   */
  get paused(): boolean {
    return this.#paused;
  }

  /**
   * Pauses the node: from now on, what falls due is held (time still passes on its clock).
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler());
   * clock.pause();
   * ```
   */
  pause(): void {
    this.#paused = true;
  }

  /**
   * Resumes the node: what was held runs, in the order it fell due, as events at the current
   * virtual time (after those already queued for now).
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const clock = new NodeClock(new VirtualScheduler());
   * clock.pause();
   * clock.resume();
   * ```
   */
  resume(): void {
    if (!this.#paused) return;
    this.#paused = false;
    for (const work of this.#held.splice(0)) this.#base.defer(() => this.run(work));
  }

  /**
   * Drops everything held and un-pauses (the process died: what it had not handled is lost).
   *
   * @example
   * ```ts
   * import { NodeClock, VirtualScheduler } from 'raftkit';
   * const virtual = new VirtualScheduler();
   * const clock = new NodeClock(virtual);
   * clock.pause();
   * clock.run(() => console.log('never'));
   * clock.discard();
   * virtual.runFor(10); // prints nothing
   * ```
   */
  discard(): void {
    this.#held = [];
    this.#paused = false;
  }

  #arm(timer: Timer, virtualDelay: number): void {
    this.#timers.add(timer);
    timer.due = this.#base.now() + virtualDelay;
    timer.cancel = this.#base.schedule(virtualDelay, () => {
      this.#timers.delete(timer);
      this.run(() => {
        const callback = timer.callback;
        if (callback === null) return; // cancelled while held
        timer.callback = null;
        callback();
      });
    });
  }
}

const noop: Cancel = () => undefined;
