/**
 * KvClient: what it records for each answer (ok with the output, fail only when the operation
 * certainly did not happen, info otherwise), the leader hint, timeouts on cluster time, paused
 * nodes, client sessions, and the read modes.
 */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { Cluster } from '../../src/sim/cluster.js';
import { KvClient, checkLinearizable, kvModel } from '../../src/testing/index.js';

type KvCluster = Cluster<KeyValueCommand, KeyValueResult>;

async function started(seed = 1, options: { forward?: boolean } = {}): Promise<{ cluster: KvCluster; leader: string; followers: string[] }> {
  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
    size: 3,
    seed,
    stateMachine: () => new KeyValueStore(),
    ...(options.forward && { nodeOptions: () => ({ forwardProposals: true }) }),
  });
  const leader = await cluster.waitForLeader();
  await cluster.run(100); // every follower knows the leader
  return { cluster, leader, followers: cluster.ids.filter((id) => id !== leader) };
}

const store = (cluster: KvCluster, id: string): KeyValueStore => cluster.stateMachine(id) as KeyValueStore;
/** A random source that makes a client pick node `id` whenever it picks at random. */
const aim = (cluster: KvCluster, id: string) => ({ next: () => 0, int: () => cluster.ids.indexOf(id) });

describe('KvClient', () => {
  it('records each operation with its output, on cluster time', async () => {
    const { cluster } = await started();
    const client = new KvClient(cluster, { name: 'c' });
    expect(await cluster.runUntilSettled(client.put('x', 1))).toEqual({ status: 'ok', output: undefined });
    expect(await cluster.runUntilSettled(client.cas('x', 2, 3))).toEqual({ status: 'ok', output: false });
    expect(await cluster.runUntilSettled(client.cas('x', 1, 3))).toEqual({ status: 'ok', output: true });
    expect(await cluster.runUntilSettled(client.get('x'))).toEqual({ status: 'ok', output: 3 });
    expect(await cluster.runUntilSettled(client.delete('x'))).toEqual({ status: 'ok', output: undefined });
    expect(await cluster.runUntilSettled(client.get('x', { read: 'log' }))).toEqual({ status: 'ok', output: undefined });
    const history = client.recorder.history();
    expect(history.map((o) => [o.client, o.input.op, o.status])).toEqual([
      ['c', 'put', 'ok'],
      ['c', 'cas', 'ok'],
      ['c', 'cas', 'ok'],
      ['c', 'get', 'ok'],
      ['c', 'delete', 'ok'],
      ['c', 'get', 'ok'],
    ]);
    expect(history.every((o, i) => o.complete! >= o.invoke && (i === 0 || o.invoke >= history[i - 1]!.complete!))).toBe(true);
    expect(history[history.length - 1]!.complete).toBeLessThanOrEqual(cluster.now);
    expect(checkLinearizable(history, kvModel).result).toBe('linearizable');
  });

  it('follows the leader hint of a refusal, and records fail only when every attempt was refused', async () => {
    const { cluster, leader, followers } = await started(2);
    const follower = followers[0]!;
    // Never the hint, no retry: a follower refuses, for certain.
    const stubborn = new KvClient(cluster, { name: 's', followHint: 0, retries: 0, random: aim(cluster, follower) });
    expect(await cluster.runUntilSettled(stubborn.put('x', 1))).toEqual({ status: 'fail' });
    expect(store(cluster, leader).get('x')).toBeUndefined();
    // Always the hint: after one refusal it goes to the leader.
    const follows = new KvClient(cluster, { name: 'f', followHint: 1, random: aim(cluster, follower) });
    expect(await cluster.runUntilSettled(follows.put('x', 2))).toEqual({ status: 'ok', output: undefined });
    await cluster.run(50);
    expect(cluster.ids.map((id) => store(cluster, id).get('x'))).toEqual([2, 2, 2]);
  });

  it('records info when the answer does not come in time, measured on cluster time', async () => {
    const { cluster, leader } = await started(3);
    cluster.partition([leader]); // it takes the write, and cannot commit it
    const client = new KvClient(cluster, { name: 'c', timeoutMs: 120, retries: 0, followHint: 1, random: aim(cluster, leader) });
    const invoked = cluster.now;
    expect(await cluster.runUntilSettled(client.put('x', 1))).toEqual({ status: 'info' });
    const [put] = client.recorder.history();
    expect(put!.status).toBe('info');
    expect(put!.complete).toBeGreaterThanOrEqual(invoked + 120);
    expect(put!.complete).toBeLessThan(invoked + 130);
  });

  it('holds requests to a paused node until it resumes; past the timeout they are info', async () => {
    const { cluster, leader } = await started(4);
    const client = new KvClient(cluster, { name: 'c', timeoutMs: 200, retries: 0, followHint: 1, random: aim(cluster, leader) });
    cluster.pause(leader);
    const answer = client.put('x', 1);
    await cluster.run(150);
    expect(client.busy).toBe(true);
    cluster.resume(leader); // still the leader: it takes the write
    expect(await cluster.runUntilSettled(answer)).toEqual({ status: 'ok', output: undefined });

    cluster.pause(leader);
    const invoked = cluster.now;
    expect(await cluster.runUntilSettled(client.put('x', 2))).toEqual({ status: 'info' });
    expect(client.recorder.history()[1]!.complete).toBe(invoked + 200);
    cluster.resume(leader); // the held write still reaches it: it may yet take effect, or not
    await cluster.run(1_000);
    expect(await cluster.runUntilSettled(client.get('x'))).toMatchObject({ status: 'ok' });
    expect(checkLinearizable(client.recorder.history(), kvModel).result).toBe('linearizable');
  });

  it('retries a write of unknown outcome in its session, and it takes effect once', async () => {
    const { cluster, leader, followers } = await started(5);
    // The leader first, then the followers in turn (and the hint they give).
    let picks = 0;
    const order = [leader, ...followers];
    const random = { next: () => 0, int: () => cluster.ids.indexOf(order[Math.min(picks++, order.length - 1)]!) };
    const client = new KvClient(cluster, { name: 'c', session: true, timeoutMs: 300, retries: 5, followHint: 1, random });
    await cluster.runUntilSettled(client.put('n', 0)); // opens the session meanwhile
    await cluster.run(100);
    picks = 0;
    const cas = client.cas('n', 0, 1); // the leader appends it and sends it out...
    await cluster.run(0);
    cluster.pause(leader); // ...and hears no acknowledgement: the client's attempt times out
    expect(await cluster.runUntilSettled(cas)).toEqual({ status: 'ok', output: true }); // retried on the next leader, same tag
    cluster.resume(leader);
    await cluster.run(500);
    for (const id of cluster.ids) {
      expect(store(cluster, id).get('n'), id).toBe(1);
      expect(cluster.applied(id).filter((e) => (e.command as KeyValueCommand).op === 'cas'), id).toHaveLength(1);
    }
    const history = client.recorder.history();
    expect(history.map((o) => o.status)).toEqual(['ok', 'ok']);
    expect(checkLinearizable(history, kvModel).result).toBe('linearizable');
  });

  it('reads as asked: stale reads see a lagging replica, ReadIndex reads do not', async () => {
    const { cluster, leader, followers } = await started(6);
    const writer = new KvClient(cluster, { name: 'w', random: aim(cluster, leader) });
    await cluster.runUntilSettled(writer.put('x', 1));
    await cluster.run(100);
    const lagging = followers[0]!;
    cluster.disconnect(lagging);
    await cluster.runUntilSettled(writer.put('x', 2));
    await cluster.run(1); // (operations that touch in time are concurrent)
    const at = (read: 'stale' | 'index') => new KvClient(cluster, { name: read, recorder: writer.recorder, read, timeoutMs: 300, followHint: 1, random: aim(cluster, lagging) });
    expect(await cluster.runUntilSettled(at('stale').get('x'))).toEqual({ status: 'ok', output: 1 });
    expect((await cluster.runUntilSettled(at('index').get('x'))).status).not.toBe('ok'); // cut off: no read index
    cluster.reconnect(lagging);
    await cluster.run(100); // it hears from the leader again
    expect(await cluster.runUntilSettled(at('index').get('x'))).toEqual({ status: 'ok', output: 2 });
    expect(checkLinearizable(writer.recorder.history(), kvModel).result).toBe('illegal'); // the stale read
    expect(leader).not.toBe(lagging);
  });

  it('refuses bad options and clusters without key-value stores', () => {
    const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 1, stateMachine: () => new KeyValueStore() });
    expect(() => new KvClient(cluster, { name: 'c', timeoutMs: 0 })).toThrow(RangeError);
    expect(() => new KvClient(cluster, { name: 'c', retries: -1 })).toThrow(RangeError);
    expect(() => new KvClient(cluster, { name: 'c', followHint: 2 })).toThrow(RangeError);
    expect(() => new KvClient(cluster, { name: 'c', read: 'eventual' as 'index' })).toThrow(RangeError);
    expect(() => new KvClient(cluster, { name: {} as string })).toThrow(TypeError);
    const bare = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 1 });
    expect(() => new KvClient(bare, { name: 'c' })).toThrow(/KeyValueStore/);
    expect(() => new KvClient(bare, { name: 'c', read: 'log' })).not.toThrow();
  });
});
