/** The trace schema: what a run records, that it replays byte for byte, and what it rebuilds. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/sim/cluster.js';
import { TRACE_VERSION, type TraceEvent } from '../../src/sim/trace.js';
import type { NodeId } from '../../src/raft/types.js';
import { Counter } from '../support/counter.js';
import { faultScript } from '../support/fault-script.js';

/** A run with every kind of fault the trace records. */
async function faultyRun(seed: number): Promise<Cluster<number, number>> {
  const cluster = new Cluster<number, number>({
    size: 5,
    seed,
    network: { dropRate: 0.05, duplicateRate: 0.05, reorder: true },
    stateMachine: () => new Counter(),
    nodeOptions: () => ({ snapshotThreshold: 8 }),
  });
  await faultScript(cluster);
  return cluster;
}

/** Each node's log, rebuilt from its append, truncate and snapshot events: index → term. */
function rebuildLogs(events: readonly TraceEvent[]): Map<NodeId, Map<number, number>> {
  const logs = new Map<NodeId, Map<number, number>>();
  const log = (node: NodeId): Map<number, number> => {
    let entries = logs.get(node);
    if (entries === undefined) logs.set(node, (entries = new Map()));
    return entries;
  };
  for (const e of events) {
    if (e.kind === 'append') e.terms?.forEach((term, i) => log(e.node).set(e.from + i, term));
    else if (e.kind === 'truncate') for (let i = e.from; i <= e.to; i++) log(e.node).delete(i);
    else if (e.kind === 'snapshot') for (const index of [...log(e.node).keys()]) if (index <= e.index) log(e.node).delete(index);
  }
  return logs;
}

/** Checks that every send has a new id and every deliver or drop has the id of exactly one earlier send (its own, or a duplicate's). */
function checkPairing(events: readonly TraceEvent[]): { sends: number; outcomes: number; duplicates: number } {
  const sends = new Map<number, TraceEvent>();
  const outcomes = new Map<number, number>();
  let duplicates = 0;
  for (const e of events) {
    if (e.kind !== 'send' && e.kind !== 'deliver' && e.kind !== 'drop') continue;
    expect(e.id).toBeTypeOf('number');
    const id = e.id as number;
    if (e.kind === 'send') {
      expect(sends.has(id)).toBe(false);
      sends.set(id, e);
      continue;
    }
    const send = sends.get(id);
    expect(send, `outcome ${JSON.stringify(e)} has no send`).toBeDefined();
    if (send?.kind === 'send') expect([send.from, send.to, send.type, send.term]).toEqual([e.from, e.to, e.type, e.term]);
    const seen = outcomes.get(id) ?? 0;
    // The first outcome of a send is its own; any later one is of a copy the network made.
    expect(e.duplicate === true, `outcome ${JSON.stringify(e)}`).toBe(seen > 0);
    if (e.duplicate === true) duplicates++;
    outcomes.set(id, seen + 1);
  }
  for (const [id, count] of outcomes) expect(count, `message ${id}`).toBeLessThanOrEqual(2);
  return { sends: sends.size, outcomes: [...outcomes.values()].reduce((a, b) => a + b, 0), duplicates };
}

