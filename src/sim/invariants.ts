import { RaftError } from '../raft/errors.js';
import type { HardState, LogEntry, NodeId } from '../raft/types.js';
import type { TraceEvent } from './trace.js';

/**
 * The safety properties the simulator checks (Raft Figure 3, plus vote and term durability).
 *
 * @example
 * ```ts
 * import { InvariantViolation, type SafetyProperty } from 'raftkit';
 * const brokenProperty = (error: unknown): SafetyProperty | undefined =>
 *   error instanceof InvariantViolation ? error.property : undefined;
 * ```
 */
export type SafetyProperty =
  | 'Election Safety'
  | 'Leader Append-Only'
  | 'Log Matching'
  | 'Leader Completeness'
  | 'State Machine Safety'
  | 'Vote Safety'
  | 'Term Monotonicity';

/**
 * Thrown when a simulated cluster breaks one of Raft's safety properties. Carries everything
 * needed to replay it: the seed and the last events of the trace.
 *
 * @example
 * ```ts
 * import { Cluster, InvariantViolation } from 'raftkit';
 * try { await new Cluster({ size: 3, seed: 7 }).run(10_000); } catch (error) {
 *   if (error instanceof InvariantViolation) console.log(error.property, error.seed, error.traceTail);
 * }
 * ```
 */
export class InvariantViolation extends RaftError {
  /** The property that was broken. */
  readonly property: SafetyProperty;
  /** The nodes involved. */
  readonly nodes: readonly NodeId[];
  /** The seed that replays the run. */
  readonly seed: number | string;
  /** The last events before the violation, oldest first. */
  readonly traceTail: readonly TraceEvent[];
  constructor(property: SafetyProperty, detail: string, nodes: readonly NodeId[], seed: number | string, traceTail: readonly TraceEvent[]) {
    super('INVARIANT_VIOLATION', `${property} violated: ${detail} (nodes ${nodes.join(', ')}; replay with seed ${JSON.stringify(seed)})`);
    this.name = 'InvariantViolation';
    this.property = property;
    this.nodes = nodes;
    this.seed = seed;
    this.traceTail = traceTail;
  }
}

/** A violation before it is dressed with the seed and trace. */
export interface Finding {
  readonly property: SafetyProperty;
  readonly detail: string;
  readonly nodes: readonly NodeId[];
}

interface CanonicalEntry {
  readonly prevTerm: number;
  readonly entry: LogEntry;
}

/** Read access to one node's log, for the checks. */
export interface LogView {
  readonly lastIndex: number;
  /** The stored snapshot's position, if any: the log holds entries after it. */
  readonly snapshot?: { readonly index: number; readonly term: number } | undefined;
  entry(index: number): LogEntry | undefined;
}

function sameCommand(a: LogEntry, b: LogEntry): boolean {
  if (a === b) return true;
  if (a.kind !== b.kind) return false;
  if (a.kind === 'config') return JSON.stringify(a.membership) === JSON.stringify(b.membership);
  return a.command === b.command || JSON.stringify(a.command) === JSON.stringify(b.command);
}

/**
 * Checks Raft's safety properties incrementally, from the events of a simulated cluster, so
 * that checking after every event stays cheap: each check costs O(1) per entry or vote, except
 * Leader Completeness, which scans the committed prefix once per election.
 * The committed prefix is learned from each node's commit index, so no-ops count too.
 */
export class SafetyChecker {
  private readonly leaders = new Map<number, NodeId>();
  /** The committed log as first learned by any node: entry i at position i - 1. */
  private readonly committed: LogEntry[] = [];
  /**
   * For each committed entry, the term of the node that first saw it committed: an upper bound
   * on the term in which it was committed. Leaders of later terms must hold it.
   */
  private readonly committedBy: number[] = [];
  /** For each (index, term): the term before it and the entry, as first seen in any log. */
  private readonly canonical = new Map<string, CanonicalEntry>();
  private readonly hardStates = new Map<NodeId, HardState>();
  /** Who each node said yes to, per term, as seen on the wire. */
  private readonly grants = new Map<string, NodeId>();
  private finding: Finding | null = null;

  /** The first violation seen, if any. */
  get violation(): Finding | null {
    return this.finding;
  }

  private fail(property: SafetyProperty, detail: string, nodes: readonly NodeId[]): void {
    this.finding ??= { property, detail, nodes };
  }

  /** A node sent a granted vote: on the wire, too, one vote per term (catches votes sent unsaved). */
  voteSent(voter: NodeId, term: number, candidate: NodeId): void {
    const key = `${voter}:${term}`;
    const earlier = this.grants.get(key);
    if (earlier === undefined) this.grants.set(key, candidate);
    else if (earlier !== candidate) this.fail('Vote Safety', `sent votes to ${earlier} and ${candidate} in term ${term}`, [voter]);
  }

