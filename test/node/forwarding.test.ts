/** Proposal forwarding (option forwardProposals): a follower sends proposals to the leader. */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { NotLeaderError } from '../../src/raft/errors.js';
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
