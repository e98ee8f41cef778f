import { describe, it, expect } from 'vitest';
import {
  ClockDriftError,
  ClockError,
  HybridLogicalClock,
  compareHlc,
  hlcToString,
  parseHlc,
  type HlcTimestamp,
} from '../../src/clocks/index.js';
import { clockError } from '../support/clock-error.js';

const MAX = Number.MAX_SAFE_INTEGER;


/** A clock on a manual physical time source. */
function manual(start: number, options: { maxDriftMs?: number; maxLogical?: number; nodeId?: string; initial?: HlcTimestamp } = {}) {
  const time = { value: start as unknown };
  const clock = new HybridLogicalClock({ ...options, now: () => time.value as number });
  return { clock, time };
}

const badNumbers: unknown[] = [Number.NaN, -1, 1.5, Infinity, -Infinity, MAX + 1, '5', null, undefined, 5n, {}];

describe('HybridLogicalClock.now / send', () => {
  it('starts at { wallTime: 0, logical: 0 } and follows physical time', () => {
    const { clock, time } = manual(1000);
    expect(clock.timestamp).toEqual({ wallTime: 0, logical: 0 });
    expect(clock.now()).toEqual({ wallTime: 1000, logical: 0 });
    time.value = 1005;
    expect(clock.send()).toEqual({ wallTime: 1005, logical: 0 });
    expect(clock.timestamp).toEqual({ wallTime: 1005, logical: 0 });
  });

  it('counts logically while physical time stands still or goes back', () => {
    const { clock, time } = manual(1000);
    clock.now();
    expect(clock.now()).toEqual({ wallTime: 1000, logical: 1 });
    time.value = 900; // NTP stepped the clock back
    expect(clock.now()).toEqual({ wallTime: 1000, logical: 2 });
    time.value = 1001;
    expect(clock.now()).toEqual({ wallTime: 1001, logical: 0 });
  });

  it('counts from 0 at physical time 0', () => {
    const { clock } = manual(0);
    expect(clock.now()).toEqual({ wallTime: 0, logical: 1 });
  });

  it('stamps its node id on every timestamp', () => {
    const { clock } = manual(7, { nodeId: 'A' });
    expect(clock.timestamp).toEqual({ wallTime: 0, logical: 0, nodeId: 'A' });
    expect(clock.now()).toEqual({ wallTime: 7, logical: 0, nodeId: 'A' });
  });

  it('resumes after an initial timestamp (e.g. persisted before a restart)', () => {
    const { clock } = manual(100, { initial: { wallTime: 200, logical: 4, nodeId: 'old' }, nodeId: 'A' });
    expect(clock.timestamp).toEqual({ wallTime: 200, logical: 4, nodeId: 'A' });
    expect(clock.now()).toEqual({ wallTime: 200, logical: 5, nodeId: 'A' });
  });

  it('uses Date.now by default', () => {
    const before = Date.now();
    const ts = new HybridLogicalClock().now();
    expect(ts.wallTime).toBeGreaterThanOrEqual(before);
    expect(ts.wallTime).toBeLessThanOrEqual(Date.now());
  });

  it('returns frozen, JSON round-trippable timestamps', () => {
    const { clock } = manual(5, { nodeId: 'A' });
    const ts = clock.now();
    expect(Object.isFrozen(ts)).toBe(true);
    expect(JSON.parse(JSON.stringify(ts))).toStrictEqual(ts);
    expect(JSON.stringify(manual(5).clock.now())).toBe('{"wallTime":5,"logical":0}');
  });

  it.each(badNumbers.map((v) => [v]))('rejects physical time %s from now() and stays unchanged', (value) => {
    const { clock, time } = manual(10);
    const before = clock.now();
    time.value = value;
    const error = clockError(() => clock.now());
    expect(error.code).toBe('INVALID_TIME');
    expect(error.message).toContain('physical time');
    expect(clockError(() => clock.receive({ wallTime: 1, logical: 0 })).code).toBe('INVALID_TIME');
    expect(clock.timestamp).toBe(before);
  });

  it('names the bad physical time in the message', () => {
    const { clock, time } = manual(Number.NaN);
    expect(clockError(() => clock.now()).message).toContain('got NaN');
    time.value = -5;
    expect(clockError(() => clock.now()).message).toContain('got -5');
  });

  it('refuses to overflow the logical counter and stays unchanged', () => {
    const { clock } = manual(10, { initial: { wallTime: 10, logical: MAX } });
    expect(clockError(() => clock.now()).code).toBe('OVERFLOW');
    expect(clockError(() => clock.send()).code).toBe('OVERFLOW');
    expect(clock.timestamp).toEqual({ wallTime: 10, logical: MAX });
  });
});

