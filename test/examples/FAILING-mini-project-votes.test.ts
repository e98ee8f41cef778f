/**
 * FAILING (bug in src/sim/cluster.ts, Cluster.simulate): each round picks a random live node as
 * the candidate. When that node is already the leader, `campaign()` does nothing (a leader does
 * not campaign), `elected()` is true at once, and the round reports "Node X elected with V/N
 * votes" although no election took place: V is the tally of the leader's earlier election.
 *
 * 1. When that earlier election counted the node that has just failed, the line is impossible,
 *    e.g. `Node 2 elected with 5/4 votes` (seed 13 round 2, seed 20 round 1; visible with
 *    `raftkit simulate --seed 20`).
 * 2. Even when the numbers look plausible the narration is false: with the demo's own seed 42,
 *    round 3 prints `Node 3 elected with 4/4 votes`, but node 3 had led term 3 since round 2
 *    and nobody voted in round 3.
 *
 * The brief (§5) says each round the live nodes elect a leader and "the votes are real Raft
 * votes". A fix: pick the candidate among live non-leaders (or step the leader down first), or
 * report only an election won in the round.
 */
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { Cluster } from '../../src/sim/cluster.js';
import { auditReports } from './mini-project-check.js';

async function audit(seeds: Iterable<number>, electionInRound: boolean): Promise<string[]> {
  const problems: string[] = [];
  for (const seed of seeds) {
    const cluster = new Cluster({ size: 5, seed });
    const reports = await cluster.simulate({ rounds: 3 });
    problems.push(...auditReports(cluster, reports, { electionInRound }));
  }
  return problems;
}

const SEEDS = Array.from({ length: 60 }, (_, i) => i);

describe('mini project votes are real votes among the live nodes', () => {
  it('seeds 0..59: votes between a majority and the live nodes, none from the failed node', async () => {
    expect(await audit(SEEDS, false)).toEqual([]);
  });

  it('raftkit simulate --seed 20 never prints more votes than live nodes', async () => {
    const out: string[] = [];
    expect(await main(['simulate', '--nodes', '5', '--rounds', '3', '--seed', '20'], (l) => out.push(l), () => {})).toBe(0);
    const tallies = out.flatMap((line) => {
      const m = /^Node \d+ elected with (\d+)\/(\d+) votes$/.exec(line);
      return m ? [{ line, votes: Number(m[1]), live: Number(m[2]) }] : [];
    });
    expect(tallies.length).toBeGreaterThan(0);
    for (const t of tallies) expect(t.votes, t.line).toBeLessThanOrEqual(t.live);
  });

  it('every reported election happened in its round (seed 42, the demo seed, and seeds 0..59)', async () => {
    expect(await audit([42, ...SEEDS], true)).toEqual([]);
  });
});
