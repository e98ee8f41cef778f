/**
 * Typed errors for histories the checker cannot judge.
 */

/**
 * What is wrong with a history, as a stable machine-readable code:
 * - `INVALID_OPERATION`: an operation is malformed (its status, client or times are not what
 *   {@link Operation} says, or the model refuses its input or output);
 * - `MISSING_COMPLETION`: an `ok` or `fail` operation has no completion time;
 * - `COMPLETE_BEFORE_INVOKE`: an operation completes before it is invoked, or a completion event
 *   comes before (or without) its invocation;
 * - `DUPLICATE_ID`: two invocation events share an id;
 * - `ALREADY_COMPLETED`: an operation is completed twice;
 * - `TIME_WENT_BACKWARDS`: events are out of time order, or a recorder's clock went backwards.
 *
 * @example
 * ```ts
 * import { HistoryError, checkLinearizable, registerModel, type HistoryErrorCode } from 'raftkit/testing';
 * let code: HistoryErrorCode | undefined;
 * try {
 *   checkLinearizable([{ client: 1, input: { op: 'read' }, invoke: 5, complete: 2, status: 'ok', output: 1 }], registerModel);
 * } catch (error) {
 *   if (error instanceof HistoryError) code = error.code;
 * }
 * console.log(code); // COMPLETE_BEFORE_INVOKE
 * ```
 */
export type HistoryErrorCode =
  | 'INVALID_OPERATION'
  | 'MISSING_COMPLETION'
  | 'COMPLETE_BEFORE_INVOKE'
  | 'DUPLICATE_ID'
  | 'ALREADY_COMPLETED'
  | 'TIME_WENT_BACKWARDS';

/**
 * Raised for a malformed history: judging it anyway would give a verdict about a different
 * history than the one recorded. `index` is the position of the offending operation or event.
 *
 * @example
 * ```ts
 * import { HistoryError, historyFromEvents } from 'raftkit/testing';
 * try {
 *   historyFromEvents([{ type: 'ok', id: 7, time: 1 }]);
 * } catch (error) {
 *   if (error instanceof HistoryError) console.log(error.code, error.index); // COMPLETE_BEFORE_INVOKE 0
 * }
 * ```
 */
export class HistoryError extends Error {
  /** A stable, machine-readable code. */
  readonly code: HistoryErrorCode;
  /** The position of the offending operation (or event) in what was given, when there is one. */
  readonly index: number | undefined;
  constructor(code: HistoryErrorCode, message: string, index?: number) {
    super(index === undefined ? message : `#${index}: ${message}`);
    this.name = 'HistoryError';
    this.code = code;
    this.index = index;
  }
}
