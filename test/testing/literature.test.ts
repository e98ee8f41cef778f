/**
 * Hand-made histories from the literature and from Jepsen's reports: the anomalies are refused,
 * their legal neighbours accepted.
 */
import { describe, expect, it } from 'vitest';
import {
  UNKNOWN,
  checkLinearizable,
  describeHistory,
  kvModel,
  registerModel,
  setModel,
  type KvInput,
  type Model,
  type Operation,
  type RegisterInput,
  type SetInput,
} from '../../src/testing/index.js';

type Op<I> = Operation<I>;
const ok = <I>(client: number, invoke: number, complete: number, input: I, output?: unknown): Op<I> => ({ client, invoke, complete, status: 'ok', input, output });
const info = <I>(client: number, invoke: number, input: I): Op<I> => ({ client, invoke, status: 'info', input });
const fail = <I>(client: number, invoke: number, complete: number, input: I): Op<I> => ({ client, invoke, complete, status: 'fail', input });

const read = { op: 'read' } as const;
const write = (value: unknown): RegisterInput => ({ op: 'write', value });
const cas = (expected: unknown, value: unknown): RegisterInput => ({ op: 'cas', expected, value });
const get = (key: string): KvInput => ({ op: 'get', key });
const put = (key: string, value: unknown): KvInput => ({ op: 'put', key, value });

function verdict<I, S>(history: Op<I>[], model: Model<I, unknown, S>): string {
  const result = checkLinearizable(history, model);
  return result.result === 'illegal' ? `illegal\n${result.counterexample.message}` : result.result;
}
const accepted = <I, S>(history: Op<I>[], model: Model<I, unknown, S>): void => {
  expect(verdict(history, model), describeHistory(history, model)).toBe('linearizable');
};
const refused = <I, S>(history: Op<I>[], model: Model<I, unknown, S>): void => {
  expect(verdict(history, model), describeHistory(history, model)).toMatch(/^illegal/);
};

describe('registers', () => {
  it('refuses a stale read: a read after a write completed returns the old value', () => {
    refused([ok(0, 0, 1, write(1)), ok(1, 2, 3, read, undefined)], registerModel);
    // Concurrent with the write, the same read is fine.
    accepted([ok(0, 0, 3, write(1)), ok(1, 2, 4, read, undefined)], registerModel);
  });

  it('refuses a lost write: an acknowledged write is overwritten by an older value', () => {
    refused([ok(0, 0, 1, write(1)), ok(0, 2, 3, write(2)), ok(1, 4, 5, read, 1)], registerModel);
  });

  it('refuses a cas race: two concurrent compare-and-sets from the same value both swap', () => {
    refused([ok(0, 0, 1, write(0)), ok(1, 2, 6, cas(0, 'a'), true), ok(2, 3, 5, cas(0, 'b'), true)], registerModel);
    // Either one alone swapping is fine, and the loser reads the winner's value.
    accepted([ok(0, 0, 1, write(0)), ok(1, 2, 6, cas(0, 'a'), true), ok(2, 3, 5, cas(0, 'b'), false), ok(2, 7, 8, read, 'a')], registerModel);
  });

  it('refuses a new-old inversion: a read sees a value, a later read an older one', () => {
    refused([ok(0, 0, 1, write(1)), ok(0, 2, 10, write(2)), ok(1, 3, 4, read, 2), ok(2, 5, 6, read, 1)], registerModel);
    // Either read alone is fine: the write of 2 is still in flight.
    accepted([ok(0, 0, 1, write(1)), ok(0, 2, 10, write(2)), ok(1, 3, 4, read, 2)], registerModel);
    accepted([ok(0, 0, 1, write(1)), ok(0, 2, 10, write(2)), ok(2, 5, 6, read, 1)], registerModel);
  });

  it('accepts reads concurrent with a write seeing either value, in an order of their own', () => {
    accepted([ok(0, 0, 1, write(1)), ok(0, 2, 9, write(2)), ok(1, 3, 4, read, 1), ok(2, 3, 8, read, 2), ok(1, 5, 6, read, 2)], registerModel);
  });

  it('treats operations that touch at an instant as concurrent', () => {
    accepted([ok(0, 0, 2, write(1)), ok(1, 2, 3, read, undefined)], registerModel);
  });

  it('refuses a read of a failed write, and accepts reads that never see it', () => {
    refused([fail(0, 0, 1, write(1)), ok(1, 2, 3, read, 1)], registerModel);
    accepted([fail(0, 0, 1, write(1)), ok(1, 2, 3, read, undefined)], registerModel);
  });

  it('lets an info write take effect any time after its invocation, or never', () => {
    accepted([info(0, 0, write(1)), ok(1, 10, 11, read, 1)], registerModel); // took effect
    accepted([info(0, 0, write(1)), ok(1, 10, 11, read, undefined)], registerModel); // not yet, or never
    accepted([info(0, 0, write(1)), ok(1, 10, 11, read, undefined), ok(1, 12, 13, read, 1)], registerModel); // long after
    refused([ok(1, 0, 1, read, 1), info(0, 2, write(1))], registerModel); // not before it was invoked
    refused([info(0, 0, write(1)), ok(1, 10, 11, read, 1), ok(1, 12, 13, read, undefined)], registerModel); // not undone
  });

  it('takes an info operation at most once', () => {
    refused([ok(0, 0, 1, write(0)), info(1, 2, cas(0, 1)), ok(2, 3, 4, read, 1), ok(2, 5, 6, write(0)), ok(2, 7, 8, read, 1)], registerModel);
  });

  it('lets identical info operations each take effect once', () => {
    const twice = [info(0, 0, write(1)), info(1, 0, write(1)), ok(2, 1, 2, read, 1), ok(2, 3, 4, write(2)), ok(2, 5, 6, read, 1)];
    accepted(twice, registerModel);
    refused(twice.slice(1), registerModel);
  });

  it('ignores the output of info operations', () => {
    accepted([{ ...info(0, 0, read), output: 7 }, { ...info(0, 2, cas(5, 6)), output: true }], registerModel);
  });
});

