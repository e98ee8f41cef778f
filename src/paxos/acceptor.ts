/**
 * The acceptor's state and its rule, shared by the Synod and Multi-Paxos nodes: never take part
 * in a ballot below the promise, and save before answering.
 */
import { compareBallots, type Ballot } from './ballot.js';
import type { AcceptedSlot } from './messages.js';
import type { AcceptorStorage } from './storage.js';

export class Acceptor<V> {
  #promised: Ballot | null = null;
  readonly #accepted = new Map<number, AcceptedSlot<V>>();
  #lastSlot = 0;

  constructor(private readonly storage: AcceptorStorage<V>) {}

  /** Loads what was saved (at start, so also after a restart). */
  load(): void {
    const state = this.storage.load();
    this.#promised = state.promised;
    this.#accepted.clear();
    for (const a of state.accepted) this.#accepted.set(a.slot, a);
    this.#lastSlot = Math.max(0, ...this.#accepted.keys());
  }

  /** The promise in force (for every slot), or null. */
  get promised(): Ballot | null {
    return this.#promised;
  }

  /** The highest slot anything was accepted in (0 for none). */
  get lastSlot(): number {
    return this.#lastSlot;
  }

  /** What was accepted last in `slot`. */
  accepted(slot: number): AcceptedSlot<V> | undefined {
    return this.#accepted.get(slot);
  }

  /** Everything accepted from `slot` on, in slot order. */
  acceptedFrom(slot: number): AcceptedSlot<V>[] {
    return [...this.#accepted.values()].filter((a) => a.slot >= slot).sort((a, b) => a.slot - b.slot);
  }

  /** Whether the promise lets this acceptor take part in `ballot` (it is not below the promise). */
  allows(ballot: Ballot): boolean {
    return compareBallots(ballot, this.#promised) >= 0;
  }

  /** Promises `ballot` (saved first) unless it is the promise in force; whether the promise is new. Check {@link allows} first. */
  promise(ballot: Ballot): boolean {
    if (compareBallots(ballot, this.#promised) === 0) return false;
    this.storage.save({ promised: ballot });
    this.#promised = ballot;
    return true;
  }

  /** Accepts `value` in `slot` and `ballot` (saved first, with the promise). Check {@link allows} first. */
  accept(slot: number, ballot: Ballot, value: V): AcceptedSlot<V> {
    const accepted: AcceptedSlot<V> = { slot, ballot, value };
    this.storage.save({ promised: ballot, accepted });
    this.#promised = ballot;
    this.#accepted.set(slot, accepted);
    this.#lastSlot = Math.max(this.#lastSlot, slot);
    return accepted;
  }
}
