/** Proposal forwarding (option forwardProposals): a follower sends proposals to the leader. */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { RaftNode } from '../../src/node/raft-node.js';
import { NotLeaderError } from '../../src/raft/errors.js';
import type { Propose } from '../../src/raft/messages.js';
import type { LogEntry } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
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

  it('without a known leader it rejects at once; during a leadership transfer it waits, and the command is applied once', async () => {
    const c = cluster(64, true);
    await expect(c.node('1').propose({ op: 'put', key: 'x', value: 1 })).rejects.toBeInstanceOf(NotLeaderError);
    const leader = await c.waitForLeader();
    const follower = c.ids.find((id) => id !== leader)!;
    await c.runUntil(() => c.node(follower).leaderId === leader);
    const target = c.ids.find((id) => id !== leader && id !== follower)!;
    const transfer = c.node(leader).transferLeadership(target);
    // The leader cannot append it now, but says so as "unknown" (it may append a later copy): the follower resends.
    const { value, error } = await settle(c, c.node(follower).propose({ op: 'cas', key: 'x', expected: undefined, value: 1 }));
    expect(error).toBeUndefined();
    expect(value?.result).toEqual({ previous: undefined, ok: true });
    expect(await settle(c, transfer)).toEqual({ value: target });
    await c.run(500);
    const puts = c.applied(target).filter((e) => (e.command as KeyValueCommand).op === 'cas');
    expect(puts).toHaveLength(1);
  });
});

describe('forwardProposals: answers for the same index', () => {
  it('an answer naming an index that a newer leader filled with another command settles only the command applied there', async () => {
    const manual = manualTransport();
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: '2', peers: ['1', '2', '3'], transport: manual.transport, scheduler, random: new SeededRandom(2), forwardProposals: true });
    await node.start();
    const append = (term: number, from: string, prevLogIndex: number, prevLogTerm: number, entries: LogEntry[], leaderCommit: number) =>
      manual.inject({ type: 'AppendEntries', from, to: '2', term, prevLogIndex, prevLogTerm, entries, leaderCommit, round: 0 });
    append(1, '1', 0, 0, [{ index: 1, term: 1, kind: 'noop' }], 1);
    scheduler.runFor(0);
    const first = track(node.propose('a'));
    const second = track(node.propose('b'));
    scheduler.runFor(0);
    // The node opens its own session first: leader 1 appends it at index 2, and commits it.
    const open = manual.sent.find((m) => m.type === 'Propose') as Propose;
    expect(open.kind).toBe('session');
    manual.inject({ type: 'ProposeResponse', from: '1', to: '2', term: 1, id: open.id, index: 2, outcome: 'appended' });
    append(1, '1', 1, 1, [{ index: 2, term: 1, kind: 'session', time: 0, timeoutMs: 3_600_000 }], 2);
    scheduler.runFor(0);
    await drain();
    const [pa, pb] = manual.sent.filter((m) => m.type === 'Propose' && m.kind === undefined) as Propose[];
    expect([pa?.command, pb?.command, pa?.session?.id]).toEqual(['a', 'b', 2]);
    manual.inject({ type: 'ProposeResponse', from: '1', to: '2', term: 1, id: pa!.id, index: 3, outcome: 'appended' });
    scheduler.runFor(0);
    // A new leader, whose entry 3 is 'b': only 'b' is settled; 'a' is sent again, to the new leader.
    const sentBefore = manual.sent.length;
    append(2, '3', 2, 1, [{ index: 3, term: 2, kind: 'command', command: 'b', session: pb!.session!, time: 5 }], 3);
    scheduler.runFor(0);
    await drain();
    expect(second.state).toBe('fulfilled');
    expect(second.value).toMatchObject({ index: 3, term: 2 });
    expect(first.state).toBe('pending');
    const resent = manual.sent.slice(sentBefore).filter((m) => m.type === 'Propose') as Propose[];
    expect(resent.map((m) => [m.to, m.command, m.session?.seq])).toContainEqual(['3', 'a', pa!.session!.seq]);
    await node.stop();
    await drain();
    expect(first.state).toBe('rejected');
  });
});
