/**
 * FileStorage: a {@link Storage} in a directory, as a write-ahead log of checksummed records in
 * segments, plus snapshot files. Every `save` is one record; saves that arrive while a sync is
 * in flight share the next write and sync (group commit). See docs/storage.md for the format.
 */
import { isAscii } from 'node:buffer';
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { PersistedState, Storage, StorageUpdate } from '../raft/storage.js';
import type { HardState, LogEntry, Snapshot } from '../raft/types.js';
import { StorageCorruptionError, StorageError } from './errors.js';
import { nodeFileSystem, type FileHandle, type FileSystem } from './file-system.js';
import { BATCH, BATCH_BYTES, batchMark, frame, recordAt, scan, SNAPSHOT, STATE, UPDATE } from './records.js';

/** The store's marker file, naming its format and version. */
const META = 'raftkit-store.json';
const FORMAT = 'raftkit-file-storage';
const VERSION = 1;
const LOCK = 'LOCK';
const SEGMENT_FILE = /^(\d{16})\.wal$/;
const SNAPSHOT_FILE = /^snapshot-(\d{16})-(\d{16})\.snap$/;
const pad = (n: number): string => String(n).padStart(16, '0');
/** A snapshot's file is named by its index and term: a snapshot at the same index in another term never replaces it. */
const snapshotName = ({ index, term }: SnapshotId): string => `snapshot-${pad(index)}-${pad(term)}.snap`;

/**
 * How records' payloads become bytes and back. The default is JSON (UTF-8); a codec must
 * round-trip every value a log entry, hard state or snapshot holds.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, jsonCodec, type Codec } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const codec: Codec = jsonCodec; // or, say, a MessagePack codec
 * const storage = await FileStorage.open(dir, { codec });
 * await storage.close();
 * ```
 */
export interface Codec {
  /** The bytes of `value`. */
  encode(value: unknown): Uint8Array;
  /** The value `bytes` hold (throws when they hold none). */
  decode(bytes: Uint8Array): unknown;
}

/**
 * The default {@link Codec}: JSON text in UTF-8.
 *
 * @example
 * ```ts
 * import { jsonCodec } from 'raftkit/node';
 * jsonCodec.decode(jsonCodec.encode({ term: 1 })); // { term: 1 }
 * ```
 */
export const jsonCodec: Codec = {
  encode: (value) => Buffer.from(JSON.stringify(value), 'utf8'),
  decode: (bytes) => {
    const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    // ASCII (the common case) decodes as Latin-1 at three times the speed of UTF-8: recovery decodes the whole log.
    return JSON.parse(buffer.toString(isAscii(buffer) ? 'latin1' : 'utf8')) as unknown;
  },
};

/**
 * Something recovery repaired or noticed, reported through {@link FileStorageOptions.onWarning}:
 * - `TORN_TAIL`: the log's last record was incomplete or damaged (a write cut short by a crash:
 *   it was never acknowledged) and was cut off at `offset`, `bytes` long;
 * - `STALE_LOCK`: the lock of a process that no longer runs was taken over;
 * - `CLEANUP_FAILED`: an old segment or snapshot file could not be deleted. It stays, and so do
 *   the segments after it (the log on disk keeps no gaps); the next snapshot tries again.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, type StorageWarning } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const warnings: StorageWarning[] = [];
 * const storage = await FileStorage.open(dir, { onWarning: (warning) => warnings.push(warning) });
 * console.log(warnings.length); // 0: a new store has nothing to repair
 * await storage.close();
 * ```
 */
export interface StorageWarning {
  /** What happened. */
  readonly code: 'TORN_TAIL' | 'STALE_LOCK' | 'CLEANUP_FAILED';
  /** The file concerned. */
  readonly path: string;
  /** The same, in a sentence. */
  readonly message: string;
  /** For `TORN_TAIL`: where the cut was made. */
  readonly offset?: number;
  /** For `TORN_TAIL`: how many bytes were cut. */
  readonly bytes?: number;
}

/**
 * What {@link FileStorage.open} found on disk.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const storage = await FileStorage.open(dir);
 * const { segments, entries, tornTail } = storage.recovery;
 * console.log(`${entries} entries in ${segments} segments${tornTail ? ', torn tail cut' : ''}`);
 * await storage.close();
 * ```
 */
export interface RecoveryReport {
  /** Segments read. */
  readonly segments: number;
  /** Records replayed. */
  readonly records: number;
  /** Log entries recovered (after the snapshot). */
  readonly entries: number;
  /** Bytes of log read. */
  readonly bytes: number;
  /** The index of the snapshot recovered, 0 when none. */
  readonly snapshotIndex: number;
  /** The torn tail cut off, if there was one. */
  readonly tornTail?: {
    /** The segment repaired. */
    readonly path: string;
    /** Where it was cut. */
    readonly offset: number;
    /** How many bytes were cut. */
    readonly bytes: number;
  };
}

/**
 * Options of {@link FileStorage.open}.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, type FileStorageOptions } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const options: FileStorageOptions = { segmentBytes: 16 * 1024 * 1024, onWarning: (w) => console.warn(w.message) };
 * const storage = await FileStorage.open(dir, options);
 * await storage.close();
 * ```
 */
