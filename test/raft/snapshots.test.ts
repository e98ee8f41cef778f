/** Snapshots and log compaction: storage, the core, InstallSnapshot, restarts, and bounded memory. */
import { unpackSnapshot } from '../../src/raft/sessions.js';
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand } from '../../src/kv/key-value-store.js';
import { RaftNode, type RaftNodeOptions } from '../../src/node/raft-node.js';
import { RaftCore } from '../../src/raft/core.js';
import { RaftError } from '../../src/raft/errors.js';
import type { InstallSnapshot, Message } from '../../src/raft/messages.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { LogEntry, Snapshot } from '../../src/raft/types.js';
import { Cluster, type ClusterOptions } from '../../src/sim/cluster.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';

const entry = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', command: index });
const membership = { voters: ['1', '2', '3'], learners: [] };
const snapshotAt = (index: number, term: number, data = 'state'): Snapshot => ({ index, term, membership, data });
const put = (key: string, value: unknown): KeyValueCommand => ({ op: 'put', key, value });

interface KvClusterOptions {
  threshold?: number;
  chunk?: number;
  size?: number;
  /** More node options (beyond the snapshot threshold and chunk size). */
  node?: Partial<RaftNodeOptions<KeyValueCommand>>;
  /** More cluster options (timings, network). */
  cluster?: Partial<ClusterOptions<KeyValueCommand>>;
}

function kvCluster(seed: number, options: KvClusterOptions = {}) {
  const stores = new Map<string, KeyValueStore>();
  const cluster = new Cluster<KeyValueCommand>({
    size: options.size ?? 3,
    seed,
    ...options.cluster,
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store); // the newest incarnation's store
      return store;
    },
    nodeOptions: () => ({ snapshotThreshold: options.threshold ?? 100, snapshotChunkSize: options.chunk ?? 64, ...options.node }),
  });
  return { cluster, stores };
}

async function putMany(cluster: Cluster<KeyValueCommand>, from: number, count: number): Promise<void> {
  for (let i = from; i < from + count; i++) await cluster.propose(put(`k${i % 37}`, i));
}

/** A cluster whose follower `laggard` was cut off while `count` writes committed (and were compacted). */
async function withLaggard(seed: number, options: { threshold: number; chunk: number }, count: number) {
  const { cluster, stores } = kvCluster(seed, options);
  const leader = await cluster.waitForLeader();
  const laggard = cluster.ids.find((id) => id !== leader)!;
  cluster.disconnect(laggard);
  await putMany(cluster, 0, count);
  return { cluster, stores, leader, laggard };
}

/** Every live node has applied everything and holds the same key-value state. */
async function expectConverged(cluster: Cluster<KeyValueCommand>, stores: Map<string, KeyValueStore>): Promise<void> {
  const { index } = await cluster.propose(put('sync', cluster.now));
  const done = await cluster.runUntil(() => cluster.liveIds.every((id) => cluster.node(id).lastApplied >= index), { timeoutMs: 10_000 });
  expect(done, `every node applied through ${index}`).toBe(true);
  const states = cluster.liveIds.map((id) => stores.get(id)!.snapshot());
  expect(new Set(states).size, 'every replica holds the same state').toBe(1);
  cluster.checkInvariants();
}

