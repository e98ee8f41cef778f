/**
 * Randomness, injected. A seeded {@link Random} makes every simulated run replayable.
 */

/**
 * A source of uniformly distributed random numbers.
 *
 * @example
 * ```ts
 * import { SeededRandom } from 'raftkit';
 * const random = new SeededRandom(42);
 * random.int(150, 300); // the same number for seed 42, every time
 * ```
 */
export interface Random {
  /** A float in [0, 1). */
  next(): number;
  /** An integer in [min, max], both inclusive. */
  int(min: number, max: number): number;
}

/** FNV-1a over UTF-16 code units: a small, well-known string hash for turning labels into seeds. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The murmur3 finaliser: spreads every input bit over the output. */
function fmix32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x >>> 0;
}

/** Reduces any accepted seed to 32 bits. Integers use all their bits; other numbers and strings are hashed. */
function seedToUint32(seed: number | string): number {
  if (typeof seed === 'string') return fnv1a(seed);
  if (typeof seed !== 'number' || !Number.isFinite(seed)) {
    throw new TypeError(`SeededRandom: seed must be a finite number or a string, got ${String(seed)}`);
  }
  if (!Number.isSafeInteger(seed)) return fnv1a(String(seed));
  const low = seed >>> 0;
  const high = Math.floor(seed / 0x100000000) >>> 0;
  return (low ^ fmix32(high)) >>> 0;
}

function checkIntRange(who: string, min: number, max: number): void {
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max)) {
    throw new TypeError(`${who}.int: min and max must be safe integers, got ${String(min)} and ${String(max)}`);
  }
  if (min > max) throw new RangeError(`${who}.int: min (${min}) must not exceed max (${max})`);
}

function checkProbability(who: string, p: number): void {
  if (typeof p !== 'number' || !(p >= 0 && p <= 1)) {
    throw new RangeError(`${who}.chance: probability must be in [0, 1], got ${String(p)}`);
  }
}

function pickFrom<T>(who: string, random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError(`${who}.pick: cannot pick from an empty array`);
  return items[random.int(0, items.length - 1)] as T;
}

function shuffled<T>(random: Random, items: readonly T[]): T[] {
  const out = items.slice();
  // Fisher–Yates, from the end.
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    const tmp = out[i] as T;
    out[i] = out[j] as T;
    out[j] = tmp;
  }
  return out;
}

const TWO_POW_32 = 0x100000000;

/**
 * A fast, seeded, deterministic {@link Random}: xoshiro128** (Blackman & Vigna) with its 128-bit
 * state filled by splitmix32 from a 32-bit seed. A string seed is hashed with FNV-1a; an integer
 * seed uses all its bits. Same seed ⇒ same sequence, on every platform.
 *
 * @example
 * ```ts
 * import { SeededRandom } from 'raftkit';
 * const a = new SeededRandom('demo');
 * const b = new SeededRandom('demo');
 * a.int(1, 6) === b.int(1, 6); // true
 * a.pick(['n1', 'n2', 'n3']);  // the same node for seed 'demo', every time
 * const network = a.fork('network'); // an independent stream for one component
 * ```
 */
export class SeededRandom implements Random {
  private readonly initial: number | string;
  private s0 = 0;
  private s1 = 0;
  private s2 = 0;
  private s3 = 0;

