import { describe, expect, it } from 'vitest';
import { RaftLog } from '../../src/raft/log.js';
import type { LogEntry } from '../../src/raft/types.js';

const entry = (index: number, term = 1): LogEntry => ({ index, term, kind: 'command', command: index });
const indexes = (entries: readonly LogEntry[]): number[] => entries.map((e) => e.index);

describe('RaftLog.slice', () => {
  it('clamps every range to the entries it holds', () => {
    const log = new RaftLog([entry(1), entry(2), entry(3)]);
    expect(indexes(log.slice(1))).toEqual([1, 2, 3]);
    expect(indexes(log.slice(2, 2))).toEqual([2]);
    expect(indexes(log.slice(3, 3))).toEqual([3]);
    expect(indexes(log.slice(4, 4))).toEqual([]); // one past the end: nothing, not [undefined]
    expect(indexes(log.slice(4))).toEqual([]);
    expect(indexes(log.slice(3, 9))).toEqual([3]);
    expect(indexes(log.slice(0, 1))).toEqual([1]);
    expect(indexes(log.slice(2, 1))).toEqual([]);
  });

  it('clamps below a compacted prefix', () => {
    const log = new RaftLog([entry(1), entry(2), entry(3), entry(4)]);
    log.compact(2);
    expect(indexes(log.slice(1, 3))).toEqual([3]);
    expect(indexes(log.slice(2, 2))).toEqual([]);
    expect(indexes(log.slice(1, 2))).toEqual([]);
    expect(indexes(log.slice(4, 4))).toEqual([4]);
    expect(indexes(log.slice(5, 5))).toEqual([]);
  });
});