describe('MemoryStorage with snapshots', () => {
  it('drops the entries a snapshot covers and keeps the ones after it when the log agrees', () => {
    const storage = new MemoryStorage();
    storage.save({ entries: [1, 2, 3, 4, 5].map((i) => entry(i, 1)) });
    storage.save({ snapshot: snapshotAt(3, 1) });
    const loaded = storage.load();
    expect(loaded.snapshot?.index).toBe(3);
    expect(loaded.entries.map((e) => e.index)).toEqual([4, 5]);
    expect(storage.lastIndex).toBe(5);
    expect(storage.entry(3)).toBeUndefined();
    storage.save({ entries: [entry(6, 2)] });
    expect(storage.load().entries.map((e) => e.index)).toEqual([4, 5, 6]);
  });

  it('drops the whole log for a snapshot it does not agree with, then continues after it', () => {
    const storage = new MemoryStorage();
    storage.save({ entries: [1, 2, 3].map((i) => entry(i, 1)) });
    storage.save({ snapshot: snapshotAt(10, 4), entries: [entry(11, 4)] });
    expect(storage.load().entries.map((e) => e.index)).toEqual([11]);
    // The same snapshot saved again changes nothing.
    storage.save({ snapshot: snapshotAt(10, 4) });
    expect(storage.load().entries.map((e) => e.index)).toEqual([11]);
  });

  it('a refused update writes nothing (regression: the hard state and snapshot were written first)', () => {
    const storage = new MemoryStorage();
    storage.save({ hardState: { term: 1, votedFor: null }, entries: [entry(1, 1)] });
    expect(() => storage.save({ hardState: { term: 5, votedFor: '2' }, snapshot: snapshotAt(1, 1), entries: [entry(3, 5)] })).toThrow(RangeError);
    expect(storage.load()).toEqual({ hardState: { term: 1, votedFor: null }, entries: [entry(1, 1)] });
  });

  it('refuses entries that start inside the snapshot or leave a gap, and an older snapshot', () => {
    const storage = new MemoryStorage();
    storage.save({ snapshot: snapshotAt(10, 2) });
    expect(() => storage.save({ entries: [entry(10, 2)] })).toThrow(RangeError);
    expect(() => storage.save({ entries: [entry(12, 2)] })).toThrow(RangeError);
    expect(() => storage.save({ snapshot: snapshotAt(5, 1) })).toThrow(RangeError);
    storage.save({ entries: [entry(11, 2)] });
    expect(storage.lastIndex).toBe(11);
  });
});

describe('RaftCore compaction', () => {
  function soloLeader(): RaftCore {
    const core = new RaftCore({ id: '1', peers: ['1'], random: new SeededRandom(1) });
    core.campaign();
    for (let i = 0; i < 10; i++) core.propose(i);
    while (core.hasReady()) core.advance(core.ready());
    return core;
  }

  it('replaces the applied prefix with a snapshot that comes out in the next Ready', () => {
    const core = soloLeader();
    expect(core.lastApplied).toBe(11);
    core.compact(8, 'eight');
    expect(core.snapshotIndex).toBe(8);
    expect(core.entries().map((e) => e.index)).toEqual([9, 10, 11]);
    expect(core.entry(8)).toBeUndefined();
    const ready = core.ready();
    expect(ready.snapshot).toEqual({ index: 8, term: 1, membership: { voters: ['1'], learners: [] }, data: 'eight' });
    core.advance(ready);
    expect(core.hasReady()).toBe(false);
    core.compact(5, 'older'); // already compacted further: nothing to do
    expect(core.snapshotIndex).toBe(8);
  });

  it('refuses to compact past what was applied, or with data that is not a string', () => {
    const core = soloLeader();
    expect(() => core.compact(12, 'x')).toThrow(RangeError);
    expect(() => core.compact(5, 5 as unknown as string)).toThrow(TypeError);
  });

  it('restarts from a snapshot and the entries after it: committed through the snapshot at once', () => {
    const core = new RaftCore({
      id: '1',
      peers: ['1', '2', '3'],
      random: new SeededRandom(1),
      initialState: { hardState: { term: 2, votedFor: null }, snapshot: snapshotAt(100, 2), entries: [entry(101, 2)] },
    });
    expect(core.commitIndex).toBe(100);
    expect(core.lastApplied).toBe(100);
    expect(core.lastLogIndex).toBe(101);
    expect(core.membership).toEqual(membership);
    expect(
      () => new RaftCore({ id: '1', peers: [], random: new SeededRandom(1), initialState: { hardState: { term: 2, votedFor: null }, snapshot: snapshotAt(100, 2), entries: [entry(103, 2)] } }),
    ).toThrow(/must start at index 101/);
  });
});

