import { ClockDriftError, ClockError } from './errors.js';
import { describeValue, increment, isPlainObject, ownValue, requireCount } from './validate.js';

/**
 * A hybrid logical clock timestamp: `wallTime` is the largest physical time (ms) this clock has
 * seen, `logical` counts events within that millisecond. `nodeId`, when the clock has one, breaks
 * ties between nodes so that {@link compareHlc} is a total order over distinct events of
 * distinct nodes (useful for last-writer-wins). Plain, frozen and JSON-safe.
 *
 * @example
 * ```ts
 * import { type HlcTimestamp, parseHlc } from 'raftkit';
 * const ts: HlcTimestamp = { wallTime: 1_700_000_000_000, logical: 2, nodeId: 'A' };
 * console.log(parseHlc(JSON.parse(JSON.stringify(ts)))); // the same timestamp
 * ```
 */
export interface HlcTimestamp {
  /** Milliseconds: the largest physical time seen (never less than the local physical time at the event). */
  readonly wallTime: number;
  /** Orders events that share a `wallTime`. */
  readonly logical: number;
  /** The id of the node that issued the timestamp; only used to break ties. */
  readonly nodeId?: string;
}

/**
 * Options for {@link HybridLogicalClock}.
 *
 * @example
 * ```ts
 * import { HybridLogicalClock, type HybridLogicalClockOptions } from 'raftkit';
 * const options: HybridLogicalClockOptions = { now: () => 1_000, maxDriftMs: 500, nodeId: 'A' };
 * new HybridLogicalClock(options).now(); // { wallTime: 1000, logical: 0, nodeId: 'A' }
 * ```
 */
export interface HybridLogicalClockOptions {
  /**
   * Physical time in whole milliseconds (default `Date.now`). Must return a non-negative safe
   * integer; wrap fractional sources, e.g. `() => Math.floor(performance.timeOrigin + performance.now())`.
   */
  now?: () => number;
  /** The furthest a received `wallTime` may be ahead of local physical time, in ms (default 60 000). */
  maxDriftMs?: number;
  /**
   * The largest `logical` counter a received timestamp may carry (default 2^32 − 1, far more
   * events than any clock issues in one millisecond). A peer's counter near
   * `Number.MAX_SAFE_INTEGER` would leave this clock unable to tick until physical time passed
   * that peer's `wallTime`; such a timestamp is refused instead.
   */
  maxLogical?: number;
  /** Stamped on every timestamp this clock issues, to break ties between nodes. */
  nodeId?: string;
  /** The timestamp to start after, e.g. the last one persisted before a restart. */
  initial?: HlcTimestamp;
}

/** Width of each number in {@link hlcToString}: `Number.MAX_SAFE_INTEGER` has 16 digits. */
const WIDTH = 16;
const STRING_FORM = /^(\d{16})-(\d{16})(?:-([\s\S]+))?$/;

/** Non-empty, so that the string form stays unambiguous (no trailing "-"). */
function isHlcNodeId(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}

/** Builds a frozen timestamp, leaving `nodeId` out (not undefined) so JSON round-trips exactly. */
function makeTimestamp(wallTime: number, logical: number, nodeId: string | undefined): HlcTimestamp {
  return Object.freeze(nodeId === undefined ? { wallTime, logical } : { wallTime, logical, nodeId });
}

/** Validates an untrusted timestamp object and returns a fresh frozen copy of its known fields. */
function readHlc(value: unknown, what: string): HlcTimestamp {
  if (!isPlainObject(value)) {
    throw new ClockError('INVALID_TIMESTAMP', `${what} must be an object { wallTime, logical, nodeId? }, got ${describeValue(value)}`);
  }
  const wallTime = requireCount(ownValue(value, 'wallTime', what, 'INVALID_TIMESTAMP'), `${what} wallTime`, 'INVALID_TIMESTAMP');
  const logical = requireCount(ownValue(value, 'logical', what, 'INVALID_TIMESTAMP'), `${what} logical`, 'INVALID_TIMESTAMP');
  const nodeId = ownValue(value, 'nodeId', what, 'INVALID_TIMESTAMP');
  if (nodeId !== undefined && !isHlcNodeId(nodeId)) {
    throw new ClockError('INVALID_TIMESTAMP', `${what} nodeId must be a non-empty string, got ${describeValue(nodeId)}`);
  }
  return makeTimestamp(wallTime, logical, nodeId);
}

/**
 * Orders two HLC timestamps by `wallTime`, then `logical`, then `nodeId` (a timestamp without a
 * node id sorts first; ids compare by UTF-16 code units, like `Array.prototype.sort`). If event
 * `a` happened before `b`, `compareHlc(a, b) === -1`; the converse does not hold.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP` if either argument is malformed.
 *
 * @example
 * ```ts
 * import { compareHlc } from 'raftkit';
 * compareHlc({ wallTime: 10, logical: 5 }, { wallTime: 11, logical: 0 }); // -1
 * compareHlc({ wallTime: 10, logical: 1 }, { wallTime: 10, logical: 1 }); // 0
 * compareHlc({ wallTime: 10, logical: 1, nodeId: 'B' }, { wallTime: 10, logical: 1, nodeId: 'A' }); // 1
 * ```
 */
