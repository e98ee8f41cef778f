/**
 * Typed errors raised by the logical clocks.
 */

/**
 * What went wrong, as a stable machine-readable code:
 * - `INVALID_TIME`: a time (initial value, remote Lamport time, physical time) is not a safe non-negative integer;
 * - `INVALID_TIMESTAMP`: a vector or HLC timestamp is malformed;
 * - `INVALID_ARGUMENT`: a constructor option (node id, `maxDriftMs`, `now`) is malformed;
 * - `OVERFLOW`: a counter would pass `Number.MAX_SAFE_INTEGER`;
 * - `DRIFT_EXCEEDED`: a remote HLC timestamp is too far ahead of physical time ({@link ClockDriftError}).
 *
 * @example
 * ```ts
 * import { ClockError, LamportClock, type ClockErrorCode } from 'raftkit';
 * let code: ClockErrorCode | undefined;
 * try { new LamportClock().receive(-1); } catch (error) { if (error instanceof ClockError) code = error.code; }
 * console.log(code); // 'INVALID_TIME'
 * ```
 */
export type ClockErrorCode = 'INVALID_TIME' | 'INVALID_TIMESTAMP' | 'INVALID_ARGUMENT' | 'OVERFLOW' | 'DRIFT_EXCEEDED';

/**
 * The base class of every error a clock raises. A clock that throws is left unchanged.
 *
 * @example
 * ```ts
 * import { ClockError, LamportClock } from 'raftkit';
 * const clock = new LamportClock(5);
 * try { clock.receive(Number.NaN); } catch (error) {
 *   if (error instanceof ClockError) console.log(error.code, error.message); // INVALID_TIME …got NaN
 * }
 * console.log(clock.time); // 5: unchanged
 * ```
 */
export class ClockError extends Error {
  /** A stable, machine-readable code. */
  readonly code: ClockErrorCode;
  constructor(code: ClockErrorCode, message: string) {
    super(message);
    this.name = 'ClockError';
    this.code = code;
  }
}

/**
 * Raised by `HybridLogicalClock.receive` when the remote `wallTime` is more than `maxDriftMs`
 * ahead of local physical time. Accepting it would drag this clock (and everything it talks to)
 * far from real time, so it is refused and the clock stays unchanged.
 *
 * @example
 * ```ts
 * import { ClockDriftError, HybridLogicalClock } from 'raftkit';
 * const clock = new HybridLogicalClock({ now: () => 1_000, maxDriftMs: 100 });
 * try { clock.receive({ wallTime: 5_000, logical: 0 }); } catch (error) {
 *   if (error instanceof ClockDriftError) console.log(error.driftMs, error.maxDriftMs); // 4000 100
 * }
 * ```
 */
export class ClockDriftError extends ClockError {
  /** How far ahead of local physical time the remote wall time was, in milliseconds. */
  readonly driftMs: number;
  /** The largest drift the clock accepts, in milliseconds. */
  readonly maxDriftMs: number;
  constructor(message: string, driftMs: number, maxDriftMs: number) {
    super('DRIFT_EXCEEDED', message);
    this.name = 'ClockDriftError';
    this.driftMs = driftMs;
    this.maxDriftMs = maxDriftMs;
  }
}
