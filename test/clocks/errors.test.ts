import { describe, it, expect } from 'vitest';
import { ClockDriftError, ClockError } from '../../src/clocks/index.js';

describe('clock errors', () => {
  it('ClockError carries a code and a name', () => {
    const error = new ClockError('INVALID_TIME', 'bad');
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ClockError');
    expect(error.code).toBe('INVALID_TIME');
    expect(error.message).toBe('bad');
    expect(String(error)).toBe('ClockError: bad');
  });

  it('ClockDriftError is a ClockError with the drift and the bound', () => {
    const error = new ClockDriftError('too far', 4000, 100);
    expect(error).toBeInstanceOf(ClockError);
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('ClockDriftError');
    expect(error.code).toBe('DRIFT_EXCEEDED');
    expect(error.driftMs).toBe(4000);
    expect(error.maxDriftMs).toBe(100);
    expect(error.stack).toContain('ClockDriftError');
  });
});