describe('InstallSnapshot in the core', () => {
  const install = (over: Partial<InstallSnapshot> = {}): InstallSnapshot => ({
    type: 'InstallSnapshot', from: '1', to: '2', term: 1, index: 3, lastTerm: 1, membership, offset: 0, data: 'abc', done: true, ...over,
  });
  function follower(entries: LogEntry[]): { core: RaftCore; storage: MemoryStorage } {
    const storage = new MemoryStorage();
    storage.save({ hardState: { term: 1, votedFor: null }, entries });
    return { core: new RaftCore({ id: '2', peers: ['1', '2', '3'], random: new SeededRandom(2), initialState: storage.load() }), storage };
  }
  function take(core: RaftCore, storage: MemoryStorage) {
    const ready = core.ready();
    storage.save({ ...(ready.snapshot && { snapshot: ready.snapshot }), entries: ready.entries });
    core.advance(ready);
    return ready;
  }

  it('keeps the entries after the snapshot when its log agrees there (nothing it acknowledged is lost)', () => {
    const { core, storage } = follower([1, 2, 3, 4, 5].map((i) => entry(i, 1)));
    core.step(install());
    const ready = take(core, storage);
    expect(ready.snapshot).toEqual({ index: 3, term: 1, membership, data: 'abc' });
    expect(ready.messages).toEqual([{ type: 'InstallSnapshotResponse', from: '2', to: '1', term: 1, index: 3, offset: 3, done: true }]);
    expect(core.entries().map((e) => e.index)).toEqual([4, 5]);
    expect(storage.load().entries.map((e) => e.index)).toEqual([4, 5]);
    expect([core.commitIndex, core.lastApplied, core.snapshotIndex]).toEqual([3, 3, 3]);
  });

  it('drops a log that disagrees with the snapshot', () => {
    const { core, storage } = follower([1, 2, 3, 4].map((i) => entry(i, 1)));
    core.step(install({ term: 2, lastTerm: 2, index: 3 }));
    take(core, storage);
    expect(core.lastLogIndex).toBe(3);
    expect(core.lastLogTerm).toBe(2);
    expect(storage.load().entries).toEqual([]);
  });

  it('a late duplicate of the first chunk does not throw away the transfer (regression)', () => {
    const { core, storage } = follower([]);
    core.step(install({ data: 'ab', done: false }));
    core.step(install({ offset: 2, data: 'cd', done: false }));
    take(core, storage);
    core.step(install({ data: 'ab', done: false })); // chunk 0 again, reordered
    expect(take(core, storage).messages[0]).toMatchObject({ offset: 4, done: false });
    core.step(install({ offset: 4, data: 'ef', done: true }));
    expect(take(core, storage).snapshot?.data).toBe('abcdef');
  });

  it('assembles chunks in order, asks to resume where it stopped, and ignores what it already has', () => {
    const { core, storage } = follower([]);
    core.step(install({ data: 'ab', done: false }));
    expect(take(core, storage).messages[0]).toMatchObject({ offset: 2, done: false });
    core.step(install({ offset: 4, data: 'ef', done: true })); // a lost chunk in between
    expect(take(core, storage).messages[0]).toMatchObject({ offset: 2, done: false });
    core.step(install({ offset: 2, data: 'cd', done: false }));
    core.step(install({ offset: 4, data: 'ef', done: true }));
    const ready = take(core, storage);
    expect(ready.snapshot?.data).toBe('abcdef');
    expect(core.commitIndex).toBe(3);
    // A late duplicate of a chunk of the installed snapshot: committed already, nothing changes.
    core.step(install({ offset: 2, data: 'cd', done: false }));
    const again = take(core, storage);
    expect(again.snapshot).toBeNull();
    expect(again.messages[0]).toMatchObject({ index: 3, done: true });
  });
});

