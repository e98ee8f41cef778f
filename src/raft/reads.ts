/**
 * A leader's linearizable reads (thesis §6.4): ReadIndex rounds, and the lease that lets a read
 * skip its round. A plain record and functions over it; the core owns one per leadership.
 *
 * A round is confirmed once a quorum has answered a message sent after it began: the leader
 * still led then, so its commit index at the round's start is safe to read at. Heartbeats
 * start rounds too (with check-quorum), and the lease runs from when the newest round a quorum
 * answered went out.
 */
import { countVoters } from './quorum.js';
import type { NodeId } from './types.js';

/** How many recent rounds' send times a leader remembers for its lease (older answers are too old anyway). */
export const LEASE_ROUNDS = 64;

/** A read waiting on this leader: who asked (this node or a follower) and under which id. */
export interface ReadRequest {
  readonly id: number;
  readonly from: NodeId;
}

/** A ReadIndex round: requests that read at `index` once a quorum confirms `round`. */
export interface ReadRound {
  readonly round: number;
  index: number;
  readonly acks: Set<NodeId>;
  readonly requests: ReadRequest[];
}

/** A leader's reads in progress. */
export interface Reads {
  /** The newest round issued (read rounds and heartbeats share the numbering). */
  round: number;
  /** The newest read round still takes requests: it goes out with the next Ready. */
  open: boolean;
  /** Rounds awaiting a quorum, oldest first. */
  readonly rounds: ReadRound[];
  /** Reads that wait until this term commits an entry (the commit index may lag until then). */
  readonly beforeCommit: ReadRequest[];
  /** When (on the leader's clock) each recent round went out, indexed by round % LEASE_ROUNDS. */
  readonly sentAt: number[];
}

export function newReads(): Reads {
  return { round: 0, open: false, rounds: [], beforeCommit: [], sentAt: new Array<number>(LEASE_ROUNDS).fill(-Infinity) };
}

/** Starts a new round at `now` (a read round, or a heartbeat) and returns its number. */
export function nextRound(reads: Reads, now: number): number {
  const round = ++reads.round;
  reads.sentAt[round % LEASE_ROUNDS] = now;
  return round;
}

/**
 * Adds a request to the open round, or opens one (this leader `self` counts as its first
 * answer). Every request raises the round's index to `commit`. Returns whether it opened a
 * round, which then needs a message to every follower.
 */
export function joinRound(reads: Reads, request: ReadRequest, commit: number, self: NodeId, now: number): boolean {
  let round = reads.rounds.length === 0 ? undefined : reads.rounds[reads.rounds.length - 1];
  const opened = !reads.open || round === undefined;
  if (opened) {
    round = { round: nextRound(reads, now), index: commit, acks: new Set([self]), requests: [] };
    reads.rounds.push(round);
    reads.open = true;
  }
  (round as ReadRound).index = commit;
  (round as ReadRound).requests.push(request);
  return opened;
}

/**
 * `from` answered a message of round `round` (or later), so it followed this leader when every
 * round up to there began. Returns the rounds a quorum of `voters` has now confirmed, oldest first.
 */
export function confirmRounds(reads: Reads, from: NodeId, round: number, voters: ReadonlySet<NodeId>, quorum: number): ReadRound[] | undefined {
  for (const r of reads.rounds) {
    if (r.round > round) break;
    r.acks.add(from);
  }
  let done: ReadRound[] | undefined;
  while (reads.rounds.length > 0 && countVoters((reads.rounds[0] as ReadRound).acks, voters) >= quorum) (done ??= []).push(reads.rounds.shift() as ReadRound);
  return done;
}

/**
 * Whether the lease holds at `now`: `answered` is the newest round a quorum has answered, and
 * the lease lasts `leaseMs` from when that round went out.
 */
export function leaseHolds(reads: Reads, answered: number, now: number, leaseMs: number): boolean {
  return answered !== 0 && reads.round - answered < LEASE_ROUNDS && now < (reads.sentAt[answered % LEASE_ROUNDS] as number) + leaseMs;
}

/** Takes every waiting request out (the leader stepped down: they all fail). */
export function takeWaiting(reads: Reads): ReadRequest[] {
  const waiting = reads.beforeCommit.splice(0);
  for (const round of reads.rounds.splice(0)) waiting.push(...round.requests);
  reads.open = false;
  return waiting;
}
