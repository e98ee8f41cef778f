// raftkit's durable benchmarks: the disk's own limit (4 KiB write + fdatasync, sequentially),
// a 3-node in-process cluster with each node on its own FileStorage directory, recovery of a
// large log, and the heap after many durable proposals with compaction.
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileStorage } from '../dist/esm/node-only/index.js';
import { startRaftkit } from './raftkit.mjs';

const PAYLOAD = 'x'.repeat(100);

/** Sequential 4 KiB appends, each followed by fdatasync, for `ms`: what one fsync'd write per commit allows. */
export async function diskProbe(ms = 1000) {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-probe-'));
  const file = await open(join(dir, 'probe'), 'a');
  const block = Buffer.alloc(4096, 1);
  let writes = 0;
  const start = performance.now();
  while (performance.now() - start < ms) {
    await file.write(block);
    await file.datasync();
    writes++;
  }
  const elapsed = performance.now() - start;
  await file.close();
  await rm(dir, { recursive: true, force: true });
  return { perSecond: (writes / elapsed) * 1000, meanMs: elapsed / writes };
}

/** A 3-node cluster on real timers, each node on a FileStorage in its own new directory; resolves once node 1 leads. */
export async function startDurable(nodeOptions = {}) {
  const root = await mkdtemp(join(tmpdir(), 'raftkit-durable-'));
  const storages = new Map();
  for (const id of ['1', '2', '3']) storages.set(id, await FileStorage.open(join(root, id)));
  const cluster = await startRaftkit({ storage: (id) => storages.get(id), nodeOptions });
  return {
    ...cluster,
    stop: async () => {
      await cluster.stop();
      for (const storage of storages.values()) await storage.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

/** Writes a log of about `bytes` (entries of `entryBytes`), then times opening and loading it. */
export async function recoveryTime(bytes, entryBytes = 1024) {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-recovery-'));
  const writer = await FileStorage.open(dir, { sync: 'never' });
  await writer.load();
  const command = 'r'.repeat(entryBytes);
  const perSave = 1000;
  let index = 0;
  while (writer.stats().bytes < bytes) {
    const entries = Array.from({ length: perSave }, () => ({ index: ++index, term: 1, kind: 'command', command }));
    await writer.save({ entries });
  }
  const written = writer.stats().bytes;
  await writer.close();
  const start = performance.now();
  const storage = await FileStorage.open(dir);
  const state = await storage.load();
  const ms = performance.now() - start;
  if (state.entries.length !== index) throw new Error(`recovered ${state.entries.length} of ${index} entries`);
  await storage.close();
  await rm(dir, { recursive: true, force: true });
  return { ms, bytes: written, entries: index };
}

/** Heap after `count` durable proposals (256 outstanding) on a 3-node cluster that snapshots every 10,000 entries. */
export async function durableMemoryAfter(count) {
  const cluster = await startDurable({ snapshotThreshold: 10_000 });
  let issued = 0;
  async function client() {
    while (issued < count) {
      issued++;
      await cluster.propose(PAYLOAD);
    }
  }
  globalThis.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const start = performance.now();
  await Promise.all(Array.from({ length: 256 }, client));
  const seconds = (performance.now() - start) / 1000;
  while (!cluster.appliedEverywhere(count)) await new Promise((r) => setTimeout(r, 5));
  globalThis.gc?.();
  const heapUsed = process.memoryUsage().heapUsed;
  await cluster.stop();
  return { heapBefore, heapUsed, seconds };
}
