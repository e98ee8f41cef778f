/**
 * What a node reports about itself: plain, JSON-serialisable records for display and tests.
 */
import type { Progress } from './progress.js';
import type { Membership, NodeId, Role } from './types.js';

/**
 * A plain snapshot of a node's Raft state, for display and tests.
 *
 * @example
 * ```ts
 * import { Cluster, type RaftStatus } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const status: RaftStatus = cluster.node(await cluster.waitForLeader()).status();
 * console.log(JSON.stringify(status)); // {"id":"2","role":"leader","term":1,"votedFor":"2",…,"followers":{…}}
 * ```
 */
export interface RaftStatus {
  /** The node's id. */
  readonly id: NodeId;
  /** Its role. */
  readonly role: Role;
  /** Its current term. */
  readonly term: number;
  /** Whom it voted for in this term. */
  readonly votedFor: NodeId | null;
  /** The leader it knows of in this term. */
  readonly leaderId: NodeId | null;
  /** The highest log index known committed. */
  readonly commitIndex: number;
  /** The highest log index applied to the state machine. */
  readonly lastApplied: number;
  /** The index of its last log entry. */
  readonly lastLogIndex: number;
  /** The term of its last log entry. */
  readonly lastLogTerm: number;
  /** Votes granted to this node in its current term (itself included) when it campaigned in it. */
  readonly votes: number;
  /** The last index covered by its latest snapshot (0 when none): its log holds entries after it. */
  readonly snapshotIndex: number;
  /** The membership in force on this node (the latest in its log, committed or not). */
  readonly membership: Membership;
  /** The log index of the entry that set it (0: it came from a snapshot or the initial `peers`); committed once `commitIndex` reaches it. */
  readonly membershipIndex: number;
  /** On a leader: what it knows of each follower's log. */
  readonly followers?: Readonly<Record<NodeId, FollowerProgress>>;
}

/**
 * What a leader reports about one follower in {@link RaftStatus.followers}.
 *
 * @example
 * ```ts
 * import { Cluster, type FollowerProgress } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const { lastLogIndex, followers = {} } = leader.status();
 * for (const [id, progress] of Object.entries<FollowerProgress>(followers)) {
 *   console.log(`node ${id} is ${lastLogIndex - progress.matchIndex} entries behind`); // 1 (the new leader's no-op)
 * }
 * ```
 */
export interface FollowerProgress {
  /** The highest index known to be replicated on the follower. */
  readonly matchIndex: number;
  /** The next index the leader will send it. */
  readonly nextIndex: number;
}

/** The status of `core` (its public face), which set its membership at `membershipIndex`; a leader adds its `progress` of each follower. */
export function statusOf(core: Omit<RaftStatus, 'membershipIndex' | 'followers'>, membershipIndex: number, progress: ReadonlyMap<NodeId, Progress>): RaftStatus {
  const { id, role, term, votedFor, leaderId, commitIndex, lastApplied, lastLogIndex, lastLogTerm, votes, snapshotIndex, membership } = core;
  const status = { id, role, term, votedFor, leaderId, commitIndex, lastApplied, lastLogIndex, lastLogTerm, votes, snapshotIndex, membership, membershipIndex };
  if (role !== 'leader') return status;
  const followers: Record<NodeId, FollowerProgress> = Object.create(null);
  for (const [id, pr] of progress) followers[id] = { matchIndex: pr.match, nextIndex: pr.next };
  return { ...status, followers };
}
