/**
 * A {@link Scheduler} on virtual time: nothing happens until the simulation is stepped, and
 * time jumps straight to the next event, so a simulated minute takes microseconds.
 */

import type { Cancel, Scheduler } from '../runtime/scheduler.js';

/**
 * Options for {@link VirtualScheduler}.
 *
 * @example
 * ```ts
 * import { VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler({ start: 1000, onEvent: () => {} });
 * scheduler.now(); // 1000
 * ```
 */
export interface VirtualSchedulerOptions {
  /** The virtual time the clock starts at, in milliseconds. Default 0. */
  start?: number;
  /** Called after every event has run (e.g. to check invariants). See {@link VirtualScheduler.onEvent}. */
  onEvent?: () => void;
}

/**
 * Options for {@link VirtualScheduler.runUntil}.
 *
 * @example
 * ```ts
 * import { VirtualScheduler, type RunUntilOptions } from 'raftkit';
 * const options: RunUntilOptions = { timeoutMs: 5000 };
 * new VirtualScheduler().runUntil(() => true, options); // true
 * ```
 */
export interface RunUntilOptions {
  /**
   * Virtual milliseconds to run at most. Default: unbounded (runs until the predicate holds or
   * no events are left).
   */
  timeoutMs?: number;
}

/** A scheduled callback; `callback` is null once it ran or was cancelled. */
class Entry {
  constructor(
    readonly time: number,
    readonly seq: number,
    public callback: (() => void) | null,
  ) {}
}

/** Heap order: earlier time first, then insertion order (so same-time events run FIFO). */
function before(a: Entry, b: Entry): boolean {
  return a.time < b.time || (a.time === b.time && a.seq < b.seq);
}

/** Below this heap size compaction is not worth it. */
const COMPACT_MIN = 64;

/**
 * A deterministic {@link Scheduler} on virtual time. Events run in (time, insertion sequence)
 * order: events due at the same time run in the order they were scheduled, and
 * {@link VirtualScheduler.defer} runs after everything already queued for now. Events for later
 * times are kept in a binary min-heap; those made for the current instant (deferred work, zero
 * delays) in a first-in first-out queue, which is the same order at a fraction of the cost.
 * Cancelling is O(1) (lazy deletion; the heap is compacted when most entries are cancelled).
 *
 * @example
 * ```ts
 * import { VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const log: string[] = [];
 * scheduler.schedule(100, () => log.push(`b at ${scheduler.now()}`));
 * scheduler.schedule(50, () => log.push(`a at ${scheduler.now()}`));
 * const cancel = scheduler.schedule(75, () => log.push('never'));
 * cancel();
 * scheduler.runFor(1000); // → 2 events run
 * log;                    // ['a at 50', 'b at 100']
 * scheduler.now();        // 1000
 * ```
 */
export class VirtualScheduler implements Scheduler {
  /**
   * Called after every event has run, with the clock at that event's time. A Cluster uses it to
   * check invariants after each step; an exception thrown here propagates out of
   * {@link VirtualScheduler.step} (and the run methods) with the event already consumed.
   */
  onEvent: (() => void) | undefined;

  private time: number;
  private heap: Entry[] = [];
  /**
   * Events made for the current instant, in the order made: every one of them was made after
   * each heap event of this instant (those were made before the clock got here), so running the
   * heap's events of now first, then these, is (time, sequence) order without a heap operation.
   */
  private soon: Entry[] = [];
  private soonHead = 0;
  private seq = 0;
  private cancelled = 0;
  private running = false;

  /**
   * Creates a scheduler whose clock starts at `options.start` (default 0).
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler({ start: 0 });
   * ```
   */
  constructor(options: VirtualSchedulerOptions = {}) {
    const start = options.start ?? 0;
    if (typeof start !== 'number' || !Number.isFinite(start)) {
      throw new RangeError(`VirtualScheduler: start must be a finite number, got ${String(start)}`);
    }
    if (options.onEvent !== undefined && typeof options.onEvent !== 'function') {
      throw new TypeError('VirtualScheduler: onEvent must be a function');
    }
    this.time = start;
    this.onEvent = options.onEvent;
  }

  /**
   * The current virtual time in milliseconds.
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * new VirtualScheduler().now(); // 0
   * ```
   */
  now(): number {
    return this.time;
  }