describe('HybridLogicalClock.receive', () => {
  it('takes a remote wall time that is ahead and continues its counter', () => {
    const { clock } = manual(100);
    expect(clock.receive({ wallTime: 150, logical: 3 })).toEqual({ wallTime: 150, logical: 4 });
  });

  it('keeps its own wall time when ahead and increments its counter', () => {
    const { clock, time } = manual(200);
    clock.now(); // (200, 0)
    time.value = 150;
    expect(clock.receive({ wallTime: 120, logical: 9 })).toEqual({ wallTime: 200, logical: 1 });
  });

  it('uses the larger counter when local and remote wall times tie', () => {
    const { clock } = manual(200);
    clock.now(); // (200, 0)
    expect(clock.receive({ wallTime: 200, logical: 7 })).toEqual({ wallTime: 200, logical: 8 });
    expect(clock.receive({ wallTime: 200, logical: 2 })).toEqual({ wallTime: 200, logical: 9 });
  });

  it('resets the counter when physical time is ahead of both', () => {
    const { clock, time } = manual(100);
    clock.now();
    time.value = 300;
    expect(clock.receive({ wallTime: 250, logical: 9 })).toEqual({ wallTime: 300, logical: 0 });
  });

  it('is strictly after both the remote and the previous local timestamp', () => {
    const { clock } = manual(100, { nodeId: 'B' });
    const previous = clock.now();
    const remote = { wallTime: 100, logical: 0, nodeId: 'A' };
    const next = clock.receive(remote);
    expect(compareHlc(remote, next)).toBe(-1);
    expect(compareHlc(previous, next)).toBe(-1);
  });

  it('does not mutate, keep or require the remote object to be frozen', () => {
    const { clock } = manual(100, { nodeId: 'B' });
    const remote = { wallTime: 150, logical: 3, nodeId: 'A', extra: 'ignored' };
    const next = clock.receive(remote);
    expect(remote).toEqual({ wallTime: 150, logical: 3, nodeId: 'A', extra: 'ignored' });
    expect(next).toEqual({ wallTime: 150, logical: 4, nodeId: 'B' });
  });

  it('accepts a remote exactly maxDriftMs ahead', () => {
    const { clock } = manual(1000, { maxDriftMs: 100 });
    expect(clock.receive({ wallTime: 1100, logical: 0 })).toEqual({ wallTime: 1100, logical: 1 });
  });

  it('rejects a remote more than maxDriftMs ahead with ClockDriftError and stays unchanged', () => {
    const { clock } = manual(1000, { maxDriftMs: 100 });
    const before = clock.now();
    const error = clockError(() => clock.receive({ wallTime: 1101, logical: 0 }));
    expect(error).toBeInstanceOf(ClockDriftError);
    expect(error.code).toBe('DRIFT_EXCEEDED');
    expect((error as ClockDriftError).driftMs).toBe(101);
    expect((error as ClockDriftError).maxDriftMs).toBe(100);
    expect(error.message).toContain('1101');
    expect(clock.timestamp).toBe(before);
  });

  it('defaults maxDriftMs to 60 000', () => {
    const { clock } = manual(0);
    expect(clock.receive({ wallTime: 60_000, logical: 0 }).wallTime).toBe(60_000);
    const error = clockError(() => manual(0).clock.receive({ wallTime: 60_001, logical: 0 }));
    expect(error).toBeInstanceOf(ClockDriftError);
  });

  const badRemotes: [string, unknown][] = [
    ['null', null],
    ['a number', 5],
    ['an array', [5, 0]],
    ['a Date', new Date(5)],
    ['a missing wallTime', { logical: 0 }],
    ['a missing logical', { wallTime: 5 }],
    ['a NaN wallTime', { wallTime: Number.NaN, logical: 0 }],
    ['a negative wallTime', { wallTime: -1, logical: 0 }],
    ['a fractional wallTime', { wallTime: 1.5, logical: 0 }],
    ['an Infinity wallTime', { wallTime: Infinity, logical: 0 }],
    ['an unsafe wallTime', { wallTime: MAX + 1, logical: 0 }],
    ['a string wallTime', { wallTime: '5', logical: 0 }],
    ['a negative logical', { wallTime: 5, logical: -1 }],
    ['an unsafe logical', { wallTime: 5, logical: 2 ** 60 }],
    ['an empty nodeId', { wallTime: 5, logical: 0, nodeId: '' }],
    ['a numeric nodeId', { wallTime: 5, logical: 0, nodeId: 7 }],
    ['a getter', Object.defineProperty({ logical: 0 }, 'wallTime', { get: () => 5, enumerable: true })],
    ['an inherited wallTime', Object.create({ wallTime: 5, logical: 0 }) as unknown],
    ['a __proto__ payload', JSON.parse('{"__proto__": {"wallTime": 5, "logical": 0}}')],
  ];

  it.each(badRemotes)('rejects %s and stays unchanged', (_label, value) => {
    const { clock } = manual(10);
    const before = clock.now();
    const error = clockError(() => clock.receive(value as HlcTimestamp));
    expect(error.code).toBe('INVALID_TIMESTAMP');
    expect(error.message).toContain('received HLC timestamp');
    expect(clock.timestamp).toBe(before);
    expect(({} as Record<string, unknown>)['wallTime']).toBeUndefined();
  });

  it('reads own properties only, even if Object.prototype is polluted', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto['nodeId'] = 'evil';
    proto['wallTime'] = 5;
    try {
      expect(parseHlc({ wallTime: 1, logical: 0 })).toStrictEqual({ wallTime: 1, logical: 0 });
      expect(clockError(() => parseHlc({ logical: 0 })).message).toContain('wallTime');
    } finally {
      delete proto['nodeId'];
      delete proto['wallTime'];
    }
  });

  it('refuses to overflow the logical counter on receive and stays unchanged', () => {
    const { clock } = manual(10, { maxLogical: MAX }); // (by default such a counter is refused before: maxLogical)
    const before = clock.now();
    expect(clockError(() => clock.receive({ wallTime: 10, logical: MAX })).code).toBe('OVERFLOW');
    expect(clock.timestamp).toBe(before);
  });
});

