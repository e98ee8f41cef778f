import { expect } from 'vitest';
import { ClockError } from '../../src/clocks/index.js';

/** Runs `fn`, expects it to throw a ClockError, and returns that error for further checks. */
export function clockError(fn: () => unknown): ClockError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ClockError);
    return error as ClockError;
  }
  throw new Error('expected a ClockError');
}