  /**
   * Runs `callback` at virtual time `now() + delayMs`, after anything already scheduled for that
   * same time. Returns a function that cancels it (a no-op once it ran or was cancelled).
   *
   * @throws RangeError when `delayMs` is negative, NaN or infinite.
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * const cancel = scheduler.schedule(10, () => console.log('tick'));
   * cancel(); // never prints
   * ```
   */
  schedule(delayMs: number, callback: () => void): Cancel {
    if (!(delayMs >= 0) || delayMs === Infinity) {
      throw new RangeError(`VirtualScheduler: delay must be a finite number ≥ 0, got ${String(delayMs)}`);
    }
    if (typeof callback !== 'function') throw new TypeError('VirtualScheduler: callback must be a function');
    const entry = new Entry(this.time + delayMs, this.seq++, callback);
    this.add(entry);
    return () => this.cancel(entry);
  }

  /**
   * Runs `callback` at the current time, after every event already queued for now and before
   * anything scheduled later.
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.defer(() => console.log('flush'));
   * scheduler.step(); // prints "flush", time stays 0
   * ```
   */
  defer(callback: () => void): void {
    if (typeof callback !== 'function') throw new TypeError('VirtualScheduler: callback must be a function');
    this.soon.push(new Entry(this.time, this.seq++, callback));
  }

  /**
   * The number of events scheduled and not yet run or cancelled.
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.schedule(5, () => {});
   * scheduler.pending; // 1
   * ```
   */
  get pending(): number {
    return this.heap.length + this.soon.length - this.soonHead - this.cancelled;
  }

  /**
   * The time of the next live event, or `undefined` when nothing is scheduled.
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.schedule(30, () => {});
   * scheduler.nextTime(); // 30
   * ```
   */
  nextTime(): number | undefined {
    const top = this.peek();
    if (top !== undefined && top.time <= this.time) return top.time;
    return this.peekSoon() !== undefined ? this.time : top?.time;
  }

  /**
   * Runs the next event, first advancing the clock to its time. Returns false (and does
   * nothing) when no event is scheduled.
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.schedule(20, () => {});
   * scheduler.step(); // true, now() === 20
   * scheduler.step(); // false
   * ```
   */
  step(): boolean {
    this.assertNotRunning();
    const entry = this.take(Infinity);
    if (entry === undefined) return false;
    this.run(entry);
    return true;
  }

  /**
   * Runs every event due up to `now() + ms` (including events those events schedule within the
   * window), then sets the clock to `now() + ms`. Returns the number of events run.
   *
   * @throws RangeError when `ms` is negative, NaN or infinite.
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.schedule(10, () => {});
   * scheduler.runFor(100); // 1, now() === 100
   * ```
   */
  runFor(ms: number): number {
    if (!(ms >= 0) || ms === Infinity) {
      throw new RangeError(`VirtualScheduler: runFor needs a finite duration ≥ 0, got ${String(ms)}`);
    }
    return this.runTo(this.time + ms);
  }

  /**
   * Runs every event due up to virtual time `time`, then sets the clock to `time`. Returns the
   * number of events run.
   *
   * @throws RangeError when `time` is earlier than `now()` or not finite.
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * scheduler.advanceTo(500); // 0 events, now() === 500
   * ```
   */
  advanceTo(time: number): number {
    if (!Number.isFinite(time) || time < this.time) {
      throw new RangeError(`VirtualScheduler: cannot advance to ${String(time)} from ${this.time}`);
    }
    return this.runTo(time);
  }

  /**
   * Runs events until `predicate()` returns true (checked before the first event and after each
   * one) or no event is left before the virtual deadline `now() + timeoutMs`. Returns whether the
   * predicate became true. On success the clock stays at the event that satisfied it; on a
   * timeout it is set to the deadline (when the deadline is finite).
   *
   * @example
   * ```ts
   * import { VirtualScheduler } from 'raftkit';
   * const scheduler = new VirtualScheduler();
   * let done = false;
   * scheduler.schedule(40, () => { done = true; });
   * scheduler.runUntil(() => done, { timeoutMs: 100 }); // true, now() === 40
   * ```
   */
  runUntil(predicate: () => boolean, options: RunUntilOptions = {}): boolean {
    const timeoutMs = options.timeoutMs ?? Infinity;
    if (!(timeoutMs >= 0)) {
      throw new RangeError(`VirtualScheduler: timeoutMs must be ≥ 0, got ${String(timeoutMs)}`);
    }
    this.assertNotRunning();
    const deadline = this.time + timeoutMs;
    if (predicate()) return true;
    for (;;) {
      const entry = this.take(deadline);
      if (entry === undefined) break;
      this.run(entry);
      if (predicate()) return true;
    }
    if (deadline !== Infinity) this.time = deadline;
    return false;
  }

