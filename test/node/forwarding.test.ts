/** Proposal forwarding (option forwardProposals): a follower sends proposals to the leader. */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { RaftNode } from '../../src/node/raft-node.js';
import { LeadershipLostError, NotLeaderError } from '../../src/raft/errors.js';
import { SeededRandom } from '../../src/sim/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { drain, manualTransport, track } from './harness.js';
import { Cluster } from '../../src/sim/cluster.js';
import { settle } from '../support/settle.js';

function cluster(seed: number, forwardProposals: boolean) {
  return new Cluster<KeyValueCommand, KeyValueResult>({
    size: 3,
    seed,
    stateMachine: () => new KeyValueStore(),
    nodeOptions: () => ({ forwardProposals }),
  });
}


describe('forwardProposals', () => {
  it('a follower forwards to the leader and resolves, with its own result, once it applied the entry', async () => {
    const c = cluster(61, true);
    const leader = await c.waitForLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    await c.runUntil(() => c.node(follower).leaderId === leader);
    await c.propose({ op: 'put', key: 'x', value: 1 });
    const { value, error } = await settle(c, c.node(follower).propose({ op: 'cas', key: 'x', expected: 1, value: 2 }));
    expect(error).toBeUndefined();
    expect(value?.result).toEqual({ previous: 1, ok: true });
    expect(c.node(follower).lastApplied).toBeGreaterThanOrEqual(value!.index);
    expect(c.node(leader).entries(value!.index, value!.index)[0]?.command).toEqual({ op: 'cas', key: 'x', expected: 1, value: 2 });
  });

  it('many forwarded proposals from several followers each get their own result', async () => {
    const c = cluster(62, true);
    const leader = await c.waitForLeader();
    await c.run(100);
    const followers = c.ids.filter((id) => id !== leader);
    const results = followers.flatMap((id, f) =>
      Array.from({ length: 20 }, (_, i) => c.node(id).propose({ op: 'put', key: `k${f}.${i}`, value: i })),
    );
    const outcome = await settle(c, Promise.all(results));
    expect(outcome.error).toBeUndefined();
    expect(new Set(outcome.value!.map((r) => r.index)).size).toBe(40);
    expect(outcome.value!.every((r) => r.result.ok && r.result.previous === undefined)).toBe(true);
  });

  it('off (the default): a follower rejects with NotLeaderError naming the leader', async () => {
    const c = cluster(63, false);
    const leader = await c.waitForLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    await c.runUntil(() => c.node(follower).leaderId === leader);
    await expect(c.node(follower).propose({ op: 'put', key: 'x', value: 1 })).rejects.toMatchObject({ leaderId: leader });
  });

  it('without a known leader it rejects at once; a refusing leader makes it reject', async () => {
    const c = cluster(64, true);
    await expect(c.node('1').propose({ op: 'put', key: 'x', value: 1 })).rejects.toBeInstanceOf(NotLeaderError);
    const leader = await c.waitForLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    await c.runUntil(() => c.node(follower).leaderId === leader);
    const transfer = c.node(leader).transferLeadership(c.ids.find((id) => id !== leader && id !== follower)!);
    const { error } = await settle(c, c.node(follower).propose({ op: 'put', key: 'x', value: 1 }));
    expect(error).toBeInstanceOf(NotLeaderError); // refused during the transfer
    await settle(c, transfer);
  });
});

describe('forwardProposals: answers for the same index', () => {
  it('an earlier proposal answered with an index that a newer leader reuses fails at once (regression)', async () => {
    const manual = manualTransport();
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: '2', peers: ['1', '2', '3'], transport: manual.transport, scheduler, random: new SeededRandom(2), forwardProposals: true });
    await node.start();
    const heartbeat = (term: number, from: string) =>
      manual.inject({ type: 'AppendEntries', from, to: '2', term, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round: 0 });
    heartbeat(1, '1');
    scheduler.runFor(0);
    const first = track(node.propose('a'));
    const second = track(node.propose('b'));
    scheduler.runFor(0);
    const [p1, p2] = manual.sent.filter((m) => m.type === 'Propose') as Array<{ id: number }>;
    manual.inject({ type: 'ProposeResponse', from: '1', to: '2', term: 1, id: p1!.id, index: 10, ok: true });
    scheduler.runFor(0);
    heartbeat(2, '3'); // a new leader, whose entry 10 is 'b'
    manual.inject({ type: 'ProposeResponse', from: '3', to: '2', term: 2, id: p2!.id, index: 10, ok: true });
    scheduler.runFor(0);
    await drain();
    expect(first.state).toBe('rejected');
    expect(first.error).toBeInstanceOf(LeadershipLostError);
    expect(second.state).toBe('pending'); // still waiting for index 10 to be applied
    await node.stop();
  });
});
