/** The Cluster API: options, inspection, proposals and the errors a user can hit. */
import { describe, expect, it } from 'vitest';
import { ApplyError, LeadershipLostError, RaftError, TimeoutError } from '../../src/raft/errors.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import { Cluster } from '../../src/sim/cluster.js';

class Doubler implements StateMachine<number, number> {
  apply(n: number): number {
    if (n < 0) throw new Error('negative');
    return n * 2;
  }
}

describe('Cluster', () => {
  it('validates its options with clear errors', () => {
    expect(() => new Cluster({ seed: 1 })).toThrow(/size/);
    expect(() => new Cluster({ size: 0, seed: 1 })).toThrow(RangeError);
    expect(() => new Cluster({ ids: ['a', 'a'], seed: 1 })).toThrow(/unique/);
    expect(() => new Cluster({ ids: [], seed: 1 })).toThrow(/empty/);
    expect(() => new Cluster({ size: 3, seed: undefined as unknown as number })).toThrow(/seed/);
    expect(() => new Cluster({ size: 3, seed: 1, electionTimeoutMs: [50, 60] })).toThrow(/heartbeatIntervalMs/);
    const cluster = new Cluster({ ids: ['a', 'b'], seed: 'x' });
    expect(() => cluster.node('z')).toThrow(RangeError);
    expect(() => cluster.restart('a')).toThrow(RaftError);
  });

  it('concurrent proposals each resolve with their own result', async () => {
    const cluster = new Cluster<number, number>({ size: 3, seed: 1, stateMachine: () => new Doubler() });
    await cluster.waitForLeader();
    const results = await Promise.all([1, 2, 3].map((n) => cluster.propose(n)));
    expect(results.map((r) => r.result)).toEqual([2, 4, 6]);
    expect(new Set(results.map((r) => r.index)).size).toBe(3);
  });

  it('a proposal whose command throws in the state machine rejects with ApplyError', async () => {
    const cluster = new Cluster<number, number>({ size: 3, seed: 2, stateMachine: () => new Doubler() });
    await cluster.waitForLeader();
    const error = await cluster.propose(-1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).cause).toEqual(new Error('negative'));
    expect((await cluster.propose(5)).result).toBe(10); // and the cluster goes on
  });

  it('propose times out without a majority: the leader steps down (check-quorum), and no leader accepts it again', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 3 });
    const leader = await cluster.waitForLeader();
    await cluster.propose('first');
    for (const id of cluster.ids) if (id !== leader) cluster.crash(id);
    await expect(cluster.propose('x', { timeoutMs: 1_000 })).rejects.toBeInstanceOf(TimeoutError);
    expect(cluster.node(leader).role).not.toBe('leader');
    await expect(cluster.propose('y', { timeoutMs: 1_000 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('propose is retried on the next leader when the leader is lost, and takes effect once', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 5, network: { latencyMs: [1, 5] } });
    const leader = await cluster.waitForLeader();
    await cluster.propose('warm-up');
    // The leader appends the command, replicates it, and crashes before it applies it: its fate is
    // unknown to the Cluster, which proposes it again to the next leader.
    let crashed = false;
    cluster.network.filter((m, from) => {
      if (!crashed && from === leader && m.type === 'AppendEntries' && m.entries.some((e) => e.command === 'once')) {
        crashed = true;
        cluster.crash(leader);
        return 'deliver';
      }
      return 'deliver';
    });
    const result = await cluster.propose('once');
    expect(crashed).toBe(true);
    expect(result.leaderId).not.toBe(leader);
    cluster.restart(leader);
    await cluster.run(1_000);
    for (const id of cluster.ids) expect(cluster.applied(id).filter((e) => e.command === 'once'), `node ${id}`).toHaveLength(1);
  });

  it('without check-quorum, a leader without a majority keeps the proposal until the timeout', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 3, nodeOptions: () => ({ checkQuorum: false }) });
    const leader = await cluster.waitForLeader();
    for (const id of cluster.ids) if (id !== leader) cluster.crash(id);
    await expect(cluster.propose('x', { timeoutMs: 1_000 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('waitForLeader rejects with TimeoutError when no majority is alive', async () => {
    const cluster = new Cluster({ size: 3, seed: 4 });
    cluster.crash('1');
    cluster.crash('2');
    await expect(cluster.waitForLeader({ timeoutMs: 2_000 })).rejects.toBeInstanceOf(TimeoutError);
  });

  it('measures message bytes by default, and not when told not to', async () => {
    const counting = new Cluster({ size: 3, seed: 5 });
    await counting.run(1_000);
    expect(counting.network.stats().sent.bytes).toBeGreaterThan(0);
    const quiet = new Cluster({ size: 3, seed: 5, network: { countBytes: false } });
    await quiet.run(1_000);
    expect(quiet.network.stats().sent.bytes).toBe(0);
    expect(quiet.network.stats().sent.messages).toBe(counting.network.stats().sent.messages);
  });

  it('keeps at most traceLimit events, and none with traceLimit 0', async () => {
    const limited = new Cluster({ size: 3, seed: 6, traceLimit: 50 });
    await limited.run(2_000);
    expect(limited.trace()).toHaveLength(50);
    const off = new Cluster({ size: 3, seed: 6, traceLimit: 0 });
    await off.run(2_000);
    expect(off.trace()).toEqual([]);
  });

  it('applied() lists a restarted node’s re-applied entries from scratch', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 7 });
    await cluster.propose('a');
    await cluster.propose('b');
    const follower = cluster.ids.find((id) => id !== cluster.leader())!;
    await cluster.runUntil(() => cluster.applied(follower).length === 2);
    cluster.crash(follower);
    expect(cluster.applied(follower).map((e) => e.command)).toEqual(['a', 'b']);
    cluster.restart(follower);
    expect(cluster.applied(follower)).toEqual([]);
    await cluster.runUntil(() => cluster.applied(follower).length === 2);
    expect(cluster.applied(follower).map((e) => e.command)).toEqual(['a', 'b']);
  });
});

