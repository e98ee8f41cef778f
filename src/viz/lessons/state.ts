/**
 * What a lesson's nodes run, and how the lesson's cluster data becomes a Cluster's options.
 */
import type { ClusterOptions } from '../../sim/cluster.js';
import type { RaftNodeOptions } from '../../node/raft-node.js';
import type { StateMachine } from '../../raft/state-machine.js';
import type { NodeId } from '../../raft/types.js';
import type { LessonCluster, LessonNodeOptions } from './types.js';

/**
 * The lessons' state machine: it counts the commands it applied and keeps the last one. Small,
 * but it can take and restore snapshots, which is all a lesson on snapshots needs.
 */
export function tally(): StateMachine<unknown, number> {
  let count = 0;
  let last: unknown = null;
  return {
    apply(command) {
      count++;
      last = command;
      return count;
    },
    snapshot: () => JSON.stringify({ count, last }),
    restore(snapshot) {
      const state = JSON.parse(snapshot) as { count: number; last: unknown };
      count = state.count;
      last = state.last;
    },
  };
}

/** The node options a lesson sets (only those it gives: the rest keep their defaults). */
function nodeOptionsOf(o: LessonNodeOptions): Partial<RaftNodeOptions<unknown, number>> {
  const options: { -readonly [K in keyof RaftNodeOptions<unknown, number>]?: RaftNodeOptions<unknown, number>[K] } = {};
  if (o.electionTimeoutMs !== undefined) options.electionTimeoutMs = o.electionTimeoutMs;
  if (o.preVote !== undefined) options.preVote = o.preVote;
  if (o.checkQuorum !== undefined) options.checkQuorum = o.checkQuorum;
  if (o.snapshotThreshold !== undefined) options.snapshotThreshold = o.snapshotThreshold;
  if (o.maxEntriesPerMessage !== undefined) options.maxEntriesPerMessage = o.maxEntriesPerMessage;
  return options;
}

/** The Cluster options of a lesson's cluster (tracing on, with room for a whole lesson). */
export function clusterOptions(c: LessonCluster, seed: number | string, traceLimit: number): ClusterOptions<unknown, number> {
  const shared = nodeOptionsOf({ ...c, electionTimeoutMs: undefined } as LessonNodeOptions);
  const nodes: Readonly<Record<NodeId, LessonNodeOptions>> = c.nodes ?? {};
  return {
    size: c.size,
    seed,
    traceLimit,
    ...(c.latencyMs !== undefined && { network: { latencyMs: c.latencyMs } }),
    ...(c.electionTimeoutMs !== undefined && { electionTimeoutMs: c.electionTimeoutMs }),
    ...(c.heartbeatIntervalMs !== undefined && { heartbeatIntervalMs: c.heartbeatIntervalMs }),
    stateMachine: () => tally(),
    nodeOptions: (id) => {
      const own = Object.prototype.hasOwnProperty.call(nodes, id) ? nodes[id] : undefined;
      return { ...shared, ...(own === undefined ? {} : nodeOptionsOf(own)) };
    },
  };
}
