/**
 * The conformance suite for a {@link Storage}: what a node needs of the place it keeps its term,
 * vote, log and snapshot, checked against a real implementation.
 */

import { RaftNode } from '../node/raft-node.js';
import type { PersistedState, Storage, StorageUpdate } from '../raft/storage.js';
import type { LogEntry, Snapshot } from '../raft/types.js';
import { MathRandom } from '../runtime/random.js';
import { InMemoryNetwork } from '../transport/memory.js';
import { clock, ConformanceError, eventually, expectSame, within, type ConformanceCheck } from './checks.js';

/**
 * One empty storage for one check, made by {@link StorageHarness.create}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * import type { StorageFixture } from 'raftkit/conformance';
 * const storage = new MemoryStorage();
 * const fixture: StorageFixture = { storage, reopen: () => storage }; // memory is its own "disk"
 * ```
 */
export interface StorageFixture {
  /** The storage under test, empty. */
  readonly storage: Storage;
  /**
   * A new `Storage` over the same durable state, as after a process restart (for a file
   * storage: a new instance on the same directory). When given, every check reads back through
   * a reopened storage (after `close` on the previous one), so durability is checked too, and
   * each instance is loaded once, before its first save, as a node does. When absent, `load()`
   * is called on `storage` again each time a check reads back.
   */
  reopen?(): Storage | Promise<Storage>;
  /** Releases one storage instance (a lock, a file handle): before a reopen, and when the check ends. */
  close?(storage: Storage): void | Promise<void>;
  /** Deletes what the check left behind (files, tables), after the last `close`. */
  destroy?(): void | Promise<void>;
}

/**
 * How {@link storageChecks} makes the storages it checks.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * import type { StorageHarness } from 'raftkit/conformance';
 * const harness: StorageHarness = { create: () => ({ storage: new MemoryStorage() }) };
 * ```
 */
export interface StorageHarness {
  /** A fresh, empty storage for each check. */
  create(): StorageFixture | Promise<StorageFixture>;
}

const membership = { voters: ['a', 'b', 'c'], learners: [] };
const entry = (index: number, term: number, command: unknown = `command ${index}`): LogEntry => ({ index, term, kind: 'command', command });
const range = (from: number, to: number, term: number): LogEntry[] => Array.from({ length: to - from + 1 }, (_, i) => entry(from + i, term));
const snapshot = (index: number, term: number): Snapshot => ({ index, term, membership, data: `{"state at":${index},"text":"ü ✓"}` });

/** What a storage check works with; see {@link withStorage}. */
interface Session {
  /** Saves through the current instance (loading it first if it was never loaded, as a node would). */
  save(update: StorageUpdate): Promise<void>;
  /** Reads back: through a reopened instance (which then takes the saves) when the fixture can reopen. */
  load(): Promise<PersistedState>;
  /** The instance in use, loaded or not. */
  current(): Storage;
  /** Closes the current instance and reopens (or, without `reopen`, keeps it); the new one is not loaded yet. */
  restart(): Promise<Storage>;
}

/**
 * Runs `body` on a fresh fixture. Each instance is loaded once, before its first save, as a
 * starting node loads it; everything the storage does wrong is a {@link ConformanceError} saying
 * which call failed, and a call that hangs fails after {@link CALL_TIMEOUT_MS}.
 */
function withStorage(harness: StorageHarness, body: (session: Session) => Promise<void>): () => Promise<void> {
  return async () => {
    const fixture = await harness.create();
    if (typeof fixture?.storage?.save !== 'function' || typeof fixture.storage.load !== 'function') {
      throw new ConformanceError('create() did not return { storage } with a Storage (load, save)');
    }
    let current = fixture.storage;
    let loaded = false;
    const restart = async (): Promise<Storage> => {
      const reopen = fixture.reopen;
      if (reopen !== undefined) {
        await within('close()', CALL_TIMEOUT_MS, () => fixture.close?.(current));
        current = await within('reopen()', CALL_TIMEOUT_MS, () => reopen.call(fixture));
      }
      loaded = false;
      return current;
    };
    const load = async (): Promise<PersistedState> => {
      if (loaded) await restart();
      loaded = true;
      return within('load()', CALL_TIMEOUT_MS, () => current.load());
    };
    const save = async (update: StorageUpdate): Promise<void> => {
      if (!loaded) await load();
      await within(`save(${describe(update)})`, CALL_TIMEOUT_MS, () => current.save(update));
    };
    let failure: unknown;
    try {
      await body({ save, load, restart, current: () => current });
    } catch (error) {
      failure = error;
    }
    // Clean up even after a failure, and report the check's own failure first.
    const cleanup = await Promise.allSettled([within('close()', CALL_TIMEOUT_MS, () => fixture.close?.(current))]);
    cleanup.push(...(await Promise.allSettled([within('destroy()', CALL_TIMEOUT_MS, () => fixture.destroy?.())])));
    if (failure !== undefined) throw failure;
    const refused = cleanup.find((r) => r.status === 'rejected');
    if (refused !== undefined) throw refused.reason;
  };
}

