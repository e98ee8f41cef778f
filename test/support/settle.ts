import { expect } from 'vitest';

/**
 * Runs the simulated cluster in small steps, letting promise callbacks run in between, until
 * `promise` settles (at most `timeoutMs` of virtual time); returns how it settled.
 */
export async function settle<T>(
  cluster: { run(ms: number): Promise<void> },
  promise: Promise<T>,
  timeoutMs = 5_000,
): Promise<{ value?: T; error?: unknown }> {
  let outcome: { value?: T; error?: unknown } | undefined;
  promise.then(
    (value) => (outcome = { value }),
    (error: unknown) => (outcome = { error }),
  );
  for (let t = 0; t < timeoutMs && outcome === undefined; t += 5) {
    await cluster.run(5);
    await Promise.resolve();
  }
  expect(outcome, 'the promise settled').toBeDefined();
  return outcome!;
}
