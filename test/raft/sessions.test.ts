/** Client sessions (thesis §6.3): a command takes effect once, however often and wherever it is proposed. */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { SessionExpiredError } from '../../src/raft/errors.js';
import { ClientSession, MAX_SESSIONS, packSnapshot, SessionTable, unpackSnapshot, type SessionTag } from '../../src/raft/sessions.js';
import type { LogEntry } from '../../src/raft/types.js';
import { Cluster } from '../../src/sim/cluster.js';
import { settle } from '../support/settle.js';

const opened = (index: number, time: number, timeoutMs = 1_000, term = 1): LogEntry => ({ index, term, kind: 'session', time, timeoutMs });
const command = (index: number, session: SessionTag, time: number): LogEntry => ({ index, term: 1, kind: 'command', command: `c${index}`, session, time });

describe('SessionTable', () => {
  it('applies the first copy of a command, answers later copies with its outcome, and forgets what the client acknowledged', () => {
    const table = new SessionTable();
    table.open(opened(1, 0));
    const first = command(2, { id: 1, seq: 1, ack: 1 }, 10);
    expect(table.check(first)).toEqual({ kind: 'apply' });
    table.record(first, { n: 1 }, undefined);
    expect(table.check(command(3, { id: 1, seq: 1, ack: 1 }, 20))).toEqual({ kind: 'duplicate', response: { index: 2, term: 1, result: '{"n":1}', failed: false } });
    // Seq 2 says seq 1 was answered: its result is forgotten, and a copy of it is never applied again.
    const second = command(4, { id: 1, seq: 2, ack: 2 }, 30);
    expect(table.check(second)).toEqual({ kind: 'apply' });
    expect(table.response(1, 1)).toBeUndefined();
    expect(table.check(command(5, { id: 1, seq: 1, ack: 1 }, 40))).toEqual({ kind: 'answered' });
    // Commands may be applied out of order (a pipelining client): seq 4 before seq 3.
    expect(table.check(command(6, { id: 1, seq: 4, ack: 2 }, 50))).toEqual({ kind: 'apply' });
    expect(table.check(command(7, { id: 1, seq: 3, ack: 2 }, 60))).toEqual({ kind: 'apply' });
  });

  it('expires a session by log time (the latest leader timestamp, never going back), and refuses it for good', () => {
    const table = new SessionTable();
    table.open(opened(1, 1_000, 500));
    table.open(opened(2, 1_100, 10_000));
    expect(table.check(command(3, { id: 1, seq: 1, ack: 1 }, 1_400))).toEqual({ kind: 'apply' }); // active at 1,400
    expect(table.check(command(4, { id: 2, seq: 1, ack: 1 }, 1_950))).toEqual({ kind: 'apply' }); // log time 1,950
    expect(table.check(command(5, { id: 1, seq: 2, ack: 1 }, 1_200))).toEqual({ kind: 'expired' }); // an old clock: log time stays 1,950
    expect(table.check(command(6, { id: 1, seq: 3, ack: 1 }, 1_200))).toEqual({ kind: 'expired' });
    expect(table.has(1)).toBe(false);
    expect(table.check(command(7, { id: 99, seq: 1, ack: 1 }, 2_000))).toEqual({ kind: 'expired' }); // never opened
    expect(table.time).toBe(2_000);
  });

  it('keeps at most MAX_SESSIONS, forgetting the least recently used when one more opens', () => {
    const table = new SessionTable();
    for (let i = 1; i <= MAX_SESSIONS; i++) table.open(opened(i, 0, 3_600_000));
    expect(table.check(command(MAX_SESSIONS + 1, { id: 1, seq: 1, ack: 1 }, 1))).toEqual({ kind: 'apply' }); // session 1 used: now the most recent
    table.open(opened(MAX_SESSIONS + 2, 2, 3_600_000));
    expect(table.size).toBe(MAX_SESSIONS);
    expect(table.has(1)).toBe(true);
    expect(table.has(2)).toBe(false);
  });

  it('round-trips through a snapshot, behaving the same after as before', () => {
    const table = new SessionTable();
    table.open(opened(1, 5, 1_000, 2));
    const entry = command(2, { id: 1, seq: 1, ack: 1 }, 6);
    table.check(entry);
    table.record(entry, undefined, undefined);
    const failing = command(3, { id: 1, seq: 2, ack: 1 }, 7);
    table.check(failing);
    table.record(failing, undefined, new Error('boom'));
    const packed = packSnapshot(table, '["state"]');
    const { sessions, data } = unpackSnapshot(packed);
    expect(data).toBe('["state"]');
    expect(sessions.toJSON()).toBe(table.toJSON());
    expect(sessions.opened(1, 2)).toBe(true);
    expect(sessions.opened(1, 1)).toBe(false);
    expect(sessions.response(1, 2)).toEqual({ index: 3, term: 1, result: 'boom', failed: true });
    expect(() => unpackSnapshot('["state"]')).toThrow(TypeError);
    expect(() => unpackSnapshot('99:[]')).toThrow(TypeError);
  });

  it('ClientSession numbers commands and acknowledges the lowest still waiting', () => {
    const session = new ClientSession(4);
    const a = session.next();
    const b = session.next();
    session.done(b.seq);
    const c = session.next();
    expect([a, b, c]).toEqual([
      { id: 4, seq: 1, ack: 1 },
      { id: 4, seq: 2, ack: 1 },
      { id: 4, seq: 3, ack: 1 },
    ]);
    session.done(a.seq);
    expect(session.next()).toEqual({ id: 4, seq: 4, ack: 3 });
    expect(() => new ClientSession(0)).toThrow(RangeError);
  });
});

