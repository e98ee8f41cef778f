import type { HardState, LogEntry } from './types.js';

/**
 * Everything a node persisted: its hard state and its log.
 *
 * @example
 * ```ts
 * import type { PersistedState } from 'raftkit';
 * const empty: PersistedState = { hardState: { term: 0, votedFor: null }, entries: [] };
 * ```
 */
export interface PersistedState {
  /** The term and vote. */
  readonly hardState: HardState;
  /** The log, from index 1, in order. */
  readonly entries: readonly LogEntry[];
}

/**
 * One write to storage. When `entries` is non-empty, storage must first delete every stored
 * entry whose index is ≥ `entries[0].index` (a conflicting suffix) and then append `entries`.
 *
 * @example
 * ```ts
 * import type { StorageUpdate } from 'raftkit';
 * const update: StorageUpdate = { hardState: { term: 2, votedFor: '1' }, entries: [] };
 * ```
 */
export interface StorageUpdate {
  /** A new term and vote to store, when they changed. */
  readonly hardState?: HardState;
  /** Entries to store from `entries[0].index` on, replacing whatever is stored there and after. */
  readonly entries?: readonly LogEntry[];
}

/**
 * Where a node keeps the state Raft requires to survive a crash.
 *
 * The contract: when `save` returns (or its promise resolves), the update is durable. A node
 * sends no message that depends on an update before that point, so a crash at any moment loses
 * nothing that another node was told. `load` is called once, when the node starts.
 *
 * Synchronous storage (like {@link MemoryStorage}) keeps the node's hot path free of awaits.
 *
 * @example
 * ```ts
 * import { MemoryStorage, type Storage, type StorageUpdate } from 'raftkit';
 * // Wraps another storage and logs every write (a real one would write and fsync a file).
 * class LoggingStorage implements Storage {
 *   constructor(private readonly inner = new MemoryStorage()) {}
 *   load() { return this.inner.load(); }
 *   save(update: StorageUpdate) {
 *     console.log(`persist term ${update.hardState?.term ?? '-'}, ${update.entries?.length ?? 0} entries`);
 *     this.inner.save(update);
 *   }
 * }
 * new LoggingStorage().save({ hardState: { term: 1, votedFor: '1' }, entries: [] });
 * ```
 */
export interface Storage {
  /** Reads everything persisted (empty state on first start). Called once, when the node starts. */
  load(): PersistedState | Promise<PersistedState>;
  /** Durably applies `update`; the node waits for it before sending anything that depends on it. */
  save(update: StorageUpdate): void | Promise<void>;
}

/**
 * Storage in memory: durable for as long as the object lives. A simulated crash keeps it (it
 * stands for the disk) and a restarted node loads from it.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * const storage = new MemoryStorage();
 * storage.save({ hardState: { term: 1, votedFor: '1' }, entries: [{ index: 1, term: 1, kind: 'noop' }] });
 * storage.load().entries.length; // 1
 * ```
 */
export class MemoryStorage implements Storage {
  private hardState: HardState = { term: 0, votedFor: null };
  private readonly entries: LogEntry[] = [];

  /** Returns the stored state (a copy of the entry list; the entries themselves are shared). */
  load(): PersistedState {
    return { hardState: this.hardState, entries: this.entries.slice() };
  }

  /** Stores `update` at once; throws RangeError if the entries would leave a gap in the log. */
  save(update: StorageUpdate): void {
    if (update.hardState !== undefined) this.hardState = update.hardState;
    const entries = update.entries;
    if (entries === undefined || entries.length === 0) return;
    const first = (entries[0] as LogEntry).index;
    if (first < 1 || first > this.entries.length + 1) {
      throw new RangeError(`MemoryStorage: entries start at ${first}, but the log ends at ${this.entries.length}`);
    }
    if (first <= this.entries.length) this.entries.length = first - 1; // drop a conflicting suffix
    for (const entry of entries) this.entries.push(entry);
  }

  /** The index of the last stored entry (0 when empty). */
  get lastIndex(): number {
    return this.entries.length;
  }

  /** The stored entry at `index`, if any. */
  entry(index: number): LogEntry | undefined {
    return this.entries[index - 1];
  }
}
