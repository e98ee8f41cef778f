/**
 * The seed's election examples (brief §5): the 5-node election line, and the mini project run on
 * Cluster.simulate, whose votes must be real Raft votes (checked against the trace).
 */
import { describe, expect, it } from 'vitest';
import { electionExample, miniProject } from '../../src/examples/election.js';
import { Cluster } from '../../src/sim/cluster.js';
import { auditReports, expectRoundLines } from './mini-project-check.js';

const ELECTED = /^Node ([1-5]) elected leader for term ([1-9]\d*)$/;

describe('5-node election example', () => {
  it.each([42, 1, 'lecture'])('seed %j prints one line of the exact shape, naming the real leader', async (seed) => {
    const lines = await electionExample(seed);
    expect(lines).toHaveLength(1);
    const match = ELECTED.exec(lines[0]!);
    expect(match, lines[0]).not.toBeNull();
    const [, node, term] = match as unknown as [string, string, string];

    // Replay the seed: that node leads in that term, having won real votes from a majority.
    const cluster = new Cluster({ size: 5, seed });
    const leader = await cluster.waitForLeader();
    expect(leader).toBe(node);
    expect(cluster.node(leader).term).toBe(Number(term));
    const voters = new Set(
      cluster
        .trace()
        .filter((e) => e.kind === 'deliver' && e.type === 'RequestVoteResponse' && e.to === node && e.term === Number(term) && e.summary === 'granted')
        .map((e) => (e.kind === 'deliver' ? e.from : '')),
    );
    expect(voters.size + 1).toBeGreaterThanOrEqual(3);
  });

  it('is deterministic', async () => {
    expect(await electionExample(42)).toEqual(await electionExample(42));
  });
});

describe('mini project (Cluster.simulate)', () => {
  it('the demo run (5 nodes, 3 rounds, seed 42) reports real votes', async () => {
    const cluster = new Cluster({ size: 5, seed: 42 });
    const logged: string[] = [];
    const reports = await cluster.simulate({ rounds: 3, log: (line) => logged.push(line) });
    expect(reports.map((r) => r.round)).toEqual([1, 2, 3]);
    for (const report of reports) {
      expectRoundLines(report);
      expect(report.liveNodes).toBe(4);
      if (report.leader !== null) {
        expect(report.votes).toBeGreaterThanOrEqual(3);
        expect(report.votes).toBeLessThanOrEqual(4);
      }
    }
    expect(auditReports(cluster, reports)).toEqual([]);
    expect(logged).toEqual(reports.flatMap((r) => r.lines));
    expect(await miniProject({ nodes: 5, rounds: 3, seed: 42 })).toEqual(logged);
    cluster.checkInvariants();
  });

  it('the audit catches a report that does not match the trace', async () => {
    // The checker must be able to fail: inflate the votes of a real report.
    const cluster = new Cluster({ size: 5, seed: 42 });
    const reports = await cluster.simulate({ rounds: 1 });
    const real = reports[0]!;
    expect(real.leader).not.toBeNull();
    expect(auditReports(cluster, [{ ...real, votes: real.votes + 1 }])).not.toEqual([]);
    expect(auditReports(cluster, [{ ...real, leader: real.failed }])).not.toEqual([]);
  });

  it('rejects bad rounds', async () => {
    const cluster = new Cluster({ size: 5, seed: 1 });
    await expect(cluster.simulate({ rounds: 0 })).rejects.toBeInstanceOf(RangeError);
    await expect(cluster.simulate({ rounds: 1.5 })).rejects.toBeInstanceOf(RangeError);
  });
});
