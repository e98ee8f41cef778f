/**
 * Snapshots with asynchronous storage: saves complete later on the virtual clock, so compaction,
 * InstallSnapshot and restarts all run with a save in flight. Nothing acknowledged may be lost,
 * and a node answers that a snapshot is installed only once it is durable.
 */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand } from '../../src/kv/key-value-store.js';
import { RaftNode, type RaftNodeOptions } from '../../src/node/raft-node.js';
import type { RaftError } from '../../src/raft/errors.js';
import type { Message } from '../../src/raft/messages.js';
import { MemoryStorage, type PersistedState, type Storage, type StorageUpdate } from '../../src/raft/storage.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import { runAsync, track } from './harness.js';

/** MemoryStorage behind a disk that takes 1–8 virtual ms per write. */
class DelayedStorage implements Storage {
  readonly disk = new MemoryStorage();
  /** The highest snapshot index that is durable. */
  durableSnapshot = 0;
  /** Extra delay of every write from now on (a slow disk). */
  extraDelayMs = 0;
  constructor(
    private readonly scheduler: VirtualScheduler,
    private readonly random: SeededRandom,
  ) {}
  load(): Promise<PersistedState> {
    return Promise.resolve(this.disk.load());
  }
  save(update: StorageUpdate): Promise<void> {
    return new Promise((resolve) =>
      this.scheduler.schedule(this.random.int(1, 8) + this.extraDelayMs, () => {
        this.disk.save(update);
        if (update.snapshot) this.durableSnapshot = update.snapshot.index;
        resolve();
      }),
    );
  }
}

/** Three nodes' network and slow disks on one virtual clock, and a way to make a node on them. */
function world(seed: number, latencyMs: [number, number]) {
  const scheduler = new VirtualScheduler();
  const random = new SeededRandom(seed);
  const network = new InMemoryNetwork<Message>({ scheduler, random: random.fork('net'), latencyMs });
  const ids = ['1', '2', '3'];
  const storages = new Map(ids.map((id) => [id, new DelayedStorage(scheduler, random.fork(`disk:${id}`))] as const));
  const node = (id: string, randomLabel: string, options: Partial<RaftNodeOptions<KeyValueCommand>>): RaftNode<KeyValueCommand> =>
    new RaftNode<KeyValueCommand>({
      id,
      peers: ids,
      transport: network.transport(id),
      storage: storages.get(id)!,
      scheduler,
      random: random.fork(randomLabel),
      ...options,
    });
  return { scheduler, network, ids, storages, node };
}

describe('snapshots with asynchronous storage', () => {
  it('compaction, chunked installs and restarts lose nothing, and an install is acknowledged only once durable', async () => {
    const { scheduler, network, ids, storages, node: nodeOn } = world(77, [1, 6]);
    const stores = new Map<string, KeyValueStore>();
    const early: string[] = [];
    let incarnation = 0;
    const make = (id: string): RaftNode<KeyValueCommand> => {
      const store = new KeyValueStore();
      stores.set(id, store);
      const node = nodeOn(id, `node:${id}:${++incarnation}`, { stateMachine: store, snapshotThreshold: 25, snapshotChunkSize: 16 });
      node.on('send', (m) => {
        if (m.type === 'InstallSnapshotResponse' && m.done && storages.get(id)!.durableSnapshot < m.index && node.commitIndex < m.index) {
          early.push(`${id} acknowledged snapshot ${m.index} before it was durable`);
        }
      });
      return node;
    };
    const nodes = new Map(ids.map((id) => [id, make(id)] as const));
    await Promise.all([...nodes.values()].map((n) => n.start()));
    const leader = (): RaftNode<KeyValueCommand> | undefined => [...nodes.values()].find((n) => n.running && n.role === 'leader');
    expect(await runAsync(scheduler, 5_000, () => leader() !== undefined)).toBe(true);

    // A follower cut off while 150 writes commit (and are compacted away on the others).
    const laggard = ids.find((id) => id !== leader()!.id)!;
    network.disconnect(laggard);
    const acknowledged = Array.from({ length: 150 }, (_, i) => track(leader()!.propose({ op: 'put', key: `k${i % 12}`, value: i })));
    expect(await runAsync(scheduler, 5_000, () => acknowledged.every((p) => p.state !== 'pending'))).toBe(true);
    expect(acknowledged.every((p) => p.state === 'fulfilled')).toBe(true);
    expect(leader()!.status().snapshotIndex).toBeGreaterThan(100);

    // It catches up by snapshot; meanwhile another follower crashes and restarts from its storage.
    network.reconnect(laggard);
    const other = ids.find((id) => id !== laggard && id !== leader()!.id)!;
    await runAsync(scheduler, 30);
    await nodes.get(other)!.stop();
    nodes.set(other, make(other));
    await nodes.get(other)!.start();
    const final = track(leader()!.propose({ op: 'put', key: 'final', value: true }));
    expect(await runAsync(scheduler, 5_000, () => final.state !== 'pending')).toBe(true);
    const last = leader()!.commitIndex;
    expect(await runAsync(scheduler, 5_000, () => [...nodes.values()].every((n) => n.lastApplied >= last))).toBe(true);

    const states = ids.map((id) => stores.get(id)!.snapshot());
    expect(new Set(states).size).toBe(1);
    expect(stores.get(laggard)!.get('k5')).toBe(149 - ((149 - 5) % 12));
    expect(nodes.get(laggard)!.status().snapshotIndex).toBeGreaterThan(0);
    for (const id of ids) expect(storages.get(id)!.disk.load().entries.length).toBeLessThan(60);
    expect(early).toEqual([]);
  });

  it('a proposal its old leader committed but had not applied when a snapshot replaced it is answered, not left pending (regression)', async () => {
    const { scheduler, network, ids, storages, node } = world(5, [1, 3]);
    const nodes = ids.map((id) => node(id, `node:${id}`, { stateMachine: new KeyValueStore(), snapshotThreshold: 5 }));
    await Promise.all(nodes.map((n) => n.start()));
    const old = nodes[0]!;
    old.campaign();
    expect(await runAsync(scheduler, 2_000, () => old.role === 'leader' && old.commitIndex >= 1)).toBe(true);
    const first = track(old.propose({ op: 'put', key: 'a', value: 1 }));
    expect(await runAsync(scheduler, 100, () => storages.get('1')!.disk.lastIndex >= 2)).toBe(true);
    // Its disk turns slow with a second write in flight; the first commits meanwhile, unapplied.
    storages.get('1')!.extraDelayMs = 3_000;
    old.submit({ op: 'put', key: 'b', value: 2 });
    expect(await runAsync(scheduler, 1_000, () => old.commitIndex >= 2)).toBe(true);
    expect(first.state, String(first.error)).toBe('pending');
    network.partition(['1'], ['2', '3']);
    expect(await runAsync(scheduler, 2_000, () => old.role === 'follower' && nodes.some((n) => n.role === 'leader'))).toBe(true);
    const leader = nodes.find((n) => n.role === 'leader')!;
    for (let i = 0; i < 20; i++) leader.submit({ op: 'put', key: `k${i}`, value: i });
    await runAsync(scheduler, 500);
    expect(leader.status().snapshotIndex).toBeGreaterThan(2);
    network.heal();
    storages.get('1')!.extraDelayMs = 0;
    expect(await runAsync(scheduler, 10_000, () => first.state !== 'pending')).toBe(true);
    expect((first.error as RaftError).code).toBe('OUTCOME_UNKNOWN');
  });
});