  /** A node became leader of `term` with `log` (entries in order, from just after its snapshot). */
  leaderElected(id: NodeId, term: number, log: readonly LogEntry[], snapshotIndex = 0): void {
    const other = this.leaders.get(term);
    if (other !== undefined && other !== id) this.fail('Election Safety', `two leaders in term ${term}`, [other, id]);
    this.leaders.set(term, id);
    // Entries through the snapshot are committed ones (checked when the snapshot was saved).
    for (let index = snapshotIndex + 1; index <= this.committed.length; index++) {
      const committed = this.committed[index - 1] as LogEntry;
      // A leader elected late (its vote replies delayed) in an older term need not hold newer commits.
      if ((this.committedBy[index - 1] as number) >= term) continue;
      const mine = log[index - 1 - snapshotIndex];
      if (mine === undefined || mine.term !== committed.term) {
        this.fail('Leader Completeness', `leader of term ${term} lacks committed entry ${index} (term ${committed.term})`, [id]);
        return;
      }
    }
  }

  /** A node is about to persist `update` on top of `log`. */
  persisting(
    id: NodeId,
    isLeader: boolean,
    log: LogView,
    hardState: HardState | undefined,
    entries: readonly LogEntry[],
    snapshot?: { readonly index: number; readonly term: number },
  ): void {
    if (hardState !== undefined) this.checkHardState(id, hardState);
    if (snapshot !== undefined) {
      // A snapshot holds committed state only: its last entry is the one committed there.
      const committed = this.committed[snapshot.index - 1];
      if (committed === undefined || committed.term !== snapshot.term) {
        this.fail('State Machine Safety', `a snapshot through ${snapshot.index}:${snapshot.term} does not end with the committed entry`, [id]);
      }
    }
    const first = entries[0];
    if (first === undefined) return;
    if (isLeader && first.index <= log.lastIndex) {
      this.fail('Leader Append-Only', `leader overwrote its log from index ${first.index}`, [id]);
    }
    // The predecessor: the snapshot saved with these entries, else the stored log (or its snapshot).
    const before = first.index - 1;
    let prevTerm =
      before === 0 ? 0 : snapshot?.index === before ? snapshot.term : (log.entry(before)?.term ?? (log.snapshot?.index === before ? log.snapshot.term : -1));
    for (const entry of entries) {
      // Log Matching, by induction: every (index, term) names one entry with one predecessor term.
      const key = `${entry.index}:${entry.term}`;
      const known = this.canonical.get(key);
      if (known === undefined) this.canonical.set(key, { prevTerm, entry });
      else if (known.prevTerm !== prevTerm || !sameCommand(known.entry, entry)) {
        this.fail('Log Matching', `two different logs hold an entry at index ${entry.index} with term ${entry.term}`, [id]);
      }
      prevTerm = entry.term;
    }
  }

  private checkHardState(id: NodeId, next: HardState): void {
    const previous = this.hardStates.get(id);
    this.hardStates.set(id, next);
    if (previous === undefined) return;
    if (next.term < previous.term) this.fail('Term Monotonicity', `term went from ${previous.term} to ${next.term}`, [id]);
    else if (
      next.term === previous.term &&
      previous.votedFor !== null &&
      next.votedFor !== previous.votedFor
    ) {
      this.fail('Vote Safety', `voted for ${previous.votedFor} and then ${String(next.votedFor)} in term ${next.term}`, [id]);
    }
  }

  /** A node in term `term` learned that `entry` is committed (in index order per node). */
  committedEntry(id: NodeId, term: number, entry: LogEntry): void {
    const first = this.committed[entry.index - 1];
    if (first === undefined) {
      if (entry.index === this.committed.length + 1) {
        this.committed.push(entry);
        this.committedBy.push(term);
      }
      return;
    }
    if (first.term !== entry.term || !sameCommand(first, entry)) {
      this.fail('State Machine Safety', `two different entries committed at index ${entry.index}`, [id]);
    }
  }

  /** A node applied `entry` to its state machine: it must be the entry committed there. */
  appliedEntry(id: NodeId, entry: LogEntry): void {
    const committed = this.committed[entry.index - 1];
    if (committed === undefined || committed.term !== entry.term || !sameCommand(committed, entry)) {
      this.fail('State Machine Safety', `applied an entry at index ${entry.index} that is not the committed one`, [id]);
    }
  }

  /** Full cross-check of live logs (O(nodes × log)): identical (index, term) ⇒ identical prefixes (where both still hold entries). */
  checkLogs(logs: ReadonlyMap<NodeId, readonly LogEntry[]>): void {
    const byKey = new Map<string, { id: NodeId; log: readonly LogEntry[] }>();
    const firstIndex = (log: readonly LogEntry[]): number => (log[0] as LogEntry).index;
    for (const [id, log] of logs) {
      for (let i = log.length - 1; i >= 0; i--) {
        const e = log[i] as LogEntry;
        const key = `${e.index}:${e.term}`;
        const other = byKey.get(key);
        if (other === undefined) {
          byKey.set(key, { id, log });
          continue;
        }
        const from = Math.max(firstIndex(log), firstIndex(other.log));
        for (let index = from; index <= e.index; index++) {
          const a = log[index - firstIndex(log)] as LogEntry;
          const b = other.log[index - firstIndex(other.log)];
          if (b === undefined || a.term !== b.term || !sameCommand(a, b)) {
            this.fail('Log Matching', `logs agree at ${e.index}:${e.term} but differ at index ${index}`, [other.id, id]);
            return;
          }
        }
        break; // the prefix below is identical, so every smaller shared key is too
      }
    }
  }
}
