/**
 * A simulated disk behind raftkit/node's FileSystem interface, for crash tests without a crash.
 *
 * What is durable follows the rules a careful storage engine must assume:
 * - a file's bytes are durable only up to its last `datasync`;
 * - a name (a file created, renamed or deleted) is durable only once its directory is synced;
 * - at a power cut, everything else is lost, except that the unsynced end of a file may survive
 *   in part: a random prefix of it (a torn write), in which some sectors may read back as zeros
 *   (the disk wrote some of the write's pages and not others);
 * - any operation can be made to fail (EIO, ENOSPC, EACCES); a failed sync makes nothing durable.
 *
 * After {@link SimulatedDisk.powerCut}, handles and views from before the cut fail with EIO (the
 * machine went down); take a new view with {@link SimulatedDisk.fileSystem}.
 */
import type { FileHandle, FileSystem } from '../../src/node-only/file-system.js';

interface Inode {
  data: Buffer;
  durable: Buffer;
}

type Op = 'append' | 'datasync' | 'open' | 'rename' | 'link' | 'unlink' | 'syncDir' | 'readdir' | 'readFile' | 'mkdir';

const fsError = (code: string, op: string, path: string): Error => Object.assign(new Error(`${code}: ${op} ${path}`), { code });
const parentOf = (path: string): string => path.slice(0, Math.max(1, path.lastIndexOf('/')));

export class SimulatedDisk {
  #live = new Map<string, Inode>();
  #durable = new Map<string, Inode>();
  #dirs = new Set<string>(['/']);
  #boot = 0;
  #faults: Array<{ op: Op; code: string; path?: RegExp }> = [];
  readonly #random: () => number;
  /** Counters, for tests that check what the storage did. */
  readonly counts = { datasync: 0, syncDir: 0, append: 0 };

  constructor(random: () => number) {
    this.#random = random;
  }

  /** The next `op` (on a path matching `path`, if given) fails with `code`. */
  failNext(op: Op, code: string, path?: RegExp): void {
    this.#faults.push(path === undefined ? { op, code } : { op, code, path });
  }

  /** Forgets the faults not yet triggered. */
  clearFaults(): void {
    this.#faults = [];
  }

  /** The granularity of a scattered tear: small, so that one record may lose some sectors and keep others. */
  static readonly SECTOR_BYTES = 32;

