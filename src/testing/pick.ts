/** Choosing with an injected {@link Random}, which has only `next` and `int`. */
import type { Random } from '../runtime/random.js';

/** One of `items` (not empty), uniformly. */
export function pick<T>(random: Random, items: readonly T[]): T {
  if (items.length === 0) throw new RangeError('pick: nothing to pick from');
  return items[random.int(0, items.length - 1)] as T;
}
