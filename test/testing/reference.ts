/**
 * A brute-force linearizability checker, the reference the real one is tested against: every
 * subset of the info operations (those that took effect), every order of those and the ok
 * operations that respects real time, run against a plain sequential object. No search
 * pruning, no memoization, no partitioning, and none of src/testing's models.
 */
import type { KvInput, Operation, RegisterInput, SetInput } from '../../src/testing/index.js';

/** What a system does, sequentially: the output an input gives and the state after it. */
export interface Semantics<I, S> {
  readonly init: S;
  apply(state: S, input: I): { readonly state: S; readonly output: unknown };
  /** Whether an ok operation's recorded output agrees with the one computed. */
  agrees(input: I, recorded: unknown, computed: unknown): boolean;
}

const json = (value: unknown): string | undefined => JSON.stringify(value);

export const registerSemantics: Semantics<RegisterInput, unknown> = {
  init: undefined,
  apply: (value, input) => {
    if (input.op === 'read') return { state: value, output: value };
    if (input.op === 'write') return { state: input.value, output: undefined };
    const swapped = json(value) === json(input.expected);
    return { state: swapped ? input.value : value, output: swapped };
  },
  agrees: (input, recorded, computed) => input.op === 'write' || json(recorded) === json(computed),
};

export const kvSemantics: Semantics<KvInput, ReadonlyMap<string, unknown>> = {
  init: new Map(),
  apply: (store, input) => {
    const next = new Map(store);
    switch (input.op) {
      case 'get':
        return { state: store, output: store.get(input.key) };
      case 'put':
        next.set(input.key, input.value);
        return { state: next, output: undefined };
      case 'delete':
        next.delete(input.key);
        return { state: next, output: undefined };
      case 'cas': {
        const swapped = json(store.get(input.key)) === json(input.expected);
        if (swapped) next.set(input.key, input.value);
        return { state: next, output: swapped };
      }
    }
  },
  agrees: (input, recorded, computed) => (input.op !== 'get' && input.op !== 'cas') || json(recorded) === json(computed),
};

export const setSemantics: Semantics<SetInput, ReadonlySet<string>> = {
  init: new Set(),
  apply: (elements, input) => (input.op === 'add' ? { state: new Set([...elements, json(input.value)!]), output: undefined } : { state: elements, output: elements }),
  agrees: (input, recorded, computed) => {
    if (input.op === 'add') return true;
    const read = new Set((recorded as unknown[]).map((e) => json(e)!));
    const present = computed as ReadonlySet<string>;
    return read.size === present.size && [...read].every((e) => present.has(e));
  },
};

/** Whether `history` is linearizable for `semantics`, by exhaustive enumeration. */
export function bruteForce<I, S>(history: readonly Operation<I>[], semantics: Semantics<I, S>): boolean {
  const infos = history.filter((o) => o.status === 'info');
  const oks = history.filter((o) => o.status === 'ok');
  const end = (o: Operation<I>): number => (o.status === 'info' ? Infinity : o.complete!);

  const orders = (left: readonly Operation<I>[], state: S): boolean =>
    left.length === 0 ||
    left.some((next, i) => {
      // `next` may go first only if nothing left precedes it in real time.
      if (left.some((other) => end(other) < next.invoke)) return false;
      const { state: after, output } = semantics.apply(state, next.input);
      if (next.status === 'ok' && !semantics.agrees(next.input, next.output, output)) return false;
      return orders([...left.slice(0, i), ...left.slice(i + 1)], after);
    });

  for (let mask = 0; mask < 1 << infos.length; mask++) {
    if (orders([...oks, ...infos.filter((_, i) => (mask >> i) & 1)], semantics.init)) return true;
  }
  return false;
}
