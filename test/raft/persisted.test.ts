/**
 * start() validates what storage loaded: a log with gaps, one that does not follow its snapshot,
 * terms that go down, a hard state behind the log, or no state at all are refused with a
 * RaftError (INVALID_STATE) naming the offending index, and nothing is written.
 */
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/node/raft-node.js';
import { RaftError } from '../../src/raft/errors.js';
import { validatePersistedState } from '../../src/raft/persisted.js';
import type { PersistedState, Storage } from '../../src/raft/storage.js';
import type { LogEntry, Snapshot } from '../../src/raft/types.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { manualTransport } from '../node/harness.js';

const e = (index: number, term: number): LogEntry => ({ index, term, kind: 'noop' });
const snap = (index: number, term: number): Snapshot => ({ index, term, membership: { voters: ['1'], learners: [] }, data: '' });
const state = (term: number, entries: LogEntry[], snapshot?: Snapshot): PersistedState => ({
  hardState: { term, votedFor: null },
  entries,
  ...(snapshot && { snapshot }),
});

/** Broken states, and what the error message must name. */
const BROKEN: Array<[string, unknown, RegExp]> = [
  ['a gap (entries 1 and 5)', state(1, [e(1, 1), e(5, 1)]), /entry 5 where entry 2 belongs/],
  ['a first entry not after the snapshot', state(2, [e(7, 2)], snap(4, 1)), /entry 7 where entry 5 belongs/],
  ['entries inside the snapshot', state(2, [e(3, 1), e(4, 1), e(5, 2)], snap(4, 1)), /entry 3 where entry 5 belongs/],
  ['terms going down', state(3, [e(1, 2), e(2, 3), e(3, 1)]), /entry 3 has term 1, after term 3/],
  ['a first term below the snapshot term', state(3, [e(5, 1)], snap(4, 2)), /entry 5 has term 1, after term 2/],
  ['a hard state term below the last entry term', state(1, [e(1, 1), e(2, 2)]), /hardState term 1 is below term 2 of entry 2/],
  ['undefined', undefined, /load\(\) returned undefined/],
  ['a number', 42, /load\(\) returned 42/],
  ['no hard state', { entries: [] }, /hardState/],
  ['a bad term', { hardState: { term: -1, votedFor: null }, entries: [] }, /hardState/],
  ['entries not an array', { hardState: { term: 0, votedFor: null }, entries: 'x' }, /entries/],
  ['a non-object entry', state(1, [null as unknown as LogEntry]), /entry undefined where entry 1 belongs/],
  ['a bad entry term', state(1, [{ index: 1, term: -1, kind: 'noop' }]), /entry 1 has term -1, after term 0/],
  ['a bad snapshot', { hardState: { term: 0, votedFor: null }, entries: [], snapshot: { index: -2 } }, /snapshot/],
];

describe('validatePersistedState', () => {
  it.each(BROKEN)('refuses %s', (_, broken, message) => {
    let error: unknown;
    try {
      validatePersistedState(broken);
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(RaftError);
    expect((error as RaftError).code).toBe('INVALID_STATE');
    expect((error as Error).message).toMatch(message);
  });

  it('accepts sound states', () => {
    for (const ok of [
      state(0, []),
      state(3, [e(1, 1), e(2, 1), e(3, 3)]),
      state(5, [e(5, 2), e(6, 4)], snap(4, 2)),
      state(2, [], snap(4, 2)),
      state(0, [], snap(4, 2)), // storage seeded with a snapshot alone
    ]) {
      expect(() => validatePersistedState(ok)).not.toThrow();
    }
  });
});

describe('RaftNode.start with a broken persisted state', () => {
  it.each(BROKEN)('rejects with INVALID_STATE for %s, whether load() is synchronous or not, and writes nothing', async (_, broken, message) => {
    for (const load of [() => broken, () => Promise.resolve(broken)]) {
      let saves = 0;
      const storage = { load, save: () => void saves++ } as unknown as Storage;
      const manual = manualTransport();
      const scheduler = new VirtualScheduler();
      const node = new RaftNode({ id: '1', peers: ['1'], transport: manual.transport, storage, scheduler });
      const error = await node.start().catch((thrown: unknown) => thrown);
      expect(error).toBeInstanceOf(RaftError);
      expect((error as RaftError).code).toBe('INVALID_STATE');
      expect((error as Error).message).toMatch(message);
      expect(node.running).toBe(false);
      scheduler.runFor(10_000);
      expect(saves).toBe(0);
      expect(manual.sent).toEqual([]);
    }
  });
});
