import { increment, requireCount } from './validate.js';

/**
 * A Lamport clock (Lamport 1978): one counter per process. If event `a` happens before `b`
 * then `time(a) < time(b)`; the converse does not hold, so two different times say nothing
 * about whether the events are causally related. Use a {@link VectorClock} to detect that.
 *
 * Every method validates its input and returns the new time; a clock that throws a
 * {@link ClockError} is left unchanged.
 *
 * @example
 * ```ts
 * import { LamportClock } from 'raftkit';
 * const a = new LamportClock();
 * const b = new LamportClock();
 * const sent = a.send();        // 1: attach this to the message
 * console.log(b.receive(sent)); // 2 = max(0, 1) + 1
 * console.log(b.tick());        // 3
 * ```
 */
export class LamportClock {
  #time: number;

  /**
   * @param initial the starting time, a non-negative safe integer (default 0), e.g. restored from disk.
   * @throws {@link ClockError} `INVALID_TIME` if `initial` is not a non-negative safe integer.
   */
  constructor(initial = 0) {
    this.#time = requireCount(initial, 'Lamport clock initial time', 'INVALID_TIME');
  }

  /** The current time: the timestamp of the latest event on this clock. */
  get time(): number {
    return this.#time;
  }

  /**
   * Records a local event.
   * @returns the new time.
   * @throws {@link ClockError} `OVERFLOW` if the time is already `Number.MAX_SAFE_INTEGER`.
   */
  tick(): number {
    this.#time = increment(this.#time, 'Lamport time');
    return this.#time;
  }

  /**
   * Records a send event (a local event whose time travels with the message).
   * @returns the new time, to attach to the outgoing message.
   * @throws {@link ClockError} `OVERFLOW` as {@link LamportClock.tick}.
   */
  send(): number {
    return this.tick();
  }

  /**
   * Records the receipt of a message stamped `remoteTime`: the time becomes
   * `max(time, remoteTime) + 1`.
   * @returns the new time.
   * @throws {@link ClockError} `INVALID_TIME` if `remoteTime` is not a non-negative safe integer
   *   (NaN, negative, fractional, infinite, too large, not a number), `OVERFLOW` if the result would
   *   pass `Number.MAX_SAFE_INTEGER`.
   */
  receive(remoteTime: number): number {
    const remote = requireCount(remoteTime, 'received Lamport time', 'INVALID_TIME');
    this.#time = increment(Math.max(this.#time, remote), 'Lamport time');
    return this.#time;
  }
}
