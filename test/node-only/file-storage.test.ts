/**
 * FileStorage on a real directory: the storage conformance suite (every read-back through a
 * reopened instance), group commit, the lock, bad input and corruption; and on a simulated disk:
 * power cuts at random moments, torn writes and failed syncs (a property test).
 */
import fc from 'fast-check';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runChecks, storageChecks } from '../../src/conformance/index.js';
import { FileStorage, jsonCodec, StorageCorruptionError, StorageError, type StorageWarning } from '../../src/node-only/index.js';
import { MemoryStorage, type PersistedState, type StorageUpdate } from '../../src/raft/storage.js';
import type { LogEntry } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { SimulatedDisk } from '../support/simulated-disk.js';

const dirs: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'raftkit-fs-test-'));
  dirs.push(dir);
  return dir;
}
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

const entry = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', command: `c${index}` });
const quiet = { onWarning: () => undefined };

describe('FileStorage on a real directory', () => {
  it('passes every check of the storage conformance suite, reading back through reopened instances', async () => {
    const results = await runChecks(
      storageChecks({
        create: async () => {
          const dir = await tempDir();
          return {
            storage: await FileStorage.open(dir, quiet),
            reopen: () => FileStorage.open(dir, quiet),
            close: (storage) => (storage as FileStorage).close(),
            destroy: () => rm(dir, { recursive: true, force: true }),
          };
        },
      }),
    );
    expect(results.filter((r) => !r.passed).map((r) => `${r.name}: ${String(r.error)}`)).toEqual([]);
    expect(results.length).toBeGreaterThan(5);
  }, 60_000);

  it('shares one write and one sync among the saves that arrive while a sync is in flight (group commit)', async () => {
    const storage = await FileStorage.open(await tempDir(), quiet);
    await storage.load();
    const saves = Array.from({ length: 200 }, (_, i) => storage.save({ entries: [entry(i + 1, 1)] }));
    await Promise.all(saves);
    const { saves: done, writes, syncs } = storage.stats();
    expect(done).toBe(200);
    expect(writes).toBeLessThan(10); // the first write goes alone; the rest wait for it and share the next
    expect(syncs).toBe(writes);
    await storage.close();
    const reopened = await FileStorage.open(storage.dir, quiet);
    expect((await reopened.load()).entries.map((e) => e.index)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    await reopened.close();
  });

  it('refuses a second open of the same store, in this process, until the first is closed', async () => {
    const dir = await tempDir();
    const first = await FileStorage.open(dir, quiet);
    const second = await FileStorage.open(dir, quiet).catch((error: unknown) => error);
    expect(second).toBeInstanceOf(StorageError);
    expect((second as StorageError).code).toBe('LOCKED');
    await first.close();
    await (await FileStorage.open(dir, quiet)).close();
  });

  it('takes over the lock of a process that no longer runs, with a warning', async () => {
    const dir = await tempDir();
    await (await FileStorage.open(dir, quiet)).close();
    await writeFile(join(dir, 'LOCK'), '999999999\n'); // no such process
    const warnings: StorageWarning[] = [];
    const storage = await FileStorage.open(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(['STALE_LOCK']);
    await storage.close();
  });

  it('refuses what is not a store, or a newer format, and writes nothing', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'notes.txt'), 'not a store');
    await expect(FileStorage.open(dir)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    const file = join(dir, 'notes.txt');
    await expect(FileStorage.open(file)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    const newer = await tempDir();
    await writeFile(join(newer, 'raftkit-store.json'), JSON.stringify({ format: 'raftkit-file-storage', version: 2 }));
    await expect(FileStorage.open(newer)).rejects.toMatchObject({ code: 'UNSUPPORTED_VERSION' });
    const garbage = await tempDir();
    await writeFile(join(garbage, 'raftkit-store.json'), '\u0000\u0001 garbage');
    await expect(FileStorage.open(garbage)).rejects.toMatchObject({ code: 'NOT_A_STORE' });
    const { readdir } = await import('node:fs/promises');
    expect(await readdir(dir)).toEqual(['notes.txt']);
    expect(await readdir(newer)).toEqual(['raftkit-store.json']);
  });

  it('refuses bad options with clear errors', async () => {
    const dir = await tempDir();
    await expect(FileStorage.open(dir, { sync: 'sometimes' as 'always' })).rejects.toThrow(/sync must be 'always' or 'never'/);
    await expect(FileStorage.open(dir, { segmentBytes: 0 })).rejects.toThrow(/segmentBytes must be a positive integer/);
    await expect(FileStorage.open('')).rejects.toThrow(/dir must be a non-empty path/);
  });

  it('refuses a store with a flipped byte before the tail, naming the file and offset; cuts a torn tail', async () => {
    const dir = await tempDir();
    const storage = await FileStorage.open(dir, quiet);
    await storage.load();
    for (let i = 1; i <= 10; i++) await storage.save({ entries: [entry(i, 1)] });
    await storage.close();
    const segment = join(dir, '0000000000000001.wal');
    const bytes = await readFile(segment);

    // A torn tail: the last record cut short.
    await writeFile(segment, bytes.subarray(0, bytes.length - 5));
    const warnings: StorageWarning[] = [];
    const repaired = await FileStorage.open(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => w.code)).toEqual(['TORN_TAIL']);
    expect(repaired.recovery.tornTail?.path).toBe(segment);
    expect((await repaired.load()).entries.map((e) => e.index)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    await repaired.close();

    // A flipped byte in the middle: refused, and the file is left as it was.
    const damaged = Buffer.from(await readFile(segment));
    const offset = Math.floor(damaged.length / 2);
    damaged[offset] = (damaged[offset] as number) ^ 0x40;
    await writeFile(segment, damaged);
    const error = await FileStorage.open(dir, quiet).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    expect((error as StorageCorruptionError).path).toBe(segment);
    expect((error as StorageCorruptionError).offset).toBeLessThanOrEqual(offset);
    expect((error as StorageCorruptionError).message).toMatch(/corrupt at byte \d+/);
    expect(Buffer.compare(await readFile(segment), damaged)).toBe(0);

    // A segment of garbage: refused too.
    await writeFile(segment, Buffer.from('garbage that is no log at all, but long enough to hold records'));
    await expect(FileStorage.open(dir, quiet)).rejects.toBeInstanceOf(StorageCorruptionError);
  });

  it('keeps memory and disk bounded: a snapshot deletes the segments it covers and older snapshot files', async () => {
    const dir = await tempDir();
    const storage = await FileStorage.open(dir, { ...quiet, segmentBytes: 1024 });
    await storage.load();
    const membership = { voters: ['a'], learners: [] };
    for (let i = 1; i <= 300; i++) {
      await storage.save({ entries: [entry(i, 1)] });
      if (i % 100 === 0) await storage.save({ snapshot: { index: i - 5, term: 1, membership, data: `state ${i - 5}` } });
    }
    const { readdir } = await import('node:fs/promises');
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.snap'))).toEqual(['snapshot-0000000000000195-0000000000000001.snap', 'snapshot-0000000000000295-0000000000000001.snap']);
    expect(names.filter((n) => n.endsWith('.wal')).length).toBeLessThan(4);
    await storage.close();
    const reopened = await FileStorage.open(dir, quiet);
    const state = await reopened.load();
    expect(state.snapshot?.index).toBe(295);
    expect(state.entries.map((e) => e.index)).toEqual([296, 297, 298, 299, 300]);
    await reopened.close();
  });
});

// ── The simulated disk ──────────────────────────────────────────────────────────────────────

/** The state a MemoryStorage reaches from `base` after `updates`. */
function stateAfter(base: PersistedState, updates: readonly StorageUpdate[]): PersistedState {
  const memory = new MemoryStorage();
  memory.save({ hardState: base.hardState, ...(base.snapshot === undefined ? {} : { snapshot: base.snapshot }) });
  memory.save({ entries: base.entries });
  for (const update of updates) memory.save(update);
  return memory.load();
}

const normal = (state: PersistedState): unknown => ({ hardState: state.hardState, snapshot: state.snapshot ?? null, entries: state.entries });

/** A valid next update for a store in `state`, drawn with `random`. */
function nextUpdate(state: PersistedState, random: SeededRandom, serial: number): StorageUpdate {
  const offset = state.snapshot?.index ?? 0;
  const last = offset + state.entries.length;
  const termAt = (i: number): number => (i === offset ? (state.snapshot?.term ?? 0) : (state.entries[i - 1 - offset]?.term ?? 0));
  const update: { hardState?: PersistedState['hardState']; snapshot?: PersistedState['snapshot']; entries?: LogEntry[] } = {};
  let term = state.hardState.term;
  if (random.int(0, 9) < 3) {
    term += 1;
    update.hardState = { term, votedFor: random.int(0, 1) === 0 ? null : `n${random.int(1, 3)}` };
  }
  const roll = random.int(0, 9);
  if (roll < 2 && last > offset) {
    // Now and then a snapshot at the stored one's index, in another term: it must not replace the stored file before the log names it.
    const index = offset > 0 && random.int(0, 9) === 0 ? offset : random.int(offset + 1, last);
    const keep = random.int(0, 3) > 0;
    update.snapshot = { index, term: keep ? termAt(index) : termAt(index) + 100, membership: { voters: ['n1', 'n2', 'n3'], learners: [] }, data: `snapshot ${serial} ${'x'.repeat(random.int(0, 300))}` };
    return update;
  }
  if (roll < 9) {
    const first = random.int(Math.max(offset + 1, last - 2), last + 1);
    const count = random.int(1, 6);
    update.entries = Array.from({ length: count }, (_, i) => ({ index: first + i, term: Math.max(term, 1), kind: 'command', command: { serial, i, pad: 'y'.repeat(random.int(0, 80)) } }));
  }
  return update;
}

describe('FileStorage on a simulated disk', () => {
  const RUNS = process.env.RAFTKIT_DEEP === '1' ? 1000 : 150;

  it(`after any power cut, holds exactly a prefix of the saves issued, including every save that resolved (${RUNS} runs)`, async () => {
    let cuts = 0;
    let torn = 0;
    let failures = 0;
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 2 ** 31 - 1 }), fc.integer({ min: 1, max: 40 }), async (seed, steps) => {
        const random = new SeededRandom(seed);
        const disk = new SimulatedDisk(() => random.next());
        const warnings: StorageWarning[] = [];
        const open = (): Promise<FileStorage> => FileStorage.open('/store', { fileSystem: disk.fileSystem(), segmentBytes: random.int(200, 4000), onWarning: (w) => warnings.push(w) });
        let storage = await open();
        let base = await storage.load();
        let issued: StorageUpdate[] = [];
        let resolved = 0; // saves resolve in order: the first `resolved` of `issued` did
        let pending: Array<Promise<unknown>> = [];
        let state = base;
        for (let step = 0; step < steps * 4; step++) {
          const action = random.int(0, 19);
          if (action === 0 || action === 3 || step === steps * 4 - 1) {
            // A power cut, with saves perhaps still in flight; or a clean close. Then a restart.
            if (action === 3) {
              await Promise.allSettled(pending);
              await storage.close();
              disk.clearFaults();
            } else {
              disk.powerCut();
              cuts++;
            }
            await Promise.allSettled(pending);
            storage = await open();
            const loaded = await storage.load();
            const candidates = Array.from({ length: issued.length - resolved + 1 }, (_, k) => normal(stateAfter(base, issued.slice(0, resolved + k))));
            expect(candidates, `seed ${seed}: the recovered state is no prefix of the saves issued (at least ${resolved} of ${issued.length})`).toContainEqual(normal(loaded));
            base = state = loaded;
            issued = [];
            resolved = 0;
            pending = [];
            continue;
          }
          if (action === 1) {
            disk.failNext(random.int(0, 1) === 0 ? 'datasync' : 'append', random.int(0, 1) === 0 ? 'EIO' : 'ENOSPC');
          }
          if (action === 2) disk.failNext('unlink', 'EIO', /\.wal$/); // a compaction that cannot delete a segment

          const update = nextUpdate(state, random, step);
          state = stateAfter(state, [update]);
          const n = issued.push(update);
          const saving = storage.save(update).then(
            () => {
              expect(resolved, `seed ${seed}: saves resolved out of order`).toBe(n - 1);
              resolved = n;
            },
            (error: unknown) => {
              failures++;
              expect(error, `seed ${seed}`).toBeInstanceOf(StorageError);
              expect((error as StorageError).code).toBe('IO_FAILED');
            },
          );
          pending.push(saving);
          if (random.int(0, 2) === 0) await saving;
        }
        torn += warnings.filter((w) => w.code === 'TORN_TAIL').length;
      }),
      { numRuns: RUNS },
    );
    // The runs did exercise what they claim to.
    expect(cuts).toBeGreaterThan(RUNS);
    expect(torn).toBeGreaterThan(0);
    expect(failures).toBeGreaterThan(0);
  }, 120_000);

  it('a failed sync rejects that save and every later one; after a restart the store is whole', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await FileStorage.open('/s', { fileSystem: disk.fileSystem(), ...quiet });
    await storage.load();
    await storage.save({ entries: [entry(1, 1)] });
    disk.failNext('datasync', 'EIO');
    const failed = storage.save({ entries: [entry(2, 1)] });
    await expect(failed).rejects.toMatchObject({ code: 'IO_FAILED' });
    await expect(storage.save({ entries: [entry(3, 1)] })).rejects.toMatchObject({ code: 'IO_FAILED' });
    disk.powerCut();
    const reopened = await FileStorage.open('/s', { fileSystem: disk.fileSystem(), ...quiet });
    expect((await reopened.load()).entries.map((e) => e.index)).toEqual([1]);
  });

  it('reports a permission error as ACCESS_DENIED and creates nothing', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    disk.failNext('mkdir', 'EACCES');
    await expect(FileStorage.open('/denied', { fileSystem: disk.fileSystem(), ...quiet })).rejects.toMatchObject({ code: 'ACCESS_DENIED', path: '/denied' });
    expect(disk.list('/')).toEqual([]);
  });

  it('a snapshot file is renamed into place only once synced, and its directory is synced', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await FileStorage.open('/s', { fileSystem: disk.fileSystem(), ...quiet });
    await storage.load();
    await storage.save({ entries: [entry(1, 1), entry(2, 1)] });
    const syncsBefore = disk.counts.syncDir;
    await storage.save({ snapshot: { index: 2, term: 1, membership: { voters: ['a'], learners: [] }, data: 'state' } });
    expect(disk.counts.syncDir).toBe(syncsBefore + 1);
    disk.powerCut();
    const reopened = await FileStorage.open('/s', { fileSystem: disk.fileSystem(), ...quiet });
    expect((await reopened.load()).snapshot?.data).toBe('state');
  });
});

