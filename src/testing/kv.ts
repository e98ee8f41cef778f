/**
 * A key-value store with get, put, delete and compare-and-set. Keys are independent registers,
 * so the model partitions a history by key and each key is checked alone.
 */
import type { KeyValueCommand } from '../kv/key-value-store.js';
import type { Operation } from './history.js';
import { UNKNOWN, partitionBy, show, type Model, type Unknown } from './model.js';
import { compareAndSet, jsonText } from './json.js';

/**
 * An operation on a key-value store: raftkit's `KeyValueCommand`. `get` returns
 * the value (undefined when absent); `put` and `delete` return nothing; `cas` returns whether it
 * swapped. Values are compared as JSON; `expected: undefined` means "absent".
 *
 * @example
 * ```ts
 * import type { KvInput } from 'raftkit/testing';
 * const inputs: KvInput[] = [
 *   { op: 'put', key: 'x', value: 1 },
 *   { op: 'cas', key: 'x', expected: 1, value: 2 },
 *   { op: 'get', key: 'x' },
 *   { op: 'delete', key: 'x' },
 * ];
 * ```
 */
export type KvInput = KeyValueCommand;

/**
 * A key-value store's state: the JSON text of each present key's value. Checked by key, a state
 * holds at most that key.
 *
 * @example
 * ```ts
 * import { kvModel, type KvState } from 'raftkit/testing';
 * const state: KvState | undefined = kvModel.step(kvModel.init(), { op: 'put', key: 'x', value: 'a' }, undefined);
 * console.log(state?.get('x')); // "a"
 * ```
 */
export type KvState = ReadonlyMap<string, string>;

/**
 * A key-value store, initially empty, partitioned by key (P-compositionality). An `ok` cas must
 * output a boolean.
 *
 * @example
 * ```ts
 * import { checkLinearizable, kvModel, type KvInput, type Operation } from 'raftkit/testing';
 * const history: Operation<KvInput>[] = [
 *   { client: 1, input: { op: 'put', key: 'x', value: 1 }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 1, input: { op: 'put', key: 'y', value: 2 }, invoke: 2, complete: 3, status: 'ok' },
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 4, complete: 5, status: 'ok', output: 1 },
 *   { client: 2, input: { op: 'get', key: 'y' }, invoke: 6, complete: 7, status: 'ok', output: undefined }, // y was lost
 * ];
 * const verdict = checkLinearizable(history, kvModel);
 * if (verdict.result === 'illegal') console.log(verdict.counterexample.partition); // y
 * ```
 */
export const kvModel: Model<KvInput, unknown, KvState> = {
  init: () => new Map(),
  step: (state, input, output) => stepKv(state, input, output),
  hash: (state) => hashKv(state),
  partition: partitionBy((input) => input.key),
  validate: (operation) => validateKv(operation),
  describeOperation: (input, output) => describeKv(input, output),
  describeState: (state) => (state.size === 0 ? 'empty' : [...state].map(([key, value]) => `${key}=${value}`).join(', ')),
};

/** Sorted entries as JSON; one key (as when checked by key) without the sorting and the array. */
function hashKv(state: KvState): string {
  if (state.size === 0) return '';
  if (state.size === 1) {
    const [key, value] = state.entries().next().value!;
    return JSON.stringify(key) + value;
  }
  return JSON.stringify([...state].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

function stepKv(state: KvState, input: KvInput, output: unknown): KvState | undefined {
  const current = state.get(input.key) ?? null;
  let next: string | null | undefined;
  switch (input.op) {
    case 'get':
      return output === UNKNOWN || jsonText(output) === current ? state : undefined;
    case 'put':
      next = jsonText(input.value);
      break;
    case 'delete':
      next = null;
      break;
    case 'cas':
      next = compareAndSet(current, input.expected, input.value, output === UNKNOWN ? undefined : (output as boolean));
      break;
  }
  if (next === undefined) return undefined;
  if (next === current) return state;
  const after = new Map(state);
  if (next === null) after.delete(input.key);
  else after.set(input.key, next);
  return after;
}

function validateKv(operation: Operation<KvInput>): string | undefined {
  const { input } = operation;
  if (typeof input !== 'object' || input === null || !['get', 'put', 'delete', 'cas'].includes(input.op)) return 'a key-value input is a get, a put, a delete or a cas';
  if (typeof input.key !== 'string') return 'a key is a string';
  if (operation.status === 'ok' && input.op === 'cas' && typeof operation.output !== 'boolean') return 'an ok cas outputs a boolean';
  return undefined;
}

function describeKv(input: KvInput, output: unknown | Unknown): string {
  switch (input.op) {
    case 'get':
      return `get(${input.key}) -> ${show(output)}`;
    case 'put':
      return `put(${input.key}, ${show(input.value)})`;
    case 'delete':
      return `delete(${input.key})`;
    case 'cas':
      return `cas(${input.key}, ${show(input.expected)}, ${show(input.value)}) -> ${show(output)}`;
  }
}