export interface FileStorageOptions {
  /**
   * `'always'` (the default): a save resolves once it is on disk (`fdatasync`). `'never'`
   * skips the sync: **not durable**. A crash of the machine (not only of the process) may
   * lose acknowledged saves, and a node may then break Raft's promises. For tests and demos.
   */
  readonly sync?: 'always' | 'never';
  /** A segment is closed, and the next opened, once it holds this many bytes. Default 64 MiB. */
  readonly segmentBytes?: number;
  /** How many snapshot files to keep (the newest, and optionally the one before). Default 2. */
  readonly keepSnapshots?: 1 | 2;
  /** How payloads are encoded. Default {@link jsonCodec}. */
  readonly codec?: Codec;
  /** The file system. Default {@link nodeFileSystem}; tests pass a simulated disk. */
  readonly fileSystem?: FileSystem;
  /** Where repairs and notices go. Default: `process.emitWarning`. */
  readonly onWarning?: (warning: StorageWarning) => void;
}

/**
 * Counters of a {@link FileStorage}, since it was opened.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, type FileStorageStats } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const storage = await FileStorage.open(dir);
 * const { saves, syncs }: FileStorageStats = storage.stats();
 * console.log(`${saves} saves in ${syncs} syncs`);
 * await storage.close();
 * ```
 */
export interface FileStorageStats {
  /** Saves that resolved. */
  readonly saves: number;
  /** Writes to the log, each followed by one sync (with `sync: 'always'`): saves per write is the group-commit factor. */
  readonly writes: number;
  /** Syncs of log segments (`fdatasync`). */
  readonly syncs: number;
  /** Bytes appended to the log. */
  readonly bytes: number;
  /** Snapshot files written. */
  readonly snapshots: number;
  /** Segments in the store now. */
  readonly segments: number;
}

interface SnapshotId {
  readonly index: number;
  readonly term: number;
}

/** A segment's opening record: the state the log had reached when the segment began. */
interface StateRecord {
  readonly hardState: HardState;
  readonly snapshot: SnapshotId | null;
  readonly lastIndex: number;
}

/** One save's record. `s.keep`: whether the log's entries after the snapshot stay. */
interface UpdateRecord {
  h?: HardState;
  s?: { index: number; term: number; keep: boolean };
  e?: readonly LogEntry[];
}

interface Segment {
  readonly seq: number;
  readonly path: string;
  /** The highest log index any of its records wrote (its opening's lastIndex included). */
  maxIndex: number;
  size: number;
}

/** A save waiting for its write: the record, the snapshot file it needs first, and the state after it. */
interface Job {
  readonly bytes: Uint8Array;
  readonly snapshot: Snapshot | undefined;
  readonly maxIndex: number;
  readonly after: StateRecord;
  readonly resolve: () => void;
  readonly reject: (error: unknown) => void;
}

/** The stores open in this process, per file system: a second open of one fails, as from another process. */
const openStores = new WeakMap<FileSystem, Set<string>>();
const opened = (fs: FileSystem): Set<string> => {
  let set = openStores.get(fs);
  if (set === undefined) openStores.set(fs, (set = new Set()));
  return set;
};

const codeOf = (error: unknown): string | undefined => (error as { code?: unknown } | null)?.code as string | undefined;

/** A file system error as a {@link StorageError}: permission problems are ACCESS_DENIED, others IO_FAILED. */
function ioError(path: string, doing: string, error: unknown): StorageError {
  if (error instanceof StorageError) return error;
  const code = codeOf(error);
  const denied = code === 'EACCES' || code === 'EPERM' || code === 'EROFS';
  return new StorageError(denied ? 'ACCESS_DENIED' : 'IO_FAILED', path, `${doing} ${path} failed: ${code ?? String(error)}`, { cause: error });
}

/** This boot of the machine (Linux), so that a lock from before a reboot is known stale; '' elsewhere. */
const BOOT_ID = ((): string => {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return '';
  }
})();

/** This process, told apart from an earlier one with the same pid (a container restarts with the same pid). */
const INCARNATION = randomUUID();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return codeOf(error) === 'EPERM'; // it runs, under another user
  }
}

/**
 * A {@link Storage} in a directory that survives crashes: `kill -9`, and power loss with
 * `sync: 'always'` (the default). Open it with {@link FileStorage.open}; one process at a time.
 *
 * - A `save` resolves only once its record is written and synced. Saves that arrive meanwhile
 *   share the next write and sync (group commit).
 * - Recovery cuts off a torn last record (reported as a `TORN_TAIL` warning) and refuses a
 *   store damaged anywhere else ({@link StorageCorruptionError}).
 * - A snapshot is written to its own file (temporary, synced, renamed, directory synced);
 *   segments it covers and older snapshot files are then deleted. Only the terms of the log's
 *   entries stay in memory, so memory is bounded by compaction.
 * - After a failed write or sync (EIO, ENOSPC) the storage refuses every later save with that
 *   error: what reached the disk is unknown, so it must be reopened.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { RaftNode, InMemoryNetwork } from 'raftkit';
 * import { FileStorage } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const storage = await FileStorage.open(dir);
 * const node = new RaftNode({ id: '1', peers: [], transport: new InMemoryNetwork().transport('1'), storage });
 * await node.start(); // resumes from what the directory holds
 * await node.stop();
 * await storage.close();
 * ```
 */
export class FileStorage implements Storage {
  /** The store's directory. */
  readonly dir: string;
  /** What opening found on disk. */
  readonly recovery: RecoveryReport;
  readonly #fs: FileSystem;
  readonly #codec: Codec;
  readonly #sync: boolean;
  readonly #segmentBytes: number;
  readonly #keepSnapshots: number;
  readonly #onWarning: (warning: StorageWarning) => void;

