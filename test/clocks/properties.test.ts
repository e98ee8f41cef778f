import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { propertyParams } from '../support/runs.js';
import {
  HybridLogicalClock,
  LamportClock,
  VectorClock,
  compareHlc,
  compareVectors,
  hlcToString,
  mergeVectors,
  parseHlc,
  type HlcTimestamp,
  type VectorTimestamp,
} from '../../src/clocks/index.js';
import { buildHistory, check, historySpec, type History, type HistoryEvent } from './history.js';

const params = propertyParams(1000, 50_000);

/** Replays a history on one clock per process, returning each event's timestamp. */
function replay<T>(
  h: History,
  clocks: { tick(): T; send(): T; receive(remote: T): T }[],
  wire: (t: T) => T,
  beforeEvent: (event: HistoryEvent) => void = () => {},
): T[] {
  const stamps: T[] = [];
  for (const event of h.events) {
    beforeEvent(event);
    const clock = clocks[event.process];
    if (clock === undefined) throw new Error(`no clock for process ${event.process}`);
    if (event.kind === 'receive' && event.from !== undefined) {
      const sent = stamps[event.from];
      if (sent === undefined) throw new Error(`event ${event.id} receives unknown message ${event.from}`);
      stamps.push(clock.receive(wire(sent)));
    } else {
      stamps.push(event.kind === 'send' ? clock.send() : clock.tick());
    }
  }
  return stamps;
}

const viaJson = <T>(value: T): T => JSON.parse(JSON.stringify(value)) as T;
const sign = (x: number): number => (x < 0 ? -1 : x > 0 ? 1 : 0);

describe('happens-before oracle', () => {
  it('follows program order and messages, transitively', () => {
    // P0: e0 send; P1: e1 local, e2 receive(e0); P2: e3 receive… nothing from P2 yet, e3 receives e0 too
    const h = buildHistory({
      processes: 3,
      maxSkewMs: 0,
      steps: [
        { process: 0, kind: 'send', pick: 0, advanceMs: 0, jitterMs: 0 },
        { process: 1, kind: 'local', pick: 0, advanceMs: 0, jitterMs: 0 },
        { process: 1, kind: 'receive', pick: 0, advanceMs: 0, jitterMs: 0 },
        { process: 1, kind: 'send', pick: 0, advanceMs: 0, jitterMs: 0 },
        { process: 2, kind: 'receive', pick: 1, advanceMs: 0, jitterMs: 0 },
        { process: 0, kind: 'receive', pick: 0, advanceMs: 0, jitterMs: 0 }, // only e3 is from another process
      ],
    });
    expect(h.events.map((e) => e.from)).toEqual([undefined, undefined, 0, undefined, 3, 3]);
    expect(h.happensBefore(0, 2)).toBe(true);
    expect(h.happensBefore(1, 4)).toBe(true); // e1 → e2 → e3 → e4
    expect(h.happensBefore(0, 5)).toBe(true);
    expect(h.happensBefore(1, 0)).toBe(false);
    expect(h.happensBefore(0, 1)).toBe(false); // concurrent
    expect(h.happensBefore(2, 2)).toBe(false);
  });

  it('turns a receive with nothing to receive into a local event', () => {
    const h = buildHistory({ processes: 2, maxSkewMs: 0, steps: [{ process: 0, kind: 'receive', pick: 3, advanceMs: 0, jitterMs: 0 }] });
    expect(h.events[0]?.kind).toBe('local');
  });
});

describe('Lamport clock laws', () => {
  it('a → b implies L(a) < L(b)', () => {
    fc.assert(
      fc.property(historySpec, (spec) => {
        const h = buildHistory(spec);
        const clocks = Array.from({ length: h.processes }, () => new LamportClock());
        const stamps = replay<number>(h, clocks, viaJson);
        for (const a of h.events) {
          for (const b of h.events) {
            if (h.happensBefore(a.id, b.id)) {
              check((stamps[a.id] ?? NaN) < (stamps[b.id] ?? NaN), () => `e${a.id} → e${b.id} but L = ${stamps[a.id]}, ${stamps[b.id]}`);
            }
          }
        }
      }),
      params,
    );
  });
});