describe('key-value stores', () => {
  it('refuses a stale read and a lost write on one key while the other keys are fine', () => {
    refused([ok(0, 0, 1, put('x', 1)), ok(0, 0, 1, put('y', 1)), ok(1, 2, 3, get('y'), 1), ok(1, 4, 5, get('x'), undefined)], kvModel);
    refused([ok(0, 0, 1, put('x', 1)), ok(0, 2, 3, put('x', 2)), ok(1, 2, 3, put('y', 3)), ok(1, 4, 5, get('x'), 1)], kvModel);
  });

  it('compares values as JSON, and a delete makes a key absent', () => {
    accepted(
      [
        ok(0, 0, 1, put('x', { a: [1, null] })),
        ok(0, 2, 3, { op: 'cas', key: 'x', expected: { a: [1, null] }, value: null }, true),
        ok(0, 4, 5, get('x'), null),
        ok(0, 6, 7, { op: 'delete', key: 'x' }),
        ok(0, 8, 9, get('x'), undefined),
      ],
      kvModel,
    );
    refused([ok(0, 0, 1, put('x', null)), ok(0, 2, 3, get('x'), undefined)], kvModel);
  });

  it('checks keys independently', () => {
    accepted(
      [
        ok(0, 0, 1, put('x', 1)),
        ok(1, 0, 1, put('y', 2)),
        ok(0, 2, 3, get('y'), 2),
        ok(1, 2, 3, get('x'), 1),
        ok(0, 4, 5, put('y', 3)),
        ok(1, 4, 5, put('x', 4)),
        ok(0, 6, 7, get('x'), 4),
        ok(1, 6, 7, get('y'), 3),
      ],
      kvModel,
    );
  });
});

describe('sets', () => {
  const add = (value: unknown): SetInput => ({ op: 'add', value });
  const all = { op: 'read' } as const;

  it('refuses a lost add: an acknowledged element missing from a later read', () => {
    refused([ok(0, 0, 1, add(1)), ok(1, 2, 3, all, [])], setModel);
  });

  it('refuses reads that disagree on the order of two concurrent adds', () => {
    refused([ok(0, 0, 9, add(1)), ok(1, 0, 9, add(2)), ok(2, 1, 2, all, [1]), ok(3, 1, 2, all, [2])], setModel);
    accepted([ok(0, 0, 9, add(1)), ok(1, 0, 9, add(2)), ok(2, 1, 2, all, [1]), ok(3, 3, 4, all, [2, 1])], setModel);
  });

  it('ignores the order and repetitions of a read', () => {
    accepted([ok(0, 0, 1, add('a')), ok(0, 2, 3, add('b')), ok(1, 4, 5, all, ['b', 'a', 'b'])], setModel);
  });
});

describe('a model of your own', () => {
  // A FIFO queue (Herlihy & Wing's running example).
  type QueueInput = { op: 'enq'; value: number } | { op: 'deq' };
  const queue: Model<QueueInput, unknown, readonly number[]> = {
    init: () => [],
    step: (items, input, output) => {
      if (input.op === 'enq') return [...items, input.value];
      const head = items[0] ?? null;
      return output === UNKNOWN || output === head ? items.slice(1) : undefined;
    },
    hash: (items) => items.join(','),
  };
  const enq = (value: number): QueueInput => ({ op: 'enq', value });
  const deq = { op: 'deq' } as const;

  it('refuses a dequeue out of order and accepts one of two concurrent enqueues first', () => {
    refused([ok(0, 0, 1, enq(1)), ok(0, 2, 3, enq(2)), ok(1, 4, 5, deq, 2)], queue);
    accepted([ok(0, 0, 3, enq(1)), ok(1, 0, 3, enq(2)), ok(2, 4, 5, deq, 2), ok(2, 6, 7, deq, 1)], queue);
  });
});
