/**
 * What the conformance suites are made of: named checks that any test runner can register, and
 * the few helpers they share (waiting on real time, comparing plain JSON values).
 */

import { RealScheduler } from '../runtime/real-scheduler.js';

/**
 * One conformance check: a name that says what is required, and a function that resolves when
 * the implementation meets it and rejects with an explanation when it does not. Register each
 * with your test runner, or run them all with {@link runChecks}.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * import { storageChecks } from 'raftkit/conformance';
 *
 * const checks = storageChecks({ create: () => ({ storage: new MemoryStorage() }) });
 * // With any test runner: for (const check of checks) it(check.name, () => check.run());
 * const check = checks.find((c) => c.name === 'keeps the latest hard state');
 * await check?.run(); // resolves: MemoryStorage keeps it
 * ```
 */
export interface ConformanceCheck {
  /** What the check requires, as a sentence (e.g. "delivers a message … unchanged"). */
  readonly name: string;
  /** Resolves when the requirement holds; rejects with a {@link ConformanceError} saying what differed. */
  run(): Promise<void>;
}

/**
 * The outcome of one check, as {@link runChecks} reports it.
 *
 * @example
 * ```ts
 * import type { ConformanceResult } from 'raftkit/conformance';
 * const result: ConformanceResult = { name: 'keeps the hard state', passed: true, ms: 3 };
 * ```
 */
export interface ConformanceResult {
  /** The check's name. */
  readonly name: string;
  /** Whether it passed. */
  readonly passed: boolean;
  /** Why it failed (absent when it passed). */
  readonly error?: unknown;
  /** How long it took, in milliseconds. */
  readonly ms: number;
}

/**
 * Thrown by a check whose requirement does not hold. The message says what was expected and
 * what happened.
 *
 * @example
 * ```ts
 * import { ConformanceError } from 'raftkit/conformance';
 * const error = new ConformanceError('expected term 3, loaded term 0');
 * error.name; // 'ConformanceError'
 * ```
 */
export class ConformanceError extends Error {
  /** Always `'ConformanceError'`. */
  override readonly name = 'ConformanceError';
}

/**
 * Runs `checks` one after another (never concurrently: each may use the network or the disk) and
 * reports each outcome, also to `onResult` as it comes (for progress output). A failing check
 * does not stop the run; only an exception thrown by `onResult` itself does.
 *
 * @example
 * ```ts
 * import { MemoryStorage } from 'raftkit';
 * import { runChecks, storageChecks } from 'raftkit/conformance';
 *
 * const results = await runChecks(storageChecks({ create: () => ({ storage: new MemoryStorage() }) }), {
 *   onResult: (r) => console.log(`${r.passed ? 'ok  ' : 'FAIL'} ${r.name}`),
 * });
 * const failed = results.filter((r) => !r.passed).length; // 0
 * ```
 */
export async function runChecks(
  checks: readonly ConformanceCheck[],
  options: { onResult?: (result: ConformanceResult) => void } = {},
): Promise<ConformanceResult[]> {
  const results: ConformanceResult[] = [];
  for (const check of checks) {
    const started = clock.now();
    let result: ConformanceResult;
    try {
      await check.run();
      result = { name: check.name, passed: true, ms: clock.now() - started };
    } catch (error) {
      result = { name: check.name, passed: false, error, ms: clock.now() - started };
    }
    results.push(result);
    options.onResult?.(result);
  }
  return results;
}

/** Real time: implementations under test do real I/O. */
export const clock = new RealScheduler();

/** Resolves after `ms` milliseconds of real time. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => clock.schedule(ms, resolve));
}

/**
 * Polls `done` every few milliseconds until it holds; calls `retry` (if given) at once and then
 * every 100 ms meanwhile, since a transport may drop messages. Rejects after `timeoutMs` saying
 * what it waited for.
 */
export async function eventually(what: string, timeoutMs: number, done: () => boolean, retry?: () => void): Promise<void> {
  const deadline = clock.now() + timeoutMs;
  let nextRetry = clock.now();
  while (!done()) {
    if (clock.now() >= deadline) throw new ConformanceError(`timed out after ${Math.round(timeoutMs)} ms waiting for ${what}`);
    if (retry !== undefined && clock.now() >= nextRetry) {
      retry();
      nextRetry = clock.now() + 100;
    }
    await sleep(5);
  }
}

/**
 * What `call()` returns or resolves to, or a {@link ConformanceError} saying what did not finish
 * once `timeoutMs` passed (a `close()` that never resolves must fail the check, not hang it).
 * Anything it throws or rejects with is wrapped too, with `what` in the message.
 */
export async function within<T>(what: string, timeoutMs: number, call: () => Promise<T> | T): Promise<T> {
  let cancel = (): void => undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    cancel = clock.schedule(timeoutMs, () => reject(new ConformanceError(`${what} did not finish within ${Math.round(timeoutMs)} ms`)));
  });
  try {
    return await Promise.race([call(), timeout]);
  } catch (error) {
    throw error instanceof ConformanceError ? error : new ConformanceError(`${what} failed: ${String(error)}`, { cause: error });
  } finally {
    cancel();
  }
}

/** JSON with object keys sorted, so two equal plain values give the same string whatever their key order. */
export function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** Throws a {@link ConformanceError} unless `actual` and `expected` are the same plain JSON value. */
export function expectSame(what: string, actual: unknown, expected: unknown): void {
  const a = canonical(actual);
  const e = canonical(expected);
  if (a !== e) throw new ConformanceError(`${what}: expected ${clip(e)}, got ${clip(a)}`);
}

/** Long values (a 1 MiB chunk) are cut in error messages. */
function clip(text: string | undefined): string {
  if (text === undefined) return 'undefined';
  return text.length > 300 ? `${text.slice(0, 300)}… (${text.length} characters)` : text;
}
