/**
 * `checkLinearizable`: is there a single order of the operations, each taking effect at one
 * instant between its invocation and its completion, in which the model gives every output seen?
 */
import { HistoryError } from './errors.js';
import { validateHistory, type Operation } from './history.js';
import { UNKNOWN, partsOf, type Model } from './model.js';
import { Budget, search, type Entry } from './search.js';
import { failingWindow, type FailingWindow } from './window.js';
import { nameOperation, nameState } from './describe.js';

/**
 * Limits on the search. Its work is counted in steps (one step tries one operation); a history
 * of bounded concurrency takes a few steps per operation, a pathological one exponentially many.
 *
 * @example
 * ```ts
 * import { checkLinearizable, kvModel, type CheckOptions } from 'raftkit/testing';
 * // At most 1,000,000 steps per key, and at most 2 s in all on the clock given.
 * const options: CheckOptions = { maxSteps: 1_000_000, timeoutMs: 2_000, now: () => performance.now() };
 * console.log(checkLinearizable([], kvModel, options).result); // linearizable
 * ```
 */
export interface CheckOptions {
  /** Steps allowed for each partition before the verdict is `unknown` (default 10,000,000). */
  readonly maxSteps?: number;
  /** A time budget for the whole check, in the unit of `now`; needs `now`. */
  readonly timeoutMs?: number;
  /** The clock `timeoutMs` is measured on (e.g. `() => performance.now()`). */
  readonly now?: () => number;
}

/**
 * One step of a partial linearization: the operation (its index in the history) and the model
 * state right after it took effect.
 *
 * @example
 * ```ts
 * import type { LinearizationPoint, RegisterState } from 'raftkit/testing';
 * const point: LinearizationPoint<RegisterState> = { operation: 0, state: '1' };
 * ```
 */
export interface LinearizationPoint<S> {
  /** The operation's index in the history. */
  readonly operation: number;
  /** The state after it. */
  readonly state: S;
}

/**
 * Why a history is not linearizable, shrunk to a small window of one partition: the operations
 * of `window` (indices into the history, by invocation), applied from `start`, have no
 * linearization. The longest partial linearization of the window that the search found is
 * `linearization`; it got stuck at `operation`, which completed before it could be placed.
 *
 * @example
 * ```ts
 * import { checkLinearizable, kvModel, type Counterexample, type KvState } from 'raftkit/testing';
 * const verdict = checkLinearizable([
 *   { client: 1, input: { op: 'put', key: 'x', value: 1 }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 2, complete: 3, status: 'ok', output: 2 },
 * ], kvModel);
 * if (verdict.result === 'illegal') {
 *   const c: Counterexample<KvState> = verdict.counterexample;
 *   console.log(c.partition, c.window, c.operation); // x [ 1 ] 1 (after the put, x=1 for sure)
 *   console.log(c.message);
 * }
 * ```
 */
export interface Counterexample<S> {
  /** The partition (for `kvModel`, the key) that fails; undefined when the model has no partitions. */
  readonly partition: string | undefined;
  /** The failing window: indices of its operations in the history, by invocation. */
  readonly window: readonly number[];
  /** The state before the window: the model's initial state, or the one state every linearization of the earlier operations ends in. */
  readonly start: S;
  /** The longest partial linearization of the window found, from `start`. */
  readonly linearization: readonly LinearizationPoint<S>[];
  /** The operation that cannot be placed: the index of the one whose completion stopped that linearization. */
  readonly operation: number;
  /** All of the above in words, for a failure message. */
  readonly message: string;
}

/**
 * The verdict of {@link checkLinearizable}: `linearizable`; `illegal`, with a counterexample; or
 * `unknown`, when the budget ran out on `partition` before any partition was found illegal.
 *
 * @example
 * ```ts
 * import { checkLinearizable, registerModel, type CheckResult, type RegisterState } from 'raftkit/testing';
 * const verdict: CheckResult<RegisterState> = checkLinearizable([], registerModel);
 * switch (verdict.result) {
 *   case 'linearizable': console.log('ok'); break;
 *   case 'illegal': console.log(verdict.counterexample.message); break;
 *   case 'unknown': console.log(`gave up on ${verdict.partition} (${verdict.reason})`); break;
 * }
 * ```
 */
export type CheckResult<S> =
  | {
      /** Every partition has a linearization. */
      readonly result: 'linearizable';
    }
  | {
      /** Some partition has none. */
      readonly result: 'illegal';
      /** Why, shrunk. */
      readonly counterexample: Counterexample<S>;
    }
  | {
      /** The search ran out of budget. */
      readonly result: 'unknown';
      /** The first partition it ran out on. */
      readonly partition: string | undefined;
      /** Out of steps (`maxSteps`) or out of time (`timeoutMs`). */
      readonly reason: 'steps' | 'deadline';
    };

