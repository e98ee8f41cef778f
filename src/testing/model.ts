/**
 * What the checker knows of the system under test: a sequential specification (a model) that
 * says, for each state, which outputs an input may give and what state follows.
 */
import type { Operation } from './history.js';

/**
 * The output the model is given for an `info` operation: nobody saw what it returned, so the
 * model must accept any output and only apply the input.
 *
 * @example
 * ```ts
 * import { UNKNOWN, type Model } from 'raftkit/testing';
 * // A counter: 'inc' adds one; 'read' returns the count.
 * const counter: Model<'inc' | 'read', number, number> = {
 *   init: () => 0,
 *   step: (count, input, output) => (input === 'inc' ? count + 1 : output === UNKNOWN || output === count ? count : undefined),
 * };
 * console.log(counter.step(2, 'read', UNKNOWN)); // 2
 * ```
 */
export const UNKNOWN: unique symbol = Symbol.for('raftkit/testing.unknown');

/**
 * The type of {@link UNKNOWN}.
 *
 * @example
 * ```ts
 * import { UNKNOWN, type Unknown } from 'raftkit/testing';
 * const seen = (output: number | Unknown): string => (output === UNKNOWN ? '?' : String(output));
 * console.log(seen(UNKNOWN), seen(3)); // ? 3
 * ```
 */
export type Unknown = typeof UNKNOWN;

/**
 * A sequential specification of the system under test. `I` is an operation's input, `O` its
 * output and `S` the model's state. States are values: `step` returns a new state and never
 * changes the one it is given (the search returns to earlier states when it backtracks). `step`
 * depends on the values of its arguments only, not on which objects they are (the search takes
 * info operations with equal plain-JSON inputs as interchangeable).
 *
 * Memoization needs to tell states apart: `hash` (default: `JSON.stringify`) must give equal
 * states equal hashes. Without `equals`, states with equal hashes are taken to be equal, so the
 * hash must then tell every two different states apart; give `equals` when it may collide. A
 * state that is a `Map`, a `Set` or a class instance needs a `hash`.
 *
 * @example
 * ```ts
 * import { UNKNOWN, checkLinearizable, type Model, type Operation } from 'raftkit/testing';
 * // A queue of numbers: enqueue returns nothing; dequeue returns the oldest, or null when empty.
 * type QueueInput = { op: 'enqueue'; value: number } | { op: 'dequeue' };
 * const queue: Model<QueueInput, number | null, readonly number[]> = {
 *   init: () => [],
 *   step: (items, input, output) => {
 *     if (input.op === 'enqueue') return [...items, input.value];
 *     const head = items[0] ?? null;
 *     return output === UNKNOWN || output === head ? items.slice(1) : undefined;
 *   },
 *   hash: (items) => items.join(','),
 *   describeOperation: (input, output) => (input.op === 'enqueue' ? `enqueue(${input.value})` : `dequeue() -> ${output === UNKNOWN ? '?' : String(output)}`),
 * };
 * const history: Operation<QueueInput, number | null>[] = [
 *   { client: 1, input: { op: 'enqueue', value: 1 }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 1, input: { op: 'enqueue', value: 2 }, invoke: 2, complete: 3, status: 'ok' },
 *   { client: 2, input: { op: 'dequeue' }, invoke: 4, complete: 5, status: 'ok', output: 2 }, // not the oldest
 * ];
 * console.log(checkLinearizable(history, queue).result); // illegal
 * ```
 */
export interface Model<I, O, S> {
  /** The state before any operation. Never `undefined`. */
  init(): S;
  /**
   * The state after `input` is applied to `state` and gives `output` ({@link UNKNOWN} for an
   * `info` operation), or `undefined` when that output is impossible from `state`.
   */
  step(state: S, input: I, output: O | Unknown): S | undefined;
  /** A hash of `state` for memoization (default: `JSON.stringify`). */
  hash?(state: S): string | number;
  /** Whether two states with equal hashes are equal (default: they are). */
  equals?(a: S, b: S): boolean;
  /**
   * Splits a history into independent parts, checked one by one (P-compositionality): a history
   * is linearizable if and only if each part is, when the parts share no state (the keys of a
   * key-value store). Every returned operation must be one of `history`'s own objects.
   */
  partition?(history: readonly Operation<I, O>[]): ReadonlyMap<string, readonly Operation<I, O>[]>;
  /** Refuses a malformed operation: returns what is wrong with it, or `undefined` when it is well formed. */
  validate?(operation: Operation<I, O>): string | undefined;
  /** A short text of an operation for reports and pictures (default: input and output as JSON). */
  describeOperation?(input: I, output: O | Unknown): string;
  /** A short text of a state for reports and pictures (default: JSON). */
  describeState?(state: S): string;
}

/**
 * A {@link Model.partition} that splits a history by the key `keyOf` gives each input.
 *
 * @example
 * ```ts
 * import { partitionBy, registerModel, type Model, type RegisterInput } from 'raftkit/testing';
 * // Registers named by a key, each independent of the others.
 * type Named = RegisterInput & { readonly name: string };
 * const named: Model<Named, unknown, string | null> = { ...registerModel, partition: partitionBy((input) => input.name) };
 * const parts = named.partition!([
 *   { client: 1, input: { op: 'write', value: 1, name: 'x' }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 2, input: { op: 'read', name: 'y' }, invoke: 0, complete: 1, status: 'ok' },
 * ]);
 * console.log([...parts.keys()]); // [ 'x', 'y' ]
 * ```
 */
export function partitionBy<I, O>(keyOf: (input: I) => string): (history: readonly Operation<I, O>[]) => ReadonlyMap<string, readonly Operation<I, O>[]> {
  return (history) => {
    const parts = new Map<string, Operation<I, O>[]>();
    for (const operation of history) {
      const key = keyOf(operation.input);
      const part = parts.get(key);
      if (part === undefined) parts.set(key, [operation]);
      else part.push(operation);
    }
    return parts;
  };
}

/** The model's `hash`, or `JSON.stringify` by default. */
export function hashOf<I, O, S>(model: Model<I, O, S>): (state: S) => string | number {
  return model.hash ? (state) => model.hash!(state) : (state) => JSON.stringify(state);
}

/** The model's parts (the whole history as one part, named undefined, when it has no `partition`). */
export function partsOf<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>): [string | undefined, readonly Operation<I, O>[]][] {
  return model.partition ? [...model.partition(history)] : [[undefined, history]];
}

/** JSON text of any value (`undefined` too), for the default descriptions. */
export function show(value: unknown): string {
  if (value === UNKNOWN) return '?';
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
}
