/**
 * checkLinearizable beyond the verdict: the counterexample, the budget, the options, typed
 * errors for bad input, models of one's own, and a long history.
 */
import { describe, expect, it } from 'vitest';
import { linearizableKvHistory } from '../../bench/kv-history.mjs';
import { check, checkLinearizable, kvModel, registerModel, type KvInput, type Model, type Operation } from '../../src/testing/index.js';
import { codeOf } from './history-error-code.js';

const ok = (client: number, invoke: number, complete: number, input: KvInput, output?: unknown): Operation<KvInput> => ({ client, invoke, complete, status: 'ok', input, output });
const get = (key: string): KvInput => ({ op: 'get', key });
const put = (key: string, value: unknown): KvInput => ({ op: 'put', key, value });

function counterexample<I, S>(history: Operation<I>[], model: Model<I, unknown, S>) {
  const verdict = checkLinearizable(history, model);
  if (verdict.result !== 'illegal') throw new Error(`expected illegal, got ${JSON.stringify(verdict)}`);
  return verdict.counterexample;
}

/** Ten concurrent writes of different values, then a read of none of them: a search of thousands of steps. */
function expensive(key: string): Operation<KvInput>[] {
  return [...Array.from({ length: 10 }, (_, i) => ok(i, 0, 100, put(key, i))), ok(10, 101, 102, get(key), 'never written')];
}

describe('the counterexample', () => {
  it('starts after the last point where the state is known for certain', () => {
    const history = [ok(0, 0, 1, put('x', 1)), ok(0, 2, 3, put('x', 2)), ok(1, 2, 3, put('y', 1)), ok(0, 4, 5, put('x', 3)), ok(1, 6, 7, get('x'), 2)];
    const c = counterexample(history, kvModel);
    expect(c.partition).toBe('x');
    expect(c.window).toEqual([4]);
    expect(c.start).toEqual(new Map([['x', '3']]));
    expect(c.linearization).toEqual([]);
    expect(c.operation).toBe(4);
    expect(c.message.split('\n')).toEqual([
      'not linearizable (partition "x"): #4 get(x) -> 2 (client 1, [6, 7]) cannot be placed before it completed',
      'window: 1 operation from state x=3: #4',
      'longest partial linearization: none',
    ]);
  });

  it('gives the longest partial linearization and the operation that cannot follow it', () => {
    // A new-old inversion under a slow write: no point in it where the state is certain.
    const history = [ok(0, 0, 10, put('x', 1)), ok(1, 1, 2, get('x'), 1), ok(2, 3, 4, get('x'), undefined)];
    const c = counterexample(history, kvModel);
    expect(c.window).toEqual([0, 1, 2]);
    expect(c.start).toEqual(new Map());
    expect(c.linearization).toEqual([
      { operation: 0, state: new Map([['x', '1']]) },
      { operation: 1, state: new Map([['x', '1']]) },
    ]);
    expect(c.operation).toBe(2);
    expect(c.message).toContain('longest partial linearization: #0 put(x, 1) => x=1, #1 get(x) -> 1 => x=1');
  });

  it('keeps the info operations still pending at its start, and drops those already taken', () => {
    const history: Operation<KvInput>[] = [
      { client: 9, invoke: 0, status: 'info', input: put('x', 9) }, // pending throughout
      ok(0, 1, 2, put('x', 1)),
      ok(1, 3, 4, get('x'), 1),
      ok(1, 5, 6, get('x'), 5),
    ];
    const c = counterexample(history, kvModel);
    expect(c.window).toEqual([0, 3]);
    expect(c.start).toEqual(new Map([['x', '1']]));
    expect(c.operation).toBe(3);
    expect(c.message).toContain('#0 put(x, 9) (info)');

    const taken: Operation<KvInput>[] = [{ client: 9, invoke: 0, status: 'info', input: put('x', 9) }, ok(1, 3, 4, get('x'), 9), ok(1, 5, 6, get('x'), 5)];
    expect(counterexample(taken, kvModel).window).toEqual([2]); // the read of 9 took it
  });

  it('fails on its own from its start state', () => {
    const history = linearizableKvHistory({ count: 2_000, keys: 5, clients: 5, seed: 42 });
    const bad = history.findIndex((o, i) => i >= 1_000 && o.status === 'ok' && o.input.op === 'get');
    const corrupted = history.map((o, i) => (i === bad ? { ...o, output: 'never written' } : o));
    const c = counterexample(corrupted, kvModel);
    expect(c.operation).toBe(bad);
    expect(c.window.length).toBeLessThan(40);
    expect(c.message).toMatch(/get\(k\d\) -> "never written"/);
    const window = c.window.map((i) => corrupted[i]!);
    expect(checkLinearizable(window, { ...kvModel, init: () => c.start }).result).toBe('illegal');
  });
});

