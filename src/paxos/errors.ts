import type { NodeId } from '../raft/types.js';

/**
 * The base class of the errors the Paxos nodes and their checker raise.
 *
 * @example
 * ```ts
 * import { MultiPaxosCluster, PaxosError } from 'raftkit';
 * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
 * try { cluster.node('1').submit('x'); } catch (error) { if (error instanceof PaxosError) console.log(error.code); } // NOT_LEADER
 * ```
 */
export class PaxosError extends Error {
  /** A stable, machine-readable code. */
  declare readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.code = code;
    this.name = 'PaxosError';
  }
}

/**
 * A submit to a Multi-Paxos node that is not the leader. `leaderId` is the leader it knows of
 * (or null), so a client can retry there.
 *
 * @example
 * ```ts
 * import { MultiPaxosCluster, PaxosNotLeaderError } from 'raftkit';
 * const cluster = new MultiPaxosCluster({ size: 3, seed: 1 });
 * const leader = cluster.waitForLeader();
 * cluster.run(200); // the others hear from the leader
 * const follower = cluster.ids.find((id) => id !== leader)!;
 * try { cluster.node(follower).submit('x'); } catch (error) {
 *   if (error instanceof PaxosNotLeaderError && error.leaderId !== null) cluster.node(error.leaderId).submit('x'); // retry there
 * }
 * ```
 */
export class PaxosNotLeaderError extends PaxosError {
  /** The leader this node knows of, or null. */
  declare readonly leaderId: NodeId | null;
  constructor(nodeId: NodeId, leaderId: NodeId | null) {
    super('NOT_LEADER', `node ${nodeId} is not the leader (${leaderId === null ? 'leader unknown' : `leader is ${leaderId}`})`);
    this.name = 'PaxosNotLeaderError';
    this.leaderId = leaderId;
  }
}

/**
 * The safety properties the {@link PaxosChecker} watches:
 * - `'Agreement'`: at most one value is chosen in a slot (a value is chosen once a majority of
 *   acceptors accepted it in the same ballot);
 * - `'Learned Is Chosen'`: a learner learns only the value chosen in that slot;
 * - `'One Value Per Ballot'`: the acceptors never accept two values in one ballot and slot
 *   (each ballot has one proposer, which proposes one value).
 *
 * @example
 * ```ts
 * import type { PaxosProperty } from 'raftkit';
 * const worst: PaxosProperty = 'Agreement';
 * ```
 */
export type PaxosProperty = 'Agreement' | 'Learned Is Chosen' | 'One Value Per Ballot';

/**
 * One event the checker saw: an acceptance or a learn.
 *
 * @example
 * ```ts
 * import type { PaxosCheckEvent } from 'raftkit';
 * const e: PaxosCheckEvent = { kind: 'accept', node: 'b', slot: 0, ballot: '2.a', value: '"blue"' };
 * ```
 */
export interface PaxosCheckEvent {
  /** An acceptor accepted, or a learner learned. */
  readonly kind: 'accept' | 'learn';
  /** The acceptor or learner. */
  readonly node: NodeId;
  /** The slot (0 for the Synod). */
  readonly slot: number;
  /** The ballot as `round.node` (accepts only). */
  readonly ballot?: string;
  /** The value, as JSON. */
  readonly value: string;
}

/**
 * Thrown by the {@link PaxosChecker} (and so out of a simulation's `run`) when a Paxos safety
 * property breaks. Carries the seed that replays the run and the events that led to it.
 *
 * @example
 * ```ts
 * import { PaxosChecker, PaxosSafetyViolation } from 'raftkit';
 * const checker = new PaxosChecker({ acceptors: ['a', 'b', 'c'], seed: 7 });
 * checker.accepted('a', 0, { round: 1, node: 'a' }, 'red');
 * checker.accepted('b', 0, { round: 1, node: 'a' }, 'red'); // red is chosen
 * try { checker.learned('c', 0, 'blue'); } catch (error) {
 *   if (error instanceof PaxosSafetyViolation) console.log(error.property, error.seed); // Learned Is Chosen 7
 * }
 * ```
 */
export class PaxosSafetyViolation extends PaxosError {
  /** The property that broke. */
  declare readonly property: PaxosProperty;
  /** The slot it broke in (0 for the Synod). */
  declare readonly slot: number;
  /** The nodes involved. */
  declare readonly nodes: readonly NodeId[];
  /** The seed that replays the run, when the checker was given one. */
  declare readonly seed: number | string | undefined;
  /** The last events the checker saw, oldest first, the violating one last. */
  declare readonly events: readonly PaxosCheckEvent[];
  constructor(property: PaxosProperty, slot: number, detail: string, nodes: readonly NodeId[], seed: number | string | undefined, events: readonly PaxosCheckEvent[]) {
    const replay = seed === undefined ? '' : `; replay with seed ${JSON.stringify(seed)}`;
    super('PAXOS_SAFETY_VIOLATION', `${property} violated in slot ${slot}: ${detail} (nodes ${nodes.join(', ')}${replay})`);
    this.name = 'PaxosSafetyViolation';
    this.property = property;
    this.slot = slot;
    this.nodes = nodes;
    this.seed = seed;
    this.events = events;
  }
}