export function compareHlc(a: HlcTimestamp, b: HlcTimestamp): -1 | 0 | 1 {
  const x = readHlc(a, 'first HLC timestamp');
  const y = readHlc(b, 'second HLC timestamp');
  if (x.wallTime !== y.wallTime) return x.wallTime < y.wallTime ? -1 : 1;
  if (x.logical !== y.logical) return x.logical < y.logical ? -1 : 1;
  if (x.nodeId === y.nodeId) return 0;
  if (x.nodeId === undefined) return -1;
  if (y.nodeId === undefined) return 1;
  return x.nodeId < y.nodeId ? -1 : 1;
}

/**
 * Formats a timestamp as `WWWWWWWWWWWWWWWW-LLLLLLLLLLLLLLLL[-nodeId]` (both numbers zero-padded to
 * 16 digits), so that plain string order (`<`, `Array.prototype.sort`, most key-value stores for
 * ASCII node ids) equals {@link compareHlc} order. {@link parseHlc} reads it back.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP` if `ts` is malformed.
 *
 * @example
 * ```ts
 * import { hlcToString } from 'raftkit';
 * hlcToString({ wallTime: 1_700_000_000_000, logical: 3, nodeId: 'A' });
 * // '0001700000000000-0000000000000003-A'
 * ```
 */
export function hlcToString(ts: HlcTimestamp): string {
  const { wallTime, logical, nodeId } = readHlc(ts, 'HLC timestamp');
  const base = `${String(wallTime).padStart(WIDTH, '0')}-${String(logical).padStart(WIDTH, '0')}`;
  return nodeId === undefined ? base : `${base}-${nodeId}`;
}

/**
 * Reads an HLC timestamp from untrusted input: either the string form of {@link hlcToString} or
 * an object such as `JSON.parse` output. Unknown object fields are dropped. Returns a frozen copy.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP`, naming the offending value.
 *
 * @example
 * ```ts
 * import { parseHlc } from 'raftkit';
 * parseHlc('0001700000000000-0000000000000003-A'); // { wallTime: 1700000000000, logical: 3, nodeId: 'A' }
 * parseHlc(JSON.parse('{"wallTime":5,"logical":0}')); // { wallTime: 5, logical: 0 }
 * ```
 */
export function parseHlc(value: unknown): HlcTimestamp {
  if (typeof value !== 'string') return readHlc(value, 'HLC timestamp');
  const match = STRING_FORM.exec(value);
  if (match === null) {
    throw new ClockError('INVALID_TIMESTAMP', `HLC string must look like 0001700000000000-0000000000000000[-nodeId], got ${describeValue(value)}`);
  }
  const [, wall = '', logical = '', nodeId] = match;
  return readHlc({ wallTime: Number(wall), logical: Number(logical), nodeId }, 'HLC string');
}

/**
 * A hybrid logical clock (Kulkarni, Demirbas et al., 2014). Timestamps stay close to physical
 * time (`wallTime` is the largest physical time seen, at most `maxDriftMs` ahead of this node's
 * clock if peers are honest), strictly increase on each node even when physical time stands still
 * or steps back, and respect causality one way: if `a` happened before `b`, then
 * `compareHlc(a, b) < 0`. Two ordered timestamps do not prove causality.
 *
 * Physical time comes from the injected `now` option (default `Date.now`), so simulations and
 * tests can drive it. A method that throws a {@link ClockError} leaves the clock unchanged.
 *
 * @example
 * ```ts
 * import { HybridLogicalClock, compareHlc } from 'raftkit';
 * const a = new HybridLogicalClock({ now: () => 1_000, nodeId: 'A' });
 * const b = new HybridLogicalClock({ now: () => 900, nodeId: 'B' }); // B's clock is behind
 * const sent = a.send();          // { wallTime: 1000, logical: 0, nodeId: 'A' }
 * const got = b.receive(sent);    // { wallTime: 1000, logical: 1, nodeId: 'B' }
 * compareHlc(sent, got);          // -1
 * ```
 */
export class HybridLogicalClock {
  readonly #now: () => number;
  readonly #maxDriftMs: number;
  readonly #maxLogical: number;
  readonly #nodeId: string | undefined;
  #last: HlcTimestamp;