  // The store as every save so far leaves it (queued ones included): what the next save is checked against.
  #offset: number;
  #snapshotTerm: number;
  #hasSnapshot: boolean;
  /** The terms of the entries after the snapshot, in order. */
  #terms: number[];
  #hardState: HardState;

  // The store as written.
  #written: StateRecord;
  readonly #segments: Segment[];
  #file: FileHandle | null = null;
  /** The snapshot files on disk, oldest first. */
  readonly #snapshotFiles: SnapshotId[];

  #queue: Job[] = [];
  #writing: Promise<void> | null = null;
  /** A load() reading the store again: writes wait for it (it must see the files at rest). */
  #reading: Promise<unknown> | null = null;
  #failure: StorageError | null = null;
  #closed = false;
  /** The state recovered at open, handed out by the first load() if no save came before it. */
  #recovered: PersistedState | null;
  #stats = { saves: 0, writes: 0, syncs: 0, bytes: 0, snapshots: 0 };

  private constructor(dir: string, options: Required<FileStorageOptions>, recovered: Recovered) {
    this.dir = dir;
    this.#fs = options.fileSystem;
    this.#codec = options.codec;
    this.#sync = options.sync === 'always';
    this.#segmentBytes = options.segmentBytes;
    this.#keepSnapshots = options.keepSnapshots;
    this.#onWarning = options.onWarning;
    this.recovery = recovered.report;
    const { state } = recovered;
    this.#recovered = state;
    this.#offset = state.snapshot?.index ?? 0;
    this.#snapshotTerm = state.snapshot?.term ?? 0;
    this.#hasSnapshot = state.snapshot !== undefined;
    this.#terms = state.entries.map((e) => e.term);
    this.#hardState = state.hardState;
    this.#written = this.#stateRecord();
    this.#segments = recovered.segments;
    this.#snapshotFiles = recovered.snapshotFiles;
  }

  /**
   * Opens the store in `dir`, creating it when the directory is missing or empty, and recovers
   * what it holds. Takes the store's lock: a second open (by this process or another) fails
   * with `LOCKED` until {@link close}. Throws a {@link StorageError}: `NOT_A_STORE`,
   * `UNSUPPORTED_VERSION`, `ACCESS_DENIED`, `LOCKED`, or `CORRUPT`
   * ({@link StorageCorruptionError}); none of them writes anything.
   */
  static async open(dir: string, options: FileStorageOptions = {}): Promise<FileStorage> {
    if (typeof dir !== 'string' || dir.length === 0) throw new TypeError(`FileStorage.open: dir must be a non-empty path, got ${String(dir)}`);
    const settings = settingsOf(options);
    const fs = settings.fileSystem;
    const root = resolve(dir);
    // Claimed in this process before the first await, so that two opens at once cannot both pass.
    const held = opened(fs);
    if (held.has(root)) throw new StorageError('LOCKED', `${root}/${LOCK}`, `${root} is already open in this process; close that FileStorage first`);
    held.add(root);
    let locked = false;
    try {
      const fresh = await inspect(fs, root);
      if (fresh) {
        await fs.mkdir(root).catch((error: unknown) => Promise.reject(ioError(root, 'creating', error)));
        await fs.syncDir(dirname(root)).catch((error: unknown) => Promise.reject(ioError(dirname(root), 'syncing', error)));
      }
      await lock(fs, root, settings.onWarning);
      locked = true;
      if (fresh) await writeMeta(fs, root);
      const recovered = await recover(fs, root, settings.codec, settings.onWarning, true);
      return new FileStorage(root, settings, recovered);
    } catch (error) {
      held.delete(root);
      if (locked) await fs.unlink(`${root}/${LOCK}`).catch(() => undefined);
      throw error;
    }
  }

  /**
   * Everything the store holds. The first call returns what {@link open} recovered (and lets
   * it go); a later one (a node restarted on the same storage) reads the store again.
   */
  load(): PersistedState | Promise<PersistedState> {
    const recovered = this.#recovered;
    if (recovered !== null) {
      this.#recovered = null;
      return recovered;
    }
    return this.#reload();
  }

