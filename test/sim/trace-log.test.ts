/**
 * The trace's store: whatever it keeps as numbers, it reads back as the events a plain list of
 * event objects would hold, within its limit, and tells listeners the same events as they come.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/sim/cluster.js';
import { TraceLog } from '../../src/sim/trace-log.js';
import { propertyParams } from '../support/runs.js';
import { summarize } from '../../src/sim/summary.js';
import type { Message } from '../../src/raft/messages.js';
import type { MessageEvent, TraceEvent } from '../../src/sim/trace.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A send's event as the trace documents it, made the plain way. */
function sendEvent(time: number, id: number, m: Message, from: string, to: string): MessageEvent {
  const e: Mutable<MessageEvent> = { time, kind: 'send', id, from, to, type: m.type, term: m.term, summary: summarize(m) };
  if (m.type === 'AppendEntries') {
    e.prevIndex = m.prevLogIndex;
    e.prevTerm = m.prevLogTerm;
    if (m.entries.length > 0) e.entries = [m.prevLogIndex + 1, m.prevLogIndex + m.entries.length];
    e.commit = m.leaderCommit;
  } else if (m.type === 'AppendEntriesResponse') {
    e.success = m.success;
    e.index = m.index;
    if (!m.success) e.refusal = m.conflictIndex === 0 ? 'stale-term' : 'log-mismatch';
  } else if (m.type === 'RequestVote') {
    e.lastLogIndex = m.lastLogIndex;
    e.lastLogTerm = m.lastLogTerm;
  }
  return e;
}

function outcomeEvent(time: number, kind: 'deliver' | 'drop', id: number, m: Message, from: string, to: string, duplicate: boolean, reason?: string): MessageEvent {
  const e: Mutable<MessageEvent> = { time, kind, id, from, to, type: m.type, term: m.term, summary: summarize(m) };
  if (reason !== undefined) e.reason = reason;
  if (duplicate) e.duplicate = true;
  return e;
}

const node = fc.constantFrom('1', '2', '3');
const small = fc.integer({ min: 0, max: 3 });
const message: fc.Arbitrary<Message> = fc.oneof(
  fc.record({ from: node, to: node, term: small, prevLogIndex: small, prevLogTerm: small, count: small, leaderCommit: small }).map(
    ({ count, prevLogIndex, term, ...rest }): Message => ({
      type: 'AppendEntries',
      ...rest,
      term,
      prevLogIndex,
      entries: Array.from({ length: count }, (_, i) => ({ index: prevLogIndex + 1 + i, term, kind: 'noop' as const })),
      round: 0,
    }),
  ),
  fc.record({ from: node, to: node, term: small, success: fc.boolean(), index: small, conflictIndex: small }).map(
    (r): Message => ({ type: 'AppendEntriesResponse', ...r, conflictTerm: 0, round: 0 }),
  ),
  fc.record({ from: node, to: node, term: small, lastLogIndex: small, lastLogTerm: small }).map((r): Message => ({ type: 'RequestVote', ...r })),
);

/** One call on the store, and the events a plain list would get from it. */
/** The store's clock: each step sets the time it records at. */
const clock = { time: 0, now: () => clock.time, defer: (callback: () => void) => deferred.push(callback) };
const deferred: Array<() => void> = [];

/** The store's network observer, handing what it does not record itself on as the Cluster does (a second copy is the duplicate). */
const observerOf = (log: TraceLog) =>
  log.observer((event, m, from, to, seq, copies, reason) => (event === 'send' ? log.sent(seq, m, from, to) : log.settled(event, seq, m, from, to, copies > 1, reason)));
type Step = { what: string; run(log: TraceLog): void; expected: TraceEvent[] };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ time: small, id: small, m: message }).map(({ time, id, m }) => ({ what: `sent ${JSON.stringify([time, id, m])}`, run: (log: TraceLog) => ((clock.time = time), observerOf(log)('send', m, m.from, m.to, id, 1, undefined)), expected: [sendEvent(time, id, m, m.from, m.to)] })),
  fc.record({ time: small, id: small, m: message, drop: fc.boolean(), duplicate: fc.boolean() }).map(({ time, id, m, drop, duplicate }) => {
    const reason = drop ? 'random' : undefined;
    return { what: `settled ${JSON.stringify([time, id, m, drop, duplicate])}`, run: (log: TraceLog) => ((clock.time = time), observerOf(log)(drop ? 'drop' : 'deliver', m, m.from, m.to, id, duplicate ? 2 : 1, reason)), expected: [outcomeEvent(time, drop ? 'drop' : 'deliver', id, m, m.from, m.to, duplicate, reason)] };
  }),
  // Entry events: a run of them (what a node applying a batch records), or one with a jump.
  fc.record({ kind: fc.constantFrom('commit' as const, 'apply' as const, 'propose' as const), time: small, node, index: small, term: small, op: small, count: fc.integer({ min: 1, max: 4 }), jump: fc.boolean() }).map(({ kind, time, node, index, term, op, count, jump }) => {
    const at = (i: number): [number, number] => [index + i + (jump && i === count - 1 ? 1 : 0), kind === 'propose' ? op + i : 0];
    const expected = Array.from({ length: count }, (_, i): TraceEvent => {
      const [ix, o] = at(i);
      return kind === 'propose' ? { time, kind, node, index: ix, term, op: o } : { time, kind, node, index: ix, term };
    });
    return {
      what: `entries ${JSON.stringify([kind, time, node, index, term, op, count, jump])}`,
      run: (log: TraceLog) => {
        clock.time = time;
        for (let i = 0; i < count; i++) {
          const [ix, o] = at(i);
          log.entry(kind, node, ix, term, o);
        }
      },
      expected,
    };
  }),
  fc.record({ time: small, node, from: small, terms: fc.array(fc.integer({ min: 1, max: 2 }), { minLength: 1, maxLength: 4 }) }).map(({ time, node, from, terms }) => ({
    what: `appended ${JSON.stringify([time, node, from, terms])}`,
    run: (log: TraceLog) => ((clock.time = time), log.appended(node, terms.map((term, i) => ({ index: from + i, term, kind: 'noop' as const })))),
    expected: [{ time, kind: 'append' as const, node, from, to: from + terms.length - 1, terms }],
  })),
  fc.record({ time: small, node }).map(({ time, node }) => {
    const e: TraceEvent = { time, kind: 'crash', node };
    return { what: `push ${JSON.stringify(e)}`, run: (log: TraceLog) => log.push(e), expected: [e] };
  }),
);

