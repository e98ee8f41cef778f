/** The classic lab scenarios, on the deterministic simulator (safety is checked after every event). */
import { describe, expect, it } from 'vitest';
import { MemoryStorage, type PersistedState, type StorageUpdate } from '../../src/raft/storage.js';
import { Cluster } from '../../src/sim/cluster.js';
import { InvariantViolation } from '../../src/sim/invariants.js';
import { NotLeaderError } from '../../src/raft/errors.js';

const commandsOf = (cluster: Cluster<string>, id: string) => cluster.applied(id).map((e) => e.command);

async function proposeAll(cluster: Cluster<string>, commands: string[]): Promise<void> {
  for (const command of commands) await cluster.propose(command);
}

/** Partitions `leader` and one other node away from the rest (the majority of 5). */
function isolateWithBuddy(cluster: Cluster<string>, leader: string): { buddy: string; majority: string[] } {
  const buddy = cluster.ids.find((id) => id !== leader)!;
  const majority = cluster.ids.filter((id) => id !== leader && id !== buddy);
  cluster.partition([leader, buddy], majority);
  return { buddy, majority };
}

async function converge(cluster: Cluster<string>, timeoutMs = 10_000): Promise<void> {
  const leader = await cluster.waitForLeader({ timeoutMs });
  const { index } = await cluster.propose(`sync@${cluster.now}`, { timeoutMs });
  const done = await cluster.runUntil(() => cluster.liveIds.every((id) => cluster.node(id).lastApplied >= index), { timeoutMs });
  expect(done, `all nodes applied through ${index} (leader ${leader})`).toBe(true);
  cluster.checkInvariants();
}

describe('elections', () => {
  it('re-elects after the leader crashes, and the old leader rejoins as a follower', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 1 });
    const first = await cluster.waitForLeader();
    const term = cluster.node(first).term;
    cluster.crash(first);
    const second = await cluster.waitForLeader({ timeoutMs: 2_000 });
    expect(second).not.toBe(first);
    expect(cluster.node(second).term).toBeGreaterThan(term);
    cluster.restart(first);
    await cluster.run(1_000);
    expect(cluster.node(first).role).toBe('follower');
    expect(cluster.node(first).leaderId).toBe(second);
  });

  it('elects no leader without a majority, and one as soon as a majority is back', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 2 });
    const leader = await cluster.waitForLeader();
    const others = cluster.ids.filter((id) => id !== leader);
    cluster.crash(leader);
    cluster.crash(others[0]!);
    cluster.crash(others[1]!);
    await cluster.run(5_000);
    expect(cluster.leader()).toBeUndefined();
    cluster.restart(others[0]!);
    await cluster.waitForLeader({ timeoutMs: 3_000 });
  });

  it('a follower cut off while 50 entries commit never leads with an empty log (no committed entry is lost)', async () => {
    // Without pre-vote the isolated node campaigns again and again and reaches a higher term.
    const cluster = new Cluster<string>({ size: 3, seed: 3, nodeOptions: () => ({ preVote: false }) });
    const leader = await cluster.waitForLeader();
    const isolated = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(isolated);
    await proposeAll(cluster, Array.from({ length: 50 }, (_, i) => `e${i}`));
    await cluster.run(1_000);
    const isolatedTerm = cluster.node(isolated).term;
    expect(isolatedTerm).toBeGreaterThan(cluster.node(leader).term);
    cluster.reconnect(isolated);
    await converge(cluster);
    for (const id of cluster.ids) expect(commandsOf(cluster, id).slice(0, 50)).toEqual(Array.from({ length: 50 }, (_, i) => `e${i}`));
    expect(cluster.node(cluster.leader()!).entries().filter((e) => e.kind === 'command').length).toBeGreaterThanOrEqual(51);
  });
});