/**
 * Checks that `history` is linearizable with respect to `model` (Wing & Gong's search with
 * Lowe's memoization, one partition at a time). Throws a {@link HistoryError} for a malformed
 * history. Also exported as `check`, the name the API contract gives it.
 *
 * @example
 * ```ts
 * import { checkLinearizable, kvModel, type KvInput, type Operation } from 'raftkit/testing';
 * const history: Operation<KvInput>[] = [
 *   { client: 1, input: { op: 'put', key: 'x', value: 1 }, invoke: 0, complete: 4, status: 'ok' },
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 1, complete: 2, status: 'ok', output: 1 },
 *   { client: 3, input: { op: 'cas', key: 'x', expected: 1, value: 2 }, invoke: 3, status: 'info' }, // timed out
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 5, complete: 6, status: 'ok', output: 2 }, // so it took effect
 * ];
 * console.log(checkLinearizable(history, kvModel)); // { result: 'linearizable' }
 * ```
 *
 * @example
 * ```ts
 * // `check` is the same function; a read that misses a write acknowledged before it began is refused.
 * import { check, kvModel, type KvInput, type Operation } from 'raftkit/testing';
 * const stale: Operation<KvInput>[] = [
 *   { client: 1, input: { op: 'put', key: 'x', value: 1 }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 2, complete: 3, status: 'ok', output: undefined },
 * ];
 * console.log(check(stale, kvModel).result); // illegal
 * ```
 */
export function checkLinearizable<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>, options: CheckOptions = {}): CheckResult<S> {
  const { maxSteps = 10_000_000, timeoutMs, now } = options;
  if (!Number.isInteger(maxSteps) || maxSteps < 1) throw new RangeError(`maxSteps must be a positive integer, got ${maxSteps}`);
  if (timeoutMs !== undefined && (now === undefined || !(timeoutMs >= 0))) throw new RangeError('timeoutMs needs a clock (now) and a non-negative number');
  checkInitialState(model);
  validateHistory(history);
  history.forEach((o, i) => {
    const problem = model.validate?.(o);
    if (problem !== undefined) throw new HistoryError('INVALID_OPERATION', problem, i);
  });

  const deadline = timeoutMs === undefined ? undefined : now!() + timeoutMs;
  const budget = (): Budget => new Budget(maxSteps, now, deadline);
  let unknown: CheckResult<S> | undefined;
  for (const [partition, entries] of partitions(history, model)) {
    const verdict = search(entries, model, model.init(), budget());
    if (verdict.kind === 'illegal') {
      return { result: 'illegal', counterexample: counterexample(history, model, partition, failingWindow(entries, model, verdict, budget())) };
    }
    if (verdict.kind === 'unknown') unknown ??= { result: 'unknown', partition, reason: verdict.reason };
  }
  return unknown ?? { result: 'linearizable' };
}

/**
 * The model's partitions (or the whole history as one), as search entries in invocation order,
 * without the fail operations.
 */
function partitions<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>): [string | undefined, Entry<I, O>[]][] {
  const index = new Map<Operation<I, O>, number>(history.map((o, i) => [o, i]));
  return partsOf(history, model).map(([key, operations]) => {
    const entries: Entry<I, O>[] = [];
    for (const o of operations) {
      const i = index.get(o);
      if (i === undefined) throw new TypeError(`the model's partition returned an operation that is not in the history: ${JSON.stringify(o)}`);
      if (o.status === 'fail') continue; // it did not happen
      const info = o.status === 'info';
      entries.push({ index: i, input: o.input, output: info ? UNKNOWN : (o.output as O), info, invoke: o.invoke, complete: info ? Infinity : o.complete! });
    }
    return [key, entries.sort((a, b) => a.invoke - b.invoke || a.index - b.index)];
  });
}

/** A model whose states `JSON.stringify` cannot tell apart would make the memoization unsound. */
function checkInitialState<I, O, S>(model: Model<I, O, S>): void {
  const state: unknown = model.init();
  if (state === undefined) throw new TypeError("a model's initial state must not be undefined (step returns undefined for an impossible output)");
  if (model.hash === undefined && typeof state === 'object' && state !== null && !Array.isArray(state) && Object.getPrototypeOf(state) !== Object.prototype) {
    throw new TypeError(`a model whose state is a ${state.constructor?.name ?? 'non-plain object'} needs a hash: JSON.stringify cannot tell such states apart`);
  }
}

/** At most this many steps of a long linearization are spelled out in the message. */
const SHOWN = 10;

function counterexample<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>, partition: string | undefined, found: FailingWindow<I, O, S>): Counterexample<S> {
  const name = (i: number): string => nameOperation(history, i, model);
  const blocked = history[found.blocked.index]!;
  const steps = found.linearization.map(({ entry, state }) => `${name(entry.index)} => ${nameState(state, model)}`);
  const shown = steps.length <= SHOWN ? steps : [`… ${steps.length - SHOWN} more`, ...steps.slice(-SHOWN)];
  const message = [
    `not linearizable${partition === undefined ? '' : ` (partition ${JSON.stringify(partition)})`}: ` +
      `${name(found.blocked.index)} (client ${String(blocked.client)}, [${blocked.invoke}, ${String(blocked.complete)}]) cannot be placed before it completed`,
    `window: ${found.window.length} operation${found.window.length === 1 ? '' : 's'} from state ${nameState(found.start, model)}: ${found.window.map((e) => `#${e.index}`).join(', ')}`,
    `longest partial linearization: ${steps.length === 0 ? 'none' : shown.join(', ')}`,
  ].join('\n');
  return {
    partition,
    window: found.window.map((e) => e.index),
    start: found.start,
    linearization: found.linearization.map(({ entry, state }) => ({ operation: entry.index, state })),
    operation: found.blocked.index,
    message,
  };
}
