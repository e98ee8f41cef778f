/**
 * readTrace on a version-1 trace: deliveries and drops paired with their sends by message id
 * (under duplication and reordering), copies marked as duplicates, and role bands whose terms
 * come from the term events. A trace without ids or term events still reads as before.
 */
import { describe, expect, it } from 'vitest';
import { Cluster, type TraceEvent } from '../../src/index.js';
import { readTrace } from '../../src/viz/read.js';

async function lossyRun(): Promise<TraceEvent[]> {
  const cluster = new Cluster({ size: 3, seed: 11, network: { dropRate: 0.1, duplicateRate: 0.2, reorder: true, latencyMs: [1, 30] } });
  const leader = await cluster.waitForLeader();
  await cluster.propose('a');
  cluster.crash(leader);
  await cluster.run(800);
  cluster.restart(leader);
  await cluster.run(800);
  return cluster.trace();
}

describe('readTrace with message ids', () => {
  it('pairs every outcome with its send by id, and marks copies as duplicates', async () => {
    const trace = await lossyRun();
    const read = readTrace(trace);
    const sends = trace.filter((e) => e.kind === 'send');
    const outcomes = trace.filter((e) => e.kind === 'deliver' || e.kind === 'drop');
    const copies = outcomes.filter((e) => 'duplicate' in e && e.duplicate === true);
    expect(copies.length).toBeGreaterThan(0);
    // One message per send, plus one per copy's outcome; none left unsent.
    expect(read.messages).toHaveLength(sends.length + copies.length);
    expect(read.messages.filter((m) => m.duplicate)).toHaveLength(copies.length);
    expect(read.messages.every((m) => m.sent !== undefined)).toBe(true);
    const settled = read.messages.filter((m) => m.fate !== 'in flight' && !m.duplicate);
    expect(settled).toHaveLength(outcomes.length - copies.length);
    // Each settled message is drawn at its own outcome: same link, type and term as the send with that id.
    for (const m of settled) {
      const outcome = trace[m.position];
      expect(outcome?.kind === 'deliver' || outcome?.kind === 'drop').toBe(true);
      if (outcome?.kind !== 'deliver' && outcome?.kind !== 'drop') continue;
      const send = sends.find((s) => s.kind === 'send' && s.id === outcome.id);
      expect(send?.time).toBe(m.sent);
      expect([m.from, m.to, m.type, m.term]).toEqual([outcome.from, outcome.to, outcome.type, outcome.term]);
    }
  });

  it('gives role bands the terms of the term events, and reads a trace without ids as before', async () => {
    const trace = await lossyRun();
    const read = readTrace(trace);
    for (const span of read.roles) {
      const last = trace.filter((e) => e.kind === 'term' && e.node === span.node && e.time <= span.start).at(-1);
      if (last?.kind === 'term') expect(span.term, `${span.node} at ${span.start}`).toBe(last.term);
    }
    const old = trace
      .filter((e) => !['term', 'vote', 'timeout', 'append', 'truncate', 'ack', 'fail'].includes(e.kind))
      .map((e) => {
        if (e.kind !== 'send' && e.kind !== 'deliver' && e.kind !== 'drop') return e;
        const { id, duplicate, ...rest } = e as TraceEvent & { id?: number; duplicate?: true };
        void id;
        void duplicate;
        return rest as TraceEvent;
      });
    const before = readTrace(old);
    expect(before.messages.length).toBe(read.messages.length);
    expect(before.messages.filter((m) => m.fate === 'dropped').length).toBe(read.messages.filter((m) => m.fate === 'dropped').length);
  });
});
