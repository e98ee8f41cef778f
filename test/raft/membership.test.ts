/** Membership changes, one server at a time (thesis §4): learners, catch-up, promotion, removal. */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand } from '../../src/kv/key-value-store.js';
import { RaftCore } from '../../src/raft/core.js';
import { MembershipError, NotLeaderError } from '../../src/raft/errors.js';
import { Cluster } from '../../src/sim/cluster.js';
import { SeededRandom } from '../../src/runtime/random.js';

const put = (key: string, value: unknown): KeyValueCommand => ({ op: 'put', key, value });

function kvCluster(seed: number, size: number, threshold = 0, checkQuorum = true) {
  const stores = new Map<string, KeyValueStore>();
  const cluster = new Cluster<KeyValueCommand>({
    size,
    seed,
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store);
      return store;
    },
    nodeOptions: () => ({ snapshotThreshold: threshold, checkQuorum }),
  });
  return { cluster, stores };
}

async function expectConverged(cluster: Cluster<KeyValueCommand>, stores: Map<string, KeyValueStore>): Promise<void> {
  const { index } = await cluster.propose(put('sync', cluster.now));
  const done = await cluster.runUntil(() => cluster.liveIds.every((id) => cluster.node(id).lastApplied >= index), { timeoutMs: 10_000 });
  expect(done, `every node applied through ${index}`).toBe(true);
  expect(new Set(cluster.liveIds.map((id) => stores.get(id)!.snapshot())).size).toBe(1);
  cluster.checkInvariants();
}

/** A leader core of a cluster with the given voters that has committed its first entry. */
function committedLeader(voters: string[]): RaftCore {
  const core = new RaftCore({ id: voters[0]!, peers: voters, random: new SeededRandom(1) });
  core.campaign();
  core.advance(core.ready());
  for (const id of voters.slice(1)) core.step({ type: 'RequestVoteResponse', from: id, to: core.id, term: 1, voteGranted: true });
  core.advance(core.ready());
  for (const id of voters.slice(1)) {
    core.step({ type: 'AppendEntriesResponse', from: id, to: core.id, term: 1, success: true, index: 1, conflictIndex: 0, conflictTerm: 0, round: 0 });
  }
  expect(core.commitIndex).toBe(1);
  return core;
}

