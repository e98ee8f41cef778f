/**
 * What an acceptor must not forget across a crash: its promise and what it accepted. A Paxos
 * acceptor that loses either can help choose two different values.
 */
import type { Ballot } from './ballot.js';
import type { AcceptedSlot } from './messages.js';

/**
 * An acceptor's durable state, as {@link AcceptorStorage.load} returns it.
 *
 * @example
 * ```ts
 * import type { AcceptorState } from 'raftkit';
 * const fresh: AcceptorState<string> = { promised: null, accepted: [] };
 * ```
 */
export interface AcceptorState<V = unknown> {
  /** The highest ballot promised (for every slot), or null. */
  readonly promised: Ballot | null;
  /** The value accepted last in each slot, in slot order. */
  readonly accepted: readonly AcceptedSlot<V>[];
}

/**
 * One write: the promise, and, when the acceptor accepted a value, that value (which replaces
 * what the slot held).
 *
 * @example
 * ```ts
 * import type { AcceptorUpdate } from 'raftkit';
 * const update: AcceptorUpdate<string> = { promised: { round: 2, node: 'a' }, accepted: { slot: 0, ballot: { round: 2, node: 'a' }, value: 'blue' } };
 * ```
 */
export interface AcceptorUpdate<V = unknown> {
  /** The promise now in force. */
  readonly promised: Ballot;
  /** The value just accepted, if any. */
  readonly accepted?: AcceptedSlot<V>;
}

/**
 * Where an acceptor keeps its promise and accepted values. Both methods are synchronous: a save
 * must be durable when it returns, because the acceptor answers right after it. Implement it over
 * a file, IndexedDB or a database; {@link MemoryAcceptorStorage} is the default.
 *
 * @example
 * ```ts
 * import { MemoryAcceptorStorage, type AcceptorStorage } from 'raftkit';
 * // A storage that logs each write before passing it on.
 * function logged<V>(inner: AcceptorStorage<V>): AcceptorStorage<V> {
 *   return { load: () => inner.load(), save: (update) => { console.log('save', update.promised); inner.save(update); } };
 * }
 * const storage = logged(new MemoryAcceptorStorage<string>());
 * storage.save({ promised: { round: 1, node: 'a' } }); // save { round: 1, node: 'a' }
 * ```
 */
export interface AcceptorStorage<V = unknown> {
  /** The state saved so far (fresh: no promise, nothing accepted). */
  load(): AcceptorState<V>;
  /** Saves one update, durably, before returning. */
  save(update: AcceptorUpdate<V>): void;
}

/**
 * An {@link AcceptorStorage} in memory: it survives a simulated crash (the simulation keeps the
 * object and hands it to the restarted node), not a real one.
 *
 * @example
 * ```ts
 * import { MemoryAcceptorStorage } from 'raftkit';
 * const storage = new MemoryAcceptorStorage<string>();
 * storage.save({ promised: { round: 1, node: 'a' }, accepted: { slot: 0, ballot: { round: 1, node: 'a' }, value: 'blue' } });
 * console.log(storage.load().accepted.length); // 1
 * ```
 */
export class MemoryAcceptorStorage<V = unknown> implements AcceptorStorage<V> {
  #promised: Ballot | null = null;
  readonly #accepted = new Map<number, AcceptedSlot<V>>();

  /**
   * The promise and accepted values saved so far (a copy, in slot order).
   *
   * @example
   * ```ts
   * import { MemoryAcceptorStorage } from 'raftkit';
   * new MemoryAcceptorStorage().load(); // { promised: null, accepted: [] }
   * ```
   */
  load(): AcceptorState<V> {
    return { promised: this.#promised, accepted: [...this.#accepted.values()].sort((a, b) => a.slot - b.slot) };
  }

  /**
   * Records the update.
   *
   * @example
   * ```ts
   * import { MemoryAcceptorStorage } from 'raftkit';
   * new MemoryAcceptorStorage().save({ promised: { round: 3, node: 'b' } });
   * ```
   */
  save(update: AcceptorUpdate<V>): void {
    this.#promised = update.promised;
    if (update.accepted !== undefined) this.#accepted.set(update.accepted.slot, update.accepted);
  }
}