describe('pre-vote and check-quorum (on by default)', () => {
  it('a leader cut off from the majority steps down by itself within an election timeout', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 21 });
    const oldLeader = await cluster.waitForLeader();
    const buddy = cluster.ids.find((id) => id !== oldLeader)!;
    cluster.partition([oldLeader, buddy], cluster.ids.filter((id) => id !== oldLeader && id !== buddy));
    const stepped = await cluster.runUntil(() => cluster.node(oldLeader).role !== 'leader', { timeoutMs: 400 });
    expect(stepped).toBe(true);
    // Proposals to it now fail fast instead of hanging.
    expect(() => cluster.node(oldLeader).submit('x')).toThrow(NotLeaderError);
    const newLeader = await cluster.waitForLeader();
    expect(newLeader).not.toBe(oldLeader);
  });

  it('a node that rejoins after a partition does not raise the cluster’s term or depose the leader', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 22 });
    const leader = await cluster.waitForLeader();
    const term = cluster.node(leader).term;
    const loner = cluster.ids.find((id) => id !== leader)!;
    cluster.disconnect(loner);
    await cluster.run(3_000); // many election timeouts: it polls, nobody answers
    expect(cluster.node(loner).term).toBe(term);
    cluster.reconnect(loner);
    await cluster.run(2_000);
    expect(cluster.leader()).toBe(leader);
    for (const id of cluster.ids) expect(cluster.node(id).term, id).toBe(term);
  });

  it('a flapping node does not change the leader’s term', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 23 });
    const leader = await cluster.waitForLeader();
    const term = cluster.node(leader).term;
    const flapper = cluster.ids.find((id) => id !== leader)!;
    for (let i = 0; i < 20; i++) {
      cluster.disconnect(flapper);
      await cluster.run(400);
      cluster.reconnect(flapper);
      await cluster.run(100);
      await cluster.propose(`p${i}`);
    }
    expect(cluster.leader()).toBe(leader);
    expect(cluster.node(leader).term).toBe(term);
  });

  it('in a partial partition (a node reaches the others but not the leader) the cluster keeps a stable leader', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 24 });
    const leader = await cluster.waitForLeader();
    const [cutOff, bridge] = cluster.ids.filter((id) => id !== leader) as [string, string];
    cluster.network.cut(leader, cutOff);
    cluster.network.cut(cutOff, leader);
    const terms = new Set<number>();
    for (let i = 0; i < 20; i++) {
      await cluster.run(250);
      const current = cluster.leader();
      if (current !== undefined) terms.add(cluster.node(current).term);
    }
    // The cut-off node's polls fail (the bridge still hears the leader), so nothing changes.
    expect(cluster.leader()).toBe(leader);
    expect(terms).toEqual(new Set([cluster.node(leader).term]));
    expect(cluster.node(bridge).leaderId).toBe(leader);
    expect(cluster.node(cutOff).term).toBe(cluster.node(leader).term);
  });

  it('without pre-vote, the same partial partition makes leadership churn (what pre-vote prevents)', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 24, nodeOptions: () => ({ preVote: false, checkQuorum: false }) });
    const leader = await cluster.waitForLeader();
    const term = cluster.node(leader).term;
    const cutOff = cluster.ids.find((id) => id !== leader)!;
    cluster.network.cut(leader, cutOff);
    cluster.network.cut(cutOff, leader);
    const terms = new Set<number>([term]);
    for (let i = 0; i < 20; i++) {
      await cluster.run(250);
      const current = cluster.leader();
      if (current !== undefined) terms.add(cluster.node(current).term);
    }
    expect(terms.size).toBeGreaterThan(1);
  });
});

