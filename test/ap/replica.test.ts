/**
 * ApReplica, case by case: availability on both sides of a partition, last-writer-wins with
 * concurrent versions reported, ties broken by node id, causal supersession over clock skew,
 * sessions (refuse, wait), bounded messages, the log emptying, and typed errors for bad input
 * and bad messages.
 */
import { describe, expect, it } from 'vitest';
import { ApReplica } from '../../src/ap/replica.js';
import { ApSession } from '../../src/ap/session.js';
import { ApError, SessionBehindError } from '../../src/ap/errors.js';
import { validateApMessage, type ApMessage } from '../../src/ap/messages.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import { checkCausal } from '../../src/testing/causal.js';
import { ApWorld } from './harness.js';

describe('ApReplica', () => {
  it('answers every read and write on both sides of a partition, and converges after the heal', () => {
    const world = new ApWorld(1, 5);
    world.network.partition(['r1', 'r2'], ['r3', 'r4', 'r5']);
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 5; i++) {
        world.op(`c${i}`, i, round % 2 === 0 ? 'put' : 'get', 'x');
        world.op(`c${i}`, i, 'get', 'y');
      }
      world.scheduler.runFor(10);
    }
    const history = world.recorder.history();
    expect(history.filter((o) => o.status === 'ok')).toHaveLength(history.length);
    // Each side sees only its own writes.
    const left = world.replicas[0]!.get('x').value as string;
    const right = world.replicas[4]!.get('x').value as string;
    expect(['c0', 'c1']).toContain(left.split(':')[0]);
    expect(['c2', 'c3', 'c4']).toContain(right.split(':')[0]);
    world.network.heal();
    expect(world.settle(5_000)).toBe(true);
    expect(world.convergence().converged).toBe(true);
    expect(checkCausal(history).consistent).toBe(true);
  });

  it('keeps concurrent versions, reads the one with the larger HLC, and lets a write that saw them supersede them', () => {
    const world = new ApWorld(2, 2, { latencyMs: 5 });
    const [a, b] = world.replicas as [ApReplica, ApReplica];
    world.network.partition(['r1'], ['r2']);
    a.put('x', 'from a');
    world.scheduler.runFor(3);
    b.put('x', 'from b'); // later wall time: wins
    world.network.heal();
    expect(world.settle(1_000)).toBe(true);
    for (const replica of [a, b]) {
      const read = replica.get('x');
      expect(read.value).toBe('from b');
      expect(read.version?.origin).toBe('r2');
      expect(read.concurrent.map((v) => v.value)).toEqual(['from a']);
    }
    a.put('x', 'resolved'); // a has seen both
    world.scheduler.runFor(100);
    expect(b.get('x')).toMatchObject({ value: 'resolved', concurrent: [] });
  });

  it('breaks a tie of HLC timestamps by node id, the same way on every replica', () => {
    for (const [first, second] of [
      [0, 1],
      [1, 0],
    ] as const) {
      const world = new ApWorld(3, 2, { latencyMs: 5 });
      world.network.partition(['r1'], ['r2']);
      world.replica(first).put('x', `from ${world.ids[first]}`);
      world.replica(second).put('x', `from ${world.ids[second]}`); // same ms, logical 0: a tie
      const [one, two] = [0, 1].map((i) => world.replica(i).get('x').version!.hlc);
      expect([one!.wallTime, one!.logical]).toEqual([two!.wallTime, two!.logical]);
      world.network.heal();
      expect(world.settle(1_000)).toBe(true);
      expect(world.replicas.map((r) => r.get('x').value)).toEqual(['from r2', 'from r2']); // 'r2' > 'r1'
    }
  });

  it('lets a causally later write win even when its clock is behind (HLC drift refused)', () => {
    const scheduler = new VirtualScheduler({ start: 1_000 });
    const network = new InMemoryNetwork<ApMessage>({ scheduler, latencyMs: 1 });
    const ids = ['fast', 'slow'];
    const skew: Record<string, number> = { fast: 100_000, slow: 0 }; // fast's clock runs 100 s ahead
    const [fast, slow] = ids.map(
      (id) => new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler, now: () => Math.floor(scheduler.now()) + skew[id]!, maxClockDriftMs: 1_000 }),
    ) as [ApReplica, ApReplica];
    fast.put('x', 'first');
    scheduler.runFor(10);
    expect(slow.get('x').value).toBe('first');
    expect(slow.stats().clockDrift).toBe(1); // its clock did not follow fast's
    const later = slow.put('x', 'second'); // saw 'first': supersedes it, whatever the clocks say
    expect(later.hlc.wallTime).toBeLessThan(fast.get('x').version!.hlc.wallTime + 1);
    scheduler.runFor(10);
    for (const replica of [fast, slow]) expect(replica.get('x')).toMatchObject({ value: 'second', concurrent: [] });
  });

  it('deletes by writing absence, which wins or loses like any write', () => {
    const world = new ApWorld(4, 2, { latencyMs: 1 });
    const [a, b] = world.replicas as [ApReplica, ApReplica];
    a.put('x', 1);
    world.scheduler.runFor(10);
    b.delete('x');
    world.scheduler.runFor(10);
    expect(a.get('x')).toMatchObject({ value: undefined, found: false, version: { deleted: true, origin: 'r2' } });
    expect(a.state().has('x')).toBe(false);
    expect(a.get('never')).toEqual({ value: undefined, found: false, version: undefined, concurrent: [] });
  });

  describe('sessions', () => {
    it('refuse a replica that has not seen the session’s writes (read-your-writes), then pass once it has', async () => {
      const world = new ApWorld(5, 3, { latencyMs: 20 });
      const [a, b] = world.replicas as [ApReplica, ApReplica];
      const session = new ApSession();
      a.put('x', 1, { session });
      expect(b.covers(session)).toBe(false);
      const refusal = (() => {
        try {
          b.get('x', { session });
        } catch (error) {
          return error;
        }
      })();
      expect(refusal).toBeInstanceOf(SessionBehindError);
      expect(refusal).toMatchObject({ code: 'SESSION_BEHIND', missing: { r1: 1 } });
      expect(() => b.put('y', 2, { session })).toThrow(SessionBehindError); // its write would not follow what it saw
      expect(b.get('x').value).toBeUndefined(); // without the session: answered, stale
      const caughtUp = b.waitFor(session, { timeoutMs: 100 });
      world.scheduler.runFor(25);
      await caughtUp;
      expect(b.get('x', { session }).value).toBe(1);
    });

    it('refuse a replica older than what the session read (monotonic reads)', () => {
      const world = new ApWorld(6, 3, { latencyMs: 5 });
      const [a, b, c] = world.replicas as [ApReplica, ApReplica, ApReplica];
      world.network.partition(['r1', 'r2'], ['r3']);
      a.put('x', 'new');
      world.scheduler.runFor(10);
      const session = new ApSession();
      expect(b.get('x', { session }).value).toBe('new');
      expect(session.floor).toEqual({ r1: 1 });
      expect(() => c.get('x', { session })).toThrow(SessionBehindError);
      world.network.heal();
      expect(world.settle(1_000)).toBe(true);
      expect(c.get('x', { session }).value).toBe('new');
    });

    it('wait with a timeout, and a session floor survives JSON', async () => {
      const world = new ApWorld(7, 2);
      const [a, b] = world.replicas as [ApReplica, ApReplica];
      world.network.partition(['r1'], ['r2']);
      const session = new ApSession();
      a.put('x', 1, { session });
      const waiting = b.waitFor(new ApSession(JSON.parse(JSON.stringify(session.floor))), { timeoutMs: 50 });
      world.scheduler.runFor(60);
      await expect(waiting).rejects.toMatchObject({ code: 'TIMEOUT' });
      await expect(a.waitFor(session)).resolves.toBeUndefined();
      expect(() => new ApSession({ r1: -1 })).toThrow(ApError);
    });
  });

  it('keeps messages within maxWritesPerMessage and maxBytesPerMessage, and empties its log once every peer has every write', () => {
    const world = new ApWorld(8, 3, { latencyMs: [1, 10] }, () => ({ maxWritesPerMessage: 4, maxBytesPerMessage: 400, push: false, gossipIntervalMs: 20 }));
    const sizes: number[] = [];
    const bytes: number[] = [];
    world.network.on('send', (message) => {
      if (message.type !== 'ApDelta') return;
      sizes.push(message.writes.length);
      bytes.push(message.writes.reduce((sum, w) => sum + JSON.stringify(w).length, 0));
    });
    world.network.partition(['r1'], ['r2', 'r3']);
    for (let i = 0; i < 60; i++) world.op('writer', 0, 'put', `k${i % 7}`, { session: false });
    expect(world.replicas[0]!.stats().logLength).toBe(60);
    world.network.heal();
    expect(world.settle(10_000)).toBe(true);
    expect(world.convergence().converged).toBe(true);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    expect(Math.max(...bytes)).toBeLessThanOrEqual(400);
    expect(world.scheduler.runUntil(() => world.replicas.every((r) => r.stats().logLength === 0), { timeoutMs: 5_000 })).toBe(true);
  });

  it('holds back a write that arrived before one it depends on, and applies it when that one comes', () => {
    const world = new ApWorld(9, 2, { latencyMs: 1 }, () => ({ gossipIntervalMs: 10_000 }));
    const [a, b] = world.replicas as [ApReplica, ApReplica];
    let held = 0;
    const remove = world.network.filter((message) => (message.type === 'ApDelta' && message.writes[0]?.seq === 1 && held++ === 0 ? { delayMs: 50 } : 'deliver'));
    a.put('x', 1);
    a.put('y', 2); // depends on x=1
    world.scheduler.runFor(10);
    expect(b.stats().pending).toBe(1);
    expect(b.get('y').value).toBeUndefined(); // not exposed before x
    world.scheduler.runFor(50);
    expect(b.stats().pending).toBe(0);
    expect([b.get('x').value, b.get('y').value]).toEqual([1, 2]);
    remove();
  });

  describe('bad input', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork<ApMessage>({ scheduler });
    const make = (options: Partial<ConstructorParameters<typeof ApReplica>[0]> = {}): ApReplica =>
      new ApReplica({ id: 'a', peers: ['a', 'b'], transport: network.transport('a'), scheduler, ...options });

    it('refuses malformed options', () => {
      expect(() => make({ id: '' })).toThrow(ApError);
      expect(() => make({ id: '__proto__' })).toThrow(/id/);
      expect(() => make({ peers: 'b' as unknown as string[] })).toThrow(/peers/);
      expect(() => make({ gossipIntervalMs: 0 })).toThrow(/gossipIntervalMs/);
      expect(() => make({ maxWritesPerMessage: 1.5 })).toThrow(/maxWritesPerMessage/);
      expect(() => make({ transport: {} as never })).toThrow(/transport/);
    });

    it('refuses bad keys and values with typed errors, and changes nothing', () => {
      const replica = make({ maxValueBytes: 10, maxKeyLength: 3 });
      const code = (f: () => unknown): string | undefined => {
        try {
          f();
        } catch (error) {
          return error instanceof ApError ? error.code : 'other';
        }
        return undefined;
      };
      expect(code(() => replica.put('x', undefined))).toBe('INVALID_VALUE');
      expect(code(() => replica.put('x', () => 1))).toBe('INVALID_VALUE');
      const cycle: Record<string, unknown> = {};
      cycle['self'] = cycle;
      expect(code(() => replica.put('x', cycle))).toBe('INVALID_VALUE');
      expect(code(() => replica.put('x', 'a long string'))).toBe('VALUE_TOO_LARGE');
      expect(code(() => replica.put('long', 1))).toBe('INVALID_KEY');
      expect(code(() => replica.get(7 as unknown as string))).toBe('INVALID_KEY');
      expect(code(() => replica.get('x', { session: {} as ApSession }))).toBe('INVALID_ARGUMENT');
      expect(replica.stats().accepted).toBe(0);
      expect(replica.vector).toEqual({});
    });

    it('drops invalid messages, reporting each with an error event', () => {
      const replica = make();
      const errors: ApError[] = [];
      replica.on('error', (error) => errors.push(error));
      const peer = network.transport('b');
      const write = { key: 'x', json: '1', origin: 'b', seq: 1, hlc: { wallTime: 0, logical: 0, nodeId: 'b' }, deps: {} };
      const delta = { type: 'ApDelta', from: 'b', to: 'a', vector: { b: 1 }, more: false, reply: false };
      const bad: unknown[] = [
        { type: 'Nope', from: 'b', to: 'a', vector: {} },
        { type: 'ApDigest', from: 'b', to: 'a', vector: { b: 'x' } },
        { type: 'ApDigest', from: 'b', to: 'c', vector: {} }, // addressed to someone else
        { ...delta, writes: 'no' },
        { ...delta, writes: [{ ...write, json: '{oops' }] },
        { ...delta, writes: [{ ...write, seq: 0 }] },
        { ...delta, writes: [{ ...write, deps: { b: 3 } }] }, // deps must hold seq - 1 for its origin
        { ...delta, writes: [{ ...write, hlc: { wallTime: 0, logical: 0, nodeId: 'mallory' } }] },
        { ...delta, writes: [{ ...write, origin: 'constructor' }] },
      ];
      for (const message of bad) peer.send('a', message as ApMessage);
      scheduler.runFor(1);
      expect(errors).toHaveLength(bad.length);
      expect(errors.every((e) => e.code === 'INVALID_MESSAGE')).toBe(true);
      expect(replica.stats().invalid).toBe(bad.length);
      expect(replica.vector).toEqual({});
      peer.send('a', { ...delta, writes: [write] } as ApMessage); // a good one still goes through
      scheduler.runFor(1);
      expect(replica.get('x').value).toBe(1);
      expect(validateApMessage(JSON.parse(JSON.stringify({ ...delta, writes: [write] }))).type).toBe('ApDelta');
      expect(() => validateApMessage(null)).toThrow(/must be an object/);
      // A timestamp the clock will not follow (a counter over its maxLogical) still delivers the write.
      const huge = { ...write, key: 'z', seq: 2, deps: { b: 1 }, hlc: { wallTime: 0, logical: 2 ** 40, nodeId: 'b' } };
      peer.send('a', { ...delta, writes: [huge] } as ApMessage);
      scheduler.runFor(1);
      expect(replica.get('z').value).toBe(1);
      expect(replica.stats().clockDrift).toBe(1);
    });

    it('refuses everything once stopped', async () => {
      const world = new ApWorld(10, 2);
      const replica = world.replicas[0]!;
      const session = new ApSession({ r2: 5 });
      const waiting = replica.waitFor(session);
      await replica.stop();
      await expect(waiting).rejects.toMatchObject({ code: 'STOPPED' });
      expect(() => replica.get('x')).toThrow(/stopped/);
      await expect(replica.waitFor(session)).rejects.toMatchObject({ code: 'STOPPED' });
      await replica.stop(); // twice is fine
    });
  });
});
