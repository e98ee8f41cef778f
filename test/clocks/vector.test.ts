import { describe, it, expect, afterEach } from 'vitest';
import { ClockError, VectorClock, compareVectors, mergeVectors, parseVectorTimestamp, type VectorTimestamp } from '../../src/clocks/index.js';
import { clockError } from '../support/clock-error.js';

const MAX = Number.MAX_SAFE_INTEGER;


const badTimestamps: [string, unknown][] = [
  ['null', null],
  ['a number', 3],
  ['a string', '{"A":1}'],
  ['an array', [1, 2]],
  ['a Map', new Map([['A', 1]])],
  ['a Date', new Date(0)],
  ['a class instance', new (class Stamp { A = 1; })()],
  ['a negative entry', { A: -1 }],
  ['a fractional entry', { A: 1.5 }],
  ['a NaN entry', { A: Number.NaN }],
  ['an Infinity entry', { A: Infinity }],
  ['an unsafe entry', { A: MAX + 1 }],
  ['a string entry', { A: '1' }],
  ['a null entry', { A: null }],
  ['an object entry', { A: { valueOf: () => 1 } }],
  ['an empty key', { '': 1 }],
  ['a symbol key', { [Symbol('A')]: 1 }],
  ['a getter', Object.defineProperty({}, 'A', { get: () => 1, enumerable: true })],
  ['a __proto__ key', JSON.parse('{"__proto__": 1}')],
  ['a constructor key', JSON.parse('{"constructor": 1}')],
  ['a prototype key', JSON.parse('{"prototype": 1}')],
  ['a toString key', JSON.parse('{"toString": 1}')],
];

afterEach(() => {
  // No test may leave Object.prototype polluted.
  expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  expect(Object.prototype).not.toHaveProperty('polluted');
});

describe('VectorClock', () => {
  it('starts empty or from a copy of the given timestamp', () => {
    expect(new VectorClock('A').timestamp).toEqual({});
    const initial = { A: 2, B: 5 };
    const clock = new VectorClock('A', initial);
    expect(clock.timestamp).toEqual({ A: 2, B: 5 });
    expect(clock.timestamp).not.toBe(initial);
    expect(clock.nodeId).toBe('A');
  });

  it('tick and send increment its own entry and return the new timestamp', () => {
    const clock = new VectorClock('A', { B: 1 });
    expect(clock.tick()).toEqual({ B: 1, A: 1 });
    expect(clock.send()).toEqual({ B: 1, A: 2 });
    expect(clock.timestamp).toEqual({ B: 1, A: 2 });
  });

  it('receive merges element-wise max, then increments its own entry', () => {
    const clock = new VectorClock('B', { A: 1, B: 3, C: 4 });
    expect(clock.receive({ A: 5, B: 9, D: 1 })).toEqual({ A: 5, B: 10, C: 4, D: 1 });
    expect(clock.receive({})).toEqual({ A: 5, B: 11, C: 4, D: 1 });
  });

  it('returns frozen, plain, JSON-safe timestamps that later events do not change', () => {
    const clock = new VectorClock('A');
    const first = clock.tick();
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.getPrototypeOf(first)).toBe(Object.prototype);
    expect(() => {
      (first as Record<string, number>)['A'] = 99;
    }).toThrow(TypeError);
    clock.tick();
    expect(first).toEqual({ A: 1 });
    expect(clock.timestamp).toStrictEqual({ A: 2 });
    expect(JSON.parse(JSON.stringify(clock.timestamp))).toEqual({ A: 2 });
    expect(Object.isFrozen(clock.timestamp)).toBe(true);
  });

  it('never mutates the received object', () => {
    const remote = { A: 3, B: 1 };
    const clock = new VectorClock('B', { B: 7 });
    clock.receive(remote);
    expect(remote).toEqual({ A: 3, B: 1 });
    expect(Object.isFrozen(remote)).toBe(false);
  });

  it('accepts timestamps from JSON and from another clock', () => {
    const a = new VectorClock('A');
    const b = new VectorClock('B');
    const sent = a.send();
    expect(b.receive(JSON.parse(JSON.stringify(sent)))).toEqual({ A: 1, B: 1 });
    expect(a.receive(b.timestamp)).toEqual({ A: 2, B: 1 });
  });

  it.each([[''], ['__proto__'], ['constructor'], ['prototype'], ['toString'], ['hasOwnProperty'], [1], [null], [undefined]])('rejects the node id %s', (id) => {
    expect(clockError(() => new VectorClock(id as string)).code).toBe('INVALID_ARGUMENT');
  });

  it('rejects a bad initial timestamp', () => {
    expect(clockError(() => new VectorClock('A', { A: -1 })).code).toBe('INVALID_TIMESTAMP');
  });

  it.each(badTimestamps)('receive rejects %s and stays unchanged', (_label, value) => {
    const clock = new VectorClock('A', { A: 4, B: 2 });
    const before = clock.timestamp;
    const error = clockError(() => clock.receive(value as VectorTimestamp));
    expect(error.code).toBe('INVALID_TIMESTAMP');
    expect(error.message).toContain('received vector timestamp');
    expect(clock.timestamp).toBe(before);
    expect(clock.tick()).toEqual({ A: 5, B: 2 });
  });

  it('names the bad key or value in the message', () => {
    const clock = new VectorClock('A');
    expect(clockError(() => clock.receive({ B: -3 })).message).toMatch(/"B".*-3/);
    expect(clockError(() => clock.receive(JSON.parse('{"__proto__": 1}'))).message).toContain('"__proto__"');
  });

  it('refuses to overflow its own entry and stays unchanged', () => {
    const clock = new VectorClock('A', { A: MAX });
    expect(clockError(() => clock.tick()).code).toBe('OVERFLOW');
    expect(clockError(() => clock.send()).code).toBe('OVERFLOW');
    expect(clock.timestamp).toEqual({ A: MAX });
    const other = new VectorClock('B', { B: 1 });
    expect(clockError(() => other.receive({ B: MAX })).code).toBe('OVERFLOW');
    expect(other.timestamp).toEqual({ B: 1 });
    // Other nodes' entries may sit at the maximum: only our own entry is incremented.
    expect(other.receive({ A: MAX })).toEqual({ B: 2, A: MAX });
  });
});

