/**
 * Histories with Jepsen's semantics: each client operation is invoked, then completes `ok` (it
 * took effect once, somewhere between its invocation and its completion), `fail` (it did not
 * take effect) or `info` (unknown: it may take effect at any time after its invocation, or never).
 */
import { HistoryError } from './errors.js';

/**
 * How an operation ended: `ok` (it happened, with its output), `fail` (it did not happen) or
 * `info` (unknown: a timeout, a lost connection, a crash).
 *
 * @example
 * ```ts
 * import type { OperationStatus } from 'raftkit/testing';
 * const timedOut: OperationStatus = 'info';
 * ```
 */
export type OperationStatus = 'ok' | 'fail' | 'info';

/**
 * One client operation of a history. Operation A precedes B in real time only when
 * `A.complete < B.invoke`: operations that touch at an instant are concurrent. Times are any
 * non-decreasing numbers (milliseconds, virtual time, or a counter of events).
 *
 * @example
 * ```ts
 * import type { Operation, RegisterInput } from 'raftkit/testing';
 * const history: Operation<RegisterInput>[] = [
 *   { client: 'a', input: { op: 'write', value: 1 }, invoke: 0, complete: 3, status: 'ok' },
 *   { client: 'b', input: { op: 'read' }, invoke: 1, complete: 2, status: 'ok', output: 1 },
 *   { client: 'c', input: { op: 'write', value: 2 }, invoke: 4, status: 'info' }, // timed out
 * ];
 * ```
 */
export interface Operation<I = unknown, O = unknown> {
  /** Who ran it (a lane in the picture; the checker does not need clients to be sequential). */
  readonly client: string | number;
  /** What was asked, as the model understands it. */
  readonly input: I;
  /** When it was invoked. */
  readonly invoke: number;
  /** When it completed: required for `ok` and `fail`, ignored for `info`. */
  readonly complete?: number | undefined;
  /** How it ended. */
  readonly status: OperationStatus;
  /** What it returned: used for `ok`, ignored otherwise. */
  readonly output?: O;
}

const STATUSES: ReadonlySet<unknown> = new Set(['ok', 'fail', 'info']);

/** Throws a {@link HistoryError} for the first malformed operation of `history`. */
export function validateHistory(history: readonly Operation<unknown, unknown>[]): void {
  if (!Array.isArray(history)) throw new HistoryError('INVALID_OPERATION', 'a history is an array of operations');
  history.forEach((o, i) => {
    if (typeof o !== 'object' || o === null) throw new HistoryError('INVALID_OPERATION', 'an operation is an object', i);
    if (!STATUSES.has(o.status)) throw new HistoryError('INVALID_OPERATION', `unknown status ${JSON.stringify(o.status)}`, i);
    if (typeof o.client !== 'string' && typeof o.client !== 'number') throw new HistoryError('INVALID_OPERATION', 'client must be a string or a number', i);
    if (!Number.isFinite(o.invoke)) throw new HistoryError('INVALID_OPERATION', 'invoke must be a finite number', i);
    if (o.status === 'info' && o.complete === undefined) return;
    if (o.complete === undefined) throw new HistoryError('MISSING_COMPLETION', `an ${o.status} operation needs a completion time`, i);
    if (typeof o.complete !== 'number' || Number.isNaN(o.complete)) throw new HistoryError('INVALID_OPERATION', 'complete must be a number', i);
    if (o.complete < o.invoke) throw new HistoryError('COMPLETE_BEFORE_INVOKE', `completes at ${o.complete}, before its invocation at ${o.invoke}`, i);
  });
}

/**
 * One event of a history in Jepsen's form: an invocation, then at most one completion with the
 * same `id`. An invocation without a completion is `info`.
 *
 * @example
 * ```ts
 * import type { HistoryEvent, RegisterInput } from 'raftkit/testing';
 * const events: HistoryEvent<RegisterInput>[] = [
 *   { type: 'invoke', id: 1, client: 'a', time: 0, input: { op: 'write', value: 1 } },
 *   { type: 'ok', id: 1, time: 2 },
 * ];
 * ```
 */
