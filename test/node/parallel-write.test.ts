/**
 * Thesis §10.2.1: a leader writes to its own disk while its appends travel, and counts its own
 * entries toward a commit only once they are durable. On a simulated disk where every save
 * takes 5 virtual ms and every message 1 ms, a proposal then commits in one disk write plus a
 * round trip (the followers' writes), not two writes in a row. Its safety under faults is checked
 * by the slow-disk histories in test/raft/linearizable.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/raft/core.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Cluster } from '../../src/sim/cluster.js';

describe("a leader's own write runs in parallel with its appends", () => {
  it('commits a proposal in one disk write plus a round trip', async () => {
    const cluster = new Cluster({ size: 3, seed: 3, network: { latencyMs: [1, 1] }, diskLatencyMs: [5, 5] });
    const leader = cluster.node(await cluster.waitForLeader());
    await cluster.run(200);
    const sends: string[] = [];
    leader.on('send', (m) => sends.push(m.type));
    const start = cluster.now;
    const { index } = leader.submit('x');
    const committed = await cluster.runUntil(() => leader.commitIndex >= index, { timeoutMs: 100 });
    expect(committed).toBe(true);
    // Written one after the other it takes 5 (leader) + 1 + 5 (followers) + 1 = 12 ms.
    expect(cluster.now - start).toBeLessThan(12);
    expect(sends).toContain('AppendEntries');
  });

  it('never counts its own entries before they are durable: a single node commits only once its write lands', async () => {
    const cluster = new Cluster({ size: 1, seed: 4, diskLatencyMs: [5, 5] });
    const leader = cluster.node(await cluster.waitForLeader());
    await cluster.run(50);
    const { index } = leader.submit('y');
    await cluster.run(4);
    expect(leader.commitIndex).toBeLessThan(index); // its only copy is not on disk yet
    await cluster.run(2);
    expect(leader.commitIndex).toBe(index);
  });

  it('the core counts the leader toward a majority only for entries advance() confirmed durable', () => {
    const core = new RaftCore({ id: '1', peers: ['2', '3'], random: new SeededRandom(1) });
    core.campaign();
    core.advance(core.ready());
    core.step({ type: 'RequestVoteResponse', from: '2', to: '1', term: 1, voteGranted: true });
    const noop = core.ready(); // the leader's no-op: its own write, not yet confirmed
    const ack = (index: number) => core.step({ type: 'AppendEntriesResponse', from: '2', to: '1', term: 1, success: true, index, conflictIndex: 0, conflictTerm: 0, round: 0 });
    ack(1);
    expect(core.commitIndex).toBe(0); // one follower, and the leader's copy is not durable: no majority
    core.advance(noop);
    expect(core.commitIndex).toBe(1); // now it is
  });
});
