/**
 * checkCausal on hand-made histories: each session guarantee broken on its own, causality
 * through other sessions, concurrent writes read in either order, deletes, info writes,
 * unknown values, cycles, and malformed histories.
 */
import { describe, expect, it } from 'vitest';
import { checkCausal } from '../../src/testing/causal.js';
import { HistoryError } from '../../src/testing/errors.js';
import type { Operation } from '../../src/testing/history.js';
import type { KvInput } from '../../src/testing/kv.js';

let clock = 0;
/** An operation of `client`, taking one tick, after every earlier one. */
function op(client: string, input: KvInput, output?: unknown, status: 'ok' | 'info' | 'fail' = 'ok'): Operation<KvInput> {
  const invoke = clock++;
  const complete = clock++;
  return status === 'info' ? { client, input, invoke, status } : { client, input, invoke, complete, status, ...(status === 'ok' && input.op === 'get' ? { output } : {}) };
}
const put = (client: string, key: string, value: unknown, status: 'ok' | 'info' | 'fail' = 'ok') => op(client, { op: 'put', key, value }, undefined, status);
const get = (client: string, key: string, output: unknown) => op(client, { op: 'get', key }, output);
const del = (client: string, key: string) => op(client, { op: 'delete', key });

describe('checkCausal', () => {
  it('accepts a history where every read sees its causal past', () => {
    const history = [put('a', 'x', 1), get('b', 'x', 1), put('b', 'y', 2), get('c', 'y', 2), get('c', 'x', 1), get('a', 'y', undefined)];
    expect(checkCausal(history)).toMatchObject({ consistent: true, violations: [] });
  });

  it('names a read that missed its own session’s write (read-your-writes)', () => {
    const verdict = checkCausal([put('a', 'x', 1), get('a', 'x', undefined)]);
    expect(verdict.consistent).toBe(false);
    expect(verdict.violations).toEqual([expect.objectContaining({ guarantee: 'read-your-writes', read: 1, returned: undefined, overwrittenBy: 0 })]);
    expect(verdict.message).toMatch(/#1 get\(x\) -> undefined \(client a\) read the initial \(absent\) value, but its own session wrote #0 put\(x, 1\)/);
  });

  it('names a read older than an earlier read of its session (monotonic reads)', () => {
    const verdict = checkCausal([put('a', 'x', 1), put('a', 'x', 2), get('b', 'x', 2), get('b', 'x', 1)]);
    expect(verdict.violations).toEqual([expect.objectContaining({ guarantee: 'monotonic-reads', read: 3, returned: 0, overwrittenBy: 1 })]);
  });

  it('names a read that missed a cause it learnt through another session (causal)', () => {
    // b saw x=1 before writing y; c saw y, so x=1 is in c's past too.
    const verdict = checkCausal([put('a', 'x', 1), get('b', 'x', 1), put('b', 'y', 'after x'), get('c', 'y', 'after x'), get('c', 'x', undefined)]);
    expect(verdict.violations).toEqual([expect.objectContaining({ guarantee: 'causal', read: 4, overwrittenBy: 0 })]);
    // Writes-follow-reads across keys: the same with an older value instead of absent.
    const older = checkCausal([put('a', 'x', 0), put('a', 'x', 1), get('b', 'x', 1), put('b', 'y', 'after x'), get('c', 'y', 'after x'), get('c', 'x', 0)]);
    expect(older.violations.map((v) => v.guarantee)).toEqual(['causal']);
  });

  it('lets concurrent writes be read in either order, on any replica', () => {
    const history = [put('a', 'x', 'a'), put('b', 'x', 'b'), get('c', 'x', 'a'), get('d', 'x', 'b'), get('d', 'x', 'a')];
    expect(checkCausal(history).consistent).toBe(true); // last-writer-wins may pick either
  });

  it('reads absent from the initial value or a delete', () => {
    expect(checkCausal([put('a', 'x', 1), del('a', 'x'), get('a', 'x', undefined)]).consistent).toBe(true);
    expect(checkCausal([put('a', 'x', 1), del('b', 'x'), get('a', 'x', undefined)]).consistent).toBe(true); // the concurrent delete won
    expect(checkCausal([del('a', 'x'), put('a', 'x', 1), get('a', 'x', undefined)]).consistent).toBe(false); // the delete came before the put
  });

  it('lets an info write be read, without ordering its session after it', () => {
    expect(checkCausal([put('a', 'x', 1, 'info'), get('b', 'x', 1), get('a', 'x', undefined)]).consistent).toBe(true);
    // A failed write did not happen; a read of it returned a value no put wrote.
    const verdict = checkCausal([put('a', 'x', 1, 'fail'), get('b', 'x', 1)]);
    expect(verdict.violations).toEqual([expect.objectContaining({ guarantee: 'causal', read: 1, returned: undefined })]);
    expect(verdict.message).toMatch(/no put wrote/);
  });

  it('finds a read from its own causal future', () => {
    const history = [get('a', 'x', 1), put('a', 'x', 1)];
    expect(checkCausal(history).violations).toEqual([expect.objectContaining({ guarantee: 'causal', read: 0 })]);
  });

  it('stops collecting at maxViolations but counts them all', () => {
    const history = [put('a', 'x', 1), ...Array.from({ length: 5 }, () => get('a', 'x', undefined))];
    const verdict = checkCausal(history, { maxViolations: 2 });
    expect(verdict.violations).toHaveLength(2);
    expect(verdict.message).toMatch(/^not causally consistent: 5 reads in violation/);
    expect(() => checkCausal(history, { maxViolations: 0 })).toThrow(RangeError);
  });

  it('refuses histories it cannot judge', () => {
    expect(() => checkCausal([put('a', 'x', 1), put('b', 'x', 1)])).toThrow(HistoryError);
    expect(() => checkCausal([put('a', 'x', 1), put('b', 'x', 1)])).toThrow(/two puts write 1/);
    expect(() => checkCausal([op('a', { op: 'cas', key: 'x', expected: 1, value: 2 }, true)])).toThrow(/gets, puts and deletes/);
    expect(() => checkCausal([{ client: 'a', input: { op: 'get', key: 'x' }, invoke: 2, complete: 1, status: 'ok' }])).toThrow(HistoryError);
  });
});
