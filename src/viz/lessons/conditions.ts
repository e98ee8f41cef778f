/**
 * Deciding whether a step's condition holds, on the cluster as it is now. A target that names no
 * node at the moment (no leader yet) makes the condition false, not an error: it may name one later.
 */
import type { Cluster } from '../../sim/cluster.js';
import type { NodeId } from '../../raft/types.js';
import type { LessonCondition, LessonIndex, LessonNodes, LessonTarget } from './types.js';

/** What conditions read besides the cluster: the names remembered and the snapshots installed. */
export interface Scope {
  readonly cluster: Cluster<unknown, number>;
  /** The node a target names now, or undefined. */
  find(target: LessonTarget): NodeId | undefined;
  /** The index a condition's index names. */
  index(value: LessonIndex): number;
  /** A term: a number, or the term a remembered node had when it was remembered. */
  term(value: number | `$${string}`): number;
  /** Nodes that installed a snapshot a leader sent them. */
  readonly installed: ReadonlySet<NodeId>;
}

/** Whether `condition` holds now. */
export function holds(condition: LessonCondition, scope: Scope): boolean {
  const cluster = scope.cluster;
  if ('all' in condition) return condition.all.every((c) => holds(c, scope));
  if ('any' in condition) return condition.any.some((c) => holds(c, scope));
  if ('not' in condition) return !holds(condition.not, scope);
  if ('leader' in condition) {
    const leader = cluster.leader();
    if (leader === undefined) return false;
    if (condition.except?.some((t) => scope.find(t) === leader) === true) return false;
    return condition.termAbove === undefined || cluster.node(leader).term > scope.term(condition.termAbove);
  }
  if ('leaderIs' in condition) {
    const leader = cluster.leader();
    return leader !== undefined && scope.find(condition.leaderIs) === leader;
  }
  if ('committed' in condition) return some(condition.on ?? 'majority', scope, (id) => cluster.node(id).commitIndex >= scope.index(condition.committed));
  if ('applied' in condition) return some(condition.on ?? 'all', scope, (id) => cluster.node(id).lastApplied >= scope.index(condition.applied));
  if ('entry' in condition) {
    const index = scope.index(condition.entry);
    return some(condition.on, scope, (id) => {
      const node = cluster.node(id);
      if (!node.running) return false;
      const entry = node.entries(index, index)[0];
      return entry !== undefined && (condition.term === undefined || entry.term === condition.term);
    });
  }
  if ('role' in condition) {
    const id = scope.find(condition.node);
    return id !== undefined && cluster.node(id).role === condition.role;
  }
  if ('someone' in condition) return cluster.liveIds.some((id) => cluster.node(id).role === condition.someone);
  if ('termAbove' in condition) {
    const id = scope.find(condition.node);
    return id !== undefined && cluster.node(id).term > scope.term(condition.termAbove);
  }
  if ('snapshotInstalled' in condition) {
    const id = scope.find(condition.snapshotInstalled);
    return id !== undefined && scope.installed.has(id);
  }
  if ('compacted' in condition) return some(condition.compacted, scope, (id) => cluster.node(id).status().snapshotIndex > 0);
  if ('member' in condition) {
    const leader = cluster.leader();
    const id = scope.find(condition.member);
    return leader !== undefined && id !== undefined && cluster.node(leader).membership.voters.includes(id) === condition.voter;
  }
  return converged(cluster);
}

/** Whether the nodes `on` names all satisfy `test` (a majority of the members, for `'majority'`). */
function some(on: LessonNodes, scope: Scope, test: (id: NodeId) => boolean): boolean {
  const cluster = scope.cluster;
  if (on === 'majority') {
    const members = cluster.ids;
    return cluster.liveIds.filter(test).length * 2 > members.length;
  }
  if (on === 'all') return cluster.liveIds.every(test);
  const targets = typeof on === 'string' ? [on] : on;
  return targets.every((t) => {
    const id = scope.find(t);
    return id !== undefined && test(id);
  });
}

/** Every running member has the leader's log end, commit index and applied index. */
function converged(cluster: Cluster<unknown, number>): boolean {
  const leader = cluster.leader();
  if (leader === undefined) return false;
  const l = cluster.node(leader).status();
  return cluster.liveIds.every((id) => {
    const s = cluster.node(id).status();
    return s.lastLogIndex === l.lastLogIndex && s.lastLogTerm === l.lastLogTerm && s.commitIndex === l.commitIndex && s.lastApplied === l.lastApplied;
  });
}
