import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { Cluster } from '../../src/sim/cluster.js';
import { propertyParams } from '../support/runs.js';

describe('KeyValueStore', () => {
  it('puts, gets, deletes and compares-and-sets, returning the previous value', () => {
    const kv = new KeyValueStore();
    expect(kv.apply({ op: 'put', key: 'a', value: 1 })).toEqual({ previous: undefined, ok: true });
    expect(kv.apply({ op: 'get', key: 'a' })).toEqual({ previous: 1, ok: true });
    expect(kv.apply({ op: 'cas', key: 'a', expected: 2, value: 3 })).toEqual({ previous: 1, ok: false });
    expect(kv.get('a')).toBe(1);
    expect(kv.apply({ op: 'cas', key: 'a', expected: 1, value: { deep: [1] } })).toEqual({ previous: 1, ok: true });
    expect(kv.apply({ op: 'cas', key: 'a', expected: { deep: [1] }, value: 4 })).toMatchObject({ ok: true });
    expect(kv.apply({ op: 'delete', key: 'a' })).toEqual({ previous: 4, ok: true });
    expect(kv.size).toBe(0);
    expect(kv.apply({ op: 'cas', key: 'new', expected: undefined, value: 'created' })).toMatchObject({ ok: true });
    expect(() => kv.apply({ op: 'nope', key: 'a' } as unknown as KeyValueCommand)).toThrow(TypeError);
  });

  it('is safe with hostile keys', () => {
    const kv = new KeyValueStore();
    kv.apply({ op: 'put', key: '__proto__', value: { polluted: true } });
    expect(kv.get('__proto__')).toEqual({ polluted: true });
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
    const copy = new KeyValueStore();
    copy.restore(kv.snapshot());
    expect(copy.get('__proto__')).toEqual({ polluted: true });
  });

  it('matches a model under any command sequence, and a snapshot restores the same state — property', () => {
    const key = fc.constantFrom('a', 'b', 'c');
    const value = fc.jsonValue({ maxDepth: 2 });
    const command: fc.Arbitrary<KeyValueCommand> = fc.oneof(
      fc.record({ op: fc.constant('put' as const), key, value }),
      fc.record({ op: fc.constant('delete' as const), key }),
      fc.record({ op: fc.constant('cas' as const), key, expected: fc.oneof(value, fc.constant(undefined)), value }),
      fc.record({ op: fc.constant('get' as const), key }),
    );
    fc.assert(
      fc.property(fc.array(command, { maxLength: 40 }), (commands) => {
        const kv = new KeyValueStore();
        const model = new Map<string, string>(); // key -> JSON text
        for (const c of commands) {
          const before = model.get(c.key);
          const result = kv.apply(c);
          expect(JSON.stringify(result.previous)).toBe(before);
          if (c.op === 'put') model.set(c.key, JSON.stringify(c.value));
          if (c.op === 'delete') model.delete(c.key);
          if (c.op === 'cas' && JSON.stringify(c.expected) === before) model.set(c.key, JSON.stringify(c.value));
        }
        const restored = new KeyValueStore();
        restored.restore(kv.snapshot());
        expect(restored.snapshot()).toBe(kv.snapshot());
        for (const k of ['a', 'b', 'c']) expect(JSON.stringify(restored.get(k))).toBe(model.get(k));
      }),
      propertyParams(500, 20_000),
    );
  });

  it('rejects a corrupt snapshot and keeps its state', () => {
    const kv = new KeyValueStore();
    kv.apply({ op: 'put', key: 'a', value: 1 });
    expect(() => kv.restore('{"a":1}')).toThrow(TypeError);
    expect(kv.get('a')).toBe(1);
  });

  it('replicated: every replica converges to the same state, and CAS results come back to the client', async () => {
    const stores = new Map<string, KeyValueStore>();
    const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
      size: 3,
      seed: 41,
      stateMachine: (id) => {
        const store = new KeyValueStore();
        stores.set(id, store);
        return store;
      },
    });
    await cluster.propose({ op: 'put', key: 'x', value: 1 });
    expect((await cluster.propose({ op: 'cas', key: 'x', expected: 1, value: 2 })).result).toEqual({ previous: 1, ok: true });
    expect((await cluster.propose({ op: 'cas', key: 'x', expected: 1, value: 3 })).result).toEqual({ previous: 2, ok: false });
    await cluster.run(500);
    const snapshots = cluster.ids.map((id) => stores.get(id)!.snapshot());
    expect(new Set(snapshots).size).toBe(1);
    expect(stores.get('1')!.get('x')).toBe(2);
  });
});

describe('KeyValueStore against malformed commands and shared values (review findings)', () => {
  it('refuses a command without a string key, and a value with no JSON form, leaving the store unchanged', () => {
    const store = new KeyValueStore();
    store.apply({ op: 'put', key: 'a', value: 1 });
    for (const bad of [null, { op: 'put', key: 5, value: 'x' }, { op: 'put', value: 'y' }, { op: 'put', key: 'b', value: undefined }]) {
      expect(() => store.apply(bad as never)).toThrow(TypeError);
    }
    expect(store.size).toBe(1);
    // Its snapshot stays restorable.
    const copy = new KeyValueStore();
    copy.restore(store.snapshot());
    expect(copy.get('a')).toBe(1);
  });

  it('shares no object with callers: changing what was put or what get returned changes nothing', () => {
    const store = new KeyValueStore();
    const value = { replicas: 3 };
    store.apply({ op: 'put', key: 'cfg', value });
    value.replicas = 2;
    (store.get('cfg') as { replicas: number }).replicas = 99;
    expect(store.get('cfg')).toEqual({ replicas: 3 });
  });

  it('a replica restored from a snapshot answers exactly as one that applied the log', () => {
    const commands: KeyValueCommand[] = [
      { op: 'put', key: 'n', value: Number.NaN },
      { op: 'cas', key: 'gone', expected: undefined, value: 'first' },
      { op: 'put', key: 'nested', value: { a: [1, null] } },
    ];
    const replayed = new KeyValueStore();
    for (const c of commands) replayed.apply(c);
    const restored = new KeyValueStore();
    restored.restore(replayed.snapshot());
    for (const probe of [{ op: 'cas', key: 'n', expected: null, value: 1 }, { op: 'cas', key: 'absent', expected: undefined, value: 1 }, { op: 'get', key: 'nested' }] as KeyValueCommand[]) {
      expect(restored.apply(probe)).toEqual(replayed.apply(probe));
    }
    expect(restored.snapshot()).toBe(replayed.snapshot());
  });
});
