import type { LogPosition } from './types.js';

/**
 * Where committed commands take effect: the user's replicated state.
 *
 * `apply` is called once per committed command, in log order, on every node. It must be
 * deterministic (same commands in the same order ⇒ same state and results on every node), so it
 * must not read clocks, randomness or anything outside its own state. Its return value resolves
 * the leader's `propose` promise.
 *
 * @example
 * ```ts
 * import type { StateMachine } from 'raftkit';
 * class Counter implements StateMachine<number, number> {
 *   value = 0;
 *   apply(delta: number) { this.value += delta; return this.value; }
 * }
 * ```
 */
export interface StateMachine<C = unknown, R = unknown> {
  /** Applies one committed command (at `entry.index`, from `entry.term`) and returns its result. */
  apply(command: C, entry: LogPosition): R;
}
