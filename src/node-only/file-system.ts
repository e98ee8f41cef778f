/**
 * The file operations {@link FileStorage} needs, as an interface: {@link nodeFileSystem} is the
 * real one (`node:fs/promises`), and tests put a simulated disk behind it that loses what was
 * not synced at a power cut, tears writes, and fails with EIO or ENOSPC.
 */
import { constants, writeSync } from 'node:fs';
import { link, mkdir, open, readdir, readFile, rename, unlink } from 'node:fs/promises';

/**
 * An open file, written only at its end (what {@link FileSystem.open} returns).
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { nodeFileSystem, type FileHandle } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const file: FileHandle = await nodeFileSystem.open(join(dir, 'log'), 'append');
 * await file.append(new TextEncoder().encode('record\n'));
 * await file.datasync(); // durable from here
 * await file.close();
 * ```
 */
export interface FileHandle {
  /** Appends `data` at the end of the file (not yet durable). */
  append(data: Uint8Array): Promise<void>;
  /** Makes everything written so far durable (`fdatasync`). */
  datasync(): Promise<void>;
  /** Cuts the file to `length` bytes (not yet durable: call {@link datasync}). */
  truncate(length: number): Promise<void>;
  /** Closes the file (what was not synced is not made durable by closing). */
  close(): Promise<void>;
}

/**
 * The file system under a {@link FileStorage}. Paths are joined with `/`. Errors are Node's:
 * objects with a `code` such as `ENOENT`, `EEXIST`, `EACCES`, `EIO` or `ENOSPC`.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, nodeFileSystem, type FileSystem } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * // Counts the syncs of a store (a real wrapper might add latency or faults).
 * let syncs = 0;
 * const counting: FileSystem = {
 *   ...nodeFileSystem,
 *   async open(path, mode) {
 *     const file = await nodeFileSystem.open(path, mode);
 *     return { ...file, append: (data) => file.append(data), truncate: (n) => file.truncate(n), close: () => file.close(), datasync: () => (syncs++, file.datasync()) };
 *   },
 * };
 * const storage = await FileStorage.open(dir, { fileSystem: counting });
 * await storage.save({ hardState: { term: 1, votedFor: null } });
 * await storage.close();
 * console.log(syncs > 0); // true
 * ```
 */
export interface FileSystem {
  /** Creates the directory and its parents; no error when it exists. */
  mkdir(path: string): Promise<void>;
  /** The names in a directory. */
  readdir(path: string): Promise<string[]>;
  /** A whole file's bytes. */
  readFile(path: string): Promise<Uint8Array>;
  /** Opens a file to append to: `'append'` creates it when missing, `'create'` fails with EEXIST when it exists. */
  open(path: string, mode: 'append' | 'create'): Promise<FileHandle>;
  /** Renames a file, replacing any at `to` (durable once the directory is synced). */
  rename(from: string, to: string): Promise<void>;
  /** Gives the file at `from` a second name `to`; fails with EEXIST when `to` exists (so a file appears whole, or not at all). */
  link(from: string, to: string): Promise<void>;
  /** Deletes a file. */
  unlink(path: string): Promise<void>;
  /** Makes the directory's entries (files created, renamed, deleted) durable. */
  syncDir(path: string): Promise<void>;
  /**
   * Names the machine's current boot (on Linux, `/proc/sys/kernel/random/boot_id`), so that a
   * lock from before a reboot is known stale. Optional: the default is read from the system.
   */
  bootId?(): string;
}

/** Appends up to this size go straight to the page cache, on the calling thread. */
const SYNC_WRITE_BYTES = 256 * 1024;

/**
 * The real file system, through `node:fs/promises` (small appends through `writeSync`).
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, nodeFileSystem } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const storage = await FileStorage.open(dir, { fileSystem: nodeFileSystem }); // the default
 * await storage.close();
 * ```
 */
export const nodeFileSystem: FileSystem = {
  mkdir: async (path) => void (await mkdir(path, { recursive: true })),
  readdir: (path) => readdir(path),
  readFile: (path) => readFile(path),
  async open(path, mode) {
    const file = await open(path, mode === 'create' ? constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_APPEND : 'a');
    return {
      async append(data) {
        let written = 0;
        // A small write only copies into the page cache: doing it here saves a trip through the
        // thread pool (and its wake-ups) on every group commit; the fdatasync after it stays async.
        if (data.length <= SYNC_WRITE_BYTES) while (written < data.length) written += writeSync(file.fd, data, written, data.length - written);
        while (written < data.length) written += (await file.write(data, written, data.length - written)).bytesWritten;
      },
      datasync: () => file.datasync(),
      truncate: (length) => file.truncate(length),
      close: () => file.close(),
    };
  },
  rename: (from, to) => rename(from, to),
  link: (from, to) => link(from, to),
  unlink: (path) => unlink(path),
  async syncDir(path) {
    const dir = await open(path, 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  },
};
