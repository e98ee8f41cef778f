/**
 * The tests' key-value histories (operations with an `f` field, as the Jepsen-style tests and
 * the multi-process tests record them), checked by `raftkit/testing`'s `checkLinearizable`
 * with its `kvModel`. A thin adapter: the checker itself lives in src/testing.
 */
import { checkLinearizable, describeHistory as describe, kvModel, type KvInput, type Operation as TestingOperation } from '../../src/testing/index.js';

/** An operation on the store. Values are JSON values, compared by their JSON text; undefined: absent. */
export type KvOp =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: unknown }
  | { readonly f: 'delete'; readonly key: string }
  | { readonly f: 'cas'; readonly key: string; readonly expected: unknown; readonly value: unknown };

/**
 * One client operation. `ok`: it happened once, between `invoke` and `complete`, with `output`
 * (get: the value read; cas: a boolean, whether it swapped; ignored for put and delete).
 * `fail`: it did not happen. `info`: unknown; it may have happened at any time after `invoke`, or
 * never, and its `complete` and `output` are ignored. A precedes B only if A.complete < B.invoke.
 */
export interface Operation {
  readonly client: string | number;
  readonly invoke: number;
  readonly complete: number | undefined;
  readonly status: 'ok' | 'fail' | 'info';
  readonly op: KvOp;
  readonly output?: unknown;
}

/**
 * The verdict. On failure: the key, its operations (fail ones included) and the checker's
 * message about them; `#n` in the message is the op's index in `ops`, as {@link describeHistory}
 * prints it.
 */
export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly key: string; readonly reason: string; readonly ops: Operation[] }
  | { readonly ok: 'unknown' };

export interface CheckOptions {
  /** Search steps allowed for each key before giving up with `{ ok: 'unknown' }` (default 5,000,000). */
  readonly maxSteps?: number;
}

/** Checks that `history` is linearizable with respect to a map of independent registers. */
export function checkKvHistory(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const maxSteps = options.maxSteps ?? 5_000_000;
  const verdict = checkLinearizable(history.map(toTesting), kvModel, { maxSteps });
  if (verdict.result === 'linearizable') return { ok: true };
  if (verdict.result === 'unknown') return { ok: 'unknown' };
  // Checked again on its own key, so that the message numbers the operations as `ops` does.
  const key = verdict.counterexample.partition!;
  const ops = history.filter((o) => o.op.key === key);
  const again = checkLinearizable(ops.map(toTesting), kvModel, { maxSteps });
  if (again.result !== 'illegal') throw new Error(`invariant: key ${key} fails alone as it does in the whole history`);
  return { ok: false, key, reason: again.counterexample.message, ops };
}

/** One line per operation: index, client, [invoke, complete], status, op and output. */
export function describeHistory(ops: readonly Operation[]): string {
  return describe(ops.map(toTesting), kvModel);
}

function toTesting({ client, invoke, complete, status, op: { f, ...args }, output }: Operation): TestingOperation<KvInput> {
  return { client, invoke, complete, status, input: { op: f, ...args } as KvInput, output };
}