describe('HybridLogicalClock options', () => {
  it.each([
    ['now', { now: 5 }],
    ['maxDriftMs', { maxDriftMs: -1 }],
    ['maxDriftMs', { maxDriftMs: Number.NaN }],
    ['maxDriftMs', { maxDriftMs: 1.5 }],
    ['nodeId', { nodeId: '' }],
    ['nodeId', { nodeId: 3 }],
  ])('rejects a bad %s', (name, options) => {
    const error = clockError(() => new HybridLogicalClock(options as never));
    expect(error.code).toBe('INVALID_ARGUMENT');
    expect(error.message).toContain(name);
  });

  it('rejects a bad initial timestamp', () => {
    expect(clockError(() => new HybridLogicalClock({ initial: { wallTime: -1, logical: 0 } })).code).toBe('INVALID_TIMESTAMP');
  });
});

describe('compareHlc', () => {
  it.each([
    [{ wallTime: 1, logical: 9 }, { wallTime: 2, logical: 0 }, -1],
    [{ wallTime: 2, logical: 0 }, { wallTime: 1, logical: 9 }, 1],
    [{ wallTime: 2, logical: 1 }, { wallTime: 2, logical: 2 }, -1],
    [{ wallTime: 2, logical: 2 }, { wallTime: 2, logical: 2 }, 0],
    [{ wallTime: 2, logical: 2 }, { wallTime: 2, logical: 2, nodeId: 'A' }, -1],
    [{ wallTime: 2, logical: 2, nodeId: 'A' }, { wallTime: 2, logical: 2, nodeId: 'B' }, -1],
    [{ wallTime: 2, logical: 2, nodeId: 'B' }, { wallTime: 2, logical: 2, nodeId: 'A' }, 1],
    [{ wallTime: 2, logical: 2, nodeId: 'A' }, { wallTime: 2, logical: 2, nodeId: 'A' }, 0],
  ] as const)('%o vs %o is %d', (a, b, expected) => {
    expect(compareHlc(a, b)).toBe(expected);
  });

  it('rejects malformed arguments', () => {
    expect(clockError(() => compareHlc({ wallTime: -1, logical: 0 }, { wallTime: 0, logical: 0 })).message).toContain('first HLC timestamp');
    expect(clockError(() => compareHlc({ wallTime: 0, logical: 0 }, null as unknown as HlcTimestamp)).message).toContain('second HLC timestamp');
  });
});