describe('FileStorage: compaction, recovery and the lock, where they once went wrong', () => {
  const big = (index: number, term: number): LogEntry => ({ index, term, kind: 'command', command: `c${index} ${'z'.repeat(300)}` });
  const membership = { voters: ['a', 'b', 'c'], learners: [] };
  /** A store of four segments: 1 (term 1, entry 1), 2 (term 2, entry 2), 3 (entry 3), and 4, which names a snapshot at 2. */
  async function fourSegments(disk: SimulatedDisk, root: string, beforeSnapshot?: () => void): Promise<FileStorage> {
    const storage = await FileStorage.open(root, { fileSystem: disk.fileSystem(), segmentBytes: 200, ...quiet });
    await storage.load();
    await storage.save({ hardState: { term: 1, votedFor: 'a' }, entries: [big(1, 1)] });
    await storage.save({ hardState: { term: 2, votedFor: 'b' }, entries: [big(2, 2)] });
    await storage.save({ entries: [big(3, 2)] });
    beforeSnapshot?.();
    await storage.save({ snapshot: { index: 2, term: 2, membership, data: 'through 2' } });
    return storage;
  }

  it('a segment that compaction cannot delete stays, with those after it (regression: a gap made recovery replay an old hard state)', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const warnings: string[] = [];
    const storage = await fourSegments(disk, '/s', () => disk.failNext('unlink', 'EIO', /0001\.wal$/));
    await storage.close();
    expect(disk.list('/s').filter((n) => n.endsWith('.wal'))).toEqual(['0000000000000001.wal', '0000000000000002.wal', '0000000000000003.wal', '0000000000000004.wal']);
    const reopened = await FileStorage.open('/s', { fileSystem: disk.fileSystem(), onWarning: (w) => warnings.push(w.code) });
    const state = await reopened.load();
    expect(state.hardState).toEqual({ term: 2, votedFor: 'b' });
    expect(state.entries.map((e) => e.index)).toEqual([3]);
    // The next snapshot deletes them.
    await reopened.save({ entries: [big(4, 2)] });
    await reopened.save({ snapshot: { index: 4, term: 2, membership, data: 'through 4' } });
    expect(disk.list('/s').filter((n) => n.endsWith('.wal'))).not.toContain('0000000000000001.wal');
    await reopened.close();
  });

  it('recovers from the segments after a gap in the numbering when the snapshot covers what is missing, and refuses otherwise', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await fourSegments(disk, '/g', () => disk.failNext('unlink', 'EIO', /0001\.wal$/));
    await storage.close();
    await disk.fileSystem().unlink('/g/0000000000000002.wal'); // as a compaction's deletions that were not all made durable
    const reopened = await FileStorage.open('/g', { fileSystem: disk.fileSystem(), ...quiet });
    expect((await reopened.load()).hardState).toEqual({ term: 2, votedFor: 'b' });
    expect(reopened.recovery.segments).toBe(2);
    await reopened.close();
    // Segment 3 holds entry 3, which no snapshot covers: without it the log has a hole.
    await disk.fileSystem().unlink('/g/0000000000000003.wal');
    await expect(FileStorage.open('/g', { fileSystem: disk.fileSystem(), ...quiet })).rejects.toThrow(/log entries 3\.\.3 are missing/);
  });

  it('refuses a segment that opens with a state the segments before it do not end in', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    await (await fourSegments(disk, '/x')).close();
    // The same history, except for the vote in term 2. (In /x, the snapshot at 2 compacted segments 1 and 2 away.)
    const other = await FileStorage.open('/y', { fileSystem: disk.fileSystem(), segmentBytes: 200, ...quiet });
    await other.load();
    await other.save({ hardState: { term: 1, votedFor: 'a' }, entries: [big(1, 1)] });
    await other.save({ hardState: { term: 2, votedFor: 'c' }, entries: [big(2, 2)] });
    await other.save({ entries: [big(3, 2)] });
    await other.close();
    const fs = disk.fileSystem();
    await fs.unlink('/x/0000000000000003.wal');
    const copy = await fs.open('/x/0000000000000003.wal', 'create');
    await copy.append(disk.bytes('/y/0000000000000003.wal') as Buffer);
    await copy.datasync();
    const error = await FileStorage.open('/x', { fileSystem: disk.fileSystem(), ...quiet }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StorageCorruptionError);
    // Replayed from the other store's segment 3, the vote is c; segment 4 opens with b.
    expect((error as StorageCorruptionError).message).toMatch(/0004\.wal is corrupt at byte 0: the segment opens with a state that the segments before it do not end in/);
  });

  it('cuts a torn last write whose pages were written out of order (damage with intact records after it), and refuses damage that a later write follows', async () => {
    const { scan } = await import('../../src/node-only/records.js');
    const dir = await tempDir();
    const storage = await FileStorage.open(dir, quiet);
    await storage.load();
    await storage.save({ entries: [entry(1, 1)] });
    await Promise.all([storage.save({ entries: [entry(2, 1)] }), storage.save({ entries: [entry(3, 1)] })]); // one write
    await storage.close();
    const segment = join(dir, '0000000000000001.wal');
    const bytes = Buffer.from(await readFile(segment));
    const records = scan(bytes).records;
    const lastBatch = records.filter((r) => r.type === 4).at(-1)?.offset as number;
    const [second] = records.filter((r) => r.offset > lastBatch && r.type === 2);
    // Entry 2's record lost a page; entry 3's, written after it in the same write, survived.
    const torn = Buffer.from(bytes);
    const at = (second?.offset as number) + 12;
    torn[at] = (torn[at] as number) ^ 0xff;
    await writeFile(segment, torn);
    const warnings: StorageWarning[] = [];
    const repaired = await FileStorage.open(dir, { onWarning: (w) => warnings.push(w) });
    expect(warnings.map((w) => [w.code, w.offset])).toEqual([['TORN_TAIL', lastBatch]]);
    expect((await repaired.load()).entries.map((e) => e.index)).toEqual([1]);
    await repaired.save({ entries: [entry(2, 1), entry(3, 1)] });
    await repaired.save({ entries: [entry(4, 1)] }); // a later write
    await repaired.close();
    // Now the same damage to entries 2–3's write is followed by a later, synced one: damage, not a tear.
    const after = Buffer.from(await readFile(segment));
    after[lastBatch + 30] = (after[lastBatch + 30] as number) ^ 0xff;
    await writeFile(segment, after);
    await expect(FileStorage.open(dir, quiet)).rejects.toThrow(/a damaged record is followed by a later write/);
  });

  it('keeps the snapshot the log names when a snapshot at the same index in another term was written but never named (regression: its file was replaced)', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await FileStorage.open('/t', { fileSystem: disk.fileSystem(), ...quiet });
    await storage.load();
    await storage.save({ entries: [entry(1, 1), entry(2, 1)] });
    await storage.save({ snapshot: { index: 2, term: 1, membership, data: 'named' } });
    disk.failNext('append', 'EIO', /\.wal$/); // the snapshot's file is written, the record naming it is not
    await expect(storage.save({ snapshot: { index: 2, term: 5, membership, data: 'never named' } })).rejects.toMatchObject({ code: 'IO_FAILED' });
    disk.powerCut();
    const reopened = await FileStorage.open('/t', { fileSystem: disk.fileSystem(), ...quiet });
    expect((await reopened.load()).snapshot).toMatchObject({ index: 2, term: 1, data: 'named' });
    expect(disk.list('/t').filter((n) => n.endsWith('.snap'))).toEqual(['snapshot-0000000000000002-0000000000000001.snap']);
  });

  it('recovers a snapshot at index 0, and reports an undecodable snapshot file as corrupt', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await FileStorage.open('/z', { fileSystem: disk.fileSystem(), ...quiet });
    await storage.load();
    await storage.save({ snapshot: { index: 0, term: 0, membership, data: 'empty' } });
    await storage.close();
    const reopened = await FileStorage.open('/z', { fileSystem: disk.fileSystem(), ...quiet });
    expect((await reopened.load()).snapshot).toMatchObject({ index: 0, term: 0, data: 'empty' });
    await reopened.close();
    const throwing = { encode: jsonCodec.encode, decode: (bytes: Uint8Array) => (bytes.length > 200 ? (() => { throw new SyntaxError('bad') })() : jsonCodec.decode(bytes)) };
    const d2 = new SimulatedDisk(() => 0.5);
    const s2 = await FileStorage.open('/w', { fileSystem: d2.fileSystem(), ...quiet });
    await s2.save({ entries: [entry(1, 1)] });
    await s2.save({ snapshot: { index: 1, term: 1, membership, data: 'x'.repeat(300) } });
    await s2.close();
    await expect(FileStorage.open('/w', { fileSystem: d2.fileSystem(), codec: throwing, ...quiet })).rejects.toThrow(/snapshot-0000000000000001-0000000000000001\.snap is corrupt at byte 0: the snapshot does not decode/);
  });

  it('the first load() after a save reads the save back; a load() during saves sees each whole', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const storage = await FileStorage.open('/l', { fileSystem: disk.fileSystem(), ...quiet });
    await storage.save({ entries: [entry(1, 1)] });
    expect((await storage.load()).entries.map((e) => e.index)).toEqual([1]);
    const saves = Array.from({ length: 20 }, (_, i) => storage.save({ entries: [entry(i + 2, 1)] }));
    const loaded = await storage.load();
    await Promise.all(saves);
    expect(loaded.entries.map((e) => e.index)).toEqual(Array.from({ length: 21 }, (_, i) => i + 1)); // it waited for the saves before it
    expect(storage.recovery.tornTail).toBeUndefined();
    expect((await storage.load()).entries).toHaveLength(21);
    await storage.close();
  });

  it('a warning listener that throws stops nothing', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    const onWarning = (): void => {
      throw new Error('listener bug');
    };
    const storage = await fourSegments(disk, '/w2', () => disk.failNext('unlink', 'EIO', /0001\.wal$/));
    await storage.close();
    const reopened = await FileStorage.open('/w2', { fileSystem: disk.fileSystem(), segmentBytes: 200, onWarning });
    await reopened.save({ entries: [big(4, 2)] });
    disk.failNext('unlink', 'EIO', /0001\.wal$/);
    await reopened.save({ snapshot: { index: 4, term: 2, membership, data: 'through 4' } }); // warns CLEANUP_FAILED, and resolves
    await reopened.save({ entries: [big(5, 2)] });
    await reopened.close();
  });

  it('two opens at once in one process: one wins, the other is LOCKED; a relative path names the same store', async () => {
    const dir = await tempDir();
    const results = await Promise.allSettled([FileStorage.open(dir, quiet), FileStorage.open(dir, quiet)]);
    expect(results.map((r) => r.status).sort()).toEqual(['fulfilled', 'rejected']);
    expect((results.find((r) => r.status === 'rejected') as PromiseRejectedResult).reason).toMatchObject({ code: 'LOCKED' });
    const { relative } = await import('node:path');
    await expect(FileStorage.open(relative(process.cwd(), dir), quiet)).rejects.toMatchObject({ code: 'LOCKED' });
    await expect(FileStorage.open(`${dir}/`, quiet)).rejects.toMatchObject({ code: 'LOCKED' });
    // Through another FileSystem object (a wrapper, say), this process is still the one that holds it.
    const { nodeFileSystem } = await import('../../src/node-only/index.js');
    await expect(FileStorage.open(dir, { ...quiet, fileSystem: { ...nodeFileSystem } })).rejects.toMatchObject({ code: 'LOCKED', message: expect.stringMatching(/this one/) });
    await (results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<FileStorage>).value.close();
  });

  it('a lock that cannot be read is not taken over; a store whose creation was cut short opens as a new one', async () => {
    const disk = new SimulatedDisk(() => 0.5);
    await (await FileStorage.open('/k', { fileSystem: disk.fileSystem(), ...quiet })).close();
    const fs = disk.fileSystem();
    const held = await fs.open('/k/LOCK', 'create');
    await held.append(Buffer.from('1\nsome-boot\n'));
    disk.failNext('readFile', 'EACCES', /LOCK$/);
    await expect(FileStorage.open('/k', { fileSystem: disk.fileSystem(), ...quiet })).rejects.toMatchObject({ code: 'ACCESS_DENIED' });
    expect(disk.list('/k')).toContain('LOCK');

    // A crash after the lock was taken and before the marker was renamed into place.
    await fs.mkdir('/new');
    const lock = await fs.open('/new/LOCK', 'create');
    await lock.append(Buffer.from('999999999\nother-boot\n'));
    await (await fs.open('/new/raftkit-store.json.tmp', 'create')).append(Buffer.from('{"fo'));
    const warnings: string[] = [];
    const created = await FileStorage.open('/new', { fileSystem: disk.fileSystem(), onWarning: (w) => warnings.push(w.code) });
    expect(warnings).toEqual(['STALE_LOCK']);
    expect(disk.list('/new')).toEqual(['LOCK', 'raftkit-store.json']);
    await created.close();
    // But a directory with a LOCK that is no raftkit lock, and nothing else, is not a store.
    await fs.mkdir('/foreign');
    await (await fs.open('/foreign/LOCK', 'create')).append(Buffer.from('someone else'));
    await expect(FileStorage.open('/foreign', { fileSystem: disk.fileSystem(), ...quiet })).rejects.toMatchObject({ code: 'NOT_A_STORE' });
  });
});
