/**
 * The built-in models compare values as JSON text: two values are equal when they serialise to
 * the same text (so object keys must come in the same order), and `undefined` is no value.
 */

/** The JSON text of `value`, or null for `undefined` (no value). */
export function jsonText(value: unknown): string | null {
  return JSON.stringify(value) ?? null;
}

/** A stored value (JSON text, null: none) for reports. */
export function showStored(text: string | null): string {
  return text ?? 'none';
}

/**
 * The value after a compare-and-set of `expected` to `value` on `current`, or undefined when
 * the known `swapped` disagrees with what the comparison gives.
 */
export function compareAndSet(current: string | null, expected: unknown, value: unknown, swapped: boolean | undefined): string | null | undefined {
  const swaps = jsonText(expected) === current;
  if (swapped !== undefined && swapped !== swaps) return undefined;
  return swaps ? jsonText(value) : current;
}