/** How long one storage call may take before the check fails (it must not hang a test run). */
const CALL_TIMEOUT_MS = 10_000;

/** An update in a few words, for error messages. */
function describe(update: StorageUpdate): string {
  const parts: string[] = [];
  if (update.hardState !== undefined) parts.push(`hardState term ${update.hardState.term}`);
  if (update.snapshot !== undefined) parts.push(`snapshot at ${update.snapshot.index}`);
  if (update.entries !== undefined && update.entries.length > 0) parts.push(`entries ${update.entries[0]?.index}..${update.entries.at(-1)?.index}`);
  return `{ ${parts.join(', ')} }`;
}

/** Compares a loaded state with the expected one, field by field, so a failure names the field. */
function expectState(loaded: PersistedState, expected: { hardState?: PersistedState['hardState']; snapshot?: Snapshot; entries: LogEntry[] }): void {
  expectSame('hardState', loaded.hardState, expected.hardState ?? { term: 0, votedFor: null });
  expectSame('snapshot', loaded.snapshot ?? null, expected.snapshot ?? null);
  expectSame('entries', loaded.entries, expected.entries);
}

/**
 * The conformance checks for a {@link Storage}. They follow {@link StorageUpdate}'s rules (hard
 * state, then snapshot, then entries) and use each instance as a node does: `load()` once, before
 * its first `save`. Reading back goes through `reopen()` (after `close` on the old instance) when
 * the fixture has it, so what is checked is durable. They require:
 * - a new storage loads the empty state; hard state, entries and snapshots come back unchanged
 *   (Unicode, nested commands, config entries);
 * - an update without entries (a new term or vote) keeps the log;
 * - entries from an index on replace the stored ones from there (a conflicting suffix), never those before;
 * - a snapshot drops the entries it covers, keeps those after it when the log holds the
 *   snapshot's entry, and replaces the whole log when it does not;
 * - a `RaftNode` restarted on it resumes with its term, log and state.
 *
 * A call that throws, rejects or hangs (10 s) fails the check with a {@link ConformanceError}
 * naming the call.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * import { runChecks, storageChecks } from 'raftkit/conformance';
 *
 * const checks = storageChecks({
 *   create: () => {
 *     const storage = new MemoryStorage();
 *     return { storage, reopen: () => storage }; // for a file storage: a new instance on the same files
 *   },
 * });
 * const results = await runChecks(checks);
 * console.log(`${results.filter((r) => r.passed).length} of ${results.length} passed`); // 9 of 9 passed
 * ```
 */
