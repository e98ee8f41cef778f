/** The two stall detectors behind the server's SLOW_FSYNC and EVENT_LOOP_STALL warnings, on a hand-driven clock. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Cancel, Scheduler } from '../../src/runtime/scheduler.js';
import type { FileHandle, FileSystem } from '../../src/node-only/file-system.js';
import { timedSyncs, watchEventLoop } from '../../src/node-only/stalls.js';

/** Timers fire only when the test says, as late as it says. */
class HandScheduler implements Scheduler {
  time = 0;
  readonly timers = new Set<{ at: number; callback: () => void }>();
  now(): number {
    return this.time;
  }
  schedule(delayMs: number, callback: () => void): Cancel {
    const timer = { at: this.time + delayMs, callback };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }
  defer(callback: () => void): void {
    callback();
  }
  /** Runs the one pending timer `lateMs` after it was due. */
  fireLate(lateMs: number): void {
    expect(this.timers.size).toBe(1);
    const [timer] = this.timers;
    this.timers.delete(timer!);
    this.time = timer!.at + lateMs;
    timer!.callback();
  }
}

describe('watchEventLoop', () => {
  it('reports exactly the ticks that ran at least the threshold late, by how late, and nothing after stop', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 500 }), fc.array(fc.integer({ min: 0, max: 1_000 }), { maxLength: 40 }), (period, threshold, lateness) => {
        const scheduler = new HandScheduler();
        const reported: number[] = [];
        const stop = watchEventLoop(scheduler, period, threshold, (ms) => reported.push(ms));
        for (const late of lateness) {
          // Each tick is due one period after the one before actually ran.
          const ranAt = scheduler.time;
          expect([...scheduler.timers][0]!.at).toBe(ranAt + period);
          scheduler.fireLate(late);
        }
        expect(reported).toEqual(lateness.filter((late) => late >= threshold));
        stop();
        expect(scheduler.timers.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });
});

describe('timedSyncs', () => {
  /** A file system whose datasync takes as long as the test says; everything else is recorded. */
  function slowDisk(clock: HandScheduler, syncMs: () => number) {
    const calls: string[] = [];
    const handle = (path: string): FileHandle => ({
      append: async (data) => void calls.push(`append ${path} ${data.length}`),
      truncate: async (length) => void calls.push(`truncate ${path} ${length}`),
      close: async () => void calls.push(`close ${path}`),
      datasync: async () => {
        clock.time += syncMs();
        calls.push(`datasync ${path}`);
      },
    });
    const fs = {
      open: async (path: string) => handle(path),
      rename: async (from: string, to: string) => void calls.push(`rename ${from} ${to}`),
    } as unknown as FileSystem;
    return { fs, calls };
  }

  it('observes every datasync with its duration and file, and passes every call through', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.tuple(fc.constantFrom('a/log', 'a/snap'), fc.nat(300), fc.nat(10)), { minLength: 1, maxLength: 20 }), async (steps) => {
        const clock = new HandScheduler();
        let next = 0;
        const { fs, calls } = slowDisk(clock, () => next);
        const observed: [number, string][] = [];
        const timed = timedSyncs(fs, clock, (ms, path) => observed.push([ms, path]));
        const expected: string[] = [];
        for (const [path, ms, bytes] of steps) {
          const file = await timed.open(path, 'append');
          await file.append(new Uint8Array(bytes));
          await file.truncate(bytes);
          next = ms;
          await file.datasync();
          await file.close();
          expected.push(`append ${path} ${bytes}`, `truncate ${path} ${bytes}`, `datasync ${path}`, `close ${path}`);
        }
        await timed.rename('a/log', 'a/old');
        expect(calls).toEqual([...expected, 'rename a/log a/old']);
        expect(observed).toEqual(steps.map(([path, ms]) => [ms, path]));
      }),
      { numRuns: 100 },
    );
  });
});
