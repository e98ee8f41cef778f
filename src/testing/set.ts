/**
 * A grow-only set: elements are added, and a read returns every element present.
 */
import type { Operation } from './history.js';
import { UNKNOWN, show, type Model } from './model.js';
import { jsonText } from './json.js';

/**
 * An operation on a set. `add` returns nothing; `read` returns the elements (an array, in any
 * order). Elements are compared as JSON.
 *
 * @example
 * ```ts
 * import type { SetInput } from 'raftkit/testing';
 * const inputs: SetInput[] = [{ op: 'add', value: 'a' }, { op: 'read' }];
 * ```
 */
export type SetInput =
  | {
      /** Adds `value`. */
      readonly op: 'add';
      /** The element (any JSON value). */
      readonly value: unknown;
    }
  | {
      /** Reads every element. */
      readonly op: 'read';
    };

/**
 * A set's state: the JSON text of each element, sorted.
 *
 * @example
 * ```ts
 * import { setModel, type SetState } from 'raftkit/testing';
 * const state: SetState | undefined = setModel.step(['1'], { op: 'add', value: 0 }, undefined);
 * console.log(state); // [ '0', '1' ]
 * ```
 */
export type SetState = readonly string[];

/**
 * A set, initially empty. An `ok` read must output an array; its order and repetitions do not
 * matter. Not partitioned: every read sees every element.
 *
 * @example
 * ```ts
 * import { checkLinearizable, setModel, type Operation, type SetInput } from 'raftkit/testing';
 * const history: Operation<SetInput>[] = [
 *   { client: 1, input: { op: 'add', value: 1 }, invoke: 0, complete: 5, status: 'ok' },
 *   { client: 2, input: { op: 'add', value: 2 }, invoke: 0, complete: 5, status: 'ok' },
 *   { client: 3, input: { op: 'read' }, invoke: 1, complete: 2, status: 'ok', output: [2] },
 *   { client: 3, input: { op: 'read' }, invoke: 3, complete: 4, status: 'ok', output: [1] }, // 2 vanished
 * ];
 * console.log(checkLinearizable(history, setModel).result); // illegal
 * ```
 */
export const setModel: Model<SetInput, unknown, SetState> = {
  init: () => [],
  step: (state, input, output) => stepSet(state, input, output),
  hash: (state) => state.join('\n'), // JSON text has no raw newline
  validate: (operation) => validateSet(operation),
  describeOperation: (input, output) => (input.op === 'add' ? `add(${show(input.value)})` : `read() -> ${show(output)}`),
  describeState: (state) => `{${state.join(', ')}}`,
};

function stepSet(state: SetState, input: SetInput, output: unknown): SetState | undefined {
  if (input.op === 'add') {
    const element = jsonText(input.value) ?? 'null';
    return state.includes(element) ? state : [...state, element].sort();
  }
  if (output === UNKNOWN) return state;
  const read = [...new Set((output as unknown[]).map((element) => jsonText(element) ?? 'null'))].sort();
  return read.length === state.length && read.every((element, i) => element === state[i]) ? state : undefined;
}

function validateSet(operation: Operation<SetInput>): string | undefined {
  const { input } = operation;
  if (typeof input !== 'object' || input === null || (input.op !== 'add' && input.op !== 'read')) return 'a set input is an add or a read';
  if (operation.status === 'ok' && input.op === 'read' && !Array.isArray(operation.output)) return 'an ok read outputs an array';
  return undefined;
}