export function storageChecks(harness: StorageHarness): ConformanceCheck[] {
  const check = (name: string, body: Parameters<typeof withStorage>[1]): ConformanceCheck => ({ name, run: withStorage(harness, body) });
  return [
    check('a new storage loads the empty state: term 0, no vote, no snapshot, no entries', async ({ load }) => {
      expectState(await load(), { entries: [] });
    }),

    check('keeps the latest hard state', async ({ save, load }) => {
      await save({ hardState: { term: 3, votedFor: 'b' } });
      expectState(await load(), { hardState: { term: 3, votedFor: 'b' }, entries: [] });
      await save({ hardState: { term: 4, votedFor: null } });
      expectState(await load(), { hardState: { term: 4, votedFor: null }, entries: [] });
    }),

    check('appends entries in order and keeps them unchanged (Unicode, nested commands, config and no-op entries)', async ({ save, load }) => {
      const first: LogEntry[] = [
        { index: 1, term: 1, kind: 'noop' },
        { index: 2, term: 1, kind: 'config', membership },
        entry(3, 1, { text: 'naïve café ☕ — 日本語 \u2028 "quoted" \\', list: [1, null, true, 2.5e-8], empty: {} }),
      ];
      const second = [entry(4, 2, null), entry(5, 2, ['a', { b: 'c' }])];
      await save({ hardState: { term: 1, votedFor: 'a' }, entries: first });
      await save({ entries: second });
      expectState(await load(), { hardState: { term: 1, votedFor: 'a' }, entries: [...first, ...second] });
    }),

    check('an update with no entries (a new term or vote, as a node saves on every election) keeps the log', async ({ save, load }) => {
      await save({ hardState: { term: 1, votedFor: 'a' }, entries: range(1, 3, 1) });
      await save({ hardState: { term: 2, votedFor: null }, entries: [] });
      await save({ hardState: { term: 2, votedFor: 'b' } });
      expectState(await load(), { hardState: { term: 2, votedFor: 'b' }, entries: range(1, 3, 1) });
    }),

    check('entries from an index on replace the stored ones from there, and never those before', async ({ save, load }) => {
      await save({ hardState: { term: 1, votedFor: 'a' }, entries: range(1, 5, 1) });
      await save({ hardState: { term: 2, votedFor: 'b' }, entries: [entry(3, 2, 'the new third')] });
      expectState(await load(), { hardState: { term: 2, votedFor: 'b' }, entries: [...range(1, 2, 1), entry(3, 2, 'the new third')] });
      await save({ entries: range(4, 6, 2) });
      expectState(await load(), { hardState: { term: 2, votedFor: 'b' }, entries: [...range(1, 2, 1), entry(3, 2, 'the new third'), ...range(4, 6, 2)] });
    }),

    check('a snapshot drops the entries it covers and keeps those after it, when the log holds its entry', async ({ save, load }) => {
      await save({ hardState: { term: 1, votedFor: 'a' }, entries: range(1, 5, 1) });
      await save({ snapshot: snapshot(3, 1), entries: [] });
      expectState(await load(), { hardState: { term: 1, votedFor: 'a' }, snapshot: snapshot(3, 1), entries: range(4, 5, 1) });
      await save({ entries: range(6, 7, 1) });
      expectState(await load(), { hardState: { term: 1, votedFor: 'a' }, snapshot: snapshot(3, 1), entries: range(4, 7, 1) });
    }),

    check('a snapshot the log does not hold (another term, or past its end) replaces the whole log', async ({ save, load }) => {
      await save({ hardState: { term: 2, votedFor: 'a' }, entries: range(1, 5, 1) });
      await save({ snapshot: snapshot(4, 2) }); // the log has term 1 at index 4
      expectState(await load(), { hardState: { term: 2, votedFor: 'a' }, snapshot: snapshot(4, 2), entries: [] });
      await save({ snapshot: snapshot(10, 2) }); // past the end
      expectState(await load(), { hardState: { term: 2, votedFor: 'a' }, snapshot: snapshot(10, 2), entries: [] });
      await save({ entries: range(11, 12, 2) });
      expectState(await load(), { hardState: { term: 2, votedFor: 'a' }, snapshot: snapshot(10, 2), entries: range(11, 12, 2) });
    }),

    check('one update with a hard state, a snapshot and entries applies all three, in that order', async ({ save, load }) => {
      await save({ hardState: { term: 1, votedFor: 'a' }, entries: range(1, 3, 1) });
      await save({ hardState: { term: 3, votedFor: 'c' }, snapshot: snapshot(8, 2), entries: range(9, 10, 3) });
      expectState(await load(), { hardState: { term: 3, votedFor: 'c' }, snapshot: snapshot(8, 2), entries: range(9, 10, 3) });
    }),

    check('a RaftNode restarted on it resumes with its term, its log and its state machine', async ({ current, restart }) => {
      const before = await runNode(current(), 5);
      const after = await runNode(await restart(), 0);
      expectSame('term on restart', after.termAtStart, before.term);
      expectSame('log on restart', after.log.slice(0, before.log.length), before.log);
      expectSame('commands applied again after restart', after.applied, before.applied);
    }),
  ];
}

/**
 * Starts a single-voter RaftNode on `storage`, lets it elect itself, has it apply `proposals`
 * commands, and stops it. Reports what a restart must reproduce. Real time: the storage may do
 * real I/O.
 */
async function runNode(storage: Storage, proposals: number): Promise<{ termAtStart: number; term: number; log: LogEntry[]; applied: unknown[] }> {
  const network = new InMemoryNetwork({ scheduler: clock, random: new MathRandom() });
  const applied: unknown[] = [];
  const node = new RaftNode({
    id: 'solo',
    peers: ['solo'],
    transport: network.transport('solo'),
    storage,
    stateMachine: { apply: (command) => void applied.push(command) },
    electionTimeoutMs: [10, 20],
    heartbeatIntervalMs: 5,
  });
  // A failing save stops the node and is reported as an 'error' event: that is the cause to show.
  let reported: Error | undefined;
  node.on('error', (error) => (reported ??= error));
  const running = (what: string) => (): boolean => {
    if (reported !== undefined) throw new ConformanceError(`a RaftNode on this storage, ${what}, reported: ${reported.message}`, { cause: reported });
    if (!node.running) throw new ConformanceError(`a RaftNode on this storage stopped while ${what}`);
    return true;
  };
  try {
    await within('RaftNode.start() (which loads the storage)', CALL_TIMEOUT_MS, () => node.start());
    const termAtStart = node.term;
    const electing = running('electing itself');
    await eventually('a RaftNode on this storage to elect itself', CALL_TIMEOUT_MS, () => electing() && node.role === 'leader');
    for (let i = 0; i < proposals; i++) node.submit(`command ${i}`);
    const applying = running('applying its log');
    await eventually('a RaftNode on this storage to apply its log', CALL_TIMEOUT_MS, () => applying() && node.lastApplied === node.entries().at(-1)?.index);
    return { termAtStart, term: node.term, log: node.entries(), applied };
  } finally {
    await within('RaftNode.stop()', CALL_TIMEOUT_MS, () => node.stop());
  }
}