describe('TraceLog', () => {
  it('reads back what a plain list of the last `limit` events holds, and tells listeners every event as it comes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 40 }), fc.array(step, { maxLength: 120 }), fc.integer({ min: 0, max: 50 }), (limit, steps, tail) => {
        const log = new TraceLog(limit, clock);
        const heard: TraceEvent[] = [];
        log.follow((e) => heard.push(e));
        const all: TraceEvent[] = [];
        for (const s of steps) {
          s.run(log);
          all.push(...s.expected);
          // Read in the middle too: reading changes nothing.
          expect(log.toArray()).toEqual(all.slice(-limit));
        }
        expect(heard).toEqual(all);
        expect(log.dropped).toBe(Math.max(0, all.length - limit));
        expect(log.tail(tail)).toEqual(tail === 0 ? [] : all.slice(-limit).slice(-tail));
      }),
      propertyParams(300, 5000),
    );
  });

  it('reads back the same past the ring’s growth (from 256 records) and its wrap, with runs across both', () => {
    fc.assert(
      fc.property(fc.integer({ min: 200, max: 700 }), fc.array(step, { minLength: 300, maxLength: 1500 }), fc.array(fc.nat(), { maxLength: 5 }), (limit, steps, readAt) => {
        const log = new TraceLog(limit, clock);
        const all: TraceEvent[] = [];
        const reads = new Set(readAt.map((k) => k % steps.length));
        steps.forEach((s, k) => {
          s.run(log);
          all.push(...s.expected);
          if (reads.has(k)) expect(log.toArray()).toEqual(all.slice(-limit));
        });
        expect(log.toArray()).toEqual(all.slice(-limit));
        expect(log.dropped).toBe(Math.max(0, all.length - limit));
      }),
      propertyParams(40, 400),
    );
  });

  it('runs a listener’s error as an event of its own, after telling the other listeners', () => {
    const log = new TraceLog(10, clock);
    const heard: TraceEvent[] = [];
    log.follow(() => {
      throw new Error('listener bug');
    });
    log.follow((e) => heard.push(e));
    log.entry('apply', '1', 1, 1);
    expect(heard).toHaveLength(1);
    expect(deferred).toHaveLength(1);
    expect(() => deferred.splice(0)[0]?.()).toThrow('listener bug');
  });

  it('keeps nothing with limit 0', () => {
    const log = new TraceLog(0, clock);
    log.push({ time: 0, kind: 'heal' });
    log.entry('apply', '1', 1, 1);
    expect([log.enabled, log.toArray(), log.dropped]).toEqual([false, [], 0]);
  });
});

describe('a cluster’s trace', () => {
  it('takes a whole traceLimit ≥ 0 only', () => {
    for (const traceLimit of [-1, 1.5, Number.NaN, Infinity, '10' as never]) expect(() => new Cluster({ size: 3, seed: 1, traceLimit }), String(traceLimit)).toThrow(RangeError);
  });

  it('keeps an apply that a throwing trace listener saw: the error comes out of the run, the command is applied', async () => {
    const cluster = new Cluster<string, number>({ size: 3, seed: 1, stateMachine: () => ({ apply: () => 1 }) });
    const leader = await cluster.waitForLeader();
    let thrown = false;
    cluster.onTrace((e) => {
      if (e.kind === 'apply' && !thrown) {
        thrown = true;
        throw new Error('listener bug');
      }
    });
    const proposal = cluster.node(leader).propose('a');
    await expect(cluster.run(100)).rejects.toThrow('listener bug');
    await cluster.run(100);
    await expect(proposal).resolves.toMatchObject({ result: 1 });
    for (const id of cluster.ids) expect(cluster.applied(id).map((e) => e.command)).toContain('a');
  });
});

describe('a cluster’s trace within its limit', () => {
  it('is the newest events of the same run traced without limit, with the rest counted as dropped', async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: 1000 }), fc.integer({ min: 1, max: 3000 }), async (seed, limit) => {
        const run = async (traceLimit: number) => {
          const cluster = new Cluster({ size: 3, seed, traceLimit, network: { dropRate: 0.05, duplicateRate: 0.05 } });
          const heard: TraceEvent[] = [];
          cluster.onTrace((e) => heard.push(e));
          await cluster.waitForLeader();
          const leader = cluster.leader();
          if (leader !== undefined) for (let i = 0; i < 20; i++) cluster.node(leader).submit(i);
          await cluster.run(300);
          return { doc: cluster.traceDocument(), heard };
        };
        const whole = await run(1e6);
        const limited = await run(limit);
        expect(whole.doc.dropped).toBe(0);
        expect(limited.heard).toEqual(whole.heard);
        expect(whole.doc.events).toEqual(whole.heard);
        expect(limited.doc.events).toEqual(whole.doc.events.slice(-limit));
        expect(limited.doc.dropped).toBe(Math.max(0, whole.doc.events.length - limit));
      }),
      propertyParams(40, 400),
    );
  });
});