export type HistoryEvent<I = unknown, O = unknown> =
  | {
      /** An operation starts. */
      readonly type: 'invoke';
      /** Names the operation; its completion carries the same id. */
      readonly id: string | number;
      /** Who runs it. */
      readonly client: string | number;
      /** What is asked. */
      readonly input: I;
      /** When. */
      readonly time: number;
    }
  | {
      /** The operation took effect, with `output`. */
      readonly type: 'ok';
      /** The id of its invocation. */
      readonly id: string | number;
      /** What it returned. */
      readonly output?: O;
      /** When. */
      readonly time: number;
    }
  | {
      /** The operation did not happen (`fail`), or its outcome is unknown (`info`). */
      readonly type: 'fail' | 'info';
      /** The id of its invocation. */
      readonly id: string | number;
      /** When (optional for `info`). */
      readonly time?: number;
    };

/**
 * Pairs Jepsen-style events into operations, in invocation order. Throws a {@link HistoryError}
 * for a completion before (or without) its invocation, a duplicate id, a second completion, or
 * events out of time order.
 *
 * @example
 * ```ts
 * import { checkLinearizable, historyFromEvents, registerModel, type RegisterInput } from 'raftkit/testing';
 * const history = historyFromEvents<RegisterInput>([
 *   { type: 'invoke', id: 1, client: 'a', time: 0, input: { op: 'write', value: 1 } },
 *   { type: 'invoke', id: 2, client: 'b', time: 1, input: { op: 'read' } },
 *   { type: 'ok', id: 1, time: 2 },
 *   { type: 'ok', id: 2, time: 3, output: 1 },
 *   { type: 'invoke', id: 3, client: 'a', time: 4, input: { op: 'write', value: 2 } }, // never completed: info
 * ]);
 * console.log(history[2]?.status, checkLinearizable(history, registerModel).result); // info linearizable
 * ```
 */
export function historyFromEvents<I = unknown, O = unknown>(events: readonly HistoryEvent<I, O>[]): Operation<I, O>[] {
  const operations: { -readonly [K in keyof Operation<I, O>]: Operation<I, O>[K] }[] = [];
  const byId = new Map<string | number, number>();
  const completed = new Set<number>();
  let last = -Infinity;
  events.forEach((event, i) => {
    if (event.time !== undefined) {
      if (!Number.isFinite(event.time)) throw new HistoryError('INVALID_OPERATION', 'time must be a finite number', i);
      if (event.time < last) throw new HistoryError('TIME_WENT_BACKWARDS', `time ${event.time} comes after time ${last}`, i);
      last = event.time;
    }
    if (event.type === 'invoke') {
      if (byId.has(event.id)) throw new HistoryError('DUPLICATE_ID', `id ${JSON.stringify(event.id)} is invoked twice`, i);
      byId.set(event.id, operations.length);
      operations.push({ client: event.client, input: event.input, invoke: event.time, status: 'info' });
      return;
    }
    const at = byId.get(event.id);
    if (at === undefined) throw new HistoryError('COMPLETE_BEFORE_INVOKE', `${event.type} for id ${JSON.stringify(event.id)}, which was not invoked before`, i);
    if (completed.has(at)) throw new HistoryError('ALREADY_COMPLETED', `id ${JSON.stringify(event.id)} completes twice`, i);
    if (event.type !== 'info' && event.time === undefined) throw new HistoryError('MISSING_COMPLETION', `an ${event.type} event needs a time`, i);
    completed.add(at);
    const operation = operations[at]!;
    operation.status = event.type;
    if (event.time !== undefined) operation.complete = event.time;
    if (event.type === 'ok' && 'output' in event) operation.output = event.output as O;
  });
  validateHistory(operations);
  return operations;
}
