/**
 * What can go wrong with a store on disk, as typed errors with stable codes.
 */
import { RaftError } from '../raft/errors.js';

/**
 * Why a {@link StorageError} was raised:
 * - `CORRUPT`: a record before the log's tail failed its checksum, or the log has a hole
 *   ({@link StorageCorruptionError}); the store is not opened, and nothing is dropped;
 * - `LOCKED`: another process (or another open `FileStorage` in this one) holds the store;
 * - `NOT_A_STORE`: the path is not a directory, or holds files but no raftkit store;
 * - `UNSUPPORTED_VERSION`: the store was written by a newer raftkit;
 * - `ACCESS_DENIED`: the process may not read or write the directory;
 * - `IO_FAILED`: a write or sync failed (EIO, ENOSPC, …): that save and every later one reject;
 * - `CLOSED`: the storage was closed.
 *
 * @example
 * ```ts
 * import { StorageError, type StorageErrorCode } from 'raftkit/node';
 * const retryable = (error: unknown): boolean => error instanceof StorageError && (['LOCKED'] as StorageErrorCode[]).includes(error.code);
 * console.log(retryable(new StorageError('LOCKED', '/data', 'in use'))); // true
 * ```
 */
export type StorageErrorCode = 'CORRUPT' | 'LOCKED' | 'NOT_A_STORE' | 'UNSUPPORTED_VERSION' | 'ACCESS_DENIED' | 'IO_FAILED' | 'CLOSED';

/**
 * An error of a {@link FileStorage}: `code` says why, `path` where, and `cause` carries the
 * file system's own error when there was one.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, StorageError } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * const first = await FileStorage.open(dir);
 * try { await FileStorage.open(dir); } catch (error) {
 *   if (error instanceof StorageError) console.log(error.code); // LOCKED
 * }
 * await first.close();
 * ```
 */
export class StorageError extends RaftError {
  declare readonly code: StorageErrorCode;
  /** The file or directory concerned. */
  declare readonly path: string;
  constructor(code: StorageErrorCode, path: string, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
    this.name = 'StorageError';
    this.path = path;
  }
}

/**
 * A store that cannot be trusted as it is: a record before the log's tail failed its checksum
 * (a flipped byte, not a torn write), or records are missing. It names the file and the byte
 * offset. Nothing is repaired or dropped: restore the store from a backup, or from another node.
 *
 * @example
 * ```ts
 * import { mkdtemp } from 'node:fs/promises';
 * import { tmpdir } from 'node:os';
 * import { join } from 'node:path';
 * import { FileStorage, StorageCorruptionError } from 'raftkit/node';
 * const dir = await mkdtemp(join(tmpdir(), 'raftkit-'));
 * try { await FileStorage.open(dir); } catch (error) {
 *   if (error instanceof StorageCorruptionError) console.log(`damaged: ${error.path} at byte ${error.offset}`);
 * }
 * ```
 */
export class StorageCorruptionError extends StorageError {
  /** The byte offset in {@link StorageError.path} where the damage starts. */
  declare readonly offset: number;
  constructor(path: string, offset: number, why: string) {
    super('CORRUPT', path, `${path} is corrupt at byte ${offset}: ${why}; the store was not opened (nothing was changed)`);
    this.name = 'StorageCorruptionError';
    this.offset = offset;
  }
}
