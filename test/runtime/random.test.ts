import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MathRandom, SeededRandom } from '../../src/runtime/random.js';
import { propertyParams } from '../support/runs.js';

type State = { s0: number; s1: number; s2: number; s3: number };
const state = (r: SeededRandom): number[] => {
  const s = r as unknown as State;
  return [s.s0 >>> 0, s.s1 >>> 0, s.s2 >>> 0, s.s3 >>> 0];
};

const draws = (r: SeededRandom, n: number): number[] => Array.from({ length: n }, () => r.uint32());

describe('SeededRandom', () => {
  it('implements xoshiro128** (reference vector from state [1, 2, 3, 4])', () => {
    const r = new SeededRandom(0);
    Object.assign(r as unknown as State, { s0: 1, s1: 2, s2: 3, s3: 4 });
    expect(draws(r, 10)).toEqual([
      11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804,
    ]);
  });

  it('seeds its state with splitmix32 (reference vector for seed 0)', () => {
    expect(state(new SeededRandom(0))).toEqual([1684164658, 3653269916, 2939563536, 2141751570]);
  });

  it('pins the sequences for known seeds (replays must survive library upgrades)', () => {
    const r = new SeededRandom(42);
    expect(Array.from({ length: 5 }, () => r.int(1, 100))).toEqual([22, 33, 27, 34, 57]);
    expect(draws(new SeededRandom('raft'), 3)).toEqual([4113023845, 889577918, 3356214417]);
    const fork = new SeededRandom(42).fork('network');
    expect(fork.seed).toBe(3436876577);
    expect(draws(fork, 3)).toEqual([2039657060, 500748501, 3578418182]);
    // Same seed ⇒ same sequence.
    expect(draws(new SeededRandom(42), 100)).toEqual(draws(new SeededRandom(42), 100));
  });

  it('different seeds give different sequences', () => {
    const seen = new Set<string>();
    const seeds: Array<number | string> = [0, 1, 2, -1, 2 ** 32, 2 ** 32 + 1, 2 ** 40, 0.5, 1.5, '', 'a', 'b', 'ab', 'ba'];
    for (const seed of seeds) seen.add(draws(new SeededRandom(seed), 4).join(','));
    expect(seen.size).toBe(seeds.length);
  });

  it('keeps the seed it was given', () => {
    expect(new SeededRandom(7).seed).toBe(7);
    expect(new SeededRandom('x').seed).toBe('x');
  });

  it('rejects invalid seeds', () => {
    expect(() => new SeededRandom(Number.NaN)).toThrow(TypeError);
    expect(() => new SeededRandom(Infinity)).toThrow(TypeError);
    expect(() => new SeededRandom({} as unknown as number)).toThrow(TypeError);
  });

  it('next() is in [0, 1) and roughly uniform', () => {
    const r = new SeededRandom('uniform');
    const buckets = new Array<number>(10).fill(0);
    const n = 100_000;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      if (!(x >= 0 && x < 1)) outside++;
      else buckets[Math.floor(x * 10)]!++;
    }
    expect(outside).toBe(0);
    for (const b of buckets) expect(Math.abs(b - n / 10)).toBeLessThan(n / 100); // within 10 %
  });

  it('int(min, max) covers the inclusive range uniformly', () => {
    const r = new SeededRandom(99);
    const counts = new Map<number, number>();
    const n = 60_000;
    for (let i = 0; i < n; i++) {
      const x = r.int(-2, 3);
      counts.set(x, (counts.get(x) ?? 0) + 1);
    }
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([-2, -1, 0, 1, 2, 3]);
    for (const c of counts.values()) expect(Math.abs(c - n / 6)).toBeLessThan(n / 60);
    expect(r.int(5, 5)).toBe(5);
  });

  it('int stays in range for any bounds — property', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.maxSafeInteger(),
        fc.maxSafeInteger(),
        (seed, a, b) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const x = new SeededRandom(seed).int(min, max);
          expect(Number.isInteger(x) && x >= min && x <= max).toBe(true);
        },
      ),
      propertyParams(200, 5000),
    );
  });

  it('validates int, chance and pick arguments', () => {
    const r = new SeededRandom(1);
    expect(() => r.int(1.5, 3)).toThrow(TypeError);
    expect(() => r.int(0, Number.NaN)).toThrow(TypeError);
    expect(() => r.int(3, 1)).toThrow(RangeError);
    expect(() => r.chance(1.1)).toThrow(RangeError);
    expect(() => r.chance(Number.NaN)).toThrow(RangeError);
    expect(() => r.pick([])).toThrow(RangeError);
  });

  it('chance(p) is true about p of the time', () => {
    const r = new SeededRandom('chance');
    let hits = 0;
    for (let i = 0; i < 20_000; i++) if (r.chance(0.3)) hits++;
    expect(hits / 20_000).toBeCloseTo(0.3, 1);
    expect(r.chance(0)).toBe(false);
    expect(r.chance(1)).toBe(true);
  });

  it('pick returns an element; shuffle returns a permutation copy', () => {
    const r = new SeededRandom(5);
    const items = ['a', 'b', 'c', 'd', 'e'] as const;
    expect(items).toContain(r.pick(items));
    const input = [1, 2, 3, 4, 5, 6, 7, 8];
    const out = r.shuffle(input);
    expect(out).not.toBe(input);
    expect(input).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect([...out].sort((a, b) => a - b)).toEqual(input);
    expect(new SeededRandom(5).shuffle(input)).toEqual(new SeededRandom(5).shuffle(input));
  });

  it('shuffle is roughly uniform over permutations', () => {
    const r = new SeededRandom('perm');
    const counts = new Map<string, number>();
    for (let i = 0; i < 24_000; i++) {
      const key = r.shuffle([1, 2, 3, 4]).join('');
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    expect(counts.size).toBe(24);
    for (const c of counts.values()) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('fork is deterministic, label-dependent, and does not disturb the parent', () => {
    const a = new SeededRandom(1);
    const b = new SeededRandom(1);
    const childA = a.fork('network');
    expect(draws(a, 20)).toEqual(draws(b, 20)); // parent stream unaffected by forking

    const p = new SeededRandom(1);
    expect(draws(p.fork('network'), 10)).toEqual(draws(new SeededRandom(1).fork('network'), 10));
    expect(draws(p.fork('network'), 10)).not.toEqual(draws(p.fork('timers'), 10));
    // Forking at a later point in the stream gives a different child.
    p.next();
    expect(draws(p.fork('network'), 10)).not.toEqual(draws(new SeededRandom(1).fork('network'), 10));
    // A child never replays its parent.
    expect(draws(childA, 10)).not.toEqual(draws(new SeededRandom(1), 10));
  });

  it('a fork can be replayed from its seed', () => {
    const child = new SeededRandom('root').fork('n1');
    expect(typeof child.seed).toBe('number');
    const replay = new SeededRandom(child.seed);
    expect(draws(replay, 10)).toEqual(draws(child, 10));
  });

  it('forked streams are uncorrelated with each other', () => {
    const root = new SeededRandom(2024);
    const x = root.fork('x');
    const y = root.fork('y');
    const n = 20_000;
    let sx = 0;
    let sy = 0;
    let sxy = 0;
    let sxx = 0;
    let syy = 0;
    for (let i = 0; i < n; i++) {
      const u = x.next();
      const v = y.next();
      sx += u;
      sy += v;
      sxy += u * v;
      sxx += u * u;
      syy += v * v;
    }
    const cov = sxy / n - (sx / n) * (sy / n);
    const corr = cov / Math.sqrt((sxx / n - (sx / n) ** 2) * (syy / n - (sy / n) ** 2));
    expect(Math.abs(corr)).toBeLessThan(0.05);
  });
});

describe('MathRandom', () => {
  it('draws in range and validates arguments', () => {
    const r = new MathRandom();
    for (let i = 0; i < 1000; i++) {
      const x = r.next();
      expect(x >= 0 && x < 1).toBe(true);
      const k = r.int(3, 7);
      expect(Number.isInteger(k) && k >= 3 && k <= 7).toBe(true);
    }
    expect(['a', 'b']).toContain(r.pick(['a', 'b']));
    expect([...r.shuffle([3, 1, 2])].sort()).toEqual([1, 2, 3]);
    expect(r.chance(0)).toBe(false);
    expect(() => r.int(2, 1)).toThrow(RangeError);
    expect(() => r.chance(-0.1)).toThrow(RangeError);
    expect(() => r.pick([])).toThrow(RangeError);
  });
});