  /**
   * Creates a generator from `seed` (a finite number or any string).
   *
   * @throws TypeError when `seed` is NaN, infinite or not a number or string.
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * const random = new SeededRandom(42);
   * ```
   */
  constructor(seed: number | string) {
    let x = seedToUint32(seed);
    this.initial = seed;
    // splitmix32: a well-mixed, never-all-zero start state for xoshiro.
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let t = x ^ (x >>> 16);
      t = Math.imul(t, 0x21f0aaad);
      t ^= t >>> 15;
      t = Math.imul(t, 0x735a2d97);
      return (t ^ (t >>> 15)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /**
   * The seed this generator was created with (for a fork: the derived numeric seed, so that
   * `new SeededRandom(fork.seed)` replays the fork).
   *
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom('abc').seed; // 'abc'
   * ```
   */
  get seed(): number | string {
    return this.initial;
  }

  /**
   * The next raw 32-bit unsigned integer of the stream.
   *
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom(1).uint32(); // an integer in [0, 2^32)
   * ```
   */
  uint32(): number {
    const s1 = this.s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * A float in [0, 1) with 32 bits of resolution (one step of the generator).
   *
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * const x = new SeededRandom(7).next(); // 0 ≤ x < 1
   * ```
   */
  next(): number {
    return this.uint32() / TWO_POW_32;
  }

  /**
   * A uniformly distributed integer in [min, max], both inclusive. Ranges up to 2^32 values are
   * exactly uniform (rejection sampling); wider ranges use 53-bit floats.
   *
   * @throws TypeError when `min` or `max` is not a safe integer; RangeError when `min > max`.
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom(3).int(150, 300); // an election timeout
   * ```
   */
  int(min: number, max: number): number {
    checkIntRange('SeededRandom', min, max);
    const range = max - min + 1;
    if (range > TWO_POW_32) {
      const high = this.uint32() >>> 5; // 27 bits
      const low = this.uint32() >>> 6; // 26 bits
      // Clamp: float rounding could otherwise land one past max.
      return Math.min(max, min + Math.floor(((high * 67108864 + low) / 9007199254740992) * range));
    }
    // Reject the top sliver that would make low values more likely.
    const limit = TWO_POW_32 - (TWO_POW_32 % range);
    let u = this.uint32();
    while (u >= limit) u = this.uint32();
    return min + (u % range);
  }

  /**
   * True with probability `p` (consumes one number, even when p is 0 or 1).
   *
   * @throws RangeError when `p` is outside [0, 1].
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom(5).chance(0.1); // true about one time in ten
   * ```
   */
  chance(p: number): boolean {
    checkProbability('SeededRandom', p);
    return this.next() < p;
  }

  /**
   * One element of `items`, uniformly.
   *
   * @throws RangeError when `items` is empty.
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom(9).pick(['a', 'b', 'c']);
   * ```
   */
  pick<T>(items: readonly T[]): T {
    return pickFrom('SeededRandom', this, items);
  }

  /**
   * A shuffled copy of `items` (Fisher–Yates); the input is left untouched.
   *
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * new SeededRandom(9).shuffle([1, 2, 3, 4]); // e.g. [3, 1, 4, 2]
   * ```
   */
  shuffle<T>(items: readonly T[]): T[] {
    return shuffled(this, items);
  }

  /**
   * An independent generator for one component, derived from this generator's current state and
   * `label`. It does not advance or otherwise disturb this stream: forking the same label twice
   * at the same point gives identical children, different labels give unrelated streams. The
   * child's {@link SeededRandom.seed} is a number that replays it.
   *
   * @example
   * ```ts
   * import { SeededRandom } from 'raftkit';
   * const root = new SeededRandom(42);
   * const timers = root.fork('timers');
   * const network = root.fork('network'); // drawing from one never shifts the other
   * ```
   */
  fork(label: string): SeededRandom {
    if (typeof label !== 'string') throw new TypeError('SeededRandom.fork: label must be a string');
    let h = fmix32(fnv1a(label) ^ 0x5bd1e995);
    h = fmix32(h ^ this.s0);
    h = fmix32(h ^ this.s1);
    h = fmix32(h ^ this.s2);
    h = fmix32(h ^ this.s3);
    return new SeededRandom(h);
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * The default {@link Random} for real (non-simulated) use, backed by `Math.random`. Not
 * reproducible; use {@link SeededRandom} in tests and simulations.
 *
 * @example
 * ```ts
 * import { MathRandom } from 'raftkit';
 * const random = new MathRandom();
 * random.int(150, 300);
 * ```
 */
export class MathRandom implements Random {
  /**
   * A float in [0, 1) from `Math.random()`.
   *
   * @example
   * ```ts
   * import { MathRandom } from 'raftkit';
   * new MathRandom().next();
   * ```
   */
  next(): number {
    return Math.random();
  }

  /**
   * An integer in [min, max], both inclusive.
   *
   * @throws TypeError when `min` or `max` is not a safe integer; RangeError when `min > max`.
   * @example
   * ```ts
   * import { MathRandom } from 'raftkit';
   * new MathRandom().int(1, 6);
   * ```
   */
  int(min: number, max: number): number {
    checkIntRange('MathRandom', min, max);
    return min + Math.floor(Math.random() * (max - min + 1));
  }

  /**
   * True with probability `p`.
   *
   * @throws RangeError when `p` is outside [0, 1].
   * @example
   * ```ts
   * import { MathRandom } from 'raftkit';
   * new MathRandom().chance(0.5);
   * ```
   */
  chance(p: number): boolean {
    checkProbability('MathRandom', p);
    return Math.random() < p;
  }

  /**
   * One element of `items`, uniformly.
   *
   * @throws RangeError when `items` is empty.
   * @example
   * ```ts
   * import { MathRandom } from 'raftkit';
   * new MathRandom().pick(['a', 'b']);
   * ```
   */
  pick<T>(items: readonly T[]): T {
    return pickFrom('MathRandom', this, items);
  }

  /**
   * A shuffled copy of `items`; the input is left untouched.
   *
   * @example
   * ```ts
   * import { MathRandom } from 'raftkit';
   * new MathRandom().shuffle([1, 2, 3]);
   * ```
   */
  shuffle<T>(items: readonly T[]): T[] {
    return shuffled(this, items);
  }
}
