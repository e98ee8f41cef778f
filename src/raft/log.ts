import type { LogEntry } from './types.js';

/**
 * The in-memory replicated log of one node, with the bookkeeping for what storage has seen.
 * Index i lives at `entries[i - 1 - offset]`: a snapshot replaced everything through `offset`
 * (whose term is `offsetTerm`). Entries are immutable and shared with messages and storage:
 * never copied, never mutated.
 */
export class RaftLog {
  #entries: LogEntry[];
  #offset: number;
  #offsetTerm: number;
  /** Lowest index not yet handed to storage in a Ready. */
  #unstableFrom: number;
  /** Highest index storage has confirmed durable (and not since overwritten). */
  #persisted: number;

  constructor(entries: readonly LogEntry[] = [], offset = 0, offsetTerm = 0) {
    this.#entries = entries.slice();
    this.#offset = offset;
    this.#offsetTerm = offsetTerm;
    this.#persisted = this.lastIndex;
    this.#unstableFrom = this.lastIndex + 1;
  }

  /** The last index a snapshot replaced (0 when none): the log holds entries after it. */
  get snapshotIndex(): number {
    return this.#offset;
  }

  get lastIndex(): number {
    return this.#offset + this.#entries.length;
  }

  get lastTerm(): number {
    const n = this.#entries.length; // never index -1: a slow lookup in V8
    return n === 0 ? this.#offsetTerm : (this.#entries[n - 1] as LogEntry).term;
  }

  get persistedIndex(): number {
    return this.#persisted;
  }

  /** The term of entry `index`, 0 for index 0, undefined when the log does not have it. */
  term(index: number): number | undefined {
    if (index === this.#offset) return this.#offsetTerm;
    return this.#entries[index - 1 - this.#offset]?.term;
  }

  entry(index: number): LogEntry | undefined {
    return this.#entries[index - 1 - this.#offset];
  }

  /** Entries `from`..`to` inclusive (clamped to the log). */
  slice(from: number, to: number = this.lastIndex): LogEntry[] {
    const start = Math.max(from, this.#offset + 1) - 1 - this.#offset;
    const end = to - this.#offset;
    // One entry (a lone proposal) is the common case: a literal costs a fraction of Array.prototype.slice.
    if (end - start === 1 && start < this.#entries.length) return [this.#entries[start] as LogEntry];
    return this.#entries.slice(start, Math.max(0, end));
  }

  /** Appends one entry that continues the log (its index must be lastIndex + 1). */
  push(entry: LogEntry): void {
    this.#entries.push(entry);
  }

  /** Appends entries that continue the log (their first index must be lastIndex + 1). */
  append(entries: readonly LogEntry[]): void {
    for (const entry of entries) this.#entries.push(entry);
  }

  /** Removes every entry from `index` on (a conflicting suffix). */
  truncateFrom(index: number): void {
    this.#entries.length = index - 1 - this.#offset;
    if (index < this.#unstableFrom) this.#unstableFrom = index;
    if (this.#persisted >= index) this.#persisted = index - 1;
  }

  /** The position of the first of `entries[from..]` this log does not hold as it is (absent, or of another term); `entries.length` when it holds them all. */
  firstNotHeld(entries: readonly LogEntry[], from: number): number {
    let i = from;
    while (i < entries.length && this.term((entries[i] as LogEntry).index) === (entries[i] as LogEntry).term) i++;
    return i;
  }

  /** The first index holding `term`, searching back from `from` while the term holds. */
  firstIndexOfTerm(term: number, from: number): number {
    let index = from;
    while (index - 1 > this.#offset && this.term(index - 1) === term) index--;
    return index;
  }

  /** The last index at or below `upTo` whose entry has `term`, or 0 when there is none. */
  lastIndexOfTerm(term: number, upTo: number): number {
    for (let index = Math.min(upTo, this.lastIndex); index > this.#offset; index--) {
      const t = this.term(index) as number;
      if (t === term) return index;
      if (t < term) return 0;
    }
    return 0;
  }

  /** Entries not yet handed to storage; marks them handed over. */
  takeUnstable(): LogEntry[] {
    if (!this.hasUnstable()) return [];
    const entries = this.slice(this.#unstableFrom); // (slice clamps to after the snapshot)
    this.#unstableFrom = this.lastIndex + 1;
    return entries;
  }

  hasUnstable(): boolean {
    return this.#unstableFrom <= this.lastIndex;
  }

  /** Drops the entries through `index` (covered by a snapshot of the state up to there). */
  compact(index: number): void {
    if (index <= this.#offset) return;
    this.#offsetTerm = this.term(index) as number;
    this.#entries.splice(0, index - this.#offset);
    this.#offset = index;
  }

  /** Replaces the whole log with a snapshot's position: nothing after it is known any more. */
  reset(index: number, term: number): void {
    this.#entries = [];
    this.#offset = index;
    this.#offsetTerm = term;
    this.#unstableFrom = index + 1;
    this.#persisted = index;
  }

  /** Storage confirmed entries through `index`; anything overwritten since stays unpersisted. */
  markPersisted(index: number): void {
    const durable = Math.min(index, this.#unstableFrom - 1);
    if (durable > this.#persisted) this.#persisted = durable;
  }
}