  async #reload(): Promise<PersistedState> {
    this.#assertOpen();
    while (this.#reading !== null || this.#writing !== null) await (this.#reading ?? this.#writing);
    if (this.#failure !== null) throw this.#failure;
    // (Synchronously after the loop: no write can begin before this is set, and each waits for it.)
    const reading = recover(this.#fs, this.dir, this.#codec, this.#onWarning, false);
    this.#reading = reading;
    try {
      return (await reading).state;
    } finally {
      this.#reading = null;
    }
  }

  /**
   * Appends `update` to the log; resolves once it is durable (with `sync: 'always'`). Checked
   * against the saves before it, as `MemoryStorage` checks: a snapshot older than the
   * stored one, or entries that would leave a gap, reject with a `RangeError` and change nothing.
   */
  save(update: StorageUpdate): Promise<void> {
    if (this.#closed) return Promise.reject(new StorageError('CLOSED', this.dir, `FileStorage ${this.dir} is closed`));
    if (this.#failure !== null) return Promise.reject(this.#failure);
    const { hardState, snapshot, entries = [] } = update;
    if (snapshot !== undefined && snapshot.index < this.#offset) {
      return Promise.reject(new RangeError(`FileStorage: snapshot at ${snapshot.index} is older than the stored one at ${this.#offset}`));
    }
    const keep = snapshot !== undefined && this.#termAt(snapshot.index) === snapshot.term; // its entries after the snapshot stay
    const offset = snapshot?.index ?? this.#offset;
    const last = snapshot === undefined || keep ? this.#offset + this.#terms.length : offset;
    const first = entries[0]?.index;
    if (first !== undefined && (first <= offset || first > last + 1)) {
      return Promise.reject(new RangeError(`FileStorage: entries start at ${first}, but the log holds ${offset + 1}..${last}`));
    }
    const record: UpdateRecord = {};
    if (hardState !== undefined) record.h = hardState;
    if (snapshot !== undefined) record.s = { index: snapshot.index, term: snapshot.term, keep };
    if (entries.length > 0) record.e = entries;
    let bytes: Uint8Array;
    try {
      bytes = frame(UPDATE, this.#codec.encode(record));
    } catch (error) {
      return Promise.reject(new TypeError(`FileStorage: the update cannot be encoded: ${String(error)}`, { cause: error }));
    }
    // Checked and encoded: now it is the store's next state (and a first load() must read it back).
    this.#recovered = null;
    if (hardState !== undefined) this.#hardState = hardState;
    if (snapshot !== undefined) {
      this.#hasSnapshot = true;
      if (keep) this.#terms.splice(0, snapshot.index - this.#offset);
      else this.#terms = [];
      this.#offset = snapshot.index;
      this.#snapshotTerm = snapshot.term;
    }
    if (first !== undefined) {
      this.#terms.length = first - 1 - this.#offset; // drop a conflicting suffix
      for (const entry of entries) this.#terms.push(entry.term);
    }
    const maxIndex = first === undefined ? 0 : first + entries.length - 1;
    return new Promise((resolve, reject) => {
      this.#queue.push({ bytes, snapshot, maxIndex, after: this.#stateRecord(), resolve, reject });
      if (this.#writing === null) this.#writing = this.#drain();
    });
  }

  /** Counters since the store was opened. */
  stats(): FileStorageStats {
    return { ...this.#stats, segments: this.#segments.length };
  }

  /** Waits for the saves in flight, then releases the files and the lock. Later saves reject with `CLOSED`. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    while (this.#reading !== null || this.#writing !== null) await (this.#reading ?? this.#writing)?.catch(() => undefined);
    await this.#file?.close().catch(() => undefined);
    this.#file = null;
    await unlock(this.#fs, this.dir);
  }

  #assertOpen(): void {
    if (this.#closed) throw new StorageError('CLOSED', this.dir, `FileStorage ${this.dir} is closed`);
  }

  #termAt(index: number): number | undefined {
    return index === this.#offset ? this.#snapshotTerm : this.#terms[index - 1 - this.#offset];
  }

  #stateRecord(): StateRecord {
    const snapshot = this.#hasSnapshot ? { index: this.#offset, term: this.#snapshotTerm } : null;
    return { hardState: this.#hardState, snapshot, lastIndex: this.#offset + this.#terms.length };
  }

  /** Writes the queue, a batch at a time: every save waiting when a write starts shares it and its sync. */
  async #drain(): Promise<void> {
    await null; // (so that #writing is set before this can end)
    while (this.#reading !== null) await this.#reading.catch(() => undefined);
    while (this.#queue.length > 0 && this.#failure === null) {
      const batch = this.#queue;
      this.#queue = [];
      try {
        for (const job of batch) if (job.snapshot !== undefined) await this.#writeSnapshot(job.snapshot);
        const file = await this.#segmentFor();
        // One write: the batch's mark (its length, so that recovery can tell a torn write from damage), then its records.
        const length = BATCH_BYTES + batch.reduce((sum, job) => sum + job.bytes.length, 0);
        const bytes = Buffer.concat([batchMark(length), ...batch.map((job) => job.bytes)], length);
        const segment = this.#segments[this.#segments.length - 1] as Segment;
        await file.append(bytes).catch((error: unknown) => Promise.reject(ioError(segment.path, 'writing', error)));
        segment.size += bytes.length;
        if (this.#sync) {
          await file.datasync().catch((error: unknown) => Promise.reject(ioError(segment.path, 'syncing', error)));
          this.#stats.syncs++;
        }
        this.#stats.writes++;
        this.#stats.bytes += bytes.length;
        for (const job of batch) segment.maxIndex = Math.max(segment.maxIndex, job.maxIndex);
        this.#written = (batch[batch.length - 1] as Job).after;
      } catch (error) {
        // What reached the disk is unknown: refuse everything from here on (a sync that failed may
        // have dropped the data it was to make durable, and a retry could report success falsely).
        this.#failure = ioError(this.dir, 'writing to', error);
        for (const job of batch) job.reject(this.#failure);
        break;
      }
      // Before the saves resolve, so that what a snapshot made obsolete is gone by then (a failure only warns).
      if (batch.some((job) => job.snapshot !== undefined)) await this.#compact();
      this.#stats.saves += batch.length;
      for (const job of batch) job.resolve();
    }
    if (this.#failure !== null) for (const job of this.#queue.splice(0)) job.reject(this.#failure);
    this.#writing = null;
  }

  /** The segment to append to: the last one, or a new one when it is full (or there is none). */
  async #segmentFor(): Promise<FileHandle> {
    const last = this.#segments[this.#segments.length - 1];
    if (last !== undefined && last.size < this.#segmentBytes) {
      if (this.#file !== null) return this.#file;
      try {
        this.#file = await this.#fs.open(last.path, 'append');
        return this.#file;
      } catch (error) {
        throw ioError(last.path, 'opening', error);
      }
    }
    const seq = (last?.seq ?? 0) + 1;
    const path = `${this.dir}/${pad(seq)}.wal`;
    const opening = frame(STATE, this.#codec.encode(this.#written));
    let file: FileHandle;
    try {
      // Its opening is durable before the segment has its name: so a damaged opening is damage, never a torn write.
      const temporary = `${path}.tmp`;
      await this.#fs.unlink(temporary).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? undefined : Promise.reject(error)));
      const created = await this.#fs.open(temporary, 'create');
      await created.append(opening);
      await created.datasync();
      await created.close();
      await this.#fs.rename(temporary, path);
      await this.#fs.syncDir(this.dir); // the new name must survive a power cut too
      await this.#file?.close();
      file = await this.#fs.open(path, 'append');
    } catch (error) {
      throw ioError(path, 'creating', error);
    }
    this.#file = file;
    this.#segments.push({ seq, path, maxIndex: this.#written.lastIndex, size: opening.length });
    return file;
  }

  /** Writes a snapshot's file: to a temporary name, synced, renamed, and the directory synced. */
  async #writeSnapshot(snapshot: Snapshot): Promise<void> {
    const path = `${this.dir}/${snapshotName(snapshot)}`;
    const temporary = `${path}.tmp`;
    try {
      await this.#fs.unlink(temporary).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? undefined : Promise.reject(error)));
      const file = await this.#fs.open(temporary, 'create');
      try {
        await file.append(frame(SNAPSHOT, this.#codec.encode(snapshot)));
        await file.datasync();
      } finally {
        await file.close();
      }
      await this.#fs.rename(temporary, path);
      await this.#fs.syncDir(this.dir);
    } catch (error) {
      throw ioError(path, 'writing snapshot', error);
    }
    if (!this.#snapshotFiles.some((file) => file.index === snapshot.index && file.term === snapshot.term)) this.#snapshotFiles.push({ index: snapshot.index, term: snapshot.term });
    this.#stats.snapshots++;
  }

  /**
   * After a snapshot is durable: deletes the oldest segments whose every entry it covers (never
   * the one being written), and the snapshot files older than the ones kept. Oldest first, and
   * it stops at a file it cannot delete: the segments left are always a run without gaps.
   */
  async #compact(): Promise<void> {
    const covered = this.#written.snapshot?.index ?? 0;
    while (this.#segments.length > 1 && (this.#segments[0] as Segment).maxIndex <= covered) {
      if (!(await this.#delete((this.#segments[0] as Segment).path))) break;
      this.#segments.shift();
    }
    while (this.#snapshotFiles.length > this.#keepSnapshots) {
      if (!(await this.#delete(`${this.dir}/${snapshotName(this.#snapshotFiles[0] as SnapshotId)}`))) break;
      this.#snapshotFiles.shift();
    }
  }

  /** Deletes a file made obsolete; false (with a warning) when it cannot. */
  async #delete(path: string): Promise<boolean> {
    try {
      await this.#fs.unlink(path);
      return true;
    } catch (error) {
      if (codeOf(error) === 'ENOENT') return true;
      this.#onWarning({ code: 'CLEANUP_FAILED', path, message: `could not delete ${path}: ${codeOf(error) ?? String(error)}` });
      return false;
    }
  }
}

function settingsOf(options: FileStorageOptions): Required<FileStorageOptions> {
  const { sync = 'always', segmentBytes = 64 * 1024 * 1024, keepSnapshots = 2, codec = jsonCodec, fileSystem = nodeFileSystem } = options;
  if (sync !== 'always' && sync !== 'never') throw new RangeError(`FileStorage: sync must be 'always' or 'never', got ${String(sync)}`);
  if (!Number.isSafeInteger(segmentBytes) || segmentBytes < 1) throw new RangeError(`FileStorage: segmentBytes must be a positive integer, got ${String(segmentBytes)}`);
  if (keepSnapshots !== 1 && keepSnapshots !== 2) throw new RangeError(`FileStorage: keepSnapshots must be 1 or 2, got ${String(keepSnapshots)}`);
  if (typeof codec?.encode !== 'function' || typeof codec.decode !== 'function') throw new TypeError('FileStorage: codec must have encode() and decode()');
  const report = options.onWarning ?? ((warning: StorageWarning) => process.emitWarning(warning.message, { type: 'RaftkitStorageWarning', code: warning.code }));
  const onWarning = (warning: StorageWarning): void => {
    try {
      report(warning);
    } catch {
      // A listener that throws must not stop a write or a recovery: the warning was for it alone.
    }
  };
  return { sync, segmentBytes, keepSnapshots, codec, fileSystem, onWarning };
}

/**
 * Whether `root` is to become a new store: missing, empty, or holding only what a creation cut
 * short leaves (a raftkit lock, temporary files). Throws unless it is a store already. Writes nothing.
 */
async function inspect(fs: FileSystem, root: string): Promise<boolean> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return true;
    if (codeOf(error) === 'ENOTDIR') throw new StorageError('NOT_A_STORE', root, `${root} is not a directory, so it cannot be a raftkit store`, { cause: error });
    throw ioError(root, 'reading', error);
  }
  if (names.every((name) => name.startsWith(LOCK) || name.endsWith('.tmp'))) {
    // A lock and no marker: a creation cut short (or under way: the lock will tell).
    const lockText = names.includes(LOCK) ? await readLock(fs, `${root}/${LOCK}`) : undefined;
    if (lockText === undefined || parseLock(lockText) !== null) return true;
  }
  const path = `${root}/${META}`;
  if (!names.includes(META)) throw new StorageError('NOT_A_STORE', root, `${root} holds files but no ${META}: it is not a raftkit store (nothing was written)`);
  let meta: { format?: unknown; version?: unknown } | undefined;
  try {
    meta = JSON.parse(Buffer.from(await fs.readFile(path)).toString('utf8')) as typeof meta; // (always JSON, whatever the codec)
  } catch (error) {
    if (codeOf(error) !== undefined) throw ioError(path, 'reading', error);
  }
  if (meta?.format !== FORMAT) throw new StorageError('NOT_A_STORE', path, `${path} does not describe a raftkit store (nothing was written)`);
  if (meta.version !== VERSION) {
    const newer = typeof meta.version === 'number' && meta.version > VERSION;
    throw new StorageError(newer ? 'UNSUPPORTED_VERSION' : 'NOT_A_STORE', path, `${root} has format version ${String(meta.version)}; this raftkit reads version ${VERSION}${newer ? ' (upgrade raftkit)' : ''}`);
  }
  return false;
}

/** Writes the marker of a new store: to a temporary name, synced, renamed, and the directory synced. */
async function writeMeta(fs: FileSystem, root: string): Promise<void> {
  const path = `${root}/${META}`;
  try {
    await fs.unlink(`${path}.tmp`).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? undefined : Promise.reject(error))); // (a creation cut short)
    const file = await fs.open(`${path}.tmp`, 'create');
    await file.append(Buffer.from(`${JSON.stringify({ format: FORMAT, version: VERSION })}\n`));
    await file.datasync();
    await file.close();
    await fs.rename(`${path}.tmp`, path);
    await fs.syncDir(root);
  } catch (error) {
    throw ioError(path, 'creating', error);
  }
}

/** The text of a lock file, or undefined when there is none (a read that fails otherwise throws: it proves nothing stale). */
async function readLock(fs: FileSystem, path: string): Promise<string | undefined> {
  try {
    return Buffer.from(await fs.readFile(path)).toString('utf8');
  } catch (error) {
    if (codeOf(error) === 'ENOENT') return undefined;
    throw ioError(path, 'reading', error);
  }
}

/** A lock's owner: `pid\nboot id\nincarnation\n`, or null when the text is no raftkit lock. */
function parseLock(text: string): { pid: number; boot: string; incarnation: string } | null {
  const match = /^(\d+)\n([^\n]*)\n(?:([^\n]*)\n)?$/.exec(text);
  return match === null ? null : { pid: Number(match[1]), boot: match[2] as string, incarnation: match[3] ?? '' };
}

/** Names this process's temporary lock files apart from each other (and, by the pid, from other processes'). */
let lockSerial = 0;

/**
 * Takes the store's lock, the file `LOCK` holding `pid\nboot id\n`. It is written under a
 * temporary name and linked into place, so that it appears whole or not at all, and only one of
 * several processes linking it at once succeeds. A lock left by a process that no longer runs (or
 * from an earlier boot) is taken over, and only under a second lock, `LOCK.takeover`: else two
 * processes that both judged it stale could each delete it, the second deleting the first's new
 * one. A takeover that a crash cut short leaves `LOCK.takeover` behind; opening then fails with
 * `LOCKED`, naming the file to delete.
 */
async function lock(fs: FileSystem, root: string, onWarning: (warning: StorageWarning) => void): Promise<void> {
  const path = `${root}/${LOCK}`;
  const takeover = `${path}.takeover`;
  const boot = fs.bootId?.() ?? BOOT_ID;
  const temporary = `${path}.${process.pid}.${++lockSerial}.tmp`;
  try {
    const file = await fs.open(temporary, 'create');
    await file.append(Buffer.from(`${process.pid}\n${boot}\n${INCARNATION}\n`));
    await file.close();
  } catch (error) {
    throw ioError(temporary, 'creating', error);
  }
  const exclusive = async (to: string): Promise<boolean> => {
    try {
      await fs.link(temporary, to);
      return true;
    } catch (error) {
      if (codeOf(error) === 'EEXIST') return false;
      throw ioError(to, 'creating', error);
    }
  };
  try {
    for (let attempt = 0; attempt < 5; attempt++) {
      if (await exclusive(path)) return;
      const seen = await readLock(fs, path);
      if (seen === undefined) continue; // released meanwhile
      const owner = parseLock(seen);
      // Held by a process that runs: written in this boot by a pid that is alive, and if that pid is
      // ours, by this very process (through another FileSystem object). Our pid with another
      // incarnation is an earlier process: a container restarts with the same pid.
      const live = owner !== null && owner.boot === boot && (owner.pid === process.pid ? owner.incarnation === INCARNATION : processAlive(owner.pid));
      if (live) {
        throw new StorageError('LOCKED', path, `${root} is in use by process ${owner.pid}${owner.pid === process.pid ? ' (this one)' : ''} (${path}); stop it first (or delete the lock if that process is not raftkit)`);
      }
      if (!(await exclusive(takeover))) {
        const by = parseLock((await readLock(fs, takeover)) ?? '');
        const gone = by !== null && !(by.boot === boot && processAlive(by.pid));
        throw new StorageError('LOCKED', takeover, gone ? `${root}: taking over its stale lock was cut short (${takeover}, left by process ${by.pid}); delete that file if no raftkit process is opening the store` : `${root}: another process is taking over its stale lock`);
      }
      try {
        // Under the takeover lock only this process deletes LOCK, and none can replace it before: it is still the one judged stale, or gone.
        if ((await readLock(fs, path)) === seen) {
          await fs.unlink(path).catch((error: unknown) => (codeOf(error) === 'ENOENT' ? undefined : Promise.reject(ioError(path, 'taking over', error))));
          onWarning({ code: 'STALE_LOCK', path, message: `${path} was left by process ${owner?.pid ?? '(unknown)'}, which no longer runs: taken over` });
        }
      } finally {
        await fs.unlink(takeover).catch(() => undefined);
      }
    }
    throw new StorageError('LOCKED', path, `${root}: its lock keeps changing hands (other processes are opening it)`);
  } finally {
    await fs.unlink(temporary).catch(() => undefined);
  }
}

async function unlock(fs: FileSystem, root: string): Promise<void> {
  if (!opened(fs).delete(root)) return;
  await fs.unlink(`${root}/${LOCK}`).catch(() => undefined);
}

interface Recovered {
  readonly state: PersistedState;
  readonly report: RecoveryReport;
  readonly segments: Segment[];
  readonly snapshotFiles: SnapshotId[];
}

/**
 * Reads the store: replays the segments' records in order, and loads the snapshot the log names.
 * Entries the snapshot covers may live in deleted segments: until a snapshot covers them they are
 * holes (`holesTo`), and one left at the end means records are missing. With `repair`, it then
 * cuts a torn tail off the last segment and deletes what crashes left half-made; it changes
 * nothing before it has judged the whole store sound.
 */
async function recover(fs: FileSystem, root: string, codec: Codec, onWarning: (warning: StorageWarning) => void, repair: boolean): Promise<Recovered> {
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (error) {
    throw ioError(root, 'reading', error);
  }
  const allSeqs = names.flatMap((name) => SEGMENT_FILE.exec(name)?.[1] ?? []).map(Number).sort((a, b) => a - b);
  // Segments before a gap in the numbering are what a compaction cut short left behind: the segment
  // after the gap opens with the whole state, and its snapshot must cover what they held (a hole).
  let from = 0;
  for (let i = 1; i < allSeqs.length; i++) if (allSeqs[i] !== (allSeqs[i - 1] as number) + 1) from = i;
  const seqs = allSeqs.slice(from);
  const snapshotFiles = names
    .flatMap((name) => {
      const match = SNAPSHOT_FILE.exec(name);
      return match === null ? [] : [{ index: Number(match[1]), term: Number(match[2]) }];
    })
    .sort((a, b) => a.index - b.index || a.term - b.term);

  let hardState: HardState = { term: 0, votedFor: null };
  let hasSnapshot = false;
  let offset = 0;
  let snapshotTerm = 0;
  let holesTo = 0;
  let entries: LogEntry[] = [];
  let records = 0;
  let bytesRead = 0;
  let tornTail: RecoveryReport['tornTail'];
  const segments: Segment[] = allSeqs.slice(0, from).map((seq) => ({ seq, path: `${root}/${pad(seq)}.wal`, maxIndex: 0, size: 0 })); // (deleted at the next snapshot)
  const leftovers = segments.length;
  // Each segment is read while the one before it is replayed.
  const read = (i: number): Promise<Uint8Array> | undefined => {
    const seq = seqs[i];
    if (seq === undefined) return undefined;
    const reading = fs.readFile(`${root}/${pad(seq)}.wal`);
    reading.catch(() => undefined); // (awaited below; not an unhandled rejection if replay stops first)
    return reading;
  };
  let next = read(0);
  for (const [i, seq] of seqs.entries()) {
    const path = `${root}/${pad(seq)}.wal`;
    let bytes: Uint8Array;
    try {
      bytes = await (next as Promise<Uint8Array>);
    } catch (error) {
      throw ioError(path, 'reading', error);
    }
    next = read(i + 1);
    bytesRead += bytes.length;
    const scanned = scan(bytes);
    let size = bytes.length;
    if (scanned.badAt !== undefined) {
      if (scanned.badAt === 0) throw new StorageCorruptionError(path, 0, 'the segment does not open with an intact record');
      if (i !== seqs.length - 1) throw new StorageCorruptionError(path, scanned.badAt, 'a record failed its checksum in a segment that is not the last');
      if (scanned.tornFrom === undefined) throw new StorageCorruptionError(path, scanned.badAt, 'a damaged record is followed by a later write, so it is not a torn one');
      // The last write, cut short by a crash: it was never acknowledged. It is cut off below.
      tornTail = { path, offset: scanned.tornFrom, bytes: bytes.length - scanned.tornFrom };
      size = scanned.tornFrom;
    }
    if (scanned.records[0]?.type !== STATE) throw new StorageCorruptionError(path, 0, 'a segment must open with its state record');
    let maxIndex = 0;
    for (const [k, record] of scanned.records.entries()) {
      if (record.type === BATCH) continue;
      let value: unknown;
      try {
        value = codec.decode(record.payload);
      } catch (error) {
        throw new StorageCorruptionError(path, record.offset, `its record does not decode (${String(error)})`);
      }
      records++;
      if (record.type === STATE) {
        if (k !== 0) throw new StorageCorruptionError(path, record.offset, 'a segment opening in the middle of a segment');
        const opening = value as StateRecord;
        maxIndex = opening.lastIndex;
        if (segments.length > leftovers) {
          // The segments before it must end in the state it opens with.
          const same =
            opening.hardState?.term === hardState.term &&
            opening.hardState.votedFor === hardState.votedFor &&
            (opening.snapshot === null ? !hasSnapshot : hasSnapshot && opening.snapshot.index === offset && opening.snapshot.term === snapshotTerm) &&
            opening.lastIndex === holesTo + entries.length;
          if (!same) throw new StorageCorruptionError(path, 0, 'the segment opens with a state that the segments before it do not end in');
          continue;
        }
        hardState = opening.hardState;
        hasSnapshot = opening.snapshot !== null;
        offset = opening.snapshot?.index ?? 0;
        snapshotTerm = opening.snapshot?.term ?? 0;
        holesTo = opening.lastIndex; // entries in deleted segments: a later snapshot covers them
        continue;
      }
      if (record.type !== UPDATE) throw new StorageCorruptionError(path, record.offset, 'a snapshot record in a segment');
      const update = value as UpdateRecord;
      if (update.h !== undefined) hardState = update.h;
      if (update.s !== undefined) {
        const { index, term, keep } = update.s;
        if (keep && index >= holesTo) entries.splice(0, index - holesTo);
        else if (!keep) entries = [];
        holesTo = keep ? Math.max(holesTo, index) : index;
        hasSnapshot = true;
        offset = index;
        snapshotTerm = term;
      }
      const first = update.e?.[0]?.index;
      if (first !== undefined) {
        const last = holesTo + entries.length;
        if (first <= offset || first > last + 1) throw new StorageCorruptionError(path, record.offset, `entries start at ${first}, but the log holds ${offset + 1}..${last}`);
        if (first <= holesTo) {
          holesTo = first - 1;
          entries = [];
        } else {
          entries.length = first - 1 - holesTo;
        }
        for (const entry of update.e as LogEntry[]) entries.push(entry);
        maxIndex = Math.max(maxIndex, first + (update.e as LogEntry[]).length - 1);
      }
    }
    segments.push({ seq, path, maxIndex, size });
  }
  if (holesTo > offset) throw new StorageCorruptionError(segments[leftovers]?.path ?? root, 0, `log entries ${offset + 1}..${holesTo} are missing (a segment was deleted or lost)`);

  let snapshot: Snapshot | undefined;
  const named = { index: offset, term: snapshotTerm };
  if (hasSnapshot) {
    const path = `${root}/${snapshotName(named)}`;
    let bytes: Uint8Array;
    try {
      bytes = await fs.readFile(path);
    } catch (error) {
      if (codeOf(error) === 'ENOENT') throw new StorageCorruptionError(path, 0, `the log names a snapshot at index ${offset} (term ${snapshotTerm}), but its file is missing`);
      throw ioError(path, 'reading', error);
    }
    const record = recordAt(bytes, 0);
    if (record === undefined || record.type !== SNAPSHOT) throw new StorageCorruptionError(path, 0, 'the snapshot file failed its checksum');
    try {
      snapshot = codec.decode(record.payload) as Snapshot;
    } catch (error) {
      throw new StorageCorruptionError(path, 0, `the snapshot does not decode (${String(error)})`);
    }
    if (snapshot?.index !== offset || snapshot.term !== snapshotTerm) throw new StorageCorruptionError(path, 0, `the file holds the snapshot at ${String(snapshot?.index)} (term ${String(snapshot?.term)}), not at ${offset} (term ${snapshotTerm})`);
  }
  // A snapshot file the log does not name, newer than the one it does: a crash came before the log named it.
  const unnamed = (file: SnapshotId): boolean => !hasSnapshot || file.index > offset || (file.index === offset && file.term !== snapshotTerm);

  const last = segments[segments.length - 1];
  if (repair && last !== undefined && segments.length > leftovers) {
    // What was read is durable before anyone acts on it: a write whose sync failed (or was never
    // made) may still be in the page cache, readable now and lost at the next power cut.
    try {
      const file = await fs.open(last.path, 'append');
      if (tornTail !== undefined) await file.truncate(tornTail.offset);
      await file.datasync();
      await file.close();
    } catch (error) {
      throw ioError(last.path, 'syncing', error);
    }
    if (tornTail !== undefined) {
      const { path, offset: at, bytes } = tornTail;
      onWarning({ code: 'TORN_TAIL', path, offset: at, bytes, message: `${path}: cut off a torn last write (${bytes} bytes at byte ${at}), which a crash cut short` });
    }
  }
  if (repair) {
    // Writes a crash cut short (not the lock's: those belong to processes opening the store now).
    for (const name of names) if (name.endsWith('.tmp') && !name.startsWith(`${LOCK}.`)) await fs.unlink(`${root}/${name}`).catch(() => undefined);
    for (const file of snapshotFiles) if (unnamed(file)) await fs.unlink(`${root}/${snapshotName(file)}`).catch(() => undefined);
  }
  const state: PersistedState = snapshot === undefined ? { hardState, entries } : { hardState, snapshot, entries };
  const report = { segments: segments.length - leftovers, records, entries: entries.length, bytes: bytesRead, snapshotIndex: offset, ...(tornTail === undefined ? {} : { tornTail }) };
  return { state, report, segments, snapshotFiles: snapshotFiles.filter((file) => !unnamed(file)) };
}
