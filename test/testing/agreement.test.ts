/**
 * The checker agrees with the brute-force reference (reference.ts) on random small histories of
 * each built-in model, with ok, fail and info operations: 12,000 histories in `npm test`, ten
 * times as many in `npm run test:deep`. fast-check prints the seed of a failure; RAFTKIT_SEED
 * replays it.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkLinearizable, describeHistory, kvModel, registerModel, setModel, type KvInput, type Model, type Operation, type RegisterInput, type SetInput } from '../../src/testing/index.js';
import { propertyParams } from '../support/runs.js';
import { bruteForce, kvSemantics, registerSemantics, setSemantics, type Semantics } from './reference.js';

interface Call<I> {
  readonly input: I;
  readonly output: unknown;
}

/**
 * Small, dense histories by default (3 clients, times 0..12, so operations often overlap);
 * outputs are random, so a good share of them is linearizable and a good share is not.
 */
function histories<I>(call: fc.Arbitrary<Call<I>>, { length = 6, invokes = 8, duration = 4, infos = 1 } = {}): fc.Arbitrary<Operation<I>[]> {
  const operation = fc
    .record({
      client: fc.integer({ min: 0, max: 2 }),
      invoke: fc.integer({ min: 0, max: invokes }),
      duration: fc.integer({ min: 0, max: duration }),
      status: fc.oneof({ arbitrary: fc.constant('ok' as const), weight: 4 }, { arbitrary: fc.constant('info' as const), weight: infos }, fc.constant('fail' as const)),
      infoCompletes: fc.boolean(),
      call,
    })
    .map(({ client, invoke, duration, status, infoCompletes, call: { input, output } }): Operation<I> => ({
      client,
      input,
      invoke,
      complete: status === 'info' && !infoCompletes ? undefined : invoke + duration,
      status,
      output,
    }));
  return fc.array(operation, { minLength: 1, maxLength: length });
}

const value = fc.integer({ min: 0, max: 2 });
const maybeValue = fc.oneof(value, fc.constant(undefined));

const registerCalls: fc.Arbitrary<Call<RegisterInput>> = fc.oneof(
  fc.record({ input: fc.constant({ op: 'read' as const }), output: maybeValue }),
  fc.record({ input: value.map((v) => ({ op: 'write' as const, value: v })), output: fc.constant(undefined) }),
  fc.record({ input: fc.tuple(maybeValue, value).map(([expected, v]) => ({ op: 'cas' as const, expected, value: v })), output: fc.boolean() }),
);

const key = fc.constantFrom('a', 'b', 'c');
const kvCalls: fc.Arbitrary<Call<KvInput>> = fc.oneof(
  fc.record({ input: key.map((k) => ({ op: 'get' as const, key: k })), output: maybeValue }),
  fc.record({ input: fc.tuple(key, value).map(([k, v]) => ({ op: 'put' as const, key: k, value: v })), output: fc.constant(undefined) }),
  fc.record({ input: key.map((k) => ({ op: 'delete' as const, key: k })), output: fc.constant(undefined) }),
  fc.record({ input: fc.tuple(key, maybeValue, value).map(([k, expected, v]) => ({ op: 'cas' as const, key: k, expected, value: v })), output: fc.boolean() }),
);

const setCalls: fc.Arbitrary<Call<SetInput>> = fc.oneof(
  fc.record({ input: value.map((v) => ({ op: 'add' as const, value: v })), output: fc.constant(undefined) }),
  fc.record({ input: fc.constant({ op: 'read' as const }), output: fc.subarray([0, 1, 2]) }),
);

/**
 * Runs the property: the verdict matches the reference's; a failure's window fails on its own
 * (by the reference too, when it starts from the initial state) and holds its linearization and
 * the operation that cannot be placed.
 */
function agrees<I, S, R>(arbitrary: fc.Arbitrary<Operation<I>[]>, model: Model<I, unknown, S>, semantics: Semantics<I, R>, runs: number, alsoUnpartitioned = false): void {
  const counts = { linearizable: 0, illegal: 0 };
  fc.assert(
    fc.property(arbitrary, (history) => {
      const expected = bruteForce(history, semantics);
      const verdict = checkLinearizable(history, model);
      const why = describeHistory(history, model);
      expect(verdict.result, why).toBe(expected ? 'linearizable' : 'illegal');
      if (alsoUnpartitioned) expect(checkLinearizable(history, { ...model, partition: undefined }).result, why).toBe(verdict.result);
      counts[verdict.result === 'linearizable' ? 'linearizable' : 'illegal']++;
      if (verdict.result !== 'illegal') return;

      const c = verdict.counterexample;
      expect(c.window, why).toContain(c.operation);
      for (const point of c.linearization) expect(c.window, why).toContain(point.operation);
      const window = c.window.map((i) => history[i]!);
      expect(checkLinearizable(window, { ...model, init: () => c.start }).result, `${why}\n${c.message}`).toBe('illegal');
      const fromInitial = model.hash!(c.start) === model.hash!(model.init()) && (model.equals?.(c.start, model.init()) ?? true);
      if (fromInitial) expect(bruteForce(window, semantics), `${why}\n${c.message}`).toBe(false);
    }),
    propertyParams(runs, runs * 10),
  );
  // Both verdicts are common, so neither side of the comparison is tested only vacuously.
  const total = counts.linearizable + counts.illegal;
  expect(counts.linearizable / total).toBeGreaterThan(0.1);
  expect(counts.illegal / total).toBeGreaterThan(0.1);
}

describe('checkLinearizable agrees with a brute-force search — property', () => {
  it('on registers (3,000 histories)', () => {
    agrees(histories(registerCalls), registerModel, registerSemantics, 3_000);
  });

  it('on key-value stores, partitioned by key or not (4,000 histories)', () => {
    agrees(histories(kvCalls), kvModel, kvSemantics, 4_000, true);
  });

  it('on sets (3,000 histories)', () => {
    agrees(histories(setCalls), setModel, setSemantics, 3_000);
  });

  it('on longer, sparser register histories of two values, many of them info (1,000 histories)', () => {
    // Sparser: counterexamples start later. Two values and many info operations: identical
    // pending operations, which the search takes in turn.
    const bit = fc.integer({ min: 0, max: 1 });
    const calls: fc.Arbitrary<Call<RegisterInput>> = fc.oneof(
      fc.record({ input: fc.constant({ op: 'read' as const }), output: bit }),
      fc.record({ input: bit.map((v) => ({ op: 'write' as const, value: v })), output: fc.constant(undefined) }),
    );
    agrees(histories(calls, { length: 9, invokes: 30, duration: 6, infos: 3 }), registerModel, registerSemantics, 1_000);
  });

  it('on registers whose hash always collides, so that equals decides (1,000 histories)', () => {
    agrees(histories(registerCalls), { ...registerModel, hash: () => 0, equals: (a, b) => a === b }, registerSemantics, 1_000);
  });
});