function kvCluster(seed: number, options: { snapshotThreshold?: number; forwardProposals?: boolean } = {}) {
  const stores = new Map<string, KeyValueStore>();
  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
    size: 3,
    seed,
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store);
      return store;
    },
    nodeOptions: () => ({ snapshotThreshold: options.snapshotThreshold ?? 0, forwardProposals: options.forwardProposals ?? false }),
  });
  return { cluster, store: (id: string) => stores.get(id)! };
}

const commandsApplied = (cluster: Cluster<KeyValueCommand, KeyValueResult>, id: string, key: string) =>
  cluster.applied(id).filter((e) => e.command.key === key).map((e) => e.command);

describe('exactly once through RaftNode', () => {
  it('a retry after the leader was lost, on the next leader, is applied once and answered with the first result', async () => {
    const { cluster } = kvCluster(11);
    const first = await cluster.waitForLeader();
    await cluster.propose({ op: 'put', key: 'x', value: 1 });
    const session = await cluster.runUntilSettled(cluster.node(first).openSession());
    const tag = session.next();
    // Replicated, then the leader crashes before it can answer: the outcome is unknown.
    cluster.network.filter((m, from) => (from === first && m.type === 'AppendEntries' && m.entries.length > 0 ? (cluster.crash(first), 'deliver') : 'deliver'));
    const lost = await settle(cluster, cluster.node(first).propose({ op: 'cas', key: 'x', expected: 1, value: 2 }, { session: tag }));
    expect(lost.error).toBeDefined();
    const next = await cluster.waitForLeader();
    expect(next).not.toBe(first);
    const retried = await cluster.runUntilSettled(cluster.node(next).propose({ op: 'cas', key: 'x', expected: 1, value: 2 }, { session: tag }));
    // Applied once, at its first copy: the retry did not fail its cas against its own write.
    expect(retried.result).toEqual({ previous: 1, ok: true });
    cluster.restart(first);
    await cluster.run(1_000);
    for (const id of cluster.ids) expect(commandsApplied(cluster, id, 'x'), `node ${id}`).toHaveLength(2);
  });

  it('the record is in snapshots: a copy proposed after compaction and a restart is still answered, not applied', async () => {
    const { cluster, store } = kvCluster(12, { snapshotThreshold: 3 });
    const leaderId = await cluster.waitForLeader();
    const leader = cluster.node(leaderId);
    const session = await cluster.runUntilSettled(leader.openSession());
    const tag = session.next();
    const first = await cluster.runUntilSettled(leader.propose({ op: 'put', key: 'x', value: 'first' }, { session: tag }));
    for (let i = 0; i < 10; i++) await cluster.propose({ op: 'put', key: 'x', value: `later ${i}` });
    expect(leader.status().snapshotIndex).toBeGreaterThan(first.index);
    // Every node restarts: each rebuilds its state, and its sessions, from its snapshot.
    for (const id of cluster.ids) cluster.crash(id);
    for (const id of cluster.ids) cluster.restart(id);
    const next = cluster.node(await cluster.waitForLeader());
    const again = await cluster.runUntilSettled(next.propose({ op: 'put', key: 'x', value: 'first' }, { session: tag }));
    expect({ index: again.index, term: again.term }).toEqual({ index: first.index, term: first.term });
    await cluster.run(500);
    for (const id of cluster.ids) expect(store(id).get('x'), `node ${id}`).toBe('later 9');
  });

  it('a session expires by log time: its command is refused with SessionExpiredError on every node alike', async () => {
    const { cluster } = kvCluster(13);
    const leader = cluster.node(await cluster.waitForLeader());
    const short = await cluster.runUntilSettled(leader.openSession({ timeoutMs: 1_000 }));
    await cluster.runUntilSettled(leader.propose({ op: 'put', key: 'k', value: 0 }, { session: short.next() }));
    await cluster.run(1_500);
    await cluster.propose({ op: 'put', key: 'other', value: 1 }); // the Cluster's session moves log time on
    const refused = await settle(cluster, leader.propose({ op: 'put', key: 'k', value: 1 }, { session: short.next() }));
    expect(refused.error).toBeInstanceOf(SessionExpiredError);
    expect((refused.error as SessionExpiredError).sessionId).toBe(short.id);
    await cluster.run(500);
    for (const id of cluster.ids) expect(commandsApplied(cluster, id, 'k'), `node ${id}`).toEqual([{ op: 'put', key: 'k', value: 0 }]);
  });

  it('a forwarded command whose leader crashed after committing it is sent to the next leader, and applied once', async () => {
    const { cluster } = kvCluster(14, { forwardProposals: true });
    const first = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== first)!;
    await cluster.runUntil(() => cluster.node(follower).leaderId === first);
    await settle(cluster, cluster.node(follower).propose({ op: 'put', key: 'w', value: 0 })); // opens its session
    // The leader's answers to the follower are lost; it commits the command, then crashes.
    cluster.network.filter((m, from, to) => (from === first && to === follower && m.type === 'ProposeResponse' ? 'drop' : 'deliver'));
    let committed = false;
    cluster.node(first).on('commit', () => {
      if (!committed && cluster.node(first).entries().some((e) => e.command !== undefined && (e.command as KeyValueCommand).key === 'once')) {
        committed = true;
        cluster.crash(first);
      }
    });
    const outcome = await settle(cluster, cluster.node(follower).propose({ op: 'cas', key: 'once', expected: undefined, value: 1 }, { timeoutMs: 5_000 }));
    expect(committed).toBe(true);
    expect(outcome.error).toBeUndefined();
    expect(outcome.value?.result).toEqual({ previous: undefined, ok: true });
    cluster.restart(first);
    await cluster.run(1_000);
    for (const id of cluster.ids) expect(commandsApplied(cluster, id, 'once'), `node ${id}`).toHaveLength(1);
  });

  it('openSession on a follower with forwardProposals opens the session through the leader', async () => {
    const { cluster } = kvCluster(15, { forwardProposals: true });
    const leader = await cluster.waitForLeader();
    const follower = cluster.node(cluster.ids.find((id) => id !== leader)!);
    await cluster.runUntil(() => follower.leaderId === leader);
    const session = await cluster.runUntilSettled(follower.openSession());
    const tag = session.next();
    const a = await cluster.runUntilSettled(follower.propose({ op: 'put', key: 'z', value: 1 }, { session: tag }));
    const b = await cluster.runUntilSettled(cluster.node(leader).propose({ op: 'put', key: 'z', value: 1 }, { session: tag }));
    expect(b.index).toBe(a.index);
    expect(cluster.node(leader).entries(session.id, session.id)[0]?.kind).toBe('session');
  });

});

