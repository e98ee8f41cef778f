/**
 * A single read/write register with compare-and-set: the model of one key.
 */
import type { Operation } from './history.js';
import { UNKNOWN, show, type Model, type Unknown } from './model.js';
import { compareAndSet, jsonText, showStored } from './json.js';

/**
 * An operation on a register. `read` returns the value (undefined before any write); `write`
 * returns nothing; `cas` returns whether it swapped. Values are compared as JSON.
 *
 * @example
 * ```ts
 * import type { RegisterInput } from 'raftkit/testing';
 * const inputs: RegisterInput[] = [{ op: 'write', value: 1 }, { op: 'cas', expected: 1, value: 2 }, { op: 'read' }];
 * ```
 */
export type RegisterInput =
  | {
      /** Reads the value. */
      readonly op: 'read';
    }
  | {
      /** Sets the value. */
      readonly op: 'write';
      /** The new value (any JSON value). */
      readonly value: unknown;
    }
  | {
      /** Sets the value to `value` if it is `expected` now; returns whether it did. */
      readonly op: 'cas';
      /** The value the register must hold for the swap (undefined: never written). */
      readonly expected: unknown;
      /** The new value. */
      readonly value: unknown;
    };

/**
 * A register's state: the JSON text of its value, or null before any write.
 *
 * @example
 * ```ts
 * import { registerModel, type RegisterState } from 'raftkit/testing';
 * const after: RegisterState | undefined = registerModel.step(registerModel.init(), { op: 'write', value: [1] }, undefined);
 * console.log(after); // [1]
 * ```
 */
export type RegisterState = string | null;

/**
 * A read/write register with compare-and-set, initially without a value (a read returns
 * undefined). An `ok` cas must output a boolean.
 *
 * @example
 * ```ts
 * import { checkLinearizable, registerModel, type Operation, type RegisterInput } from 'raftkit/testing';
 * const history: Operation<RegisterInput>[] = [
 *   { client: 1, input: { op: 'write', value: 1 }, invoke: 0, complete: 10, status: 'ok' },
 *   { client: 2, input: { op: 'read' }, invoke: 2, complete: 3, status: 'ok', output: 1 }, // the write took effect by 3
 *   { client: 3, input: { op: 'read' }, invoke: 4, complete: 5, status: 'ok', output: undefined }, // so this read is stale
 * ];
 * console.log(checkLinearizable(history, registerModel).result); // illegal
 * ```
 */
export const registerModel: Model<RegisterInput, unknown, RegisterState> = {
  init: () => null,
  step: (state, input, output) => stepRegister(state, input, output),
  hash: (state) => state ?? '',
  validate: (operation) => validateRegister(operation),
  describeOperation: (input, output) => describeRegister(input, output),
  describeState: showStored,
};

function stepRegister(state: RegisterState, input: RegisterInput, output: unknown): RegisterState | undefined {
  switch (input.op) {
    case 'read':
      return output === UNKNOWN || jsonText(output) === state ? state : undefined;
    case 'write':
      return jsonText(input.value);
    case 'cas':
      return compareAndSet(state, input.expected, input.value, output === UNKNOWN ? undefined : (output as boolean));
  }
}

function validateRegister(operation: Operation<RegisterInput>): string | undefined {
  const { input } = operation;
  if (typeof input !== 'object' || input === null || !['read', 'write', 'cas'].includes(input.op)) return 'a register input is a read, a write or a cas';
  if (operation.status === 'ok' && input.op === 'cas' && typeof operation.output !== 'boolean') return 'an ok cas outputs a boolean';
  return undefined;
}

function describeRegister(input: RegisterInput, output: unknown | Unknown): string {
  switch (input.op) {
    case 'read':
      return `read() -> ${show(output)}`;
    case 'write':
      return `write(${show(input.value)})`;
    case 'cas':
      return `cas(${show(input.expected)}, ${show(input.value)}) -> ${show(output)}`;
  }
}