  /**
   * @param options physical time source, drift bound, node id and starting timestamp; see {@link HybridLogicalClockOptions}.
   * @throws {@link ClockError} `INVALID_ARGUMENT` for a malformed option, `INVALID_TIMESTAMP` for a malformed `initial`.
   */
  constructor(options: HybridLogicalClockOptions = {}) {
    if (typeof options !== 'object' || options === null) {
      throw new ClockError('INVALID_ARGUMENT', `HybridLogicalClock options must be an object, got ${describeValue(options)}`);
    }
    const { now = () => Date.now(), maxDriftMs = 60_000, maxLogical = 2 ** 32 - 1, nodeId, initial } = options;
    if (typeof now !== 'function') throw new ClockError('INVALID_ARGUMENT', `HybridLogicalClock now must be a function, got ${describeValue(now)}`);
    if (nodeId !== undefined && !isHlcNodeId(nodeId)) {
      throw new ClockError('INVALID_ARGUMENT', `HybridLogicalClock nodeId must be a non-empty string, got ${describeValue(nodeId)}`);
    }
    this.#now = now;
    this.#maxDriftMs = requireCount(maxDriftMs, 'HybridLogicalClock maxDriftMs', 'INVALID_ARGUMENT');
    this.#maxLogical = requireCount(maxLogical, 'HybridLogicalClock maxLogical', 'INVALID_ARGUMENT');
    this.#nodeId = nodeId;
    const start = initial === undefined ? { wallTime: 0, logical: 0 } : readHlc(initial, 'initial HLC timestamp');
    this.#last = makeTimestamp(start.wallTime, start.logical, nodeId);
  }

  /** The latest timestamp this clock issued (or its starting point). */
  get timestamp(): HlcTimestamp {
    return this.#last;
  }

  /**
   * Timestamps a local or send event: `wallTime` becomes `max(wallTime, physical time)`, and
   * `logical` is incremented if `wallTime` did not move, else reset to 0.
   * @returns the new timestamp, strictly greater than every earlier one of this clock.
   * @throws {@link ClockError} `INVALID_TIME` if `now()` returned a bad value, `OVERFLOW` if
   *   `logical` would pass `Number.MAX_SAFE_INTEGER`.
   */
  now(): HlcTimestamp {
    const physical = this.#physicalTime();
    const { wallTime: last, logical } = this.#last;
    const wallTime = Math.max(last, physical);
    return this.#install(wallTime, wallTime === last ? increment(logical, 'HLC logical counter') : 0);
  }

  /**
   * Timestamps a send event (same as {@link HybridLogicalClock.now}).
   * @returns the new timestamp, to attach to the outgoing message.
   */
  send(): HlcTimestamp {
    return this.now();
  }

  /**
   * Timestamps the receipt of a message stamped `remote`: `wallTime` becomes the maximum of the
   * local, remote and physical wall times, and `logical` continues from whichever of the local and
   * remote timestamps had that wall time (from the larger if both), or restarts at 0.
   * @returns the new timestamp, greater than both the previous local one and `remote`.
   * @throws {@link ClockError} `INVALID_TIMESTAMP` if `remote` is malformed, `INVALID_TIME` if
   *   `now()` returned a bad value, `OVERFLOW` if `logical` would pass `Number.MAX_SAFE_INTEGER`;
   *   `INVALID_TIMESTAMP` too if `remote.logical` is above `maxLogical`;
   *   {@link ClockDriftError} if `remote.wallTime` is more than `maxDriftMs` ahead of physical time.
   */
  receive(remote: HlcTimestamp): HlcTimestamp {
    const r = readHlc(remote, 'received HLC timestamp');
    if (r.logical > this.#maxLogical) {
      throw new ClockError('INVALID_TIMESTAMP', `received HLC logical counter ${r.logical} is above maxLogical ${this.#maxLogical}`);
    }
    const physical = this.#physicalTime();
    const driftMs = r.wallTime - physical;
    if (driftMs > this.#maxDriftMs) {
      throw new ClockDriftError(
        `received HLC wallTime ${r.wallTime} is ${driftMs} ms ahead of physical time ${physical} (maxDriftMs ${this.#maxDriftMs})`,
        driftMs,
        this.#maxDriftMs,
      );
    }
    const { wallTime: last, logical } = this.#last;
    const wallTime = Math.max(last, r.wallTime, physical);
    // Continue the counter of whichever timestamp(s) own the new wall time; physical time alone
    // being ahead of both means a fresh millisecond.
    let continued: number | undefined;
    if (wallTime === last && wallTime === r.wallTime) continued = Math.max(logical, r.logical);
    else if (wallTime === last) continued = logical;
    else if (wallTime === r.wallTime) continued = r.logical;
    return this.#install(wallTime, continued === undefined ? 0 : increment(continued, 'HLC logical counter'));
  }

  /** Physical time, validated: a faulty time source must not corrupt the clock. */
  #physicalTime(): number {
    const now = this.#now; // called as a plain function: the source never sees the clock as `this`
    return requireCount(now(), 'physical time from now()', 'INVALID_TIME');
  }

  #install(wallTime: number, logical: number): HlcTimestamp {
    this.#last = makeTimestamp(wallTime, logical, this.#nodeId);
    return this.#last;
  }
}