describe('InstallSnapshot', () => {
  it('a follower far behind receives the snapshot in bounded chunks and converges', async () => {
    const { cluster, stores, leader, laggard } = await withLaggard(11, { threshold: 50, chunk: 64 }, 400);
    expect(cluster.node(leader).status().snapshotIndex).toBeGreaterThan(cluster.node(laggard).lastApplied);
    const chunks: Message[] = [];
    cluster.network.on('send', (m) => m.type === 'InstallSnapshot' && m.to === laggard && chunks.push(m));
    cluster.reconnect(laggard);
    await expectConverged(cluster, stores);
    expect(chunks.length).toBeGreaterThan(1);
    for (const chunk of chunks) if (chunk.type === 'InstallSnapshot') expect(chunk.data.length).toBeLessThanOrEqual(64);
    expect(cluster.node(laggard).status().snapshotIndex).toBeGreaterThan(0);
    expect(stores.get(laggard)!.get('k0')).toBe(370);
  });

  it('survives lost and duplicated chunks', async () => {
    const { cluster, stores, laggard } = await withLaggard(12, { threshold: 50, chunk: 32 }, 300);
    let n = 0;
    cluster.network.filter((m) => (m.type === 'InstallSnapshot' || m.type === 'InstallSnapshotResponse') && ++n % 3 === 0 ? 'drop' : 'deliver');
    cluster.network.configure({ duplicateRate: 0.3, reorder: true });
    cluster.reconnect(laggard);
    await expectConverged(cluster, stores);
    expect(n).toBeGreaterThan(3);
  });

  it('a follower that crashes in the middle of an install starts over after its restart', async () => {
    const { cluster, stores, laggard } = await withLaggard(13, { threshold: 50, chunk: 32 }, 300);
    let delivered = 0;
    cluster.network.on('deliver', (m) => {
      if (m.type === 'InstallSnapshot' && m.to === laggard && ++delivered === 3) cluster.crash(laggard);
    });
    cluster.reconnect(laggard);
    await cluster.runUntil(() => !cluster.liveIds.includes(laggard), { timeoutMs: 5_000 });
    expect(delivered).toBe(3);
    await cluster.run(500);
    cluster.restart(laggard);
    await expectConverged(cluster, stores);
    expect(delivered).toBeGreaterThan(3);
  });

  it('a snapshot newer than a partial one replaces it (the leader compacted again meanwhile)', async () => {
    const { cluster, stores, laggard } = await withLaggard(14, { threshold: 20, chunk: 8 }, 100);
    cluster.reconnect(laggard);
    // Keep writing while the slow, small-chunked install is under way.
    const indexes = new Set<number>();
    cluster.network.on('send', (m) => m.type === 'InstallSnapshot' && m.to === laggard && indexes.add(m.index));
    await putMany(cluster, 100, 200);
    await expectConverged(cluster, stores);
    expect(indexes.size).toBeGreaterThan(1);
  });
});

describe('InstallSnapshot under steady compaction', () => {
  it('a slow transfer finishes even though the leader compacts again meanwhile (regression: it restarted at every compaction)', async () => {
    const { cluster, stores, laggard } = await withLaggard(15, { threshold: 50, chunk: 32 }, 300);
    cluster.reconnect(laggard);
    // Keep writing: the leader snapshots every 10 ms or so, faster than a whole snapshot goes out.
    for (let i = 0; i < 3_000; i++) {
      cluster.node(cluster.leader()!).submit(put(`k${i % 37}`, i));
      if (i % 5 === 4) await cluster.run(1);
    }
    expect(cluster.node(laggard).status().snapshotIndex).toBeGreaterThan(0);
    await expectConverged(cluster, stores);
  });
});

describe('InstallSnapshot keeps the follower with its leader', () => {
  it('a lost chunk is sent again within a heartbeat interval, so the installing follower never times out (regression)', async () => {
    const { cluster, stores } = kvCluster(16, {
      threshold: 50,
      chunk: 8,
      // Without pre-vote, a follower that times out raises its term at once: that is what is watched.
      node: { preVote: false },
      // Little slack: a resend must come within one interval.
      cluster: { heartbeatIntervalMs: 120, electionTimeoutMs: [150, 160], network: { latencyMs: [1, 2] } },
    });
    const leader = await cluster.waitForLeader();
    const laggard = cluster.ids.find((id) => id !== leader)!;
    cluster.crash(laggard); // down, not cut off: it does not campaign meanwhile
    await putMany(cluster, 0, 200);
    const term = cluster.node(leader).term;
    let n = 0;
    cluster.network.filter((m) => (m.type === 'InstallSnapshot' && ++n % 4 === 0 ? 'drop' : 'deliver'));
    cluster.restart(laggard);
    await cluster.runUntil(() => cluster.node(laggard).status().snapshotIndex > 0, { timeoutMs: 10_000 });
    expect(n).toBeGreaterThan(8);
    expect(cluster.node(laggard).status().snapshotIndex).toBeGreaterThan(0);
    expect(cluster.node(laggard).term).toBe(term);
    expect(cluster.node(leader).role).toBe('leader');
    await expectConverged(cluster, stores);
  });
});

