import type { HardState, LogEntry, Snapshot } from './types.js';

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
  /** The latest snapshot, if one was taken or installed. */
  readonly snapshot?: Snapshot;
  /** The log, in order: from just after the snapshot's index (from index 1 without a snapshot). */
  readonly entries: readonly LogEntry[];
}

/**
 * One write to storage, applied in this order:
 * 1. `hardState`: replace the stored term and vote.
 * 2. `snapshot`: replace the stored snapshot, and delete every stored entry through
 *    `snapshot.index`. When the stored log does not hold an entry at `snapshot.index` with
 *    `snapshot.term`, delete every stored entry (the snapshot replaces the whole log).
 * 3. `entries`: delete every stored entry whose index is ≥ `entries[0].index` (a conflicting
 *    suffix), then append `entries`.
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
  /** A snapshot that replaces the log through its index. */
  readonly snapshot?: Snapshot;
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
 * stands for the disk) and a restarted node loads from it. A snapshot discards the entries it
 * covers, so memory stays bounded when the node compacts its log.
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
  #hardState: HardState = { term: 0, votedFor: null };
  #latestSnapshot: Snapshot | undefined;
  /** Index i is at `entries[i - 1 - offset]`; `offset` is the snapshot's index (0 without one). */
  #entries: LogEntry[] = [];
  #offset = 0;

  /** Returns the stored state (a copy of the entry list; the entries themselves are shared). */
  load(): PersistedState {
    const state = { hardState: this.#hardState, entries: this.#entries.slice() };
    return this.#latestSnapshot === undefined ? state : { ...state, snapshot: this.#latestSnapshot };
  }

  /** Stores `update` at once; throws RangeError if the entries would leave a gap in the log. */
  save(update: StorageUpdate): void {
    const { snapshot, entries = [] } = update;
    // Check everything before writing anything: a refused update changes nothing.
    if (snapshot !== undefined && snapshot.index < this.#offset) {
      throw new RangeError(`MemoryStorage: snapshot at ${snapshot.index} is older than the stored one at ${this.#offset}`);
    }
    const keep = snapshot !== undefined && this.#termAt(snapshot.index) === snapshot.term; // its entries after the snapshot stay
    const offset = snapshot?.index ?? this.#offset;
    const last = snapshot === undefined || keep ? this.lastIndex : offset; // (a kept snapshot's index is stored, so ≤ lastIndex)
    const first = entries[0]?.index;
    if (first !== undefined && (first <= offset || first > last + 1)) {
      throw new RangeError(`MemoryStorage: entries start at ${first}, but the log holds ${offset + 1}..${last}`);
    }
    if (update.hardState !== undefined) this.#hardState = update.hardState;
    if (snapshot !== undefined) {
      if (keep) this.#entries.splice(0, snapshot.index - this.#offset);
      else this.#entries = [];
      this.#offset = snapshot.index;
      this.#latestSnapshot = snapshot;
    }
    if (first === undefined) return;
    if (first <= this.lastIndex) this.#entries.length = first - 1 - this.#offset; // drop a conflicting suffix
    for (const entry of entries) this.#entries.push(entry);
  }

  /** The term of the stored entry (or snapshot) at `index`, if any. */
  #termAt(index: number): number | undefined {
    return index === this.#offset ? (this.#latestSnapshot?.term ?? 0) : this.entry(index)?.term;
  }

  /** The index of the last stored entry (the snapshot's index when no entry follows it; 0 when empty). */
  get lastIndex(): number {
    return this.#offset + this.#entries.length;
  }

  /** The stored snapshot, if any. */
  get snapshot(): Snapshot | undefined {
    return this.#latestSnapshot;
  }

  /** The stored entry at `index`, if any (none at or before the snapshot's index). */
  entry(index: number): LogEntry | undefined {
    return index > this.#offset ? this.#entries[index - 1 - this.#offset] : undefined;
  }
}
