import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkKvHistory, describeHistory, type KvOp, type Operation } from './linearizability.js';
import { propertyParams } from './runs.js';

const op = (
  client: number,
  invoke: number,
  complete: number | undefined,
  status: Operation['status'],
  kv: KvOp,
  output?: unknown,
): Operation => ({ client, invoke, complete, status, op: kv, output });
const get = (key: string): KvOp => ({ f: 'get', key });
const put = (key: string, value: unknown): KvOp => ({ f: 'put', key, value });
const del = (key: string): KvOp => ({ f: 'delete', key });
const cas = (key: string, expected: unknown, value: unknown): KvOp => ({ f: 'cas', key, expected, value });

const accepted = (history: Operation[]): void => {
  const result = checkKvHistory(history);
  expect(result, describeHistory(history)).toEqual({ ok: true });
};
const refused = (history: Operation[]): void => {
  const result = checkKvHistory(history);
  expect(result.ok, describeHistory(history)).toBe(false);
};

describe('checkKvHistory', () => {
  it('refuses a stale read', () => {
    refused([op(0, 0, 1, 'ok', put('x', 1)), op(1, 2, 3, 'ok', get('x'), undefined)]);
  });

  it('refuses a lost write', () => {
    refused([op(0, 0, 1, 'ok', put('x', 1)), op(0, 2, 3, 'ok', put('x', 2)), op(1, 4, 5, 'ok', get('x'), 1)]);
  });

  it('refuses two concurrent compare-and-sets from absent that both swapped', () => {
    refused([op(0, 0, 5, 'ok', cas('x', undefined, 'a'), true), op(1, 1, 4, 'ok', cas('x', undefined, 'b'), true)]);
    // Either one alone swapping is fine.
    accepted([op(0, 0, 5, 'ok', cas('x', undefined, 'a'), true), op(1, 1, 4, 'ok', cas('x', undefined, 'b'), false)]);
  });

  it('accepts a get concurrent with a put seeing either value', () => {
    accepted([op(0, 0, 1, 'ok', put('x', 1)), op(0, 2, 6, 'ok', put('x', 2)), op(1, 3, 4, 'ok', get('x'), 2)]);
    accepted([op(0, 0, 1, 'ok', put('x', 1)), op(0, 2, 6, 'ok', put('x', 2)), op(1, 3, 4, 'ok', get('x'), 1)]);
  });

  it('treats ops that touch at an instant as concurrent', () => {
    // The get is invoked when the put completes: not after it, so it may miss it.
    accepted([op(0, 0, 2, 'ok', put('x', 1)), op(1, 2, 3, 'ok', get('x'), undefined)]);
  });

  it('accepts an info put whose value is read later: it took effect', () => {
    accepted([op(0, 0, undefined, 'info', put('x', 1)), op(1, 10, 11, 'ok', get('x'), 1)]);
  });

  it('accepts an info put that is never read: it may never have happened', () => {
    accepted([op(0, 0, 1, 'info', put('x', 1)), op(1, 10, 11, 'ok', get('x'), undefined)]);
  });

  it('accepts an info put taking effect long after it was invoked, between two reads', () => {
    accepted([
      op(0, 0, undefined, 'info', put('x', 1)),
      op(1, 10, 11, 'ok', get('x'), undefined),
      op(1, 12, 13, 'ok', get('x'), 1),
    ]);
  });

  it('ignores the output of an info op', () => {
    accepted([op(0, 0, 1, 'info', get('x'), 7), op(0, 2, 3, 'info', cas('x', 5, 6), true)]);
  });

  it('refuses a read of a failed put', () => {
    refused([op(0, 0, 1, 'fail', put('x', 1)), op(1, 2, 3, 'ok', get('x'), 1)]);
  });

  it('refuses a read of an info put invoked after the read completed', () => {
    refused([op(1, 0, 1, 'ok', get('x'), 1), op(0, 2, undefined, 'info', put('x', 1))]);
  });

  it('refuses a value read, then an older value read later', () => {
    refused([
      op(0, 0, 1, 'ok', put('x', 1)),
      op(0, 2, 10, 'ok', put('x', 2)),
      op(1, 3, 4, 'ok', get('x'), 2),
      op(2, 5, 6, 'ok', get('x'), 1),
    ]);
  });

  it('compares values as JSON, and deletes make a key absent', () => {
    accepted([
      op(0, 0, 1, 'ok', put('x', { a: [1, null] })),
      op(0, 2, 3, 'ok', cas('x', { a: [1, null] }, null), true),
      op(0, 4, 5, 'ok', get('x'), null),
      op(0, 6, 7, 'ok', del('x')),
      op(0, 8, 9, 'ok', get('x'), undefined),
    ]);
    refused([op(0, 0, 1, 'ok', put('x', null)), op(0, 2, 3, 'ok', get('x'), undefined)]);
  });

  it('checks keys independently', () => {
    accepted([
      op(0, 0, 1, 'ok', put('x', 1)),
      op(1, 0, 1, 'ok', put('y', 2)),
      op(0, 2, 3, 'ok', get('y'), 2),
      op(1, 2, 3, 'ok', get('x'), 1),
      op(0, 4, 5, 'ok', put('y', 3)),
      op(1, 4, 5, 'ok', put('x', 4)),
      op(0, 6, 7, 'ok', get('x'), 4),
      op(1, 6, 7, 'ok', get('y'), 3),
    ]);
  });

  it('reports the key, its ops and the op that could not be placed', () => {
    const history = [
      op(0, 0, 1, 'ok', put('y', 1)),
      op(0, 0, 1, 'ok', put('x', 1)),
      op(1, 2, 3, 'ok', get('x'), 1),
      op(1, 4, 5, 'fail', put('x', 9)),
      op(2, 6, 7, 'ok', get('x'), 9),
    ];
    const result = checkKvHistory(history);
    if (result.ok !== false) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
    expect(result.key).toBe('x');
    expect(result.ops).toEqual(history.slice(1));
    expect(result.reason).toContain('[#0 put(x, 1), #1 get(x) -> 1]');
    expect(result.reason).toContain('#3 get(x) -> 9');
    expect(describeHistory(result.ops).split('\n')).toEqual([
      '#0 client 0 [0, 1] ok put(x, 1) -> undefined',
      '#1 client 1 [2, 3] ok get(x) -> 1',
      '#2 client 1 [4, 5] fail put(x, 9) -> undefined',
      '#3 client 2 [6, 7] ok get(x) -> 9',
    ]);
  });

  it('gives up with unknown when out of steps', () => {
    const history = [op(0, 0, 10, 'ok', put('x', 1)), op(1, 0, 10, 'ok', put('x', 2)), op(2, 11, 12, 'ok', get('x'), 1)];
    expect(checkKvHistory(history, { maxSteps: 2 })).toEqual({ ok: 'unknown' });
    accepted(history);
  });

  it('refuses malformed operations', () => {
    expect(() => checkKvHistory([op(0, 0, undefined, 'ok', put('x', 1))])).toThrow(TypeError);
    expect(() => checkKvHistory([op(0, 2, 1, 'ok', put('x', 1))])).toThrow(TypeError);
    expect(() => checkKvHistory([op(0, 0, 1, 'ok', cas('x', 1, 2), { ok: true })])).toThrow(TypeError);
  });

  it('agrees with a brute-force search on small random histories — property', () => {
    const value = fc.oneof(fc.integer({ min: 0, max: 2 }), fc.constant(undefined));
    const kvAndOutput = (key: fc.Arbitrary<string>): fc.Arbitrary<{ kv: KvOp; output: unknown }> =>
      fc.oneof(
        fc.record({ kv: key.map(get), output: value }),
        fc.record({ kv: fc.tuple(key, fc.integer({ min: 0, max: 2 })).map(([k, v]) => put(k, v)), output: fc.constant(undefined) }),
        fc.record({ kv: key.map(del), output: fc.constant(undefined) }),
        fc.record({ kv: fc.tuple(key, value, fc.integer({ min: 0, max: 2 })).map(([k, e, v]) => cas(k, e, v)), output: fc.boolean() }),
      );
    const operation = (key: fc.Arbitrary<string>): fc.Arbitrary<Operation> =>
      fc
        .record({
          client: fc.integer({ min: 0, max: 2 }),
          invoke: fc.integer({ min: 0, max: 8 }),
          duration: fc.integer({ min: 0, max: 4 }),
          status: fc.oneof({ arbitrary: fc.constant('ok' as const), weight: 4 }, fc.constant('info' as const), fc.constant('fail' as const)),
          infoCompletes: fc.boolean(),
          call: kvAndOutput(key),
        })
        .map(({ client, invoke, duration, status, infoCompletes, call }) =>
          op(client, invoke, status === 'info' && !infoCompletes ? undefined : invoke + duration, status, call.kv, call.output),
        );
    const history = fc
      .integer({ min: 1, max: 3 })
      .chain((keys) => fc.array(operation(fc.constantFrom(...['a', 'b', 'c'].slice(0, keys))), { minLength: 2, maxLength: 6 }));

    const counts = { linearizable: 0, not: 0 };
    fc.assert(
      fc.property(history, (h) => {
        const expected = bruteForce(h);
        const result = checkKvHistory(h);
        expect(result.ok, describeHistory(h)).toBe(expected);
        counts[expected ? 'linearizable' : 'not']++;
      }),
      propertyParams(2_000, 10_000),
    );
    const total = counts.linearizable + counts.not;
    expect(counts.linearizable / total).toBeGreaterThanOrEqual(0.1);
    expect(counts.not / total).toBeGreaterThanOrEqual(0.1);
  });

  it('checks a long linearizable history of 2,000 ops over 5 keys and 5 clients', () => {
    const history = linearizableHistory(2_000, 5, 5, 42);
    expect(history).toHaveLength(2_000);
    expect(checkKvHistory(history)).toEqual({ ok: true });
    // The same history with one read of a value never written is refused.
    const read = history.findIndex((o, i) => i >= 1_000 && o.status === 'ok' && o.op.f === 'get');
    const result = checkKvHistory(history.map((o, i) => (i === read ? { ...o, output: 'never written' } : o)));
    expect(result.ok).toBe(false);
    if (result.ok === false) expect(result.reason).toMatch(/longest linearizable prefix found of \d+ ops, ending \[\.\.\., .*get\(k\d\) -> "never written"/);
  });
});

/**
 * The reference: every subset of info ops that took effect, every order of those and the ok ops
 * consistent with real time, run against a map; no partitioning by key, no memoization.
 */
function bruteForce(history: readonly Operation[]): boolean {
  const happened = history.filter((o) => o.status !== 'fail');
  const infos = happened.filter((o) => o.status === 'info');
  const oks = happened.filter((o) => o.status === 'ok');
  const end = (o: Operation): number => (o.status === 'info' ? Infinity : o.complete!);
  const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

  const orders = (left: readonly Operation[], store: ReadonlyMap<string, unknown>): boolean => {
    if (left.length === 0) return true;
    return left.some((next, i) => {
      // `next` may go first only if nothing left strictly precedes it.
      if (left.some((other) => end(other) < next.invoke)) return false;
      const store2 = new Map(store);
      const current = store.get(next.op.key);
      let output: unknown;
      switch (next.op.f) {
        case 'get':
          output = current;
          break;
        case 'put':
          store2.set(next.op.key, next.op.value);
          break;
        case 'delete':
          store2.delete(next.op.key);
          break;
        case 'cas':
          output = same(current, next.op.expected);
          if (output === true) store2.set(next.op.key, next.op.value);
          break;
      }
      const checked = next.status === 'ok' && (next.op.f === 'get' || next.op.f === 'cas');
      if (checked && !same(output, next.output)) return false;
      return orders([...left.slice(0, i), ...left.slice(i + 1)], store2);
    });
  };

  for (let mask = 0; mask < 1 << infos.length; mask++) {
    const included = [...oks, ...infos.filter((_, i) => (mask >> i) & 1)];
    if (orders(included, new Map())) return true;
  }
  return false;
}

/**
 * A linearizable history: clients issue overlapping ops one after another; each takes effect at a
 * random instant inside its interval, and outputs come from applying them in that order. A few
 * are info: some took effect, some never did.
 */
function linearizableHistory(count: number, keys: number, clients: number, seed: number): Operation[] {
  let s = seed;
  const random = (): number => {
    // mulberry32: deterministic, so a failure replays.
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number): number => Math.floor(random() * n);

  const calls: { o: Operation; at: number | undefined }[] = [];
  const clock = new Array<number>(clients).fill(0);
  for (let i = 0; i < count; i++) {
    const client = i % clients;
    const invoke = clock[client]! + int(3);
    const complete = invoke + 1 + int(20);
    clock[client] = complete;
    const key = `k${int(keys)}`;
    const kv = [get(key), put(key, int(3)), del(key), cas(key, int(3), int(3))][int(4)]!;
    const info = random() < 0.01;
    const at = info && random() < 0.5 ? undefined : invoke + random() * (complete - invoke);
    calls.push({ o: op(client, invoke, info ? undefined : complete, info ? 'info' : 'ok', kv), at });
  }

  const store = new Map<string, unknown>();
  const outputs = new Map<Operation, unknown>();
  for (const { o, at } of [...calls].filter((c) => c.at !== undefined).sort((a, b) => a.at! - b.at!)) {
    const current = store.get(o.op.key);
    if (o.op.f === 'get') outputs.set(o, current);
    if (o.op.f === 'put') store.set(o.op.key, o.op.value);
    if (o.op.f === 'delete') store.delete(o.op.key);
    if (o.op.f === 'cas') {
      const swaps = JSON.stringify(current) === JSON.stringify(o.op.expected);
      if (swaps) store.set(o.op.key, o.op.value);
      outputs.set(o, swaps);
    }
  }
  return calls.map(({ o }) => (outputs.has(o) ? { ...o, output: outputs.get(o) } : o));
}