describe('InstallSnapshot traffic', () => {
  it('with slow links, each chunk goes out about once (regression: answers to resends multiplied the chunks)', async () => {
    const { cluster, stores } = kvCluster(17, { threshold: 50, chunk: 8, cluster: { network: { latencyMs: [20, 30] } } });
    const leader = await cluster.waitForLeader();
    const laggard = cluster.ids.find((id) => id !== leader)!;
    cluster.crash(laggard);
    await putMany(cluster, 0, 120);
    expect(cluster.node(leader).status().snapshotIndex).toBeGreaterThan(0);
    const size = (cluster as unknown as { storages: Map<string, MemoryStorage> }).storages.get(leader)!.snapshot!.data.length;
    let sent = 0;
    cluster.network.on('send', (m) => m.type === 'InstallSnapshot' && sent++);
    cluster.restart(laggard);
    await cluster.runUntil(() => cluster.node(laggard).status().snapshotIndex > 0, { timeoutMs: 60_000 });
    expect(cluster.node(laggard).status().snapshotIndex).toBeGreaterThan(0);
    const chunks = Math.ceil(size / 8);
    expect(sent).toBeLessThanOrEqual(chunks * 2); // the current chunk is resent with each heartbeat: at most once more
    await expectConverged(cluster, stores);
  });
});

describe('failing snapshots', () => {
  it('a snapshot() that keeps failing is retried a threshold later, not on every Ready (regression)', async () => {
    let calls = 0;
    const cluster = new Cluster<string>({
      size: 1,
      seed: 1,
      stateMachine: () => ({ apply: () => undefined, snapshot: () => { calls++; throw new Error('disk full'); }, restore: () => undefined }),
      nodeOptions: () => ({ snapshotThreshold: 10 }),
    });
    cluster.node('1').on('error', () => undefined);
    for (let i = 0; i < 60; i++) await cluster.propose(`c${i}`);
    expect(calls).toBeGreaterThanOrEqual(5);
    expect(calls).toBeLessThanOrEqual(7);
  });
});

describe('compaction and the state machine', () => {
  it('a state machine with snapshot() but no restore() never compacts, and a failing snapshot() is reported, not thrown (regression)', async () => {
    const half = new Cluster<string>({ size: 1, seed: 1, stateMachine: () => ({ apply: () => undefined, snapshot: () => 'x' }), nodeOptions: () => ({ snapshotThreshold: 2 }) });
    for (let i = 0; i < 5; i++) await half.propose(`c${i}`);
    expect(half.node('1').status().snapshotIndex).toBe(0);

    let failures = 0;
    const failing = new Cluster<string>({
      size: 1,
      seed: 1,
      stateMachine: () => ({ apply: () => undefined, snapshot: () => { throw new Error('disk full'); }, restore: () => undefined }),
      nodeOptions: () => ({ snapshotThreshold: 2 }),
    });
    failing.node('1').on('error', (e) => e instanceof RaftError && e.code === 'SNAPSHOT_FAILED' && failures++);
    for (let i = 0; i < 5; i++) await failing.propose(`c${i}`);
    expect(failures).toBeGreaterThan(0);
    expect(failing.node('1').lastApplied).toBe(7); // a no-op, the Cluster's session, five commands
  });

  it('a node stopped by an apply listener does not go on to snapshot (regression: a false SNAPSHOT_FAILED)', async () => {
    const cluster = new Cluster<KeyValueCommand>({ size: 1, seed: 3, stateMachine: () => new KeyValueStore(), nodeOptions: () => ({ snapshotThreshold: 1 }) });
    const node = cluster.node('1');
    await cluster.waitForLeader();
    const errors: string[] = [];
    node.on('error', (e) => errors.push(e instanceof RaftError ? e.code : e.message));
    node.on('apply', () => void node.stop());
    node.submit(put('k', 1));
    await cluster.run(10);
    expect(node.running).toBe(false);
    expect(errors).toEqual([]);
  });

  it('compact() from an apply listener snapshots once the batch is applied, at the right index (regression: mislabelled)', async () => {
    const { cluster } = kvCluster(2, { size: 1, threshold: 0 });
    const node = cluster.node('1');
    await cluster.waitForLeader();
    let asked = 0;
    node.on('apply', (entry) => {
      if (entry.index !== 3) return;
      expect(node.compact()).toBeNull(); // deferred until the batch is applied
      asked++;
    });
    for (let i = 0; i < 4; i++) node.submit(put('k', i)); // entries 2..5, applied in one batch
    await cluster.run(10);
    expect(asked).toBe(1);
    const snapshot = node.status().snapshotIndex;
    expect(snapshot).toBe(5);
    const restored = new KeyValueStore();
    restored.restore(unpackSnapshot((cluster as unknown as { storages: Map<string, MemoryStorage> }).storages.get('1')!.snapshot!.data).data);
    expect(restored.get('k')).toBe(3);
  });
});