describe('prototype pollution', () => {
  const attacks = [
    '{"__proto__": {"polluted": 1}}',
    '{"A": 1, "__proto__": {"polluted": 1}}',
    '{"constructor": {"prototype": {"polluted": 1}}}',
    '{"prototype": {"polluted": 1}}',
  ];

  it.each(attacks.map((json) => [json]))('%s is rejected everywhere and pollutes nothing', (json) => {
    const payload: unknown = JSON.parse(json);
    const clock = new VectorClock('A', { A: 1 });
    expect(clockError(() => clock.receive(payload as VectorTimestamp)).code).toBe('INVALID_TIMESTAMP');
    expect(clockError(() => parseVectorTimestamp(payload)).code).toBe('INVALID_TIMESTAMP');
    expect(clockError(() => mergeVectors({ A: 1 }, payload as VectorTimestamp)).code).toBe('INVALID_TIMESTAMP');
    expect(clockError(() => compareVectors(payload as VectorTimestamp, { A: 1 })).code).toBe('INVALID_TIMESTAMP');
    expect(clockError(() => new VectorClock('B', payload as VectorTimestamp)).code).toBe('INVALID_TIMESTAMP');
    expect(clock.timestamp).toEqual({ A: 1 });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });

  it('ignores inherited properties: only own keys are entries', () => {
    const inherited = Object.create({ B: 5 }) as VectorTimestamp; // not a plain object either
    expect(clockError(() => parseVectorTimestamp(inherited)).code).toBe('INVALID_TIMESTAMP');
    const nullProto = Object.assign(Object.create(null) as Record<string, number>, { A: 2 });
    expect(parseVectorTimestamp(nullProto)).toEqual({ A: 2 });
  });
});

describe('parseVectorTimestamp', () => {
  it('returns a validated frozen copy', () => {
    const input = { A: 1, B: 0, 'node-7': 9 };
    const parsed = parseVectorTimestamp(input);
    expect(parsed).toEqual(input);
    expect(parsed).not.toBe(input);
    expect(Object.isFrozen(parsed)).toBe(true);
    expect(Object.isFrozen(input)).toBe(false);
  });

  it('accepts the maximum safe counter', () => {
    expect(parseVectorTimestamp({ A: MAX })).toEqual({ A: MAX });
  });

  it.each(badTimestamps)('rejects %s', (_label, value) => {
    expect(clockError(() => parseVectorTimestamp(value)).code).toBe('INVALID_TIMESTAMP');
  });
});

describe('compareVectors', () => {
  it.each([
    [{ A: 1 }, { A: 2 }, 'before'],
    [{ A: 1 }, { A: 1, B: 1 }, 'before'],
    [{}, { A: 1 }, 'before'],
    [{ A: 2 }, { A: 1 }, 'after'],
    [{ A: 1, B: 1 }, { B: 1 }, 'after'],
    [{ A: 1 }, { A: 1 }, 'equal'],
    [{ A: 0 }, {}, 'equal'],
    [{}, {}, 'equal'],
    [{ A: 1 }, { B: 1 }, 'concurrent'],
    [{ A: 2, B: 1 }, { A: 1, B: 2 }, 'concurrent'],
  ] as const)('%o vs %o is %s', (a, b, expected) => {
    expect(compareVectors(a, b)).toBe(expected);
  });

  it('does not modify its arguments', () => {
    const a = { A: 1 };
    const b = { B: 2 };
    compareVectors(a, b);
    expect(a).toEqual({ A: 1 });
    expect(b).toEqual({ B: 2 });
  });

  it('rejects malformed arguments', () => {
    expect(clockError(() => compareVectors({ A: -1 }, {})).message).toContain('first vector timestamp');
    expect(clockError(() => compareVectors({}, null as unknown as VectorTimestamp)).message).toContain('second vector timestamp');
  });
});

describe('mergeVectors', () => {
  it('takes the element-wise maximum into a new frozen object', () => {
    const a = { A: 2, B: 1 };
    const b = { B: 3, C: 1 };
    const merged = mergeVectors(a, b);
    expect(merged).toEqual({ A: 2, B: 3, C: 1 });
    expect(Object.isFrozen(merged)).toBe(true);
    expect(a).toEqual({ A: 2, B: 1 });
    expect(b).toEqual({ B: 3, C: 1 });
  });

  it('rejects malformed arguments', () => {
    expect(clockError(() => mergeVectors({ A: 1.5 }, {})).code).toBe('INVALID_TIMESTAMP');
  });
});
