/**
 * The leader-election mini project of the course: rounds of failure, election and recovery on a
 * {@link Cluster}, narrated line by line (`raftkit simulate` prints them).
 */
import type { NodeId } from '../raft/types.js';
import type { SeededRandom } from '../runtime/random.js';
import type { Cluster } from './cluster.js';

/**
 * What one round of {@link Cluster.simulate} did.
 *
 * @example
 * ```ts
 * import { Cluster, type RoundReport } from 'raftkit';
 * const cluster = new Cluster({ size: 5, seed: 1 });
 * const rounds: RoundReport[] = await cluster.simulate({ rounds: 2 });
 * for (const round of rounds) console.log(round.failed, round.leader, `${round.votes}/${round.liveNodes}`); // 4 3 4/4 …
 * ```
 */
export interface RoundReport {
  /** The round number, from 1. */
  readonly round: number;
  /** The node that failed this round. */
  readonly failed: NodeId;
  /** The node elected among the live ones, or null for a split vote. */
  readonly leader: NodeId | null;
  /** Votes the leader received in its election (itself included); 0 on a split vote. */
  readonly votes: number;
  /** Nodes alive during the election. */
  readonly liveNodes: number;
  /** The term of the election. */
  readonly term: number;
  /** The narrated lines of the round. */
  readonly lines: readonly string[];
}

/**
 * Runs `options.rounds` rounds on `cluster`: each round a node picked with `random` fails, a
 * random live node campaigns and the live nodes vote, then the failed node recovers.
 * `maxTimeout` is the cluster's maximum election timeout. (Behind {@link Cluster.simulate}.)
 */
export async function electionRounds(
  cluster: Cluster<unknown, unknown>,
  random: SeededRandom,
  maxTimeout: number,
  options: { rounds: number; log?: (line: string) => void },
): Promise<RoundReport[]> {
  const { rounds, log } = options;
  if (!Number.isSafeInteger(rounds) || rounds < 1) throw new RangeError(`simulate: rounds must be a positive integer, got ${rounds}`);
  if (cluster.ids.length < 3) throw new RangeError('simulate: needs at least 3 nodes (one fails each round, and the others must still be a majority)');
  const reports: RoundReport[] = [];
  await cluster.waitForLeader();
  for (let round = 1; round <= rounds; round++) {
    const lines: string[] = [];
    const say = (line: string): void => {
      lines.push(line);
      log?.(line);
    };
    say(`--- Round ${round} ---`);
    // Start from a settled cluster: every node follows one leader in one term.
    await cluster.runUntil(() => settled(cluster), { timeoutMs: 10 * maxTimeout });
    const failed = random.pick(cluster.liveIds);
    cluster.crash(failed);
    say(`Node ${failed} failed`);
    const live = cluster.liveIds;
    // A fresh election among the live nodes: a random live node that is not leading campaigns
    // (a forced election, past leader leases); only a leader of its term or a later one counts.
    const standing = cluster.leader();
    const candidate = cluster.node(random.pick(live.filter((id) => id !== standing)));
    candidate.campaign();
    const term = candidate.term;
    const elected = (): NodeId | undefined => live.find((id) => cluster.node(id).role === 'leader' && cluster.node(id).term >= term);
    await cluster.runUntil(() => elected() !== undefined, { timeoutMs: maxTimeout });
    const leader = elected() ?? null;
    let votes = 0;
    let electionTerm = term;
    if (leader !== null) {
      await cluster.run(maxTimeout / 2); // let late votes arrive so the tally is complete
      const status = cluster.node(leader).status();
      votes = status.votes;
      electionTerm = status.term;
      say(`Node ${leader} elected with ${votes}/${live.length} votes`);
    } else {
      say('No leader elected — split vote');
    }
    cluster.restart(failed);
    await cluster.run(maxTimeout);
    say(`Node ${failed} recovered`);
    reports.push({ round, failed, leader, votes, liveNodes: live.length, term: electionTerm, lines });
  }
  return reports;
}

/** Every live node is in the leader's term and knows the leader. */
function settled(cluster: Cluster<unknown, unknown>): boolean {
  const leader = cluster.leader();
  if (leader === undefined) return false;
  const term = cluster.node(leader).term;
  return cluster.liveIds.every((id) => cluster.node(id).term === term && cluster.node(id).leaderId === leader);
}