describe('hlcToString / parseHlc', () => {
  it('formats fixed-width, zero-padded fields', () => {
    expect(hlcToString({ wallTime: 1_700_000_000_000, logical: 3 })).toBe('0001700000000000-0000000000000003');
    expect(hlcToString({ wallTime: 0, logical: 0, nodeId: 'n-1' })).toBe('0000000000000000-0000000000000000-n-1');
    expect(hlcToString({ wallTime: MAX, logical: MAX })).toBe('9007199254740991-9007199254740991');
  });

  it('sorts as strings in compareHlc order', () => {
    const stamps: HlcTimestamp[] = [
      { wallTime: 10, logical: 0, nodeId: 'B' },
      { wallTime: 9, logical: 100 },
      { wallTime: 10, logical: 0 },
      { wallTime: 100, logical: 0 },
      { wallTime: 10, logical: 0, nodeId: 'A' },
      { wallTime: 10, logical: 11 },
      { wallTime: 10, logical: 2 },
    ];
    const byString = stamps.map(hlcToString).sort().map(parseHlc);
    const byCompare = [...stamps].sort(compareHlc);
    expect(byString).toEqual(byCompare);
  });

  it('parses both the string form and objects, returning frozen copies', () => {
    const fromString = parseHlc('0001700000000000-0000000000000003-A');
    expect(fromString).toEqual({ wallTime: 1_700_000_000_000, logical: 3, nodeId: 'A' });
    expect(Object.isFrozen(fromString)).toBe(true);
    expect(parseHlc('0000000000000005-0000000000000000')).toStrictEqual({ wallTime: 5, logical: 0 });
    const input = { wallTime: 5, logical: 1, extra: true };
    expect(parseHlc(input)).toStrictEqual({ wallTime: 5, logical: 1 });
    expect(input).toEqual({ wallTime: 5, logical: 1, extra: true });
    expect(parseHlc(JSON.parse('{"wallTime":5,"logical":0,"nodeId":"x"}'))).toEqual({ wallTime: 5, logical: 0, nodeId: 'x' });
  });

  it('keeps node ids containing the separator', () => {
    const ts = { wallTime: 1, logical: 2, nodeId: 'a-b-c\nd' };
    expect(parseHlc(hlcToString(ts))).toEqual(ts);
  });

  it.each([
    [''],
    ['5-0'],
    ['0000000000000005-0000000000000000-'],
    ['0000000000000005_0000000000000000'],
    ['000000000000005-0000000000000000'],
    ['9999999999999999-0000000000000000'], // past MAX_SAFE_INTEGER
    ['0000000000000005-9999999999999999'],
    ['-000000000000005-0000000000000000'],
    [' 0000000000000005-0000000000000000'],
  ])('rejects the string %j', (value) => {
    expect(clockError(() => parseHlc(value)).code).toBe('INVALID_TIMESTAMP');
  });

  it.each([[null], [undefined], [5], [[1, 2]], [{ wallTime: 1 }], [{ wallTime: 1, logical: 0.5 }]])('rejects %j', (value) => {
    expect(clockError(() => parseHlc(value)).code).toBe('INVALID_TIMESTAMP');
  });

  it('hlcToString validates its argument', () => {
    expect(clockError(() => hlcToString({ wallTime: Number.NaN, logical: 0 })).message).toContain('got NaN');
  });
});

describe('HybridLogicalClock against hostile or odd input (review findings)', () => {
  it('refuses a received logical counter above maxLogical, so one peer cannot lock the clock', () => {
    const clock = new HybridLogicalClock({ now: () => 1_000_000, nodeId: 'V' });
    const hostile = { wallTime: 1_060_000, logical: Number.MAX_SAFE_INTEGER - 1, nodeId: 'X' };
    expect(() => clock.receive(hostile)).toThrow(ClockError);
    expect(clock.timestamp).toEqual({ wallTime: 0, logical: 0, nodeId: 'V' }); // unchanged
    expect(clock.now()).toEqual({ wallTime: 1_000_000, logical: 0, nodeId: 'V' }); // still ticks
    const atBound = new HybridLogicalClock({ now: () => 5, maxLogical: 10 });
    expect(atBound.receive({ wallTime: 5, logical: 10 })).toEqual({ wallTime: 5, logical: 11 });
    expect(() => atBound.receive({ wallTime: 5, logical: 11 })).toThrow(/above maxLogical 10/);
  });

  it('rejects null options and a bad maxLogical with INVALID_ARGUMENT', () => {
    for (const bad of [() => new HybridLogicalClock(null as never), () => new HybridLogicalClock({ maxLogical: -1 })]) {
      try {
        bad();
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ClockError);
        expect((error as ClockError).code).toBe('INVALID_ARGUMENT');
      }
    }
  });

  it('calls now() as a plain function, never with the clock as this', () => {
    let seen: unknown = 'not called';
    const clock = new HybridLogicalClock({
      now: function (this: unknown) {
        seen = this;
        return 7;
      },
    });
    clock.now();
    expect(seen).toBeUndefined();
  });
});
