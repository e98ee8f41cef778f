/** Each safety check fires on the violation it guards against, and stays quiet otherwise. */
import { describe, expect, it } from 'vitest';
import type { LogEntry } from '../../src/raft/types.js';
import { SafetyChecker, type LogView } from '../../src/sim/invariants.js';

const entry = (index: number, term: number, command: unknown = `${index}@${term}`): LogEntry => ({ index, term, kind: 'command', command });
const view = (entries: LogEntry[]): LogView => ({ lastIndex: entries.length, entry: (i) => entries[i - 1] });

describe('SafetyChecker', () => {
  it('Election Safety: two leaders in one term', () => {
    const c = new SafetyChecker();
    c.leaderElected('1', 2, []);
    c.leaderElected('1', 3, []);
    expect(c.violation).toBeNull();
    c.leaderElected('2', 3, []);
    expect(c.violation?.property).toBe('Election Safety');
    expect(c.violation?.nodes).toEqual(['1', '2']);
  });

  it('Leader Completeness: a leader of a later term lacks a committed entry', () => {
    const c = new SafetyChecker();
    c.committedEntry('1', 2, entry(1, 1));
    c.committedEntry('1', 2, entry(2, 2));
    c.leaderElected('2', 2, [entry(1, 1)]); // same term as the commit: not required to hold it
    expect(c.violation).toBeNull();
    c.leaderElected('3', 3, [entry(1, 1), entry(2, 2)]);
    expect(c.violation).toBeNull();
    c.leaderElected('2', 4, [entry(1, 1), entry(2, 3)]);
    expect(c.violation?.property).toBe('Leader Completeness');
  });

  it('State Machine Safety: different entries committed or applied at one index', () => {
    const c = new SafetyChecker();
    c.committedEntry('1', 1, entry(1, 1, 'a'));
    c.appliedEntry('1', entry(1, 1, 'a'));
    c.committedEntry('2', 1, entry(1, 1, 'a'));
    expect(c.violation).toBeNull();
    c.committedEntry('3', 1, entry(1, 1, 'b'));
    expect(c.violation?.property).toBe('State Machine Safety');
    const d = new SafetyChecker();
    d.appliedEntry('1', entry(1, 1)); // applied before anyone saw it committed
    expect(d.violation?.property).toBe('State Machine Safety');
  });

  it('Log Matching: the same (index, term) with another predecessor or command', () => {
    const c = new SafetyChecker();
    c.persisting('1', false, view([]), undefined, [entry(1, 1), entry(2, 2)]);
    c.persisting('2', false, view([]), undefined, [entry(1, 1), entry(2, 2)]);
    expect(c.violation).toBeNull();
    c.persisting('3', false, view([]), undefined, [entry(1, 2), entry(2, 2)]);
    expect(c.violation?.property).toBe('Log Matching');
    const d = new SafetyChecker();
    d.persisting('1', false, view([]), undefined, [entry(1, 1, 'x')]);
    d.persisting('2', false, view([]), undefined, [entry(1, 1, 'y')]);
    expect(d.violation?.property).toBe('Log Matching');
  });

  it('Log Matching across whole logs', () => {
    const c = new SafetyChecker();
    c.checkLogs(new Map([['1', [entry(1, 1), entry(2, 2)]], ['2', [entry(1, 1), entry(2, 2), entry(3, 2)]]]));
    expect(c.violation).toBeNull();
    c.checkLogs(new Map([['1', [entry(1, 1, 'x'), entry(2, 2)]], ['2', [entry(1, 1, 'y'), entry(2, 2)]]]));
    expect(c.violation?.property).toBe('Log Matching');
  });

  it('Leader Append-Only: a leader truncates its log', () => {
    const c = new SafetyChecker();
    const log = [entry(1, 1), entry(2, 1)];
    c.persisting('1', true, view(log), undefined, [entry(3, 1)]);
    expect(c.violation).toBeNull();
    c.persisting('1', true, view(log), undefined, [entry(2, 2)]);
    expect(c.violation?.property).toBe('Leader Append-Only');
  });

  it('Vote Safety on the wire: two granted votes in one term', () => {
    const c = new SafetyChecker();
    c.voteSent('1', 2, 'a');
    c.voteSent('1', 2, 'a'); // a duplicate answer to the same candidate is fine
    c.voteSent('1', 3, 'b');
    expect(c.violation).toBeNull();
    c.voteSent('1', 3, 'c');
    expect(c.violation?.property).toBe('Vote Safety');
  });

  it('Vote Safety and Term Monotonicity on persisted hard state', () => {
    const c = new SafetyChecker();
    c.persisting('1', false, view([]), { term: 2, votedFor: null }, []);
    c.persisting('1', false, view([]), { term: 2, votedFor: 'a' }, []);
    c.persisting('1', false, view([]), { term: 3, votedFor: 'b' }, []);
    expect(c.violation).toBeNull();
    c.persisting('1', false, view([]), { term: 3, votedFor: 'c' }, []);
    expect(c.violation?.property).toBe('Vote Safety');
    const d = new SafetyChecker();
    d.persisting('1', false, view([]), { term: 3, votedFor: null }, []);
    d.persisting('1', false, view([]), { term: 2, votedFor: null }, []);
    expect(d.violation?.property).toBe('Term Monotonicity');
  });
});

describe('SafetyChecker with snapshots', () => {
  const committed = (c: SafetyChecker, terms: number[]) => terms.forEach((term, i) => c.committedEntry('2', term, entry(i + 1, term)));

  it('a snapshot that replaces a conflicting log, saved with the entries after it, is no Log Matching violation (regression)', () => {
    const c = new SafetyChecker();
    committed(c, [1, 1, 1, 1, 2]);
    c.persisting('2', false, view([]), undefined, [1, 1, 1, 1].map((i, k) => entry(k + 1, i)).concat([entry(5, 2), entry(6, 2)]));
    // Node 1 held a stale entry 5 from term 1; the leader's snapshot through 5:2 replaces its log.
    const stale = [entry(1, 1), entry(2, 1), entry(3, 1), entry(4, 1), entry(5, 1, 'stale')];
    c.persisting('1', false, view(stale), undefined, [], undefined);
    c.persisting('1', false, view(stale), undefined, [entry(6, 2)], { index: 5, term: 2 });
    expect(c.violation).toBeNull();
  });

  it('State Machine Safety: a snapshot must end with the committed entry at its index', () => {
    const c = new SafetyChecker();
    committed(c, [1, 1, 2]);
    c.persisting('1', false, view([]), undefined, [], { index: 3, term: 2 });
    expect(c.violation).toBeNull();
    c.persisting('2', false, view([]), undefined, [], { index: 3, term: 1 });
    expect(c.violation?.property).toBe('State Machine Safety');
  });
});
