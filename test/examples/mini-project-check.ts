/**
 * Checks that a mini-project run (Cluster.simulate) reports real Raft elections, using the
 * cluster's trace as the independent record of what happened.
 */
import { expect } from 'vitest';
import type { Cluster } from '../../src/sim/cluster.js';
import type { RoundReport } from '../../src/sim/mini-project.js';
import type { TraceEvent } from '../../src/sim/trace.js';

/**
 * Returns a list of problems (empty when every report is backed by the trace). For each round
 * that reports a leader: its votes lie between a majority of the cluster and the live nodes; it
 * is leader, in the reported term, when the round is reported; and its votes are exactly the
 * granted RequestVoteResponses delivered to it in that term, none from the node that is down.
 * With `electionInRound`, the leader must also have won its election during that round (not
 * merely have stayed leader from an earlier one).
 */
export function auditReports(cluster: Cluster, reports: readonly RoundReport[], options: { electionInRound?: boolean } = {}): string[] {
  const trace: TraceEvent[] = cluster.trace();
  const problems: string[] = [];
  const size = cluster.ids.length;
  let from = 0;
  for (const report of reports) {
    const say = (what: string) => problems.push(`seed ${JSON.stringify(cluster.seed)} round ${report.round}: ${what} — ${report.lines.join(' | ')}`);
    // The round's window in the trace: from the failed node's crash to its restart.
    const crash = trace.findIndex((e, i) => i >= from && e.kind === 'crash' && e.node === report.failed);
    const restart = trace.findIndex((e, i) => i > crash && e.kind === 'restart' && e.node === report.failed);
    if (crash < 0 || restart < 0) {
      say('no crash/restart of the failed node in the trace');
      continue;
    }
    from = restart;
    const window = trace.slice(crash, restart);
    const upToReport = trace.slice(0, restart);
    if (report.liveNodes !== size - 1) say(`liveNodes ${report.liveNodes}, expected ${size - 1}`);
    if (report.leader === null) {
      if (report.votes !== 0) say('a split vote with votes');
      continue;
    }
    if (report.leader === report.failed) say('the failed node was elected');
    const majority = Math.floor(size / 2) + 1;
    if (report.votes < majority) say(`${report.votes} votes is not a majority of ${size}`);
    if (report.votes > report.liveNodes) say(`${report.votes} votes from ${report.liveNodes} live nodes`);
    // It was leader, in the reported term, when the round was reported (its last role change).
    const lastRole = [...upToReport].reverse().find((e) => e.kind === 'role' && e.node === report.leader);
    if (lastRole === undefined || lastRole.kind !== 'role' || lastRole.role !== 'leader' || lastRole.term !== report.term) {
      say(`node ${report.leader} was not leader in term ${report.term} when the round was reported`);
    }
    // Its votes: granted RequestVoteResponses delivered to it in that term.
    const voters = new Set<string>();
    for (const e of upToReport) {
      if (e.kind === 'deliver' && e.type === 'RequestVoteResponse' && e.to === report.leader && e.term === report.term && e.summary === 'granted') {
        voters.add(e.from);
      }
    }
    if (voters.has(report.failed)) say(`counted a vote from node ${report.failed}, which is down this round`);
    if (voters.size + 1 !== report.votes) say(`reported ${report.votes} votes, the trace shows ${voters.size + 1} (itself included)`);
    if (options.electionInRound === true) {
      const won = window.some((e) => e.kind === 'role' && e.role === 'leader' && e.node === report.leader && e.term === report.term);
      if (!won) say(`no election took place this round: node ${report.leader} had led term ${report.term} since before node ${report.failed} failed`);
    }
  }
  return problems;
}

/** Asserts the shape of a round's narrated lines. */
export function expectRoundLines(report: RoundReport): void {
  expect(report.lines[0]).toBe(`--- Round ${report.round} ---`);
  expect(report.lines[1]).toBe(`Node ${report.failed} failed`);
  expect(report.lines[2]).toBe(
    report.leader === null ? 'No leader elected — split vote' : `Node ${report.leader} elected with ${report.votes}/${report.liveNodes} votes`,
  );
  expect(report.lines[3]).toBe(`Node ${report.failed} recovered`);
  expect(report.lines).toHaveLength(4);
}
