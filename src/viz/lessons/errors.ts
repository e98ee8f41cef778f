/**
 * The typed error of lessons: a lesson that is not well formed, or one that went wrong as it ran.
 */

/**
 * What went wrong with a lesson, as a stable machine-readable code:
 * - `INVALID_LESSON`: the lesson's data is malformed ({@link LessonError.field} says where);
 * - `STEP_TIMEOUT`: a step's `until` did not hold within its `timeoutMs`;
 * - `NO_TARGET`: an action's or a condition's target named no node when it was used (no leader
 *   yet, no follower, a name never remembered);
 * - `ACTION_FAILED`: the cluster refused an action (a proposal to a node that is not the
 *   leader, a membership change that timed out); the cluster's error is the `cause`.
 *
 * @example
 * ```ts
 * import { LessonError, validateLesson, type LessonErrorCode } from 'raftkit/viz';
 * let code: LessonErrorCode | undefined;
 * try { validateLesson({ id: 'x' }); } catch (error) { if (error instanceof LessonError) code = error.code; }
 * console.log(code); // INVALID_LESSON
 * ```
 */
export type LessonErrorCode = 'INVALID_LESSON' | 'STEP_TIMEOUT' | 'NO_TARGET' | 'ACTION_FAILED';

/**
 * Raised for a malformed lesson (by {@link validateLesson} and the LessonRun constructor) and for
 * a lesson that fails as it runs. It names the lesson, the step (0-based, when one is at fault)
 * and the field, as a path (`steps[2].actions[0].node`).
 *
 * @example
 * ```ts
 * import { LessonError, validateLesson } from 'raftkit/viz';
 * try {
 *   validateLesson({ id: 'mine', title: 'T', summary: 'S', cluster: { size: 3, seed: 1 }, steps: [{ caption: 'Go', actions: [{ do: 'explode' }] }] });
 * } catch (error) {
 *   if (error instanceof LessonError) console.log(error.step, error.field); // 0 steps[0].actions[0].do
 * }
 * ```
 */
export class LessonError extends Error {
  /** A stable, machine-readable code. */
  readonly code: LessonErrorCode;
  /** The lesson's id (`'?'` when it has none). */
  readonly lesson: string;
  /** The index of the step at fault, if any. */
  readonly step: number | undefined;
  /** Where in the lesson's data, as a path, for `INVALID_LESSON` (and the action for `NO_TARGET`). */
  readonly field: string | undefined;
  constructor(code: LessonErrorCode, lesson: string, message: string, where: { step?: number; field?: string; cause?: unknown } = {}) {
    const at = where.step === undefined ? '' : ` step ${where.step}`;
    super(`lesson ${JSON.stringify(lesson)}${at}: ${message}`, where.cause === undefined ? undefined : { cause: where.cause });
    this.name = 'LessonError';
    this.code = code;
    this.lesson = lesson;
    this.step = where.step;
    this.field = where.field;
  }
}