describe('sessions: misuse and lost messages', () => {
  it('a malformed tag is refused at once (peers would refuse the entry and replication would stop at it)', async () => {
    const { cluster } = kvCluster(21);
    const leader = cluster.node(await cluster.waitForLeader());
    for (const bad of [{ id: 5, seq: 1, ack: 2 }, { id: 5, seq: 0, ack: 0 }, { id: 0.5, seq: 1, ack: 1 }, { id: 5, seq: 1 }]) {
      expect(() => leader.submit({ op: 'put', key: 'x', value: 1 }, { session: bad as SessionTag }), JSON.stringify(bad)).toThrow(RangeError);
    }
    await expect(leader.openSession({ timeoutMs: 0 })).rejects.toBeInstanceOf(RangeError);
    // Through a forwarding follower too: the leader would drop the request, and the follower resend it until its timeout.
    const forwarding = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 21, nodeOptions: () => ({ forwardProposals: true }) });
    const lead = await forwarding.waitForLeader();
    const other = forwarding.nodes.find((n) => n.id !== lead)!;
    await forwarding.runUntil(() => other.leaderId === lead);
    await expect(other.propose({ op: 'put', key: 'x', value: 1 }, { session: { id: 5, seq: 1, ack: 2 } })).rejects.toBeInstanceOf(RangeError);
    await cluster.propose({ op: 'put', key: 'y', value: 1 }); // replication goes on
  });

  it('a failing command is recorded by its cause, the same on every node, and a copy gets the same failure', async () => {
    const cluster = new Cluster<string>({
      size: 3,
      seed: 22,
      stateMachine: () => ({ apply: (c: string) => { if (c === 'bad') throw new Error('no such thing'); }, snapshot: () => '', restore: () => undefined }),
      nodeOptions: () => ({ snapshotThreshold: 0 }),
    });
    for (const node of cluster.nodes) node.on('error', () => undefined);
    const leader = cluster.node(await cluster.waitForLeader());
    const session = await cluster.runUntilSettled(leader.openSession());
    const tag = session.next();
    const first = await settle(cluster, leader.propose('bad', { session: tag }));
    const copy = await settle(cluster, leader.propose('bad', { session: tag }));
    expect(String((first.error as Error).cause)).toBe('Error: no such thing');
    expect(String((copy.error as Error).cause)).toBe('Error: no such thing');
    await cluster.run(200);
    for (const node of cluster.nodes) node.compact();
    await cluster.run(10); // the snapshots reach storage
    const storages = (cluster as unknown as { storages: Map<string, { snapshot?: { data: string } }> }).storages;
    const snapshots = cluster.ids.map((id) => storages.get(id)!.snapshot!.data);
    expect(new Set(snapshots).size).toBe(1);
  });

  it('a follower resends what it heard no answer for: the answer to its session opening is lost, the leader stays', async () => {
    const { cluster } = kvCluster(23, { forwardProposals: true });
    const leader = await cluster.waitForLeader();
    const follower = cluster.node(cluster.ids.find((id) => id !== leader)!);
    await cluster.runUntil(() => follower.leaderId === leader);
    let lost = 0;
    const remove = cluster.network.filter((m, _from, to) => (to === follower.id && m.type === 'ProposeResponse' && lost++ === 0 ? 'drop' : 'deliver'));
    const outcome = await settle(cluster, follower.propose({ op: 'put', key: 'x', value: 1 }, { timeoutMs: 2_000 }));
    remove();
    expect(lost).toBeGreaterThan(0);
    expect(outcome.error).toBeUndefined();
    expect(cluster.node(leader).leaderId).toBe(leader);
  });

  it('one tag proposed twice at once through one follower: the second call is refused, the first resolves', async () => {
    const { cluster } = kvCluster(24, { forwardProposals: true });
    const leader = cluster.node(await cluster.waitForLeader());
    const follower = cluster.node(cluster.ids.find((id) => id !== leader.id)!);
    await cluster.runUntil(() => follower.leaderId === leader.id);
    const session = await cluster.runUntilSettled(leader.openSession());
    const tag = session.next();
    const first = follower.propose({ op: 'put', key: 'x', value: 1 }, { session: tag });
    await expect(follower.propose({ op: 'put', key: 'x', value: 1 }, { session: tag })).rejects.toBeInstanceOf(RangeError);
    expect((await settle(cluster, first)).error).toBeUndefined();
  });
});