describe('checkLinearizable', () => {
  it('accepts a long linearizable history: 2,000 operations over 5 keys and 5 clients, with info', () => {
    const history = linearizableKvHistory({ count: 2_000, keys: 5, clients: 5, seed: 42 });
    expect(history.filter((o) => o.status === 'info').length).toBeGreaterThan(5);
    expect(checkLinearizable(history, kvModel)).toEqual({ result: 'linearizable' });
  });

  it('is unknown when out of steps, and names the partition', () => {
    expect(checkLinearizable(expensive('a'), kvModel, { maxSteps: 100 })).toEqual({ result: 'unknown', partition: 'a', reason: 'steps' });
    expect(checkLinearizable(expensive('a'), kvModel).result).toBe('illegal');
  });

  it('is unknown when out of time on the clock it is given', () => {
    let t = 0;
    const now = (): number => t++; // every reading takes a millisecond
    expect(checkLinearizable(expensive('a'), kvModel, { timeoutMs: 1, now })).toEqual({ result: 'unknown', partition: 'a', reason: 'deadline' });
  });

  it('is illegal when one partition is illegal, even if another ran out of budget', () => {
    const history = [...expensive('a'), ok(0, 200, 201, put('b', 1)), ok(1, 202, 203, get('b'), 2)];
    const verdict = checkLinearizable(history, kvModel, { maxSteps: 100 });
    expect(verdict.result === 'illegal' && verdict.counterexample.partition).toBe('b');
  });

  it('accepts an empty history, and one of info and fail operations only', () => {
    expect(checkLinearizable([], kvModel).result).toBe('linearizable');
    expect(checkLinearizable([{ client: 1, invoke: 0, status: 'info', input: get('x'), output: 3 }, { client: 1, invoke: 1, complete: 2, status: 'fail', input: get('x'), output: 4 }], kvModel).result).toBe('linearizable');
  });

  it('describes operations and states as JSON for a model without descriptions', () => {
    const counter: Model<'inc' | 'read', unknown, number> = { init: () => 0, step: (n, input, output) => (input === 'inc' ? n + 1 : output === n ? n : undefined) };
    const c = counterexample<'inc' | 'read', number>([{ client: 1, invoke: 0, complete: 1, status: 'ok', input: 'inc' }, { client: 1, invoke: 2, complete: 3, status: 'ok', input: 'read', output: 2 }], counter);
    expect(c.partition).toBeUndefined();
    expect(c.message).toContain('#1 "read" -> 2 (client 1, [2, 3]) cannot be placed');
    expect(c.message).toContain('from state 1');
  });

  it('uses equals when hashes collide', () => {
    const colliding = { ...registerModel, hash: () => 0, equals: (a: string | null, b: string | null) => a === b };
    const concurrent: Operation[] = [
      { client: 0, invoke: 0, complete: 5, status: 'ok', input: { op: 'write', value: 1 } },
      { client: 1, invoke: 0, complete: 5, status: 'ok', input: { op: 'write', value: 2 } },
      { client: 2, invoke: 6, complete: 7, status: 'ok', input: { op: 'read' }, output: 1 },
    ];
    expect(checkLinearizable(concurrent, colliding).result).toBe('linearizable');
    expect(checkLinearizable([...concurrent, { client: 2, invoke: 8, complete: 9, status: 'ok', input: { op: 'read' }, output: 2 }], colliding).result).toBe('illegal');
  });
});

describe('bad input', () => {
  it('is refused with a typed error naming the operation', () => {
    const fine = ok(0, 0, 1, put('x', 1));
    const check = (bad: unknown): string | undefined => codeOf(() => checkLinearizable([fine, bad as Operation<KvInput>], kvModel));
    expect(check({ ...fine, complete: undefined })).toBe('MISSING_COMPLETION #1');
    expect(check({ ...fine, status: 'fail', complete: undefined })).toBe('MISSING_COMPLETION #1');
    expect(check({ ...fine, invoke: 5, complete: 2 })).toBe('COMPLETE_BEFORE_INVOKE #1');
    expect(check({ ...fine, status: 'done' })).toBe('INVALID_OPERATION #1');
    expect(check({ ...fine, invoke: Number.NaN })).toBe('INVALID_OPERATION #1');
    expect(check({ ...fine, client: null })).toBe('INVALID_OPERATION #1');
    expect(check(null)).toBe('INVALID_OPERATION #1');
    // The model's own checks.
    expect(check({ ...fine, input: { op: 'get' } })).toBe('INVALID_OPERATION #1');
    expect(check({ ...fine, input: { op: 'increment', key: 'x' } })).toBe('INVALID_OPERATION #1');
    expect(check(ok(0, 0, 1, { op: 'cas', key: 'x', expected: 1, value: 2 }, 'yes'))).toBe('INVALID_OPERATION #1');
    expect(codeOf(() => checkLinearizable([{ client: 0, invoke: 0, complete: 1, status: 'ok', input: { op: 'read' }, output: 'a' }], { ...registerModel, validate: () => 'no' }))).toBe('INVALID_OPERATION #0');
  });

  it('refuses bad options and unsound models', () => {
    expect(() => checkLinearizable([], kvModel, { maxSteps: 0 })).toThrow(RangeError);
    expect(() => checkLinearizable([], kvModel, { maxSteps: 1.5 })).toThrow(RangeError);
    expect(() => checkLinearizable([], kvModel, { timeoutMs: 10 })).toThrow(RangeError);
    expect(() => checkLinearizable([], { init: () => undefined, step: () => undefined })).toThrow(/must not be undefined/);
    expect(() => checkLinearizable([], { init: () => new Set(), step: (s) => s })).toThrow(/Set needs a hash/);
    const stranger = ok(0, 0, 1, put('x', 1));
    expect(() => checkLinearizable([ok(0, 0, 1, put('x', 1))], { ...kvModel, partition: () => new Map([['x', [stranger]]]) })).toThrow(/not in the history/);
  });

  it('is also exported as check, the name of the API contract', () => {
    expect(check).toBe(checkLinearizable);
    expect(check([ok(0, 0, 1, put('x', 1)), ok(1, 2, 3, get('x'), 1)], kvModel).result).toBe('linearizable');
  });
});
