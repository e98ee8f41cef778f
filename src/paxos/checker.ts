/**
 * Paxos safety, checked live: every acceptance and every learn is reported to a checker, which
 * knows what has been chosen in each slot and throws the moment a second value would be.
 */
import type { NodeId } from '../raft/types.js';
import { ballotText, type Ballot } from './ballot.js';
import { PaxosSafetyViolation, type PaxosCheckEvent, type PaxosProperty } from './errors.js';

/**
 * Options of a {@link PaxosChecker}.
 *
 * @example
 * ```ts
 * import { PaxosChecker, type PaxosCheckerOptions } from 'raftkit';
 * const options: PaxosCheckerOptions = { acceptors: ['a', 'b', 'c'], seed: 42 };
 * new PaxosChecker(options);
 * ```
 */
export interface PaxosCheckerOptions {
  /** Every acceptor: a majority of them accepting one value in one ballot chooses it. */
  readonly acceptors: readonly NodeId[];
  /** The seed of the run, put in every violation so that it can be replayed. */
  readonly seed?: number | string;
  /** How many of the latest events a violation carries (default 20). */
  readonly eventLimit?: number;
}

/** What one ballot got accepted in one slot. */
interface BallotTally {
  readonly value: string;
  readonly acceptors: Set<NodeId>;
}

interface SlotState {
  readonly ballots: Map<string, BallotTally>;
  chosen: { readonly value: string; readonly ballot: string; readonly by: readonly NodeId[] } | null;
  /** Who learned what, for the violation's message. */
  readonly learners: Map<NodeId, string>;
}

/**
 * Watches acceptances and learns, and throws {@link PaxosSafetyViolation} as soon as a safety
 * property of Paxos breaks: two values chosen in one slot (`'Agreement'`), a learner learning a
 * value that is not the chosen one (`'Learned Is Chosen'`), or two values accepted in one ballot
 * (`'One Value Per Ballot'`). Values are compared by their JSON. The simulations feed it from
 * every node; feed it yourself to check your own Paxos.
 *
 * @example
 * ```ts
 * import { PaxosChecker } from 'raftkit';
 * const checker = new PaxosChecker({ acceptors: ['a', 'b', 'c'] });
 * checker.accepted('a', 0, { round: 1, node: 'a' }, 'red');
 * checker.accepted('b', 0, { round: 1, node: 'a' }, 'red');
 * console.log(checker.chosen(0)); // { value: 'red' }
 * checker.accepted('b', 0, { round: 2, node: 'c' }, 'blue');
 * try { checker.accepted('c', 0, { round: 2, node: 'c' }, 'blue'); } catch (error) {
 *   console.log((error as Error).message); // Agreement violated in slot 0: "blue" chosen in ballot 2.c after "red" …
 * }
 * ```
 */
export class PaxosChecker {
  readonly #quorum: number;
  readonly #acceptors: ReadonlySet<NodeId>;
  readonly #seed: number | string | undefined;
  readonly #limit: number;
  readonly #slots = new Map<number, SlotState>();
  readonly #events: PaxosCheckEvent[] = [];
  /** The chosen values, parsed once: slot → value. */
  readonly #values = new Map<number, unknown>();
  #acceptances = 0;
  #learns = 0;

  constructor(options: PaxosCheckerOptions) {
    const acceptors = new Set(options.acceptors);
    if (acceptors.size === 0) throw new RangeError('PaxosChecker: acceptors must name at least one node');
    this.#acceptors = acceptors;
    this.#quorum = Math.floor(acceptors.size / 2) + 1;
    this.#seed = options.seed;
    this.#limit = options.eventLimit ?? 20;
  }