  /** Loses what was not made durable; the unsynced end of each file survives as a random prefix, perhaps with holes. */
  powerCut(): void {
    this.#boot++;
    this.#faults = [];
    const live = new Map<string, Inode>();
    const seen = new Map<Inode, Inode>();
    for (const [path, inode] of this.#durable) {
      let after = seen.get(inode);
      if (after === undefined) {
        const { data, durable } = inode;
        const extends_ = data.length > durable.length && data.subarray(0, durable.length).equals(durable);
        const kept = extends_ ? Math.floor(this.#random() * (data.length - durable.length + 1)) : 0;
        const content = Buffer.from(extends_ ? data.subarray(0, durable.length + kept) : durable);
        if (kept > 0 && this.#random() < 0.3) {
          // Some sectors of what survived were never written: they read back as zeros.
          for (let at = durable.length; at < content.length; at += SimulatedDisk.SECTOR_BYTES) {
            if (this.#random() < 0.3) content.fill(0, at, Math.min(content.length, at + SimulatedDisk.SECTOR_BYTES));
          }
        }
        after = { data: content, durable: Buffer.from(content) };
        seen.set(inode, after);
      }
      live.set(path, after);
    }
    this.#live = live;
    this.#durable = new Map(live);
  }

  /** Flips one byte of a file, durably (bit rot). */
  flip(path: string, offset: number): void {
    const inode = this.#live.get(path);
    if (inode === undefined || offset >= inode.data.length) throw new Error(`no byte ${offset} in ${path}`);
    inode.data[offset] = (inode.data[offset] as number) ^ 0xff;
    inode.durable = Buffer.from(inode.data);
  }

  /** A file's current bytes (for tests). */
  bytes(path: string): Buffer | undefined {
    return this.#live.get(path)?.data;
  }

  /** The names in the directory now (for tests). */
  list(dir: string): string[] {
    return [...this.#live.keys()].filter((path) => parentOf(path) === dir).map((path) => path.slice(dir.length + 1)).sort();
  }

  /** A view of the disk, valid until the next power cut. */
  fileSystem(): FileSystem {
    const boot = this.#boot;
    const check = (op: Op, path: string): void => {
      if (this.#boot !== boot) throw fsError('EIO', op, path); // a handle from before the power cut
      const i = this.#faults.findIndex((f) => f.op === op && (f.path === undefined || f.path.test(path)));
      if (i >= 0) {
        const [fault] = this.#faults.splice(i, 1);
        throw fsError((fault as { code: string }).code, op, path);
      }
    };
    const handle = (path: string, inode: Inode): FileHandle => ({
      append: async (data) => {
        check('append', path);
        this.counts.append++;
        inode.data = Buffer.concat([inode.data, data]);
      },
      datasync: async () => {
        check('datasync', path);
        this.counts.datasync++;
        inode.durable = Buffer.from(inode.data);
      },
      truncate: async (length) => {
        check('append', path);
        inode.data = Buffer.from(inode.data.subarray(0, length));
      },
      close: async () => undefined,
    });
    return {
      mkdir: async (path) => {
        check('mkdir', path);
        for (let dir = path; dir !== '/' && !this.#dirs.has(dir); dir = parentOf(dir)) this.#dirs.add(dir);
      },
      readdir: async (path) => {
        check('readdir', path);
        if (this.#live.has(path)) throw fsError('ENOTDIR', 'readdir', path);
        if (!this.#dirs.has(path)) throw fsError('ENOENT', 'readdir', path);
        return this.list(path);
      },
      readFile: async (path) => {
        check('readFile', path);
        const inode = this.#live.get(path);
        if (inode === undefined) throw fsError(this.#dirs.has(path) ? 'EISDIR' : 'ENOENT', 'readFile', path);
        return Buffer.from(inode.data);
      },
      open: async (path, mode) => {
        check('open', path);
        if (!this.#dirs.has(parentOf(path))) throw fsError('ENOENT', 'open', path);
        let inode = this.#live.get(path);
        if (inode !== undefined && mode === 'create') throw fsError('EEXIST', 'open', path);
        if (inode === undefined) {
          inode = { data: Buffer.alloc(0), durable: Buffer.alloc(0) };
          this.#live.set(path, inode);
        }
        return handle(path, inode);
      },
      rename: async (from, to) => {
        check('rename', from);
        const inode = this.#live.get(from);
        if (inode === undefined) throw fsError('ENOENT', 'rename', from);
        this.#live.delete(from);
        this.#live.set(to, inode);
      },
      link: async (from, to) => {
        check('link', from);
        const inode = this.#live.get(from);
        if (inode === undefined) throw fsError('ENOENT', 'link', from);
        if (this.#live.has(to)) throw fsError('EEXIST', 'link', to);
        this.#live.set(to, inode);
      },
      unlink: async (path) => {
        check('unlink', path);
        if (!this.#live.delete(path)) throw fsError('ENOENT', 'unlink', path);
      },
      bootId: () => `simulated boot ${boot}`, // a power cut is a reboot: the processes that held locks are gone
      syncDir: async (path) => {
        check('syncDir', path);
        this.counts.syncDir++;
        for (const name of [...this.#durable.keys()]) if (parentOf(name) === path && !this.#live.has(name)) this.#durable.delete(name);
        for (const [name, inode] of this.#live) if (parentOf(name) === path) this.#durable.set(name, inode);
      },
    };
  }
}
