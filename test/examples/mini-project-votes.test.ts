/**
 * Regression (Cluster.simulate): each round must report a real election held in that round.
 * Before the fix, the round's random candidate could be the sitting leader, whose campaign() does
 * nothing: the round then reported the leader "elected" with the tally of an earlier election
 * (e.g. `Node 2 elected with 5/4 votes`, seed 20), or raced with the first election (seed 42).
 * Now a non-leader campaigns from a settled cluster and only a leader of its term counts.
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
