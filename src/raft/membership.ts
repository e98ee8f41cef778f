/**
 * Membership: who votes and who learns, and single-server changes (thesis §4.1). A change is a
 * pure function from a copy of the membership in force to the next one; the core never edits
 * a membership in place, and derives everything it needs from one with {@link configOf}.
 */
import { MembershipError } from './errors.js';
import type { RaftLog } from './log.js';
import { quorumSize } from './quorum.js';
import type { Membership, NodeId } from './types.js';

/**
 * A membership change, proposed on the leader with {@link RaftCore.changeMembership}; one at a
 * time, each committed before the next (thesis §4.1, single-server changes).
 *
 * @example
 * ```ts
 * import type { MembershipChange } from 'raftkit';
 * const changes: MembershipChange[] = [
 *   { type: 'addLearner', id: '4' }, // receives the log, does not vote
 *   { type: 'promote', id: '4' },    // now a voter
 *   { type: 'remove', id: '1' },     // gone (a leader removing itself steps down once it commits)
 * ];
 * ```
 */
export interface MembershipChange {
  /** What to do with the server. */
  readonly type: 'addLearner' | 'promote' | 'remove';
  /** The server. */
  readonly id: NodeId;
}

/** A membership with sorted, unique ids. */
export function membershipOf(voters: Iterable<NodeId>, learners: Iterable<NodeId> = []): Membership {
  return { voters: [...new Set(voters)].sort(), learners: [...new Set(learners)].sort() };
}

/** The membership after `change`; throws a MembershipError (`INVALID_CHANGE`) saying why a change does not fit. */
export function changed({ voters, learners }: Membership, change: MembershipChange): Membership {
  const id = change?.id;
  const invalid = (why: string): MembershipError => new MembershipError('INVALID_CHANGE', `cannot ${String(change?.type)} ${String(id)}: ${why}`);
  if (typeof id !== 'string' || id.length === 0 || id.length > 256) throw invalid('a server id is a non-empty string of at most 256 characters');
  switch (change.type) {
    case 'addLearner':
      if (voters.includes(id) || learners.includes(id)) throw invalid('it is already a member');
      return membershipOf(voters, [...learners, id]);
    case 'promote':
      if (!learners.includes(id)) throw invalid('it is not a learner');
      return membershipOf([...voters, id], learners.filter((l) => l !== id));
    case 'remove':
      if (!voters.includes(id) && !learners.includes(id)) throw invalid('it is not a member');
      if (voters.length === 1 && voters[0] === id) throw invalid('it is the last voter');
      return membershipOf(voters.filter((v) => v !== id), learners.filter((l) => l !== id));
    default:
      throw invalid('the change type must be addLearner, promote or remove');
  }
}

/** A membership in force on one node, with what the core looks up on every message. */
export interface Config {
  readonly membership: Membership;
  /** The log index of the entry that set it (0: a snapshot's, or the initial one). */
  readonly membershipIndex: number;
  readonly voters: ReadonlySet<NodeId>;
  /** The members other than this node, voters and learners: its peers. */
  readonly peers: readonly NodeId[];
  /** The size of a majority of the voters. */
  readonly quorum: number;
}

/** The config of `membership`, set by the entry at `membershipIndex`, as seen by node `self`. */
export function configOf(membership: Membership, membershipIndex: number, self: NodeId): Config {
  return {
    membership,
    membershipIndex,
    voters: new Set(membership.voters),
    peers: [...membership.voters, ...membership.learners].filter((id) => id !== self),
    quorum: quorumSize(membership.voters.length),
  };
}

/** The newest config entry in `log` at or before `index`: its membership and index, or undefined when the log holds none. */
export function configEntryAt(log: RaftLog, index: number): [Membership, number] | undefined {
  for (let i = index; i > log.snapshotIndex; i--) {
    const entry = log.entry(i);
    if (entry?.kind === 'config') return [entry.membership as Membership, i];
  }
  return undefined;
}
