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
import type { Snapshot } from './types.js';

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
