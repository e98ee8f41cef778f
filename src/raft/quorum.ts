/**
 * Majorities: the committed index of a quorum, vote counting, and check-quorum. Pure functions
 * over plain values; the core calls them on every acknowledgement, so nothing here allocates.
 */
import type { Progress } from './progress.js';
import type { NodeId } from './types.js';

/** The size of a majority of `voters` voters (at least 1). */
export function quorumSize(voters: number): number {
  return Math.floor(voters / 2) + 1;
}

/** How many of `ids` are voters. */
export function countVoters(ids: Iterable<NodeId>, voters: ReadonlySet<NodeId>): number {
  let count = 0;
  for (const id of ids) if (voters.has(id)) count++;
  return count;
}

/**
 * The highest value that at least `quorum` of `values[0..n)` have reached (each value is one
 * voter's: its matched index, say), or 0 when fewer than `quorum` voters are counted. Sorts
 * that part of `values` in place, descending: an insertion sort, since clusters are small.
 */
export function quorumValue(values: number[], n: number, quorum: number): number {
  for (let i = 1; i < n; i++) {
    const value = values[i] as number;
    let j = i - 1;
    for (; j >= 0 && (values[j] as number) < value; j--) values[j + 1] = values[j] as number;
    values[j + 1] = value;
  }
  return n >= quorum ? (values[quorum - 1] as number) : 0;
}

/**
 * The highest value a majority of `voters` has reached, where this node's (`self`, counted
 * when it votes) is `own` and each follower's is `of` its progress. `scratch` is reused, so
 * the call (made on every acknowledgement) allocates nothing.
 */
export function majorityValue(
  progress: ReadonlyMap<NodeId, Progress>,
  voters: ReadonlySet<NodeId>,
  quorum: number,
  self: NodeId,
  own: number,
  of: (pr: Progress) => number,
  scratch: number[],
): number {
  let n = 0;
  if (voters.has(self)) scratch[n++] = own;
  for (const pr of progress.values()) if (pr.voter) scratch[n++] = of(pr);
  return quorumValue(scratch, n, quorum);
}

/** Check-quorum: did a majority of `voters` (`self` included) answer since the last check? Resets the marks for the next. */
export function quorumActive(progress: ReadonlyMap<NodeId, Progress>, voters: ReadonlySet<NodeId>, quorum: number, self: NodeId): boolean {
  let active = voters.has(self) ? 1 : 0;
  for (const [id, pr] of progress) {
    if (pr.recentActive && voters.has(id)) active++;
    pr.recentActive = false;
  }
  return active >= quorum;
}
