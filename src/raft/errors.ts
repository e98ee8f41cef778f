import type { NodeId } from './types.js';

/**
 * The base class of every error raftkit raises for Raft operations.
 *
 * @example
 * ```ts
 * import { Cluster, RaftError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * const follower = cluster.nodes.find((node) => node.role !== 'leader')!;
 * try { follower.submit('x'); } catch (error) { if (error instanceof RaftError) console.log(error.code); } // NOT_LEADER
 * ```
 */
export class RaftError extends Error {
  // The error classes' fields are `declare`d: each constructor creates them by assignment (in
  // the same order as class fields would), so no separate field definitions are emitted.
  /** A stable, machine-readable code. */
  declare readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    this.name = 'RaftError';
  }
}

/**
 * Raised when a leader-only operation is called on a node that is not the leader.
 * `leaderId` is the leader this node knows of (or null), so a client can retry there.
 *
 * @example
 * ```ts
 * import { Cluster, NotLeaderError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * await cluster.run(100); // the followers hear from the leader
 * const follower = cluster.nodes.find((node) => node.role !== 'leader')!;
 * try { follower.submit('x'); } catch (error) {
 *   if (error instanceof NotLeaderError && error.leaderId) cluster.node(error.leaderId).submit('x'); // retry there
 * }
 * ```
 */
