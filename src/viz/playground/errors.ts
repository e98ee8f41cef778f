/**
 * The typed error of the playground: a configuration it cannot run, or an action it cannot do
 * in the state the view shows.
 */

/**
 * Why the playground refused:
 * - `BAD_SIZE`: the cluster size is not a whole number from 3 to 7;
 * - `BAD_SEED`: the seed is not a whole number from 0 to 2³²−1;
 * - `BAD_SPEED`: the speed is not a number from 0.1 to 10;
 * - `BAD_OPTION`: another option is malformed (the options are not an object, an
 *   `electionTimeoutMs` or `latencyMs` that is not `[min, max]` with 0 ≤ min ≤ max, a
 *   `heartbeatIntervalMs` that is not a finite number above 0, a `historyMs` that is not a
 *   finite number ≥ 1);
 * - `UNKNOWN_LESSON`: no built-in lesson has that id;
 * - `UNKNOWN_NODE`: the cluster has no node with that id;
 * - `BAD_ACTION`: the action does not apply now (restarting a running node, crashing a
 *   crashed one, a partition that names a node twice, a command with no JSON form), or its
 *   argument is malformed (an advance by a time that is not a finite number ≥ 0, a seek to one
 *   that is not a number);
 * - `NO_LEADER`: a command was proposed while no leader can take it;
 * - `NOT_IN_FLIGHT`: the message to drop is not in flight at the time shown;
 * - `NO_LESSON`: a lesson control was used while no lesson runs.
 *
 * @example
 * ```ts
 * import type { PlaygroundErrorCode } from 'raftkit/viz';
 * const configuration: PlaygroundErrorCode[] = ['BAD_SIZE', 'BAD_SEED', 'BAD_SPEED', 'UNKNOWN_LESSON'];
 * ```
 */
export type PlaygroundErrorCode = 'BAD_SIZE' | 'BAD_SEED' | 'BAD_SPEED' | 'BAD_OPTION' | 'UNKNOWN_LESSON' | 'UNKNOWN_NODE' | 'BAD_ACTION' | 'NO_LEADER' | 'NOT_IN_FLIGHT' | 'NO_LESSON';

/**
 * What the playground refused, and why (`code`). The headless {@link PlaygroundModel} throws it
 * for a bad configuration or action; the element shows its message instead.
 *
 * @example
 * ```ts
 * import { PlaygroundError, PlaygroundModel } from 'raftkit/viz';
 * try {
 *   new PlaygroundModel({ size: 9 });
 * } catch (error) {
 *   if (error instanceof PlaygroundError) console.log(error.code, error.message); // BAD_SIZE size must be a whole number from 3 to 7, got 9
 * }
 * ```
 */
export class PlaygroundError extends Error {
  /** A stable, machine-readable code. */
  readonly code: PlaygroundErrorCode;
  constructor(code: PlaygroundErrorCode, message: string) {
    super(message);
    this.name = 'PlaygroundError';
    this.code = code;
  }
}
