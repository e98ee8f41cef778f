import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { propertyParams } from '../support/runs.js';

describe('VirtualScheduler', () => {
  it('starts at 0, or at the given start time', () => {
    expect(new VirtualScheduler().now()).toBe(0);
    expect(new VirtualScheduler({ start: 1234 }).now()).toBe(1234);
    expect(() => new VirtualScheduler({ start: Number.NaN })).toThrow(RangeError);
  });

  it('runs events in time order, same-time events FIFO', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    s.schedule(20, () => log.push(`c@${s.now()}`));
    s.schedule(10, () => log.push(`a@${s.now()}`));
    s.schedule(10, () => log.push(`b@${s.now()}`));
    s.schedule(0, () => log.push(`z@${s.now()}`));
    expect(s.runFor(100)).toBe(4);
    expect(log).toEqual(['z@0', 'a@10', 'b@10', 'c@20']);
    expect(s.now()).toBe(100);
  });

  it('orders any schedule by (time, insertion) — property', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (delays) => {
        const s = new VirtualScheduler();
        const ran: number[] = [];
        delays.forEach((d, i) => s.schedule(d, () => ran.push(i)));
        s.runFor(100);
        const expected = delays.map((d, i) => [d, i] as const).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(ran).toEqual(expected.map(([, i]) => i));
      }),
      propertyParams(200, 5000),
    );
  });

  it('events scheduled from events run in order, within the window', () => {
    const s = new VirtualScheduler();
    const log: number[] = [];
    s.schedule(5, () => {
      log.push(s.now());
      s.schedule(5, () => log.push(s.now()));
      s.schedule(100, () => log.push(s.now()));
    });
    expect(s.runFor(10)).toBe(2);
    expect(log).toEqual([5, 10]);
    expect(s.pending).toBe(1);
    expect(s.nextTime()).toBe(105);
  });

  it('cancel removes an event; cancelling twice or after it ran is a no-op', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    const cancelA = s.schedule(10, () => log.push('a'));
    const cancelB = s.schedule(20, () => log.push('b'));
    expect(s.pending).toBe(2);
    cancelA();
    cancelA();
    expect(s.pending).toBe(1);
    expect(s.nextTime()).toBe(20);
    s.runFor(50);
    cancelB();
    expect(log).toEqual(['b']);
    expect(s.pending).toBe(0);
  });

  it('an event can cancel a later one at the same time', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    let cancelB = (): void => {};
    s.schedule(10, () => {
      log.push('a');
      cancelB();
    });
    cancelB = s.schedule(10, () => log.push('b'));
    s.runFor(10);
    expect(log).toEqual(['a']);
  });

  it('compacts cancelled entries so the heap stays bounded', () => {
    const s = new VirtualScheduler();
    for (let round = 0; round < 100; round++) {
      const cancels = Array.from({ length: 1000 }, (_, i) => s.schedule(1000 + i, () => {}));
      for (const c of cancels) c();
    }
    s.schedule(1, () => {});
    expect(s.pending).toBe(1);
    // Reach into the private heap: it must not hold 100k dead entries.
    expect((s as unknown as { heap: unknown[] }).heap.length).toBeLessThan(200);
    expect(s.runFor(5000)).toBe(1);
  });

  it('cancel/run interleavings keep pending and order right — property', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ delay: fc.integer({ min: 0, max: 30 }), cancel: fc.boolean() }), { maxLength: 300 }),
        (ops) => {
          const s = new VirtualScheduler();
          const ran: number[] = [];
          const cancels = ops.map((op, i) => s.schedule(op.delay, () => ran.push(i)));
          ops.forEach((op, i) => op.cancel && cancels[i]?.());
          const live = ops.map((op, i) => ({ ...op, i })).filter((op) => !op.cancel);
          expect(s.pending).toBe(live.length);
          s.runFor(30);
          expect(ran).toEqual(live.sort((a, b) => a.delay - b.delay || a.i - b.i).map((op) => op.i));
          expect(s.pending).toBe(0);
        },
      ),
      propertyParams(200, 5000),
    );
  });

  it('events made from events (zero delays, defers, tiny delays, cancels) run in (time, sequence) order — property', () => {
    // The model: each event gets (time, sequence) when made; the one that runs is always the least live one.
    type Delay = 0 | 1e-9 | 1 | 3 | 'defer';
    const op = fc.record({ delay: fc.constantFrom<Delay>(0, 0, 'defer', 1e-9, 1, 3), children: fc.integer({ min: 0, max: 3 }), cancelPrevious: fc.boolean() });
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 120 }), fc.integer({ min: 1, max: 4 }), (ops, slices) => {
        const s = new VirtualScheduler();
        const made: Array<{ time: number; seq: number; live: boolean; cancel: (() => void) | null }> = [];
        const outOfOrder: number[] = [];
        let ran = 0;
        const make = (): void => {
          const id = made.length;
          if (id >= 400) return;
          const o = ops[id % ops.length] as (typeof ops)[number];
          const me: { time: number; seq: number; live: boolean; cancel: (() => void) | null } = { time: o.delay === 'defer' ? s.now() : s.now() + o.delay, seq: id, live: true, cancel: null };
          made.push(me);
          const run = (): void => {
            if (made.some((m) => m !== me && m.live && (m.time < me.time || (m.time === me.time && m.seq < me.seq)))) outOfOrder.push(id);
            me.live = false;
            ran++;
            for (let c = 0; c < o.children; c++) make();
            const previous = made[id - 1];
            if (o.cancelPrevious && previous?.live === true && previous.cancel !== null) {
              previous.live = false;
              previous.cancel();
            }
          };
          if (o.delay === 'defer') s.defer(run);
          else me.cancel = s.schedule(o.delay, run);
        };
        make();
        make();
        for (let i = 0; i < slices; i++) {
          s.runFor(i === slices - 1 ? 1000 : 1);
          expect(s.pending).toBe(made.filter((m) => m.live).length);
        }
        expect(outOfOrder).toEqual([]);
        expect(ran).toBeGreaterThan(0);
      }),
      propertyParams(200, 3000),
    );
  });

  it('defer runs now, after what is already queued for now, before later events', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    s.schedule(0, () => log.push('queued'));
    s.schedule(1, () => log.push('later'));
    s.defer(() => log.push('deferred'));
    s.schedule(0, () => {
      log.push('queued2');
      s.defer(() => log.push(`deferred-in-event@${s.now()}`));
    });
    s.runFor(0);
    expect(log).toEqual(['queued', 'deferred', 'queued2', 'deferred-in-event@0']);
    s.runFor(1);
    expect(log.at(-1)).toBe('later');
  });

  it('step runs one event and advances time to it', () => {
    const s = new VirtualScheduler();
    expect(s.step()).toBe(false);
    s.schedule(7, () => {});
    s.schedule(3, () => {});
    expect(s.step()).toBe(true);
    expect(s.now()).toBe(3);
    expect(s.step()).toBe(true);
    expect(s.now()).toBe(7);
    expect(s.step()).toBe(false);
    expect(s.now()).toBe(7);
  });

  it('runFor includes events exactly at the deadline and stops before later ones', () => {
    const s = new VirtualScheduler();
    const log: number[] = [];
    s.schedule(10, () => log.push(10));
    s.schedule(10.5, () => log.push(10.5));
    expect(s.runFor(10)).toBe(1);
    expect(s.now()).toBe(10);
    expect(s.runFor(0)).toBe(0);
    expect(s.runFor(1)).toBe(1);
    expect(log).toEqual([10, 10.5]);
    expect(s.now()).toBe(11);
  });

  it('advanceTo runs due events and refuses to go back', () => {
    const s = new VirtualScheduler();
    s.schedule(50, () => {});
    expect(s.advanceTo(100)).toBe(1);
    expect(s.now()).toBe(100);
    expect(() => s.advanceTo(99)).toThrow(RangeError);
    expect(s.advanceTo(100)).toBe(0);
  });

  it('runUntil checks before the first event and after each, stopping at the right time', () => {
    const s = new VirtualScheduler();
    expect(s.runUntil(() => true, { timeoutMs: 10 })).toBe(true);
    let count = 0;
    for (let t = 10; t <= 100; t += 10) s.schedule(t, () => count++);
    expect(s.runUntil(() => count === 3, { timeoutMs: 1000 })).toBe(true);
    expect(s.now()).toBe(30);
    expect(s.pending).toBe(7);
  });

  it('runUntil times out at the virtual deadline', () => {
    const s = new VirtualScheduler();
    let count = 0;
    for (let t = 10; t <= 100; t += 10) s.schedule(t, () => count++);
    expect(s.runUntil(() => count === 99, { timeoutMs: 45 })).toBe(false);
    expect(count).toBe(4);
    expect(s.now()).toBe(45);
    // Without a timeout it runs until nothing is left.
    expect(s.runUntil(() => false)).toBe(false);
    expect(count).toBe(10);
    expect(s.now()).toBe(100);
  });

  it('calls onEvent after every event, with the clock at that event', () => {
    const seen: number[] = [];
    const s = new VirtualScheduler({ onEvent: () => seen.push(s.now()) });
    s.schedule(1, () => {});
    s.schedule(2, () => {});
    s.defer(() => {});
    s.runFor(10);
    expect(seen).toEqual([0, 1, 2]);
    s.onEvent = undefined;
    s.schedule(1, () => {});
    s.runFor(1);
    expect(seen).toHaveLength(3);
  });

  it('propagates a callback exception with the event consumed and the scheduler usable', () => {
    const s = new VirtualScheduler();
    const log: string[] = [];
    s.schedule(1, () => {
      throw new Error('boom');
    });
    s.schedule(2, () => log.push('after'));
    expect(() => s.runFor(10)).toThrow('boom');
    expect(s.now()).toBe(1);
    expect(s.runFor(10)).toBe(1);
    expect(log).toEqual(['after']);
  });

  it('refuses to run events from inside a callback', () => {
    const s = new VirtualScheduler();
    s.schedule(1, () => s.step());
    s.schedule(2, () => {});
    expect(() => s.step()).toThrow(/inside a scheduled callback/);
    expect(s.pending).toBe(1);
  });

  it('validates delays and durations', () => {
    const s = new VirtualScheduler();
    expect(() => s.schedule(-1, () => {})).toThrow(RangeError);
    expect(() => s.schedule(Number.NaN, () => {})).toThrow(RangeError);
    expect(() => s.schedule(Infinity, () => {})).toThrow(RangeError);
    expect(() => s.schedule(1, 'nope' as unknown as () => void)).toThrow(TypeError);
    expect(() => s.runFor(-5)).toThrow(RangeError);
    expect(() => s.runUntil(() => false, { timeoutMs: -1 })).toThrow(RangeError);
    expect(s.pending).toBe(0);
  });

  it('is deterministic: the same schedule gives the same trace', () => {
    const trace = (): string[] => {
      const s = new VirtualScheduler();
      const log: string[] = [];
      let x = 1;
      const tick = (name: string): void => {
        log.push(`${name}@${s.now()}`);
        x = (x * 48271) % 2147483647;
        if (log.length < 500) s.schedule(x % 17, () => tick(name + (x % 3)));
      };
      s.schedule(0, () => tick('a'));
      s.schedule(0, () => tick('b'));
      s.runFor(10_000);
      return log;
    };
    expect(trace()).toEqual(trace());
  });
});