describe('the trace', () => {
  it('is a versioned document, byte-identical for a seed on every run', async () => {
    const a = await faultyRun(3);
    const b = await faultyRun(3);
    const doc = a.traceDocument();
    expect(doc.version).toBe(TRACE_VERSION);
    expect(doc.seed).toBe(3);
    expect(doc.dropped).toBe(0);
    expect(JSON.stringify(doc)).toBe(JSON.stringify(b.traceDocument()));
    const kinds = new Set(doc.events.map((e) => e.kind));
    for (const kind of ['role', 'term', 'vote', 'timeout', 'append', 'commit', 'apply', 'propose', 'ack', 'snapshot', 'send', 'deliver', 'drop', 'crash', 'restart', 'partition', 'heal', 'cut', 'restore', 'configure']) {
      expect(kinds, kind).toContain(kind);
    }
  });

  it('records commits with their terms, refusals with their reasons and structured messages', async () => {
    const cluster = await faultyRun(5);
    const events = cluster.trace();
    for (const e of events) if (e.kind === 'commit' && e.index > 0) expect(e.term).toBeGreaterThan(0);
    const refusals = events.filter((e) => e.kind === 'vote' && !e.granted);
    expect(refusals.length).toBeGreaterThan(0);
    for (const e of refusals) if (e.kind === 'vote') expect(['stale-term', 'already-voted', 'log-behind', 'leader-known']).toContain(e.reason);
    const append = events.find((e) => e.kind === 'send' && e.type === 'AppendEntries' && e.entries !== undefined);
    expect(append).toMatchObject({ prevIndex: expect.any(Number), prevTerm: expect.any(Number), commit: expect.any(Number) });
    if (append?.kind === 'send' && append.entries) expect(append.entries[0]).toBe((append.prevIndex as number) + 1);
    const answer = events.find((e) => e.kind === 'send' && e.type === 'AppendEntriesResponse');
    expect(answer).toMatchObject({ success: expect.any(Boolean), index: expect.any(Number) });
    const duplicated = events.filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && e.duplicate === true);
    expect(duplicated.length).toBeGreaterThan(0);
    expect(checkPairing(events).duplicates).toBe(duplicated.length);
  });

  it('records the client calls of any node, and campaigns with their causes', async () => {
    const cluster = new Cluster({ size: 3, seed: 1 });
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader) as NodeId;
    expect(() => cluster.node(follower).submit('no')).toThrow();
    await cluster.runUntilSettled(cluster.node(leader).propose('yes'));
    cluster.node(follower).campaign();
    await cluster.run(300);
    const events = cluster.trace();
    const propose = events.find((e) => e.kind === 'propose');
    expect(propose).toMatchObject({ node: leader, term: 1 });
    const op = propose?.kind === 'propose' ? propose.op : undefined;
    expect(events.find((e) => e.kind === 'ack')).toMatchObject({ node: leader, op, index: propose?.kind === 'propose' ? propose.index : -1 });
    expect(events.find((e) => e.kind === 'fail')).toMatchObject({ node: follower, error: expect.stringMatching(/^NotLeaderError/) });
    expect(events.filter((e) => e.kind === 'timeout').map((e) => (e.kind === 'timeout' ? [e.node, e.cause] : []))).toContainEqual([follower, 'campaign']);
  });

  it('traces each campaign’s timeout before the role it leads to, a single voter’s (which sends no vote request) too', async () => {
    const campaigns = (events: readonly TraceEvent[]): { roles: number; missing: string[] } => {
      const timeoutSince = new Map<NodeId, TraceEvent | undefined>();
      const missing: string[] = [];
      let roles = 0;
      for (const e of events) {
        if (e.kind === 'timeout' && e.cause !== 'check-quorum') timeoutSince.set(e.node, e);
        if (e.kind !== 'role') continue;
        const campaigned = e.role === 'precandidate' || e.role === 'candidate' || e.role === 'leader';
        const timeout = timeoutSince.get(e.node);
        // A precandidate campaigns for term + 1 from `term`; a candidate (or a leader straight away) from term - 1.
        const from = e.role === 'precandidate' ? e.term : e.term - 1;
        if (campaigned && e.role !== 'leader' && (timeout?.kind !== 'timeout' || timeout.term !== from)) missing.push(JSON.stringify(e));
        if (campaigned && e.role === 'leader' && timeout === undefined) missing.push(JSON.stringify(e));
        if (campaigned) roles++;
        if (e.role === 'follower' || e.role === 'leader') timeoutSince.set(e.node, undefined);
      }
      return { roles, missing };
    };
    const single = new Cluster({ size: 1, seed: 1 });
    await single.waitForLeader();
    expect(single.trace().filter((e) => e.kind === 'timeout' || e.kind === 'role').map((e) => e.kind)).toEqual(['timeout', 'role']);
    for (const seed of [1, 2, 3, 4, 5, 6]) {
      const cluster = await faultyRun(seed);
      const { roles, missing } = campaigns(cluster.trace());
      expect(roles, `seed ${seed}`).toBeGreaterThan(2);
      expect(missing, `seed ${seed}`).toEqual([]);
    }
  });

  it('traces a leader’s check-quorum timer that finds no majority, just before it steps down, and no other step-down', async () => {
    const cluster = new Cluster({ size: 3, seed: 3 });
    const leader = await cluster.waitForLeader();
    const term = cluster.node(leader).term;
    await cluster.run(1000); // checks that find a majority are not traced
    expect(cluster.trace().filter((e) => e.kind === 'timeout' && e.cause === 'check-quorum')).toEqual([]);
    cluster.disconnect(leader);
    await cluster.run(1000);
    const events = cluster.trace().filter((e) => (e.kind === 'timeout' || e.kind === 'role') && e.node === leader);
    const at = events.findIndex((e) => e.kind === 'timeout' && e.cause === 'check-quorum');
    expect(events[at]).toMatchObject({ kind: 'timeout', node: leader, term, cause: 'check-quorum' });
    expect(events[at + 1]).toMatchObject({ kind: 'role', role: 'follower', term, time: events[at]?.time });
    expect(events.filter((e) => e.kind === 'timeout' && e.cause === 'check-quorum')).toHaveLength(1);

    // A leader that removes itself steps down in its term too, with no check-quorum timeout.
    const other = new Cluster({ size: 3, seed: 5 });
    const removed = await other.waitForLeader();
    await other.removeNode(removed);
    await other.run(500);
    expect(other.trace().filter((e) => e.kind === 'role' && e.node === removed && e.role === 'follower')).not.toEqual([]);
    expect(other.trace().filter((e) => e.kind === 'timeout' && e.cause === 'check-quorum')).toEqual([]);
  });

  it('says how many events its limit dropped, and keeps the newest', async () => {
    const run = async (traceLimit: number) => {
      const cluster = new Cluster({ size: 3, seed: 2, traceLimit });
      await cluster.run(2000);
      return cluster.traceDocument();
    };
    const all = await run(1_000_000);
    const kept = await run(50);
    expect(all.dropped).toBe(0);
    expect(kept.limit).toBe(50);
    expect(kept.events).toHaveLength(50);
    expect(kept.dropped).toBe(all.events.length - 50);
    expect(kept.events).toEqual(all.events.slice(-50));
  });

  it('can be followed live, by a listener and an async iterator, across restarts', async () => {
    const cluster = new Cluster({ size: 3, seed: 4 });
    const seen: TraceEvent[] = [];
    const stop = cluster.onTrace((event) => seen.push(event));
    const controller = new AbortController();
    const iterated: TraceEvent[] = [];
    const loop = (async () => {
      for await (const event of cluster.traceEvents({ signal: controller.signal })) iterated.push(event);
    })();
    const leader = await cluster.waitForLeader();
    cluster.crash(leader);
    await cluster.run(500);
    cluster.restart(leader);
    await cluster.run(500);
    expect(seen).toEqual(cluster.trace());
    const restarted = cluster.trace().find((e) => e.kind === 'restart')?.time ?? Infinity;
    expect(seen.some((e) => e.kind === 'send' && e.from === leader && e.time > restarted)).toBe(true);
    await Promise.resolve();
    controller.abort();
    await loop;
    expect(iterated).toEqual(seen);
    stop();
    await cluster.run(100);
    expect(seen.length).toBe(iterated.length);
    expect(() => new Cluster({ size: 1, seed: 1, traceLimit: 0 }).onTrace(() => {})).toThrow(/tracing is off/);
  });

  it('keeps node listeners of onNode across restarts, once per event', async () => {
    const cluster = new Cluster({ size: 3, seed: 4 });
    const roles: string[] = [];
    const stop = cluster.onNode('role', (id, role, term) => roles.push(`${id} ${role} ${term}`));
    const leader = await cluster.waitForLeader();
    cluster.crash(leader);
    await cluster.run(500);
    cluster.restart(leader);
    cluster.node(leader).campaign();
    await cluster.run(500);
    const traced = cluster
      .trace()
      .filter((e) => e.kind === 'role')
      .map((e) => (e.kind === 'role' ? `${e.node} ${e.role} ${e.term}` : ''));
    expect(roles).toEqual(traced);
    expect(roles.filter((r) => r.startsWith(`${leader} `)).length).toBeGreaterThan(2);
    stop();
    cluster.crash(cluster.leader() as string);
    await cluster.run(500);
    expect(roles).toHaveLength(traced.length);
  });

  it('rebuilds each live node’s log and pairs every outcome with its send, on random schedules', async () => {
    const step = fc.oneof(
      fc.record({ op: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('crash' as const), node: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ op: fc.constant('restart' as const), node: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ op: fc.constant('partition' as const), split: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ op: fc.constant('heal' as const) }),
      fc.record({ op: fc.constant('run' as const), ms: fc.integer({ min: 10, max: 400 }) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 0, max: 1_000_000 }), fc.array(step, { minLength: 1, maxLength: 12 }), async (seed, steps) => {
        const cluster = new Cluster<number, number>({
          size: 5,
          seed,
          network: { dropRate: 0.05, duplicateRate: 0.05, reorder: true },
          stateMachine: () => new Counter(),
          nodeOptions: () => ({ snapshotThreshold: 6 }),
          traceLimit: 1_000_000,
        });
        for (const s of steps) {
          if (s.op === 'propose') {
            const leader = cluster.leader();
            if (leader !== undefined) for (let i = 0; i < s.count; i++) cluster.node(leader).submit(1);
          } else if (s.op === 'crash') cluster.crash(String(s.node));
          else if (s.op === 'restart') {
            if (!cluster.liveIds.includes(String(s.node))) cluster.restart(String(s.node));
          } else if (s.op === 'partition') cluster.partition(cluster.ids.slice(0, s.split), cluster.ids.slice(s.split));
          else if (s.op === 'heal') cluster.heal();
          await cluster.run(s.op === 'run' ? s.ms : 20);
        }
        await cluster.run(200);
        const events = cluster.trace();
        const logs = rebuildLogs(events);
        for (const id of cluster.liveIds) {
          const live = cluster.node(id).entries().map((e) => [e.index, e.term]);
          const rebuilt = [...(logs.get(id) ?? new Map<number, number>())].sort((a, b) => a[0] - b[0]);
          expect(rebuilt, `node ${id}, seed ${seed}`).toEqual(live);
        }
        checkPairing(events);
      }),
      { numRuns: 25 },
    );
  });
});
