import { HistoryError } from '../../src/testing/index.js';

/** What `run` threw, as `CODE #index` for a HistoryError; undefined when it did not throw. */
export function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error) {
    if (error instanceof HistoryError) return `${error.code} #${error.index}`;
    throw error;
  }
  return undefined;
}
