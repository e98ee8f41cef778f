import type { NodeId } from './types.js';

/**
 * The base class of every error raftkit raises for Raft operations.
 *
 * @example
 * ```ts
 * import { RaftError } from 'raftkit';
 * try { node.submit('x'); } catch (error) { if (error instanceof RaftError) console.log(error.code); }
 * ```
 */
export class RaftError extends Error {
  /** A stable, machine-readable code. */
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RaftError';
    this.code = code;
  }
}

/**
 * Raised when a leader-only operation is called on a node that is not the leader.
 * `leaderId` is the leader this node knows of (or null), so a client can retry there.
 *
 * @example
 * ```ts
 * import { NotLeaderError } from 'raftkit';
 * try { follower.submit('x'); } catch (error) {
 *   if (error instanceof NotLeaderError && error.leaderId) retryOn(error.leaderId);
 * }
 * ```
 */
export class NotLeaderError extends RaftError {
  /** The leader this node knows of, or null when it knows none. */
  readonly leaderId: NodeId | null;
  constructor(nodeId: NodeId, leaderId: NodeId | null) {
    super('NOT_LEADER', `node ${nodeId} is not the leader` + (leaderId === null ? ' (leader unknown)' : ` (leader is ${leaderId})`));
    this.name = 'NotLeaderError';
    this.leaderId = leaderId;
  }
}

/**
 * Raised when a proposal can no longer be applied by this node as leader: leadership was lost
 * before the entry was applied, so the entry may or may not commit later under another leader.
 *
 * @example
 * ```ts
 * import { LeadershipLostError } from 'raftkit';
 * node.propose('x').catch((error) => { if (error instanceof LeadershipLostError) console.log('outcome unknown'); });
 * ```
 */
export class LeadershipLostError extends RaftError {
  /** The log index the proposal had been given. */
  readonly index: number;
  constructor(nodeId: NodeId, index: number) {
    super('LEADERSHIP_LOST', `node ${nodeId} lost leadership before entry ${index} was applied; its outcome is unknown`);
    this.name = 'LeadershipLostError';
    this.index = index;
  }
}

/**
 * Raised for a proposal made while the leader is handing leadership over to another node
 * (propose again once the new leader is known), or when a transfer cannot start or finish.
 *
 * @example
 * ```ts
 * import { TransferError } from 'raftkit';
 * leader.propose('x').catch((e) => { if (e instanceof TransferError) console.log(e.target); });
 * ```
 */
export class TransferError extends RaftError {
  /** The node leadership is being (or was to be) transferred to. */
  readonly target: NodeId | null;
  constructor(code: 'TRANSFER_IN_PROGRESS' | 'TRANSFER_FAILED', message: string, target: NodeId | null) {
    super(code, message);
    this.name = 'TransferError';
    this.target = target;
  }
}

/**
 * Raised when a wait ends before its condition: a proposal or a simulated run timed out.
 *
 * @example
 * ```ts
 * import { TimeoutError } from 'raftkit';
 * await cluster.waitForLeader({ timeoutMs: 1000 }).catch((e) => e instanceof TimeoutError);
 * ```
 */
export class TimeoutError extends RaftError {
  /** How long was waited. */
  readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Raised for calls on a node that is not running (not started yet, or stopped).
 *
 * @example
 * ```ts
 * import { NodeStoppedError } from 'raftkit';
 * await node.stop();
 * node.propose('x').catch((e) => e instanceof NodeStoppedError); // true
 * ```
 */
export class NodeStoppedError extends RaftError {
  constructor(nodeId: NodeId) {
    super('STOPPED', `node ${nodeId} is not running`);
    this.name = 'NodeStoppedError';
  }
}

/**
 * Raised when a caller's AbortSignal aborts a wait. The proposal may still commit.
 *
 * @example
 * ```ts
 * import { AbortedError } from 'raftkit';
 * const controller = new AbortController();
 * const p = node.propose('x', { signal: controller.signal });
 * controller.abort();
 * await p.catch((e) => e instanceof AbortedError); // true
 * ```
 */
export class AbortedError extends RaftError {
  constructor(reason?: unknown) {
    super('ABORTED', 'the operation was aborted', { cause: reason });
    this.name = 'AbortedError';
  }
}

/**
 * Describes a message that failed validation and was dropped (reported through the node's
 * `error` event; never thrown at the transport).
 *
 * @example
 * ```ts
 * import { InvalidMessageError } from 'raftkit';
 * node.on('error', (error) => { if (error instanceof InvalidMessageError) console.warn(error.reason); });
 * ```
 */
export class InvalidMessageError extends RaftError {
  /** What was wrong with it. */
  readonly reason: string;
  constructor(nodeId: NodeId, reason: string) {
    super('INVALID_MESSAGE', `node ${nodeId} dropped an invalid message: ${reason}`);
    this.name = 'InvalidMessageError';
    this.reason = reason;
  }
}

/**
 * Wraps an error thrown by the user's state machine while applying an entry. The entry still
 * counts as applied (a deterministic state machine throws on every node alike); the proposal
 * that created it rejects with this error.
 *
 * @example
 * ```ts
 * import { ApplyError } from 'raftkit';
 * node.propose({ op: 'bad' }).catch((e) => { if (e instanceof ApplyError) console.log(e.index, e.cause); });
 * ```
 */
export class ApplyError extends RaftError {
  /** The index of the entry whose application threw. */
  readonly index: number;
  constructor(nodeId: NodeId, index: number, cause: unknown) {
    super('APPLY_FAILED', `node ${nodeId}: the state machine threw while applying entry ${index}`, { cause });
    this.name = 'ApplyError';
    this.index = index;
  }
}