describe('InstallSnapshot chunks from two leaders', () => {
  it('a chunk from another leader (or term) never joins a partial snapshot', () => {
    const storage = new MemoryStorage();
    const core = new RaftCore({ id: '2', peers: ['1', '2', '3'], random: new SeededRandom(2), initialState: storage.load() });
    const chunk = (from: string, term: number, offset: number, data: string, done: boolean): InstallSnapshot => ({
      type: 'InstallSnapshot', from, to: '2', term, index: 3, lastTerm: 1, membership, offset, data, done,
    });
    core.step(chunk('1', 1, 0, 'ab', false));
    core.ready();
    core.step(chunk('3', 2, 2, 'XY', true)); // a new leader, same snapshot position, its own bytes
    const ready = core.ready();
    expect(ready.snapshot).toBeNull();
    expect(ready.messages[0]).toMatchObject({ type: 'InstallSnapshotResponse', to: '3', offset: 0, done: false });
  });
});

describe('restarts', () => {
  it('a restarted node restores its state machine from its snapshot and replays the entries after it', async () => {
    const { cluster, stores } = kvCluster(21, { threshold: 40 });
    await cluster.waitForLeader();
    await putMany(cluster, 0, 130);
    const leader = cluster.leader()!;
    const victim = cluster.ids.find((id) => id !== leader)!;
    await cluster.run(100); // let the followers apply the last commit
    const before = stores.get(leader)!.snapshot();
    const snapshotIndex = cluster.node(victim).status().snapshotIndex;
    expect(snapshotIndex).toBeGreaterThan(0);
    cluster.crash(victim);
    cluster.restart(victim);
    const node = cluster.node(victim);
    // Restored at once (before hearing from anyone), then the rest is replayed once committed.
    expect(node.lastApplied).toBe(snapshotIndex);
    expect(node.entries()[0]?.index).toBe(snapshotIndex + 1);
    await cluster.run(500);
    expect(stores.get(victim)!.snapshot()).toBe(before);
    await expectConverged(cluster, stores);
  });

  it('a node whose state machine cannot restore refuses to start from a snapshot', async () => {
    const storage = new MemoryStorage();
    storage.save({ snapshot: snapshotAt(5, 1) });
    const network = new InMemoryNetwork<Message>({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
    const node = new RaftNode({ id: '1', peers: ['1'], transport: network.transport('1'), storage, scheduler: new VirtualScheduler(), stateMachine: { apply: () => 0 } });
    await expect(node.start()).rejects.toThrow(/no restore/);
  });

  it('compact() on demand, and a clear error without snapshot support', async () => {
    const cluster = new Cluster<string>({ size: 1, seed: 3, stateMachine: () => ({ apply: () => undefined }) });
    await cluster.propose('x');
    const error = (() => {
      try {
        cluster.node('1').compact();
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(RaftError);
    expect((error as RaftError).code).toBe('SNAPSHOT_UNSUPPORTED');

    const { cluster: kv } = kvCluster(4, { threshold: 0, size: 1 });
    await kv.propose(put('a', 1));
    const node = kv.node('1');
    const taken: unknown[] = [];
    node.on('snapshot', (s) => taken.push(s));
    expect(node.compact()).toEqual({ index: 3, term: 1 }); // a no-op, the Cluster's session, the put
    expect(taken).toEqual([{ index: 3, term: 1, installed: false }]);
    expect(node.compact()).toBeNull(); // nothing applied since
    expect(node.entries()).toEqual([]);
  });
});

describe('bounded memory', () => {
  it('with compaction, every log and every storage stays bounded however many entries are applied', async () => {
    const { cluster, stores } = kvCluster(31, { threshold: 200 });
    await cluster.waitForLeader();
    let longest = 0;
    for (let batch = 0; batch < 20; batch++) {
      await putMany(cluster, batch * 100, 100);
      for (const id of cluster.ids) longest = Math.max(longest, cluster.node(id).entries().length);
    }
    expect(cluster.node(cluster.leader()!).lastApplied).toBeGreaterThan(2_000);
    expect(longest).toBeLessThan(300);
    expect(stores.get('1')!.size).toBe(37);
    await expectConverged(cluster, stores);
  });
});
