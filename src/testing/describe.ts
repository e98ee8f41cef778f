/**
 * Texts of operations and states for reports, through the model's own descriptions.
 */
import type { Operation } from './history.js';
import { UNKNOWN, show, type Model } from './model.js';

/** What an operation did, in the model's words (its output is `?` unless it ended ok). */
export function operationText<I, O, S>(o: Operation<I, O>, model: Model<I, O, S>): string {
  const output = o.status === 'ok' ? (o.output as O) : UNKNOWN;
  return model.describeOperation ? model.describeOperation(o.input, output) : `${show(o.input)} -> ${show(output)}`;
}

/** An operation's name in reports: `#index text`, with `(info)` or `(fail)` when it did not end ok. */
export function nameOperation<I, O, S>(history: readonly Operation<I, O>[], index: number, model: Model<I, O, S>): string {
  const o = history[index]!;
  return `#${index} ${operationText(o, model)}${o.status === 'ok' ? '' : ` (${o.status})`}`;
}

/** A state's text. */
export function nameState<I, O, S>(state: S, model: Model<I, O, S>): string {
  return model.describeState ? model.describeState(state) : show(state);
}

/**
 * One line per operation: its index, client, `[invoke, complete]` (`?`: never completed),
 * status and description. For failure messages and logs.
 *
 * @example
 * ```ts
 * import { describeHistory, registerModel } from 'raftkit/testing';
 * console.log(describeHistory([
 *   { client: 'a', input: { op: 'write', value: 1 }, invoke: 0, complete: 2, status: 'ok' },
 *   { client: 'b', input: { op: 'read' }, invoke: 1, status: 'info' },
 * ], registerModel));
 * // #0 client a [0, 2] ok write(1)
 * // #1 client b [1, ?] info read() -> ?
 * ```
 */
export function describeHistory<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>): string {
  return history.map((o, i) => `#${i} client ${String(o.client)} [${o.invoke}, ${o.complete ?? '?'}] ${o.status} ${operationText(o, model)}`).join('\n');
}
