/**
 * Cluster.leader(), waitForLeader() and propose() never pick a node the cluster has cut off
 * (disconnected, crashed, on a minority side, or unable to reach a majority): a client on the
 * majority side reaches the new leader, not the stale one.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/sim/cluster.js';

const SEEDS = [1, 2, 3, 4, 5];

describe('Cluster leader choice under its own faults', () => {
  it.each(SEEDS)('after disconnect(leader): the new leader is found and proposals reach it (seed %i)', async (seed) => {
    const cluster = new Cluster({ size: 3, seed });
    const old = await cluster.waitForLeader();
    cluster.disconnect(old);
    expect(cluster.leader(), `seed ${seed}`).toBeUndefined(); // the old one still thinks it leads
    expect(cluster.node(old).role, `seed ${seed}`).toBe('leader');
    const next = await cluster.waitForLeader();
    expect(next, `seed ${seed}`).not.toBe(old);
    const { leaderId } = await cluster.propose('x');
    expect(leaderId, `seed ${seed}`).not.toBe(old);
    cluster.reconnect(old);
    await cluster.propose('y');
    expect(cluster.leader(), `seed ${seed}`).toBeDefined();
  });

  it.each(SEEDS)('a leader on the minority side of a partition is never picked (seed %i)', async (seed) => {
    const cluster = new Cluster({ size: 5, seed, nodeOptions: () => ({ checkQuorum: false }) });
    const old = await cluster.waitForLeader();
    const buddy = cluster.ids.find((id) => id !== old)!;
    const majority = cluster.ids.filter((id) => id !== old && id !== buddy);
    cluster.partition([old, buddy], majority);
    expect(cluster.leader(), `seed ${seed}`).toBeUndefined();
    const { leaderId } = await cluster.propose('x');
    expect(majority, `seed ${seed}`).toContain(leaderId);
    expect(cluster.node(old).role, `seed ${seed}`).toBe('leader'); // check-quorum off: it never noticed
    expect(cluster.leader(), `seed ${seed}`).toBe(leaderId);
  });

  it.each(SEEDS)('a leader whose outgoing links are all cut is never picked (seed %i)', async (seed) => {
    const cluster = new Cluster({ size: 3, seed, nodeOptions: () => ({ checkQuorum: false }) });
    const old = await cluster.waitForLeader();
    for (const id of cluster.ids) if (id !== old) cluster.network.cut(old, id);
    expect(cluster.leader(), `seed ${seed}`).toBeUndefined();
    const next = await cluster.waitForLeader();
    expect(next, `seed ${seed}`).not.toBe(old);
  });

  it('a Cluster given both size and ids that disagree is refused', () => {
    expect(() => new Cluster({ size: 5, ids: ['a', 'b', 'c'], seed: 1 })).toThrow(RangeError);
    expect(() => new Cluster({ size: 5, ids: ['a', 'b', 'c'], seed: 1 })).toThrow(/size 5.*3 ids/);
    expect(new Cluster({ size: 3, ids: ['a', 'b', 'c'], seed: 1 }).ids).toEqual(['a', 'b', 'c']);
  });
});