export class NotLeaderError extends RaftError {
  /** The leader this node knows of, or null when it knows none. */
  declare readonly leaderId: NodeId | null;
  constructor(nodeId: NodeId, leaderId: NodeId | null) {
    super('NOT_LEADER', `node ${nodeId} is not the leader (${leaderId === null ? 'leader unknown' : `leader is ${leaderId}`})`);
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
 * import { Cluster, LeadershipLostError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = await cluster.waitForLeader();
 * const outcome = cluster.node(leader).propose('x').catch((error: unknown) => error);
 * cluster.disconnect(leader); // cut off before the entry commits: the leader steps down
 * await cluster.run(1000);
 * const error = await outcome;
 * if (error instanceof LeadershipLostError) console.log(`entry ${error.index}: outcome unknown`); // entry 2: …
 * ```
 */
export class LeadershipLostError extends RaftError {
  /** The log index the proposal had been given. */
  declare readonly index: number;
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
 * import { Cluster, TransferError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const handover = leader.transferLeadership(); // to the most up-to-date follower
 * const refused = await leader.propose('x').catch((e: unknown) => e);
 * if (refused instanceof TransferError) console.log(refused.code, refused.target); // TRANSFER_IN_PROGRESS 1
 * await cluster.run(1000);
 * console.log('new leader:', await handover); // new leader: 1
 * ```
 */
export class TransferError extends RaftError {
  /** The node leadership is being (or was to be) transferred to. */
  declare readonly target: NodeId | null;
  constructor(code: 'TRANSFER_IN_PROGRESS' | 'TRANSFER_FAILED', message: string, target: NodeId | null) {
    super(code, message);
    this.name = 'TransferError';
    this.target = target;
  }
}

/**
 * Raised when a membership change is refused: `CHANGE_IN_PROGRESS` while an earlier change (or,
 * right after an election, the new leader's first entry) is not yet committed (retry shortly);
 * `INVALID_CHANGE` when the change makes no sense for the current membership.
 *
 * @example
 * ```ts
 * import { Cluster, MembershipError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const error = await leader.promote('9').catch((e: unknown) => e);
 * if (error instanceof MembershipError) console.log(error.code); // INVALID_CHANGE
 * ```
 */
export class MembershipError extends RaftError {
  constructor(code: 'CHANGE_IN_PROGRESS' | 'INVALID_CHANGE', message: string) {
    super(code, message);
    this.name = 'MembershipError';
  }
}

/**
 * Raised when a wait ends before its condition: a proposal or a simulated run timed out.
 *
 * @example
 * ```ts
 * import { Cluster, TimeoutError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * cluster.crash('2');
 * cluster.crash('3'); // no majority left: nobody can be elected
 * const error = await cluster.waitForLeader({ timeoutMs: 1000 }).catch((e: unknown) => e);
 * if (error instanceof TimeoutError) console.log(error.message); // waiting for a leader timed out after 1000 ms
 * ```
 */
export class TimeoutError extends RaftError {
  /** How long was waited. */
  declare readonly timeoutMs: number;
  constructor(what: string, timeoutMs: number) {
    super('TIMEOUT', `${what} timed out after ${timeoutMs} ms`);
    this.name = 'TimeoutError';
    this.timeoutMs = timeoutMs;
  }
}

/**
 * Raised for calls on a node that is not running (not started yet, or stopped). When the node
 * stopped because something failed (its storage, restoring a snapshot), `cause` is that error,
 * on every rejection that follows from it.
 *
 * @example
 * ```ts
 * import { Cluster, NodeStoppedError } from 'raftkit';
 * const node = new Cluster({ size: 3, seed: 1 }).node('1');
 * await node.stop();
 * const error = await node.propose('x').catch((e: unknown) => e);
 * console.log(error instanceof NodeStoppedError); // true
 * ```
 */
export class NodeStoppedError extends RaftError {
  constructor(nodeId: NodeId, cause?: unknown) {
    super('STOPPED', `node ${nodeId} is not running`, cause === undefined ? undefined : { cause });
    this.name = 'NodeStoppedError';
  }
}

/**
 * Raised when a caller's AbortSignal aborts a wait. The proposal may still commit.
 *
 * @example
 * ```ts
 * import { Cluster, AbortedError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const controller = new AbortController();
 * const p = leader.propose('x', { signal: controller.signal });
 * controller.abort();
 * console.log(await p.catch((e: unknown) => e instanceof AbortedError)); // true
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
 * import { Cluster, InvalidMessageError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const node = cluster.node('1');
 * node.on('error', (error) => { if (error instanceof InvalidMessageError) console.warn(error.reason); });
 * cluster.network.transport('x').send('1', { type: 'RequestVote', from: 'x', to: '1', term: 9, lastLogIndex: 0, lastLogTerm: 0 });
 * await cluster.run(20); // node 1 drops it and warns: unknown sender x
 * ```
 */
export class InvalidMessageError extends RaftError {
  /** What was wrong with it. */
  declare readonly reason: string;
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
 * import { Cluster, ApplyError } from 'raftkit';
 * const cluster = new Cluster<{ op: string }>({
 *   size: 3, seed: 1,
 *   stateMachine: () => ({ apply(command) { if (command.op === 'bad') throw new Error('bad command'); } }),
 * });
 * const error = await cluster.propose({ op: 'bad' }).catch((e: unknown) => e);
 * if (error instanceof ApplyError) console.log(error.index, String(error.cause)); // 2 Error: bad command
 * ```
 */
export class ApplyError extends RaftError {
  /** The index of the entry whose application threw. */
  declare readonly index: number;
  constructor(nodeId: NodeId, index: number, cause: unknown) {
    super('APPLY_FAILED', `node ${nodeId}: the state machine threw while applying entry ${index}`, { cause });
    this.name = 'ApplyError';
    this.index = index;
  }
}

/**
 * Raised for a command made in a client session that the cluster no longer knows: it expired
 * (no command for longer than its timeout, in log time) or never existed. This copy of the
 * command was not applied; whether an earlier copy was (before the session expired) is unknown,
 * as for every command of the session that had no answer. Open a new session to go on.
 *
 * @example
 * ```ts
 * import { Cluster, SessionExpiredError } from 'raftkit';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = cluster.node(await cluster.waitForLeader());
 * const stale = { id: 999, seq: 1, ack: 1 }; // a session that was never opened
 * const error = await cluster.runUntilSettled(leader.propose('x', { session: stale })).catch((e: unknown) => e);
 * if (error instanceof SessionExpiredError) console.log(error.code, error.sessionId); // SESSION_EXPIRED 999
 * ```
 */
export class SessionExpiredError extends RaftError {
  /** The session's id. */
  declare readonly sessionId: number;
  constructor(nodeId: NodeId, sessionId: number) {
    super('SESSION_EXPIRED', `node ${nodeId}: client session ${sessionId} expired or never existed; open a new one`);
    this.name = 'SessionExpiredError';
    this.sessionId = sessionId;
  }
}