describe('replication', () => {
  it('commits nothing without a majority; the minority leader’s entries are discarded after healing', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 4 });
    const oldLeader = await cluster.waitForLeader();
    await cluster.propose('before');
    const { buddy, majority } = isolateWithBuddy(cluster, oldLeader);
    const stale = cluster.node(oldLeader);
    const lost = Array.from({ length: 10 }, (_, i) => stale.propose(`lost${i}`).catch((e: Error) => e));
    await cluster.run(2_000);
    expect(stale.commitIndex).toBeLessThan(stale.entries().length);
    const newLeader = await cluster.waitForLeader();
    expect(majority).toContain(newLeader);
    await proposeAll(cluster, ['a', 'b', 'c']);
    cluster.heal();
    await converge(cluster);
    expect(stale.running).toBe(true);
    for (const outcome of await Promise.all(lost)) expect(outcome).toBeInstanceOf(Error);
    for (const id of cluster.ids) {
      const applied = commandsOf(cluster, id);
      expect(applied.slice(0, 4)).toEqual(['before', 'a', 'b', 'c']);
      expect(applied.some((c) => c.startsWith('lost'))).toBe(false);
    }
  });

  it('without check-quorum, a partitioned old leader steps down when it rejoins', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 5, nodeOptions: () => ({ checkQuorum: false }) });
    const oldLeader = await cluster.waitForLeader();
    cluster.disconnect(oldLeader);
    await cluster.run(1_000);
    expect(cluster.node(oldLeader).role).toBe('leader'); // it cannot know yet
    const newLeader = cluster.leader();
    expect(newLeader).not.toBe(oldLeader);
    cluster.reconnect(oldLeader);
    await cluster.run(500);
    expect(cluster.node(oldLeader).role).toBe('follower');
    expect(cluster.node(oldLeader).term).toBe(cluster.node(newLeader!).term);
    await converge(cluster);
  });

  it('backs up quickly over a long divergent suffix (50 uncommitted entries vs 50 committed)', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 6 });
    const oldLeader = await cluster.waitForLeader();
    await cluster.propose('base');
    const { buddy, majority } = isolateWithBuddy(cluster, oldLeader);
    for (let i = 0; i < 50; i++) cluster.node(oldLeader).submit(`minority${i}`);
    await cluster.run(500);
    expect(cluster.node(buddy).entries().length).toBeGreaterThan(50);
    await cluster.waitForLeader();
    await proposeAll(cluster, Array.from({ length: 50 }, (_, i) => `majority${i}`));
    cluster.network.resetStats();
    cluster.heal();
    await converge(cluster);
    for (const id of cluster.ids) {
      const applied = commandsOf(cluster, id);
      expect(applied.filter((c) => c.startsWith('majority')).length).toBe(50);
      expect(applied.some((c) => c.startsWith('minority'))).toBe(false);
    }
    // Fast backup skips a whole term per round trip: a handful of rejections, not one per entry.
    const rejections = cluster
      .trace()
      .filter((e) => e.kind === 'deliver' && e.type === 'AppendEntriesResponse' && e.summary.startsWith('rejected')).length;
    expect(rejections).toBeLessThan(10);
  });

  it('concurrent proposals get distinct indexes and each is applied exactly once', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 7 });
    const leader = cluster.node(await cluster.waitForLeader());
    const results = Array.from({ length: 256 }, (_, i) => leader.propose(`c${i}`));
    await cluster.run(1_000);
    const settled = await Promise.all(results);
    expect(new Set(settled.map((r) => r.index)).size).toBe(256);
    await converge(cluster);
    for (const id of cluster.ids) {
      const applied = commandsOf(cluster, id).filter((c) => c.startsWith('c'));
      expect(applied).toEqual(Array.from({ length: 256 }, (_, i) => `c${i}`));
    }
  });
});

describe('persistence', () => {
  it('restarting every node keeps every committed entry, and indexes continue after them', async () => {
    const cluster = new Cluster<string>({ size: 3, seed: 8 });
    await cluster.waitForLeader();
    const commands = Array.from({ length: 250 }, (_, i) => `p${i}`);
    for (const c of commands) cluster.node(cluster.leader()!).submit(c);
    await converge(cluster);
    const lastBefore = cluster.node(cluster.leader()!).entries().length;
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    const { index } = await cluster.propose('after');
    expect(index).toBeGreaterThan(lastBefore);
    await converge(cluster);
    for (const id of cluster.ids) {
      const applied = commandsOf(cluster, id);
      expect(applied.slice(0, 250)).toEqual(commands);
      expect(applied).toContain('after');
    }
  });

  it('a crash loses nothing that was acknowledged, under repeated leader crashes', async () => {
    const cluster = new Cluster<string>({ size: 5, seed: 9 });
    const acknowledged: string[] = [];
    for (let round = 0; round < 10; round++) {
      for (let i = 0; i < 5; i++) {
        const command = `r${round}.${i}`;
        await cluster.propose(command);
        acknowledged.push(command);
      }
      const leader = cluster.leader()!;
      cluster.crash(leader);
      await cluster.waitForLeader();
      cluster.restart(leader);
    }
    await converge(cluster);
    for (const id of cluster.ids) expect(commandsOf(cluster, id).filter((c) => c.startsWith('r'))).toEqual(acknowledged);
  });
});