describe('membership changes in the core', () => {
  it('one change at a time, and only once the leader has committed an entry of its term', () => {
    const core = new RaftCore({ id: '1', peers: ['1', '2', '3'], random: new SeededRandom(1) });
    expect(() => core.changeMembership({ type: 'addLearner', id: '4' })).toThrow(NotLeaderError);
    core.campaign();
    core.advance(core.ready());
    core.step({ type: 'RequestVoteResponse', from: '2', to: '1', term: 1, voteGranted: true });
    expect(core.role).toBe('leader');
    expect(() => core.changeMembership({ type: 'addLearner', id: '4' })).toThrow(/not yet committed an entry of its term/);

    const leader = committedLeader(['1', '2', '3']);
    const at = leader.changeMembership({ type: 'addLearner', id: '4' });
    expect(at).toEqual({ index: 2, term: 1 });
    // In force at once, on the leader too; the next change waits for this one to commit.
    expect(leader.membership).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
    const error = (() => {
      try {
        leader.changeMembership({ type: 'promote', id: '4' });
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(MembershipError);
    expect((error as MembershipError).code).toBe('CHANGE_IN_PROGRESS');
  });

  it('refuses changes that do not fit the membership', () => {
    const leader = committedLeader(['1', '2', '3']);
    const invalid = (change: Parameters<RaftCore['changeMembership']>[0]) => {
      try {
        leader.changeMembership(change);
      } catch (e) {
        return (e as MembershipError).code;
      }
      return 'accepted';
    };
    expect(invalid({ type: 'addLearner', id: '2' })).toBe('INVALID_CHANGE');
    expect(invalid({ type: 'promote', id: '2' })).toBe('INVALID_CHANGE');
    expect(invalid({ type: 'remove', id: '9' })).toBe('INVALID_CHANGE');
    expect(invalid({ type: 'addLearner', id: '' })).toBe('INVALID_CHANGE');
    expect(invalid({ type: 'demote', id: '2' } as never)).toBe('INVALID_CHANGE');
    const solo = committedLeader(['1']);
    expect(() => solo.changeMembership({ type: 'remove', id: '1' })).toThrow(/last voter/);
  });

  it('learners never count towards a majority, and a removed voter stops counting at once', () => {
    const leader = committedLeader(['1', '2', '3']);
    leader.changeMembership({ type: 'addLearner', id: '4' });
    leader.advance(leader.ready());
    // Only the learner has the entry: no majority of voters, no commit.
    leader.step({ type: 'AppendEntriesResponse', from: '4', to: '1', term: 1, success: true, index: 2, conflictIndex: 0, conflictTerm: 0, round: 0 });
    expect(leader.commitIndex).toBe(1);
    leader.step({ type: 'AppendEntriesResponse', from: '2', to: '1', term: 1, success: true, index: 2, conflictIndex: 0, conflictTerm: 0, round: 0 });
    expect(leader.commitIndex).toBe(2);
  });

  it('a follower reverts to the previous membership when the entry that changed it is overwritten', () => {
    const follower = new RaftCore({ id: '2', peers: ['1', '2', '3'], random: new SeededRandom(2) });
    const config = { index: 1, term: 1, kind: 'config' as const, membership: { voters: ['1', '2', '3'], learners: ['4'] } };
    follower.step({ type: 'AppendEntries', from: '1', to: '2', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [config], leaderCommit: 0, round: 0 });
    expect(follower.membership.learners).toEqual(['4']);
    follower.step({ type: 'AppendEntries', from: '3', to: '2', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [{ index: 1, term: 2, kind: 'noop' }], leaderCommit: 0, round: 0 });
    expect(follower.membership).toEqual({ voters: ['1', '2', '3'], learners: [] });
  });

  it('a learner or a node with no membership never campaigns', () => {
    const joining = new RaftCore({ id: '4', peers: [], join: true, random: new SeededRandom(4) });
    joining.elapse(10_000);
    joining.campaign();
    expect(joining.role).toBe('follower');
    expect(joining.term).toBe(0);
    expect(joining.ready().messages).toEqual([]);
  });
});

describe('membership changes in a cluster', () => {
  it('adds a node to a one-node cluster: it catches up as a learner, then votes', async () => {
    const { cluster, stores } = kvCluster(1, 1);
    for (let i = 0; i < 50; i++) await cluster.propose(put(`k${i}`, i));
    const changes: string[] = [];
    cluster.node('1').on('membership', (m) => changes.push(`${m.voters.join(',')}|${m.learners.join(',')}`));
    const membership = await cluster.addNode('2');
    expect(membership).toEqual({ voters: ['1', '2'], learners: [] });
    expect(changes).toEqual(['1|2', '1,2|']);
    expect(cluster.ids).toEqual(['1', '2']);
    await expectConverged(cluster, stores);
    // Two voters now: the old one alone cannot commit.
    cluster.crash('2');
    const commit = cluster.node('1').commitIndex;
    await expect(cluster.propose(put('x', 1), { timeoutMs: 2_000 })).rejects.toThrow();
    expect(cluster.node('1').commitIndex).toBe(commit);
  });

  it('adds a node to a three-node cluster under load: every acknowledged write reaches it', async () => {
    const { cluster, stores } = kvCluster(2, 3, 30);
    const leader = cluster.node(await cluster.waitForLeader());
    const acknowledged: number[] = [];
    let next = 0;
    const burst = (): void => {
      for (let n = 0; n < 50; n++, next++) {
        const i = next;
        leader.propose(put(`k${i % 10}`, i)).then(() => acknowledged.push(i), () => undefined);
      }
    };
    burst();
    leader.on('membership', burst); // more load as the learner joins and as it is promoted
    const membership = await cluster.addNode('4');
    expect(membership.voters).toEqual(['1', '2', '3', '4']);
    await expectConverged(cluster, stores);
    expect(acknowledged).toHaveLength(150);
    expect(stores.get('4')!.size).toBe(stores.get('1')!.size);
  });

  it('removing the leader: it leads until the change commits, then hands over and steps down', async () => {
    const { cluster, stores } = kvCluster(3, 3);
    const old = await cluster.waitForLeader();
    const term = cluster.node(old).term;
    const roles: string[] = [];
    cluster.node(old).on('role', (role) => roles.push(role));
    const membership = await cluster.removeNode(old);
    expect(membership.voters).not.toContain(old);
    expect(roles).toEqual(['follower']);
    const next = await cluster.waitForLeader({ timeoutMs: 1_000 });
    expect(next).not.toBe(old);
    expect(cluster.node(next).term).toBe(term + 1); // handed over: one election, no split
    expect(cluster.ids).not.toContain(old);
    await expectConverged(cluster, stores);
  });

  it('a leader that crashed while removing itself finishes the change after a restart (regression: seed 1312190782)', async () => {
    // Node 1 holds the uncommitted change that removes it, so it is not a voter in the membership
    // in force; node 2 lacks the entry, so node 1 refuses it its vote. Only node 1 can lead.
    const { cluster } = kvCluster(0, 2);
    const { leaderId: leader } = await cluster.propose(put('a', 1)); // entries 1 (no-op) and 2 committed
    const other = cluster.ids.find((id) => id !== leader)!;
    cluster.crash(other);
    await expect(cluster.removeNode(leader, { timeoutMs: 1_000 })).rejects.toThrow(/timed out/);
    cluster.crash(leader);
    cluster.restart(leader);
    cluster.restart(other);
    expect(cluster.node(leader).membership.voters).toEqual([other]); // the change (entry 3) is in force there
    const committed = await cluster.runUntil(() => cluster.node(other).membership.voters.length === 1 && cluster.node(other).commitIndex >= 3, { timeoutMs: 5_000 });
    expect(committed).toBe(true);
    expect(await cluster.waitForLeader({ timeoutMs: 2_000 })).toBe(other);
    expect(cluster.node(other).membership).toEqual({ voters: [other], learners: [] });
  });

  it('Cluster.removeNode retried after a timeout waits for the change to commit (regression: seed 742778382)', async () => {
    const { cluster, stores } = kvCluster(7, 3, 0, false); // without check-quorum the cut-off leader keeps leading
    const { leaderId: leader } = await cluster.propose(put('a', 1));
    const followers = cluster.ids.filter((id) => id !== leader);
    for (const id of followers) cluster.crash(id);
    await expect(cluster.removeNode(leader, { timeoutMs: 1_000 })).rejects.toThrow(/timed out/);
    // The leader already holds its removal (uncommitted): that is not a removal yet.
    await expect(cluster.removeNode(leader, { timeoutMs: 1_000 })).rejects.toThrow(/timed out/);
    expect(cluster.ids).toContain(leader);
    for (const id of followers) cluster.restart(id);
    await expect(cluster.removeNode(leader)).resolves.toEqual({ voters: followers, learners: [] });
    await expectConverged(cluster, stores);
  });

  it('removeServer(itself) on the leader resolves with the new membership (regression: it rejected as leadership lost)', async () => {
    const { cluster } = kvCluster(3, 3);
    const { leaderId: leader } = await cluster.propose(put('a', 1)); // its term's first entry is committed
    const others = cluster.ids.filter((id) => id !== leader);
    await expect(cluster.runUntilSettled(cluster.node(leader).removeServer(leader))).resolves.toEqual({ voters: others, learners: [] });
    expect(cluster.node(leader).role).toBe('follower');
  });

  it('addVoter of a server that is already a voter resolves once that is committed (regression: a retried addNode failed)', async () => {
    const { cluster } = kvCluster(9, 3);
    await cluster.propose(put('a', 1));
    const leader = cluster.node(cluster.leader()!);
    await expect(cluster.runUntilSettled(leader.addVoter('2'))).resolves.toEqual({ voters: ['1', '2', '3'], learners: [] });
    const follower = cluster.nodes.find((n) => n.role === 'follower')!;
    await expect(follower.addVoter('2')).rejects.toBeInstanceOf(NotLeaderError); // leader-only, like every change
  });

  it('addVoter with options of null (from untyped callers) works like no options', async () => {
    const { cluster } = kvCluster(10, 3);
    await cluster.addNode('4', { voter: false });
    const leader = cluster.node(cluster.leader()!);
    await expect(cluster.runUntilSettled(leader.addVoter('4', null as never))).resolves.toEqual({ voters: ['1', '2', '3', '4'], learners: [] });
  });

  it('a learner receives the log but is never counted nor elected', async () => {
    const { cluster, stores } = kvCluster(4, 3);
    await cluster.addNode('4', { voter: false });
    expect(cluster.node(cluster.leader()!).membership).toEqual({ voters: ['1', '2', '3'], learners: ['4'] });
    await expectConverged(cluster, stores);
    // Two voters down: the learner does not make a majority, and never campaigns.
    const leader = cluster.leader()!;
    const term = cluster.node('4').term;
    cluster.crash(['1', '2', '3'].find((id) => id !== leader)!);
    cluster.crash(leader);
    await cluster.run(5_000);
    expect(cluster.leader()).toBeUndefined();
    expect(cluster.node('4').role).toBe('follower');
    expect(cluster.node('4').term).toBe(term); // it never campaigned
  });

  it('the membership survives restarts and snapshots', async () => {
    const { cluster, stores } = kvCluster(5, 3, 20);
    await cluster.addNode('4');
    await cluster.removeNode('1').catch(() => undefined);
    for (let i = 0; i < 60; i++) await cluster.propose(put(`k${i}`, i)); // compacts past the config entries
    for (const id of cluster.ids) {
      expect(cluster.node(id).status().snapshotIndex).toBeGreaterThan(0);
      cluster.crash(id);
    }
    for (const id of cluster.ids) cluster.restart(id);
    for (const id of cluster.ids) expect(cluster.node(id).membership).toEqual({ voters: ['2', '3', '4'], learners: [] });
    await expectConverged(cluster, stores);
  });

  it('adds and removes nodes while nodes crash and restart', async () => {
    const { cluster, stores } = kvCluster(6, 3, 25);
    await cluster.waitForLeader();
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 20; i++) await cluster.propose(put(`k${i}`, round));
      const victim = cluster.ids[round % cluster.ids.length]!;
      cluster.crash(victim);
      await cluster.addNode(`n${round}`);
      cluster.restart(victim);
      await cluster.removeNode(cluster.ids[0]!);
    }
    expect(cluster.ids).toHaveLength(3);
    await expectConverged(cluster, stores);
  });
});