  private runTo(deadline: number): number {
    this.assertNotRunning();
    let count = 0;
    for (;;) {
      const entry = this.take(deadline);
      if (entry === undefined) break;
      this.run(entry);
      count++;
    }
    this.time = deadline;
    return count;
  }

  /** Stepping from inside a callback would run events out of order; refuse it. */
  private assertNotRunning(): void {
    if (this.running) throw new Error('VirtualScheduler: cannot run events from inside a scheduled callback');
  }

  /** Runs one entry already removed from the heap. */
  private run(entry: Entry): void {
    const callback = entry.callback as () => void;
    entry.callback = null; // later cancel() is a no-op
    this.time = entry.time;
    this.running = true;
    try {
      callback();
    } finally {
      this.running = false;
    }
    this.onEvent?.();
  }

  private cancel(entry: Entry): void {
    if (entry.callback === null) return;
    entry.callback = null;
    this.cancelled++;
    // Lazy deletion; rebuild once cancelled entries dominate so the heap stays proportional to live events.
    if (this.cancelled > COMPACT_MIN && this.cancelled * 2 > this.heap.length + this.soon.length - this.soonHead) this.compact();
  }

  private compact(): void {
    const live = this.heap.filter((e) => e.callback !== null);
    this.heap = live;
    this.soon = this.soon.slice(this.soonHead).filter((e) => e.callback !== null);
    this.soonHead = 0;
    this.cancelled = 0;
    for (let i = (live.length >> 1) - 1; i >= 0; i--) this.siftDown(i);
  }

  /**
   * Removes and returns the next live event due by `deadline`: the heap's next one if it is due
   * now (made before the clock got here), else the first one made for now, else the heap's next.
   */
  private take(deadline: number): Entry | undefined {
    const top = this.peek();
    if (top === undefined || top.time > this.time) {
      const soon = this.peekSoon();
      if (soon !== undefined && this.time <= deadline) {
        this.soonHead++;
        return soon;
      }
    }
    if (top === undefined || top.time > deadline) return undefined;
    this.pop();
    return top;
  }

  /** The first live event made for now, discarding cancelled ones (and emptying the queue once all ran). */
  private peekSoon(): Entry | undefined {
    const soon = this.soon;
    while (this.soonHead < soon.length) {
      const entry = soon[this.soonHead] as Entry;
      if (entry.callback !== null) return entry;
      this.soonHead++;
      this.cancelled--;
    }
    if (this.soonHead > 0) {
      soon.length = 0;
      this.soonHead = 0;
    }
    return undefined;
  }

  /** Queues an entry: for now (first in, first out) or for later (the heap). */
  private add(entry: Entry): void {
    if (entry.time === this.time) this.soon.push(entry);
    else this.push(entry);
  }

  /** The next live entry, discarding cancelled ones on top. */
  private peek(): Entry | undefined {
    let top = this.heap[0];
    while (top !== undefined && top.callback === null) {
      this.pop();
      this.cancelled--;
      top = this.heap[0];
    }
    return top;
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    let i = heap.length;
    heap.push(entry);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = heap[parent] as Entry;
      if (!before(entry, p)) break;
      heap[i] = p;
      i = parent;
    }
    heap[i] = entry;
  }

  /** Removes the top entry. */
  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    this.siftDown(0);
  }

  private siftDown(start: number): void {
    const heap = this.heap;
    const n = heap.length;
    const entry = heap[start] as Entry;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let c = heap[child] as Entry;
      const right = heap[child + 1];
      if (right !== undefined && before(right, c)) {
        child++;
        c = right;
      }
      if (!before(c, entry)) break;
      heap[i] = c;
      i = child;
    }
    heap[i] = entry;
  }
}
