/**
 * Internal validation helpers shared by the clocks (not part of the public API).
 * Everything that arrives from outside (remote times, parsed JSON, options, physical time) goes
 * through here before a clock changes, so a bad value raises a {@link ClockError} and never
 * corrupts state.
 * @internal
 * @module
 */
import { ClockError, type ClockErrorCode } from './errors.js';

/**
 * Names that must never be node ids (vector timestamp keys): `prototype` and every member of
 * `Object.prototype` (`__proto__`, `constructor`, `toString`, …). Rejecting them keeps prototype
 * pollution out and means `timestamp[id]` on a plain object can only ever read an own entry.
 */
const RESERVED_KEYS: ReadonlySet<string> = new Set(['prototype', ...Object.getOwnPropertyNames(Object.prototype)]);

/** A short, safe rendering of a bad value for an error message. @internal */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'number':
      return String(value); // NaN, Infinity, -1, 1.5 print as themselves
    case 'string':
      return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
    case 'bigint':
      return `${value}n`;
    case 'symbol':
      return value.toString();
    case 'object':
      return value === null ? 'null' : Array.isArray(value) ? 'an array' : 'an object';
    case 'function':
      return 'a function';
    default:
      return String(value); // undefined, booleans
  }
}

/** Returns `value` if it is an integer in [0, MAX_SAFE_INTEGER], else throws. @internal */
export function requireCount(value: unknown, what: string, code: ClockErrorCode): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw new ClockError(code, `${what} must be a non-negative safe integer, got ${describeValue(value)}`);
  }
  return value + 0; // turns -0 into 0
}

/** `value + 1`, refusing to leave the range where integers are exact. @internal */
export function increment(value: number, what: string): number {
  if (value >= Number.MAX_SAFE_INTEGER) {
    throw new ClockError('OVERFLOW', `${what} ${value} cannot be incremented past Number.MAX_SAFE_INTEGER`);
  }
  return value + 1;
}

/** A vector clock node id: a non-empty string that is not a reserved key. @internal */
export function isValidNodeId(value: unknown): value is string {
  return typeof value === 'string' && value !== '' && !RESERVED_KEYS.has(value);
}

/** True for `{…}` literals, `JSON.parse` output and `Object.create(null)` objects. @internal */
export function isPlainObject(value: unknown): value is object {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * The own data property `key` of `object`, or undefined. Inherited properties are ignored (a
 * polluted `Object.prototype` cannot inject values) and getters are refused (they could run
 * code or answer differently on a second read). @internal
 */
export function ownValue(object: object, key: string, what: string, code: ClockErrorCode): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  if (descriptor === undefined) return undefined;
  if (!('value' in descriptor)) throw new ClockError(code, `${what}: property ${describeValue(key)} must be a data property, not a getter`);
  return descriptor.value;
}
