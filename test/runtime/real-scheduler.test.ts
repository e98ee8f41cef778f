import { describe, expect, it } from 'vitest';
import { RealScheduler } from '../../src/runtime/real-scheduler.js';

describe('RealScheduler', () => {
  it('reads wall-clock time since the epoch (comparable across processes, for client sessions\' log time)', () => {
    expect(Math.abs(new RealScheduler().now() - Date.now())).toBeLessThan(1_000);
  });

  it('reads a monotonic clock', () => {
    const s = new RealScheduler();
    const a = s.now();
    const b = s.now();
    expect(typeof a).toBe('number');
    expect(b).toBeGreaterThanOrEqual(a);
  });

  it('runs deferred work before immediate timers, and those before longer ones', async () => {
    const s = new RealScheduler();
    const log: string[] = [];
    await new Promise<void>((resolve) => {
      s.schedule(5, () => {
        log.push('timeout');
        resolve();
      });
      s.schedule(0, () => log.push('immediate'));
      s.defer(() => log.push('microtask'));
    });
    expect(log).toEqual(['microtask', 'immediate', 'timeout']);
  });

  it('waits at least roughly the delay', async () => {
    const s = new RealScheduler();
    const start = s.now();
    const elapsed = await new Promise<number>((resolve) => s.schedule(20, () => resolve(s.now() - start)));
    expect(elapsed).toBeGreaterThanOrEqual(15);
  });

  it('cancels timers of both kinds', async () => {
    const s = new RealScheduler();
    const log: string[] = [];
    s.schedule(0, () => log.push('immediate'))();
    s.schedule(1, () => log.push('timeout'))();
    await new Promise<void>((resolve) => s.schedule(10, resolve));
    expect(log).toEqual([]);
  });

  it('validates the delay', () => {
    const s = new RealScheduler();
    expect(() => s.schedule(-1, () => {})).toThrow(RangeError);
    expect(() => s.schedule(Number.NaN, () => {})).toThrow(RangeError);
  });
});
