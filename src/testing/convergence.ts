/**
 * Convergence of an eventually consistent store: once the network healed and the replicas went
 * quiet, do they all hold the same state, and is it the state last-writer-wins implies?
 */
import { compareHlc, type HlcTimestamp } from '../clocks/hlc.js';
import { show } from './model.js';

/**
 * One key on which replicas disagree (or disagree with the expected state): what each replica
 * holds (`undefined`: absent), and what was expected, if given.
 *
 * @example
 * ```ts
 * import type { ConvergenceDifference } from 'raftkit/testing';
 * const difference: ConvergenceDifference = { key: 'x', values: { a: 1, b: 2 }, expected: 2 };
 * ```
 */
export interface ConvergenceDifference {
  /** The key. */
  readonly key: string;
  /** Each replica's value of it (undefined: absent), by replica id. */
  readonly values: Readonly<Record<string, unknown>>;
  /** The expected value (undefined: absent), when an expected state was given. */
  readonly expected?: unknown;
}

/**
 * The verdict of {@link checkConvergence}: `converged`, or the keys that differ, with a message.
 *
 * @example
 * ```ts
 * import { checkConvergence, type ConvergenceResult } from 'raftkit/testing';
 * const verdict: ConvergenceResult = checkConvergence(new Map([['a', new Map([['x', 1]])], ['b', new Map()]]));
 * if (!verdict.converged) console.log(verdict.message); // not converged: 1 key differs: x: a=1, b=absent
 * ```
 */
export interface ConvergenceResult {
  /** Every replica holds the same state (and the expected one, if given). */
  readonly converged: boolean;
  /** The keys that differ, in key order (empty when converged). */
  readonly differences: readonly ConvergenceDifference[];
  /** The verdict in words. */
  readonly message: string;
}

/** At most this many differing keys are spelled out in the message. */
const SHOWN = 5;

/**
 * Checks that replicas converged: every replica's state (key → value, a missing key is absent)
 * is the same, and, with `expected`, equal to that state. Values are compared as JSON text.
 * Call it after the faults healed and the replicas had time to exchange everything.
 *
 * @param states each replica's state, by replica id.
 * @param options `expected`: the state every replica must hold, e.g. from {@link lastWriterWins}.
 *
 * @example
 * ```ts
 * import { checkConvergence } from 'raftkit/testing';
 * const a = new Map<string, unknown>([['x', 1], ['y', 'b']]);
 * const b = new Map<string, unknown>([['y', 'b'], ['x', 1]]);
 * console.log(checkConvergence(new Map([['a', a], ['b', b]])).converged); // true
 * console.log(checkConvergence(new Map([['a', a], ['b', b]]), { expected: new Map([['x', 2]]) }).message);
 * // not converged: 2 keys differ: x: a=1, b=1 (expected 2); y: a="b", b="b" (expected absent)
 * ```
 */
export function checkConvergence(
  states: ReadonlyMap<string, ReadonlyMap<string, unknown>>,
  options: { readonly expected?: ReadonlyMap<string, unknown> } = {},
): ConvergenceResult {
  if (!(states instanceof Map)) throw new TypeError('checkConvergence: states must be a Map of replica id → Map of key → value');
  const { expected } = options;
  const keys = new Set<string>(expected?.keys() ?? []);
  for (const state of states.values()) for (const key of state.keys()) keys.add(key);
  const differences: ConvergenceDifference[] = [];
  for (const key of [...keys].sort()) {
    const texts = new Set<string | undefined>();
    const values: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
    for (const [replica, state] of states) {
      values[replica] = state.get(key);
      texts.add(JSON.stringify(state.get(key)));
    }
    const want = expected === undefined ? undefined : JSON.stringify(expected.get(key));
    const agree = texts.size <= 1 && (expected === undefined || texts.size === 0 || texts.has(want));
    if (!agree) differences.push(expected === undefined ? { key, values } : { key, values, expected: expected.get(key) });
  }
  if (differences.length === 0) return { converged: true, differences, message: `converged: ${states.size} replicas hold the same ${keys.size} keys` };
  const absent = (value: unknown): string => (value === undefined ? 'absent' : show(value));
  const described = differences.slice(0, SHOWN).map(
    (d) => `${d.key}: ${Object.entries(d.values).map(([replica, value]) => `${replica}=${absent(value)}`).join(', ')}${'expected' in d ? ` (expected ${absent(d.expected)})` : ''}`,
  );
  const rest = differences.length > SHOWN ? `; … ${differences.length - SHOWN} more` : '';
  return {
    converged: false,
    differences,
    message: `not converged: ${differences.length} key${differences.length === 1 ? ' differs' : 's differ'}: ${described.join('; ')}${rest}`,
  };
}

/**
 * A write as {@link lastWriterWins} weighs it: its key, its value (ignored for a delete) and
 * its HLC timestamp.
 *
 * @example
 * ```ts
 * import type { LwwWrite } from 'raftkit/testing';
 * const write: LwwWrite = { key: 'x', value: 1, hlc: { wallTime: 10, logical: 0, nodeId: 'a' } };
 * const erase: LwwWrite = { key: 'x', deleted: true, hlc: { wallTime: 11, logical: 0, nodeId: 'b' } };
 * ```
 */
export interface LwwWrite {
  /** The key written. */
  readonly key: string;
  /** The value written (ignored for a delete). */
  readonly value?: unknown;
  /** True for a delete. */
  readonly deleted?: boolean;
  /** The write's timestamp: the largest wins (ties broken by node id, as {@link compareHlc} does). */
  readonly hlc: HlcTimestamp;
}

/**
 * The state that last-writer-wins gives a set of writes: per key, the value of the write with
 * the largest HLC timestamp (a key whose winner is a delete is absent). Since a hybrid logical
 * clock orders causally related writes, this is also what a store that first lets causally
 * later writes supersede earlier ones and then picks the largest HLC among concurrent ones
 * must converge to. Pass it to {@link checkConvergence} as `expected`.
 *
 * @example
 * ```ts
 * import { lastWriterWins } from 'raftkit/testing';
 * const state = lastWriterWins([
 *   { key: 'x', value: 'from a', hlc: { wallTime: 10, logical: 0, nodeId: 'a' } },
 *   { key: 'x', value: 'from b', hlc: { wallTime: 10, logical: 0, nodeId: 'b' } }, // a tie: b > a
 *   { key: 'y', value: 1, hlc: { wallTime: 5, logical: 0, nodeId: 'a' } },
 *   { key: 'y', deleted: true, hlc: { wallTime: 6, logical: 0, nodeId: 'b' } },
 * ]);
 * console.log(state); // Map(1) { 'x' => 'from b' }
 * ```
 */
export function lastWriterWins(writes: Iterable<LwwWrite>): Map<string, unknown> {
  const winners = new Map<string, LwwWrite>();
  for (const write of writes) {
    const best = winners.get(write.key);
    if (best === undefined || compareHlc(write.hlc, best.hlc) > 0) winners.set(write.key, write);
  }
  const state = new Map<string, unknown>();
  for (const key of [...winners.keys()].sort()) {
    const winner = winners.get(key)!;
    if (winner.deleted !== true) state.set(key, winner.value);
  }
  return state;
}
