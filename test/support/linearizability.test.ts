import { describe, expect, it } from 'vitest';
import { checkKvHistory, describeHistory, type KvOp, type Operation } from './linearizability.js';

const op = (client: number, invoke: number, complete: number | undefined, status: Operation['status'], kv: KvOp, output?: unknown): Operation => ({
  client,
  invoke,
  complete,
  status,
  op: kv,
  output,
});

// The checker is tested in test/testing/; these check the adapter the Jepsen-style tests use.
describe('checkKvHistory (the tests’ adapter over raftkit/testing)', () => {
  it('accepts a linearizable history of f-style operations', () => {
    const history = [
      op(0, 0, 1, 'ok', { f: 'put', key: 'x', value: 1 }),
      op(1, 2, 3, 'ok', { f: 'cas', key: 'x', expected: 1, value: 2 }, true),
      op(1, 4, 5, 'ok', { f: 'delete', key: 'x' }),
      op(2, 6, 7, 'ok', { f: 'get', key: 'x' }, undefined),
    ];
    expect(checkKvHistory(history)).toEqual({ ok: true });
  });

  it('reports the failing key and its operations, numbered as describeHistory numbers them', () => {
    const history = [
      op(0, 0, 1, 'ok', { f: 'put', key: 'y', value: 1 }),
      op(0, 0, 1, 'ok', { f: 'put', key: 'x', value: 1 }),
      op(1, 2, 3, 'ok', { f: 'get', key: 'x' }, 1),
      op(1, 4, 5, 'fail', { f: 'put', key: 'x', value: 9 }),
      op(2, 6, 7, 'ok', { f: 'get', key: 'x' }, 9),
    ];
    const result = checkKvHistory(history);
    if (result.ok !== false) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
    expect(result.key).toBe('x');
    expect(result.ops).toEqual(history.slice(1));
    expect(result.reason).toContain('#3 get(x) -> 9 (client 2, [6, 7]) cannot be placed');
    expect(describeHistory(result.ops).split('\n')).toEqual([
      '#0 client 0 [0, 1] ok put(x, 1)',
      '#1 client 1 [2, 3] ok get(x) -> 1',
      '#2 client 1 [4, 5] fail put(x, 9)',
      '#3 client 2 [6, 7] ok get(x) -> 9',
    ]);
  });

  it('gives up with unknown when out of steps', () => {
    const history = [op(0, 0, 10, 'ok', { f: 'put', key: 'x', value: 1 }), op(1, 0, 10, 'ok', { f: 'put', key: 'x', value: 2 }), op(2, 11, 12, 'ok', { f: 'get', key: 'x' }, 1)];
    expect(checkKvHistory(history, { maxSteps: 2 })).toEqual({ ok: 'unknown' });
    expect(checkKvHistory(history)).toEqual({ ok: true });
  });
});
