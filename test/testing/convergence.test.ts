/**
 * checkConvergence, lastWriterWins and measureStaleness on hand-made inputs.
 */
import { describe, expect, it } from 'vitest';
import { checkConvergence, lastWriterWins } from '../../src/testing/convergence.js';
import { measureStaleness } from '../../src/testing/staleness.js';
import type { Operation } from '../../src/testing/history.js';
import type { KvInput } from '../../src/testing/kv.js';

const states = (entries: Record<string, Record<string, unknown>>) => new Map(Object.entries(entries).map(([id, state]) => [id, new Map(Object.entries(state))]));

describe('checkConvergence', () => {
  it('accepts replicas with equal states, whatever the key order, comparing values as JSON', () => {
    const verdict = checkConvergence(states({ a: { x: { n: 1 }, y: [1] }, b: { y: [1], x: { n: 1 } } }));
    expect(verdict).toEqual({ converged: true, differences: [], message: 'converged: 2 replicas hold the same 2 keys' });
  });

  it('lists each key that differs, absent included', () => {
    const verdict = checkConvergence(states({ a: { x: 1, y: 2 }, b: { x: 1 }, c: { x: 3, y: 2 } }));
    expect(verdict.converged).toBe(false);
    expect(verdict.differences).toEqual([
      { key: 'x', values: expect.objectContaining({ a: 1, b: 1, c: 3 }) },
      { key: 'y', values: expect.objectContaining({ a: 2, b: undefined, c: 2 }) },
    ]);
    expect(verdict.message).toBe('not converged: 2 keys differ: x: a=1, b=1, c=3; y: a=2, b=absent, c=2');
  });

  it('checks against an expected state', () => {
    const replicas = states({ a: { x: 1 }, b: { x: 1 } });
    expect(checkConvergence(replicas, { expected: new Map([['x', 1]]) }).converged).toBe(true);
    const wrong = checkConvergence(replicas, { expected: new Map([['x', 2], ['y', 0]]) });
    expect(wrong.differences.map((d) => [d.key, d.expected])).toEqual([
      ['x', 2],
      ['y', 0],
    ]);
    expect(() => checkConvergence({} as never)).toThrow(TypeError);
  });
});

describe('lastWriterWins', () => {
  it('keeps the write with the largest HLC per key, ties broken by node id, deletes leaving the key absent', () => {
    const state = lastWriterWins([
      { key: 'x', value: 'late', hlc: { wallTime: 9, logical: 0, nodeId: 'a' } },
      { key: 'x', value: 'early', hlc: { wallTime: 5, logical: 3, nodeId: 'z' } },
      { key: 'y', value: 'a', hlc: { wallTime: 5, logical: 1, nodeId: 'a' } },
      { key: 'y', value: 'b', hlc: { wallTime: 5, logical: 1, nodeId: 'b' } },
      { key: 'z', value: 1, hlc: { wallTime: 1, logical: 0, nodeId: 'a' } },
      { key: 'z', deleted: true, hlc: { wallTime: 1, logical: 1, nodeId: 'a' } },
    ]);
    expect([...state]).toEqual([
      ['x', 'late'],
      ['y', 'b'],
    ]);
  });
});

describe('measureStaleness', () => {
  const op = (client: string, input: KvInput, invoke: number, complete: number, output?: unknown): Operation<KvInput> => ({ client, input, invoke, complete, status: 'ok', output });

  it('counts nothing stale in a linearizable history', () => {
    const history = [op('a', { op: 'put', key: 'x', value: 1 }, 0, 5), op('b', { op: 'get', key: 'x' }, 3, 4, undefined), op('b', { op: 'get', key: 'x' }, 6, 7, 1)];
    expect(measureStaleness(history)).toEqual({ reads: 2, stale: 0, maxAge: 0, meanAge: 0, maxVersions: 0 });
  });

  it('measures how long and by how many writes a read was behind', () => {
    const history = [
      op('a', { op: 'put', key: 'x', value: 1 }, 0, 1),
      op('a', { op: 'put', key: 'x', value: 2 }, 10, 11),
      op('a', { op: 'put', key: 'x', value: 3 }, 20, 21),
      op('b', { op: 'get', key: 'x' }, 51, 52, 1), // superseded at 11 (and again at 21): 40 ms, 2 versions
      op('b', { op: 'get', key: 'x' }, 61, 62, undefined), // absent: 60 ms behind the first put, 3 versions
      op('b', { op: 'get', key: 'x' }, 71, 72, 3),
    ];
    expect(measureStaleness(history)).toEqual({ reads: 3, stale: 2, maxAge: 60, meanAge: 50, maxVersions: 3 });
  });

  it('does not count writes concurrent with the one read, nor info writes', () => {
    const history: Operation<KvInput>[] = [
      op('a', { op: 'put', key: 'x', value: 1 }, 0, 10),
      op('c', { op: 'put', key: 'x', value: 2 }, 5, 6), // concurrent with put 1
      { client: 'd', input: { op: 'put', key: 'x', value: 3 }, invoke: 20, status: 'info' },
      op('b', { op: 'get', key: 'x' }, 30, 31, 1),
    ];
    expect(measureStaleness(history).stale).toBe(0);
  });
});
