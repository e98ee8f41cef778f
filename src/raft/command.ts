/**
 * Why `command` has no faithful JSON form, as `command<path> is …` (e.g. `command.a[2] is a
 * bigint`), or undefined when it has one: a JSON value is null, a string, a boolean, a finite
 * number, an array of JSON values, or a plain object (prototype `Object.prototype` or null)
 * whose values are JSON values or `undefined` (a key JSON drops, which a state machine reading
 * the command cannot tell from a missing one). Refused: bigints, functions, symbols,
 * `undefined` at the top or in an array, NaN and ±Infinity, cycles, and class instances (Date,
 * Map, …), which JSON would change or lose. Primitives cost one `typeof`; objects one walk,
 * with no string built unless something is wrong.
 */
export function jsonProblem(command: unknown): string | undefined {
  if (typeof command === 'string') return undefined; // the common case, kept out of the walk
  const found = walk(command, undefined);
  return found && `command${found}`;
}

function walk(value: unknown, ancestors: object[] | undefined): string | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : ` is ${value}`;
    case 'object':
      break;
    default:
      return value === undefined ? ' is undefined' : ` is a ${typeof value}`;
  }
  if (value === null) return undefined;
  const seen = ancestors ?? [];
  if (seen.includes(value)) return ' is a cycle';
  const proto: unknown = Object.getPrototypeOf(value);
  const array = Array.isArray(value);
  if (!array && proto !== Object.prototype && proto !== null) return ` is a ${(proto as { constructor?: { name?: string } }).constructor?.name}`;
  seen.push(value);
  if (array) {
    for (let i = 0; i < value.length; i++) {
      const found = walk(value[i], seen);
      if (found !== undefined) return `[${i}]${found}`;
    }
  } else {
    for (const key in value) {
      const item = (value as Record<string, unknown>)[key];
      const found = item === undefined ? undefined : walk(item, seen);
      if (found !== undefined) return `.${key}${found}`;
    }
  }
  seen.pop();
  return undefined;
}