  /**
   * How many acceptances and learns the checker has seen.
   *
   * @example
   * ```ts
   * import { PaxosChecker } from 'raftkit';
   * new PaxosChecker({ acceptors: ['a'] }).counts; // { acceptances: 0, learns: 0 }
   * ```
   */
  get counts(): {
    /** Acceptances reported. */
    acceptances: number;
    /** Learns reported. */
    learns: number;
  } {
    return { acceptances: this.#acceptances, learns: this.#learns };
  }

  /**
   * Reports that `acceptor` accepted `value` in `ballot` and `slot` (0 for the Synod).
   *
   * @throws PaxosSafetyViolation when this makes a second value chosen in the slot, or when the
   *   ballot already had another value.
   * @example
   * ```ts
   * import { PaxosChecker } from 'raftkit';
   * new PaxosChecker({ acceptors: ['a', 'b', 'c'] }).accepted('a', 0, { round: 1, node: 'a' }, 'red');
   * ```
   */
  accepted(acceptor: NodeId, slot: number, ballot: Ballot, value: unknown): void {
    if (!this.#acceptors.has(acceptor)) throw new RangeError(`PaxosChecker: ${acceptor} is not an acceptor`);
    this.#acceptances++;
    const json = JSON.stringify(value) ?? 'undefined';
    const key = ballotText(ballot);
    this.#record({ kind: 'accept', node: acceptor, slot, ballot: key, value: json });
    const state = this.#slot(slot);
    let tally = state.ballots.get(key);
    if (tally === undefined) state.ballots.set(key, (tally = { value: json, acceptors: new Set() }));
    else if (tally.value !== json) {
      this.#fail('One Value Per Ballot', slot, `${acceptor} accepted ${json} in ballot ${key}, which already had ${tally.value}`, [acceptor, ...tally.acceptors]);
    }
    tally.acceptors.add(acceptor);
    if (tally.acceptors.size < this.#quorum) return;
    const chosen = state.chosen;
    if (chosen === null) {
      state.chosen = { value: json, ballot: key, by: [...tally.acceptors] };
      this.#values.set(slot, value);
    } else if (chosen.value !== json) {
      this.#fail('Agreement', slot, `${json} chosen in ballot ${key} after ${chosen.value} was chosen in ballot ${chosen.ballot}`, [...chosen.by, ...tally.acceptors]);
    }
  }

  /**
   * Reports that `learner` learned `value` as chosen in `slot`.
   *
   * @throws PaxosSafetyViolation when that is not the value chosen there (or none is).
   * @example
   * ```ts
   * import { PaxosChecker } from 'raftkit';
   * const checker = new PaxosChecker({ acceptors: ['a'] });
   * checker.accepted('a', 0, { round: 1, node: 'a' }, 'red');
   * checker.learned('a', 0, 'red');
   * ```
   */
  learned(learner: NodeId, slot: number, value: unknown): void {
    this.#learns++;
    const json = JSON.stringify(value) ?? 'undefined';
    this.#record({ kind: 'learn', node: learner, slot, value: json });
    const state = this.#slot(slot);
    state.learners.set(learner, json);
    const chosen = state.chosen;
    if (chosen === null) this.#fail('Learned Is Chosen', slot, `${learner} learned ${json}, but no value is chosen yet`, [learner]);
    else if (chosen.value !== json) {
      const others = [...state.learners].filter(([, v]) => v !== json).map(([id]) => id);
      this.#fail('Learned Is Chosen', slot, `${learner} learned ${json}, but ${chosen.value} was chosen in ballot ${chosen.ballot}`, [learner, ...others]);
    }
  }

  /**
   * The value chosen in `slot`, if one is.
   *
   * @example
   * ```ts
   * import { PaxosChecker } from 'raftkit';
   * new PaxosChecker({ acceptors: ['a', 'b', 'c'] }).chosen(0); // undefined
   * ```
   */
  chosen(slot: number):
    | {
        /** The chosen value. */
        value: unknown;
      }
    | undefined {
    return this.#values.has(slot) ? { value: this.#values.get(slot) } : undefined;
  }

  /**
   * How many slots have a chosen value.
   *
   * @example
   * ```ts
   * import { PaxosChecker } from 'raftkit';
   * new PaxosChecker({ acceptors: ['a'] }).chosenCount; // 0
   * ```
   */
  get chosenCount(): number {
    return this.#values.size;
  }

  #slot(slot: number): SlotState {
    let state = this.#slots.get(slot);
    if (state === undefined) this.#slots.set(slot, (state = { ballots: new Map(), chosen: null, learners: new Map() }));
    return state;
  }

  #record(event: PaxosCheckEvent): void {
    this.#events.push(event);
    if (this.#events.length > this.#limit) this.#events.shift();
  }

  #fail(property: PaxosProperty, slot: number, detail: string, nodes: readonly NodeId[]): never {
    throw new PaxosSafetyViolation(property, slot, detail, [...new Set(nodes)], this.#seed, [...this.#events]);
  }
}