describe('an unreliable network', () => {
  it('churns through loss, duplication, reordering, long delays and crashes, then converges', async () => {
    const cluster = new Cluster<string>({
      size: 5,
      seed: 10,
      network: { dropRate: 0.1, duplicateRate: 0.1, latencyMs: [1, 200], reorder: true },
    });
    const acknowledged = new Set<string>();
    for (let round = 0; round < 20; round++) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        for (let i = 0; i < 5; i++) {
          const command = `u${round}.${i}`;
          cluster.node(leader).propose(command).then(() => acknowledged.add(command), () => undefined);
        }
      }
      if (round % 4 === 1) cluster.crash(cluster.ids[round % 5]!);
      if (round % 4 === 3) for (const id of cluster.ids) if (!cluster.liveIds.includes(id)) cluster.restart(id);
      await cluster.run(700);
    }
    for (const id of cluster.ids) if (!cluster.liveIds.includes(id)) cluster.restart(id);
    cluster.network.configure({ dropRate: 0, duplicateRate: 0, latencyMs: [1, 10], reorder: false });
    await converge(cluster, 20_000);
    expect(acknowledged.size).toBeGreaterThan(20);
    for (const id of cluster.ids) {
      const applied = commandsOf(cluster, id);
      expect(new Set(applied).size).toBe(applied.length);
      for (const command of acknowledged) expect(applied).toContain(command);
    }
  });
});

describe('determinism', () => {
  const scenario = async (seed: number) => {
    const cluster = new Cluster<string>({ size: 5, seed, network: { dropRate: 0.05, latencyMs: [1, 30], reorder: true } });
    await cluster.waitForLeader();
    for (let i = 0; i < 20; i++) cluster.node(cluster.leader()!).submit(`d${i}`);
    cluster.crash(cluster.leader()!);
    await cluster.run(2_000);
    cluster.partition(['1', '2'], ['3', '4', '5']);
    await cluster.run(1_000);
    cluster.heal();
    await cluster.run(2_000);
    return JSON.stringify(cluster.trace());
  };

  it('the same seed and the same calls give the same trace, byte for byte', async () => {
    const [a, b] = [await scenario(11), await scenario(11)];
    expect(a.length).toBeGreaterThan(10_000);
    expect(a).toBe(b);
  });

  it('another seed gives another run', async () => {
    expect(await scenario(11)).not.toBe(await scenario(12));
  });
});

describe('the safety checker', () => {
  /** Storage with amnesia: loses everything on restart, breaking Raft's persistence contract. */
  class AmnesiacStorage extends MemoryStorage {
    private forgotten = false;
    override load(): PersistedState {
      if (!this.forgotten) {
        this.forgotten = true;
        return super.load();
      }
      return { hardState: { term: 0, votedFor: null }, entries: [] };
    }
    override save(update: StorageUpdate): void {
      super.save(update);
    }
  }

  it('catches a cluster that loses committed entries, and names the property and the seed', async () => {
    const storages = new Map(['1', '2', '3'].map((id) => [id, new AmnesiacStorage()]));
    const cluster = new Cluster<string>({ size: 3, seed: 13, nodeOptions: (id) => ({ storage: storages.get(id)! }) });
    const leader = await cluster.waitForLeader();
    await proposeAll(cluster, ['x', 'y']);
    await cluster.run(200);
    const followers = cluster.ids.filter((id) => id !== leader);
    let error: unknown;
    try {
      cluster.crash(leader);
      for (const id of followers) {
        cluster.crash(id);
        cluster.restart(id); // comes back with an empty log
      }
      await cluster.run(5_000);
      await cluster.propose('z');
      cluster.checkInvariants();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvariantViolation);
    const violation = error as InvariantViolation;
    // Forgetting votes and logs breaks election safety or, failing that, completeness.
    expect(['Vote Safety', 'Election Safety', 'Leader Completeness', 'State Machine Safety', 'Log Matching']).toContain(violation.property);
    expect(violation.seed).toBe(13);
    expect(violation.message).toContain('seed 13');
    expect(violation.traceTail.length).toBeGreaterThan(0);
  });
});
