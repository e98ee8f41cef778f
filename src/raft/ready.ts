/**
 * What the core hands its driver: the Ready, and the answers to reads and forwarded proposals it carries.
 */
import type { Message, ProposeOutcome } from './messages.js';
import type { HardState, LogEntry, Snapshot } from './types.js';

/**
 * What the core asks its driver to do, in this order: persist `hardState`, `snapshot` and
 * `entries` (durably), then send `messages`, then restore the state machine from `snapshot` when
 * its index is past what was applied (the leader sent it), then apply `committed`; finally call
 * {@link RaftCore.advance} with this object.
 *
 * @example
 * ```ts
 * import { RaftCore, MemoryStorage, SeededRandom } from 'raftkit';
 * const core = new RaftCore({ id: '1', peers: [], random: new SeededRandom(1) }); // a one-node cluster
 * const storage = new MemoryStorage();
 * core.campaign(); // the only voter: it wins at once
 * core.propose('x');
 * while (core.hasReady()) {
 *   const ready = core.ready();
 *   storage.save({ hardState: ready.hardState ?? undefined, snapshot: ready.snapshot ?? undefined, entries: ready.entries }); // 1. persist
 *   for (const m of ready.messages) console.log('send', m.type, 'to', m.to);         // 2. send
 *   for (const e of ready.committed) if (e.kind === 'command') console.log('apply', e.command); // 3. apply
 *   core.advance(ready);
 * }
 * ```
 */
export interface Ready {
  /** The new hard state to persist, or null when it did not change. */
  readonly hardState: HardState | null;
  /** A snapshot to persist (taken with {@link RaftCore.compact}, or received from the leader), or null. */
  readonly snapshot: Snapshot | null;
  /** Log entries to persist: replace stored entries from `entries[0].index` on. */
  readonly entries: readonly LogEntry[];
  /** Messages to send, only after the above is durable. */
  readonly messages: readonly Message[];
  /** Newly committed entries to apply, in index order. */
  readonly committed: readonly LogEntry[];
  /** Reads requested with {@link RaftCore.read} that are now settled. */
  readonly reads: readonly ReadState[];
  /** Proposals forwarded with {@link RaftCore.forward} that the leader has answered. */
  readonly forwarded: readonly ForwardState[];
}

/**
 * The leader's answer to a proposal forwarded with {@link RaftCore.forward}: when `appended`,
 * the command is at (`index`, `term`) in the leader's log (wait until that entry is applied,
 * and check its term); `refused` is definitive (no copy was or will be appended); `unknown`
 * means a copy may yet take effect. Several copies of one request get consistent answers.
 *
 * @example
 * ```ts
 * import type { ForwardState } from 'raftkit';
 * const landed: ForwardState = { id: 3, index: 57, term: 2, outcome: 'appended' };
 * ```
 */
export interface ForwardState {
  /** The id the proposal was forwarded with. */
  readonly id: number;
  /** Its index in the leader's log (0 unless appended). */
  readonly index: number;
  /** The leader's term (the entry's term when appended). */
  readonly term: number;
  /** What became of it. */
  readonly outcome: ProposeOutcome;
}

/**
 * The outcome of a read requested with {@link RaftCore.read}: when `ok`, reading the state
 * machine once it has applied `index` is linearizable; otherwise the read failed (leadership
 * was lost) and should be retried.
 *
 * @example
 * ```ts
 * import type { ReadState } from 'raftkit';
 * const done: ReadState = { id: 1, index: 42, ok: true };
 * ```
 */
export interface ReadState {
  /** The id the read was requested with. */
  readonly id: number;
  /** The index to read at (0 when not ok). */
  readonly index: number;
  /** Whether the read can be served. */
  readonly ok: boolean;
}
