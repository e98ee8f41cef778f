/**
 * Ballots ("proposal numbers" in Lamport's "Paxos Made Simple"): totally ordered, and unique per
 * proposer because the proposer's id breaks ties between equal rounds.
 */
import type { NodeId } from '../raft/types.js';

/**
 * A ballot: a round number and the proposer that owns it. Ballots are ordered by round, then by
 * node id, so two proposers never use the same ballot.
 *
 * @example
 * ```ts
 * import { compareBallots, type Ballot } from 'raftkit';
 * const mine: Ballot = { round: 3, node: 'a' };
 * compareBallots(mine, { round: 3, node: 'b' }); // < 0: b's ballot is higher
 * ```
 */
export interface Ballot {
  /** The round, from 1; a proposer retrying picks one above every round it has seen. */
  readonly round: number;
  /** The proposer that owns the ballot. */
  readonly node: NodeId;
}

/**
 * Orders two ballots: negative when `a` is lower, positive when higher, 0 when equal. `null`
 * (no ballot yet) is below every ballot.
 *
 * @example
 * ```ts
 * import { compareBallots } from 'raftkit';
 * compareBallots({ round: 2, node: 'a' }, { round: 1, node: 'z' }); // > 0
 * compareBallots(null, { round: 1, node: 'a' });                     // < 0
 * ```
 */
export function compareBallots(a: Ballot | null, b: Ballot | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? -1 : 1;
  if (a.round !== b.round) return a.round - b.round;
  return a.node < b.node ? -1 : a.node > b.node ? 1 : 0;
}

/** A ballot as text, for messages and errors: `3.a`. */
export const ballotText = (b: Ballot | null): string => (b === null ? 'none' : `${b.round}.${b.node}`);