describe('Cluster with fractional latencies', () => {
  it('a timer due within the clock resolution fires once, not for ever at the same instant (regression: the run hung)', async () => {
    // Float latencies leave timeouts like 2.8e-14 ms: now + that === now, so the timer fired
    // at the same instant again and again without the core seeing any time pass.
    for (const seed of [1, 2, 3, 4, 5]) {
      const cluster = new Cluster<string>({ size: 3, seed, network: { latencyMs: [0.1, 0.7] } });
      for (let i = 0; i < 1_000; i++) await cluster.propose(`c${i}`);
      expect(cluster.applied(cluster.leader()!)).toHaveLength(1_000);
    }
  });
});

describe('Cluster against bad options and stopped nodes (review findings)', () => {
  it('checks timeoutMs before doing anything: a bad one proposes nothing', async () => {
    const cluster = new Cluster({ size: 3, seed: 7 });
    await cluster.waitForLeader();
    for (const timeoutMs of [-1, Number.NaN, Infinity]) {
      await expect(cluster.propose('x', { timeoutMs })).rejects.toThrow(/timeoutMs must be a finite number/);
      await expect(cluster.waitForLeader({ timeoutMs })).rejects.toThrow(RangeError);
      await expect(cluster.addNode('9', { timeoutMs })).rejects.toThrow(RangeError);
    }
    expect(cluster.applied(cluster.leader()!)).toEqual([]);
    expect(cluster.ids).toEqual(['1', '2', '3']); // no half-added node
  });

  it('a node stopped outside crash() is not live, not leader, and can be restarted', async () => {
    const cluster = new Cluster({ size: 3, seed: 8 });
    const leader = await cluster.waitForLeader();
    await cluster.node(leader).stop();
    expect(cluster.liveIds).not.toContain(leader);
    expect(cluster.leader()).not.toBe(leader);
    cluster.restart(leader);
    await cluster.runUntil(() => cluster.node(leader).running);
    expect(cluster.liveIds).toContain(leader);
    await expect(cluster.propose('after')).resolves.toMatchObject({ result: undefined });
  });

  it('simulate needs 3 nodes: with 2, the one left is no majority', async () => {
    await expect(new Cluster({ size: 2, seed: 1 }).simulate({ rounds: 1 })).rejects.toThrow(/at least 3 nodes/);
  });
});
