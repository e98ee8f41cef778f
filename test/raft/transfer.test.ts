/** Leadership transfer (thesis §3.10): bring the target up to date, then TimeoutNow. */
import { describe, expect, it } from 'vitest';
import { NotLeaderError, TimeoutError, TransferError } from '../../src/raft/errors.js';
import type { Message } from '../../src/raft/messages.js';
import { Cluster } from '../../src/sim/cluster.js';
import { CoreHarness } from '../support/core-harness.js';
import { settle } from '../support/settle.js';


describe('leadership transfer', () => {
  it('hands over to an up-to-date follower, refusing proposals meanwhile', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 31 });
    const from = await cluster.waitForLeader();
    await cluster.propose('before');
    const term = cluster.node(from).term;
    const target = cluster.ids.find((id) => id !== from)!;
    const transfer = cluster.node(from).transferLeadership(target);
    expect(() => cluster.node(from).submit('during')).toThrow(TransferError);
    const { value, error } = await settle(cluster, transfer);
    expect(error).toBeUndefined();
    expect(value).toBe(target);
    expect(cluster.leader()).toBe(target);
    expect(cluster.node(target).term).toBe(term + 1);
    expect(cluster.node(from).role).toBe('follower');
    await cluster.propose('after');
    for (const id of cluster.ids) {
      await cluster.runUntil(() => cluster.applied(id).length === 2);
      expect(cluster.applied(id).map((e) => e.command)).toEqual(['before', 'after']);
    }
  });

  it('brings a lagging target up to date first, and loses nothing', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 32 });
    const from = await cluster.waitForLeader();
    const laggard = cluster.ids.find((id) => id !== from)!;
    cluster.disconnect(laggard);
    for (let i = 0; i < 100; i++) await cluster.propose(`e${i}`);
    cluster.reconnect(laggard);
    expect(cluster.node(laggard).lastApplied).toBeLessThan(100);
    const timeoutNows: Message[] = [];
    cluster.network.on('send', (m) => m.type === 'TimeoutNow' && timeoutNows.push(m));
    const { value } = await settle(cluster, cluster.node(from).transferLeadership(laggard));
    expect(value).toBe(laggard);
    expect(timeoutNows).toHaveLength(1); // sent once, when the laggard had caught up
    const commands = cluster.node(laggard).entries().filter((e) => e.kind === 'command').map((e) => e.command);
    expect(commands).toEqual(Array.from({ length: 100 }, (_, i) => `e${i}`));
    cluster.checkInvariants();
  });

  it('by default picks the most up-to-date follower', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 33 });
    const from = await cluster.waitForLeader();
    const [behind, ahead] = cluster.ids.filter((id) => id !== from) as [string, string];
    cluster.disconnect(behind);
    await cluster.propose('x');
    cluster.reconnect(behind);
    const { value } = await settle(cluster, cluster.node(from).transferLeadership());
    expect(value).toBe(ahead);
  });

  it('gives up when the target cannot take over, and the leader serves again', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 34 });
    const from = await cluster.waitForLeader();
    const target = cluster.ids.find((id) => id !== from)!;
    cluster.crash(target);
    const { error } = await settle(cluster, cluster.node(from).transferLeadership(target, { timeoutMs: 1_000 }));
    expect(error).toBeInstanceOf(TimeoutError);
    expect(cluster.leader()).toBe(from);
    expect((await cluster.propose('still here')).leaderId).toBe(from);
  });

  it('rejects clearly on a non-leader or an unknown target', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 35 });
    const from = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== from)!;
    await expect(cluster.node(follower).transferLeadership(from)).rejects.toBeInstanceOf(NotLeaderError);
    await expect(cluster.node(from).transferLeadership('nobody')).rejects.toBeInstanceOf(TransferError);
    await expect(cluster.node(from).transferLeadership(from)).rejects.toBeInstanceOf(TransferError);
  });

  it('core: TimeoutNow goes out only once the target holds the whole log', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    const leader = h.core('1');
    leader.propose('a');
    h.flush();
    h.queue = h.queue.filter((m) => m.to !== '3'); // node 3 misses entry 2
    h.deliverAll((m) => m.to !== '3' && m.from !== '3');
    leader.transferLeadership('3');
    expect(leader.transferTarget).toBe('3');
    h.flush();
    expect(h.queue.some((m) => m.type === 'TimeoutNow')).toBe(false);
    const sent: string[] = [];
    const record = (m: Message): boolean => (sent.push(m.type), true);
    h.deliverAll(record);
    for (let i = 0; i < 3 && !sent.includes('TimeoutNow'); i++) h.heartbeat('1', record); // the lost entry is resent
    expect(sent.filter((t) => t === 'TimeoutNow')).toHaveLength(1);
    expect(h.core('3').lastLogIndex).toBeGreaterThanOrEqual(2);
    expect(h.core('3').role).toBe('leader');
    expect(leader.role).toBe('follower');
  });
});
