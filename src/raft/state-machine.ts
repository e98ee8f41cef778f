import type { LogPosition } from './types.js';

/**
 * Where committed commands take effect: the user's replicated state.
 *
 * `apply` is called once per committed command, in log order, on every node. It must be
 * deterministic (same commands in the same order ⇒ same state and results on every node), so it
 * must not read clocks, randomness or anything outside its own state. Its return value resolves
 * the leader's `propose` promise.
 *
 * Implement `snapshot` and `restore` to let the node compact its log: `snapshot` serialises
 * everything applied so far, `restore` replaces the state with such a string (from this node's
 * storage after a restart, or from the leader when this node fell too far behind). Without them
 * the log grows for ever.
 *
 * @example
 * ```ts
 * import type { StateMachine } from 'raftkit';
 * class Counter implements StateMachine<number, number> {
 *   value = 0;
 *   apply(delta: number) { this.value += delta; return this.value; }
 *   snapshot() { return String(this.value); }
 *   restore(snapshot: string) { this.value = Number(snapshot); }
 * }
 * ```
 */
export interface StateMachine<C = unknown, R = unknown> {
  /** Applies one committed command (at `entry.index`, from `entry.term`) and returns its result. */
  apply(command: C, entry: LogPosition): R;
  /** Serialises the whole state (everything applied so far). Binary state can be base64-encoded. */
  snapshot?(): string;
  /** Replaces the whole state with what `snapshot()` returned (here or on another node). */
  restore?(snapshot: string): void;
}