describe('vector clock laws', () => {
  it('a → b iff V(a) < V(b), and concurrent exactly when unordered', () => {
    fc.assert(
      fc.property(historySpec, (spec) => {
        const h = buildHistory(spec);
        const clocks = Array.from({ length: h.processes }, (_, i) => new VectorClock(`P${i}`));
        const stamps = replay<VectorTimestamp>(h, clocks, viaJson);
        for (const a of h.events) {
          for (const b of h.events) {
            const va = stamps[a.id] ?? {};
            const vb = stamps[b.id] ?? {};
            const order = compareVectors(va, vb);
            const ab = h.happensBefore(a.id, b.id);
            const ba = h.happensBefore(b.id, a.id);
            const expected = a.id === b.id ? 'equal' : ab ? 'before' : ba ? 'after' : 'concurrent';
            check(order === expected, () => `e${a.id} vs e${b.id}: expected ${expected}, compareVectors says ${order} for ${JSON.stringify(va)} ${JSON.stringify(vb)}`);
          }
        }
      }),
      params,
    );
  });

  const nodeId = fc.oneof(fc.constantFrom('A', 'B', 'C', 'D'), fc.string({ minLength: 1, maxLength: 4 }).filter((s) => !(s in Object.prototype) && s !== 'prototype'));
  const vector = fc.dictionary(nodeId, fc.oneof(fc.nat(5), fc.maxSafeNat()), { maxKeys: 6 }).map((v): VectorTimestamp => v);

  it('mergeVectors is commutative, associative, idempotent and an upper bound', () => {
    fc.assert(
      fc.property(vector, vector, vector, (a, b, c) => {
        expect(mergeVectors(a, b)).toEqual(mergeVectors(b, a));
        expect(mergeVectors(mergeVectors(a, b), c)).toEqual(mergeVectors(a, mergeVectors(b, c)));
        expect(mergeVectors(a, a)).toEqual(a);
        expect(['before', 'equal']).toContain(compareVectors(a, mergeVectors(a, b)));
        expect(['before', 'equal']).toContain(compareVectors(b, mergeVectors(a, b)));
      }),
      params,
    );
  });

  it('compareVectors is antisymmetric', () => {
    const flip = { before: 'after', after: 'before', equal: 'equal', concurrent: 'concurrent' } as const;
    fc.assert(
      fc.property(vector, vector, (a, b) => {
        expect(compareVectors(b, a)).toBe(flip[compareVectors(a, b)]);
      }),
      params,
    );
  });
});

describe('hybrid logical clock laws', () => {
  it('per-node monotonic, consistent with causality, within the skew bound, string order agrees', () => {
    fc.assert(
      fc.property(historySpec, (spec) => {
        const h = buildHistory(spec);
        let current: number | undefined; // physical time at the event being replayed
        const clocks = Array.from(
          { length: h.processes },
          (_, i) =>
            new HybridLogicalClock({
              nodeId: `P${i}`,
              maxDriftMs: h.maxSkewMs, // the skew bound is tight: no honest message is refused
              now: () => {
                if (current === undefined) throw new Error('physical time read outside an event');
                return current;
              },
            }),
        );
        const hlcClocks = clocks.map((clock) => ({ tick: () => clock.now(), send: () => clock.send(), receive: (r: HlcTimestamp) => clock.receive(r) }));
        // Alternate the two wire formats: JSON objects and the sortable string form.
        const wire = (t: HlcTimestamp): HlcTimestamp => (t.logical % 2 === 0 ? viaJson(t) : parseHlc(hlcToString(t)));
        const stamps = replay<HlcTimestamp>(h, hlcClocks, wire, (event) => {
          current = event.physicalMs;
        });
        const strings = stamps.map((t) => hlcToString(t));

        const lastOf = new Map<number, number>();
        for (const e of h.events) {
          const t = stamps[e.id];
          if (t === undefined) throw new Error('missing stamp');
          check(t.wallTime >= e.physicalMs && t.wallTime - e.physicalMs <= h.maxSkewMs, () => `e${e.id}: wallTime ${t.wallTime} vs physical ${e.physicalMs}, skew bound ${h.maxSkewMs}`);
          const previous = lastOf.get(e.process);
          if (previous !== undefined) {
            check(compareHlc(stamps[previous] ?? t, t) === -1, () => `P${e.process}: e${previous} → e${e.id} not increasing`);
          }
          lastOf.set(e.process, e.id);
        }
        for (const a of h.events) {
          for (const b of h.events) {
            const ta = stamps[a.id];
            const tb = stamps[b.id];
            const sa = strings[a.id];
            const sb = strings[b.id];
            if (ta === undefined || tb === undefined || sa === undefined || sb === undefined) throw new Error('missing stamp');
            const order = compareHlc(ta, tb);
            if (h.happensBefore(a.id, b.id)) check(order === -1, () => `e${a.id} → e${b.id} but compareHlc = ${order}`);
            const stringOrder = sa < sb ? -1 : sa > sb ? 1 : 0;
            check(stringOrder === order, () => `string order ${sa} vs ${sb} = ${stringOrder}, compareHlc = ${order}`);
          }
        }
      }),
      params,
    );
  });

  const hlc = fc
    .record(
      {
        wallTime: fc.oneof(fc.nat(3), fc.maxSafeNat()),
        logical: fc.oneof(fc.nat(3), fc.maxSafeNat()),
        nodeId: fc.oneof(fc.constantFrom('A', 'B', 'A-B', 'a'), fc.string({ minLength: 1, maxLength: 5, unit: 'binary' })),
      },
      { requiredKeys: ['wallTime', 'logical'] },
    )
    .map((t): HlcTimestamp => t);

  it('hlcToString sorts like compareHlc and round-trips through parseHlc', () => {
    fc.assert(
      fc.property(hlc, hlc, (a, b) => {
        const sa = hlcToString(a);
        const sb = hlcToString(b);
        expect(sign(sa < sb ? -1 : sa > sb ? 1 : 0)).toBe(compareHlc(a, b));
        expect(parseHlc(sa)).toEqual(a);
        expect(parseHlc(JSON.parse(JSON.stringify(a)))).toEqual(a);
      }),
      params,
    );
  });
});
