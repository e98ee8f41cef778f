/**
 * What a leader knows of each follower's log, and how it may send to it: a plain record per
 * follower, changed only through the named transitions below (after etcd-io/raft's tracker).
 *
 * States:
 * - `probe`: the follower's position is not known. One append is out at a time (`paused` until
 *   it is answered or the next heartbeat), and a rejection moves `next` back.
 * - `replicate`: the position is known. Appends are pipelined, up to a window of unacknowledged
 *   messages (`inflight`).
 * - `snapshot`: the follower needs entries the log no longer holds. It is sent `snapshot`, one
 *   chunk at a time (`paused` while a chunk is out), from `snapshotOffset`.
 *
 * Transitions: probe → replicate when an append is acknowledged ({@link becomeReplicate}); any
 * state → snapshot when `next` was compacted away ({@link becomeSnapshot}); replicate → probe on a
 * rejection or a stalled pipeline, and snapshot → probe once it is installed ({@link becomeProbe}).
 *
 * Invariants, kept by every transition:
 * - outside snapshot state, `match < next` (the leader never sends what it knows is held);
 * - in probe and snapshot state, `inflight` is empty;
 * - in replicate state, `inflight` ascends, and each is below `next`;
 * - `snapshot` is set exactly in snapshot state.
 */
import type { RaftLog } from './log.js';
import type { NodeId, Snapshot } from './types.js';

/** The state of one follower, as its leader sees it (Figure 2's nextIndex and matchIndex, plus flow control). */
export interface Progress {
  /** The highest index known to be replicated on the follower. */
  match: number;
  /** The next index to send it. */
  next: number;
  state: 'probe' | 'replicate' | 'snapshot';
  /** In probe and snapshot state: a message is out, and the next waits for its answer or the next heartbeat. */
  paused: boolean;
  /**
   * In snapshot state: the snapshot being sent (kept until installed, even if the leader
   * compacts again meanwhile, so a slow transfer still finishes) and where its next chunk starts.
   */
  snapshot: Snapshot | null;
  snapshotOffset: number;
  /** In replicate state: the last index of each unacknowledged append, oldest first. */
  readonly inflight: number[];
  /** The oldest in-flight index at the previous heartbeat, to notice a pipeline that stopped moving. */
  oldestInflightAtHeartbeat: number;
  /** Whether it answered since the last check-quorum round. */
  recentActive: boolean;
  /** Whether it is a voter (else a learner). */
  voter: boolean;
  /** The newest read or heartbeat round it has answered (for the leader's lease). */
  answeredRound: number;
  /** The highest index it was last told is committed (and could check it holds). */
  sentCommit: number;
}

/** A follower the leader knows nothing of yet: probed from `next`. */
export function newProgress(next: number, voter: boolean): Progress {
  return {
    match: 0,
    next,
    state: 'probe',
    paused: false,
    snapshot: null,
    snapshotOffset: 0,
    inflight: [],
    oldestInflightAtHeartbeat: 0,
    recentActive: false,
    voter,
    answeredRound: 0,
    sentCommit: 0,
  };
}

/** Its position is lost (or its snapshot installed): probe again from `next` (never at or below what it holds). */
export function becomeProbe(pr: Progress, next: number): void {
  pr.state = 'probe';
  pr.snapshot = null;
  pr.next = Math.max(next, pr.match + 1);
  pr.paused = false;
  pr.inflight.length = 0;
}

/** A probe found its position: pipeline from just after what it holds. */
export function becomeReplicate(pr: Progress): void {
  pr.state = 'replicate';
  pr.next = pr.match + 1;
  pr.paused = false;
  pr.inflight.length = 0;
}

/** It needs entries compacted away: send it `snapshot`, from the start. */
export function becomeSnapshot(pr: Progress, snapshot: Snapshot): void {
  pr.state = 'snapshot';
  pr.snapshot = snapshot;
  pr.snapshotOffset = 0;
  pr.paused = false;
  pr.inflight.length = 0;
}

/** Whether flow control holds back the next append: one at a time in probe state, a window in replicate state. */
export function isPaused(pr: Progress, maxInflight: number): boolean {
  return pr.state === 'probe' ? pr.paused : pr.inflight.length >= maxInflight;
}

/** An append ending at `last` went out: pipelined in replicate state, else the next waits for its answer. */
export function sentAppend(pr: Progress, last: number): void {
  if (pr.state === 'replicate') {
    pr.next = last + 1;
    pr.inflight.push(last);
  } else {
    pr.paused = true;
  }
}

/** In replicate state, the follower holds everything through `index`: the appends up to there are answered. */
export function acknowledge(pr: Progress, index: number): void {
  if (pr.next <= index) pr.next = index + 1;
  let acked = 0;
  while (acked < pr.inflight.length && (pr.inflight[acked] as number) <= index) acked++;
  if (acked > 0) pr.inflight.splice(0, acked);
  pr.paused = false;
}

/**
 * At each heartbeat: whether the oldest unacknowledged append is the one seen at the previous
 * heartbeat, so the pipeline stood still for an interval (presume the message lost).
 */
export function pipelineStalled(pr: Progress): boolean {
  const oldest = pr.inflight[0] ?? 0;
  const stalled = pr.state === 'replicate' && oldest > 0 && oldest === pr.oldestInflightAtHeartbeat;
  pr.oldestInflightAtHeartbeat = stalled ? 0 : oldest; // (a stalled follower is probed: nothing is in flight)
  return stalled;
}

/** Keeps a leader's `progress` for exactly `peers`; one that is new is probed from `next`. */
export function syncProgress(progress: Map<NodeId, Progress>, peers: readonly NodeId[], voters: ReadonlySet<NodeId>, next: number): void {
  for (const id of progress.keys()) if (!peers.includes(id)) progress.delete(id); // (safe while iterating a Map)
  for (const id of peers) {
    const pr = progress.get(id);
    if (pr === undefined) progress.set(id, newProgress(next, voters.has(id)));
    else pr.voter = voters.has(id);
  }
}

/** The voting follower that holds the most of the log, if any. */
export function mostUpToDate(progress: ReadonlyMap<NodeId, Progress>, voters: ReadonlySet<NodeId>): NodeId | undefined {
  let best: NodeId | undefined;
  let bestMatch = -1;
  for (const [id, pr] of progress) {
    if (pr.match > bestMatch && voters.has(id)) {
      best = id;
      bestMatch = pr.match;
    }
  }
  return best;
}

/**
 * Where to probe after a follower refused an append after `index` (fast backup, thesis §5.3):
 * its hint `conflictIndex`, or, when it names the term it holds there (`conflictTerm`), just
 * after the leader's last entry of that term in `log`.
 */
export function backUpTo(log: RaftLog, index: number, conflictIndex: number, conflictTerm: number): number {
  let next = conflictIndex;
  if (conflictTerm > 0) {
    const last = log.lastIndexOfTerm(conflictTerm, index);
    if (last > 0) next = last + 1;
  }
  return Math.min(next, index);
}
