/**
 * NodeClock: a node's skewed, pausable view of the one virtual scheduler; and the Cluster faults
 * built on it (setClock, pause/resume, requests held while paused).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { NodeClock } from '../../src/sim/node-clock.js';
import { Cluster } from '../../src/sim/cluster.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { propertyParams } from '../support/runs.js';

describe('NodeClock', () => {
  it('is the virtual scheduler itself until set: same readings, same event order', () => {
    const virtual = new VirtualScheduler({ start: 7 });
    const clock = new NodeClock(virtual);
    const log: string[] = [];
    clock.schedule(10, () => log.push(`clock@${virtual.now()}/${clock.now()}`));
    virtual.schedule(10, () => log.push(`virtual@${virtual.now()}`));
    clock.defer(() => log.push(`deferred@${virtual.now()}`));
    virtual.runFor(20);
    expect(log).toEqual(['deferred@7', 'clock@17/17', 'virtual@17']);
    expect(clock.now()).toBe(27);
    expect([clock.offsetMs, clock.drift]).toEqual([0, 0]);
  });

  it('reads offset + (1 + drift) × elapsed virtual time, continuously across drift changes', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    clock.set({ offsetMs: 100, drift: 0.5 });
    expect(clock.now()).toBe(100);
    virtual.runFor(10);
    expect(clock.now()).toBe(115);
    clock.set({ drift: -0.5 }); // no step: the reading carries on from 115
    expect(clock.now()).toBe(115);
    virtual.runFor(10);
    expect(clock.now()).toBe(120);
    expect(clock.offsetMs).toBe(100);
    clock.set({ offsetMs: -50 }); // a step back
    expect(clock.now()).toBe(-30);
    expect(clock.drift).toBe(-0.5);
  });

  it('converts timer delays, and a drift change reschedules the local time left', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    const fired: number[] = [];
    clock.set({ drift: 1 });
    clock.schedule(100, () => fired.push(virtual.now())); // 50 virtual ms
    clock.schedule(300, () => fired.push(virtual.now())); // 150 virtual ms at this rate
    virtual.runFor(100);
    expect(fired).toEqual([50]);
    clock.set({ drift: -0.5 }); // 100 local ms left, at 0.5 per virtual ms: 200 virtual ms
    virtual.runFor(199);
    expect(fired).toEqual([50]);
    virtual.runFor(1);
    expect(fired).toEqual([50, 300]);
  });

  it('a step of the offset moves readings, not timers', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    const fired: number[] = [];
    clock.schedule(100, () => fired.push(clock.now()));
    virtual.runFor(40);
    clock.set({ offsetMs: 1000 });
    virtual.runFor(100);
    expect(fired).toEqual([1100]); // at virtual 100, reading 100 + 1000
  });

  it('a local delay of d fires once local time advanced by d, whatever the drift changes — property', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 500 }),
        fc.array(fc.tuple(fc.integer({ min: 1, max: 100 }), fc.double({ min: -0.9, max: 3, noNaN: true })), { maxLength: 6 }),
        (delay, changes) => {
          const virtual = new VirtualScheduler();
          const clock = new NodeClock(virtual);
          let firedAt: number | undefined;
          clock.schedule(delay, () => (firedAt = clock.now()));
          for (const [after, drift] of changes) {
            virtual.runFor(after);
            clock.set({ drift });
          }
          virtual.runFor(10_000);
          expect(firedAt).toBeCloseTo(delay, 6);
        },
      ),
      propertyParams(200, 5_000),
    );
  });

  it('cancels timers, also after a reschedule', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    const fired: string[] = [];
    const a = clock.schedule(10, () => fired.push('a'));
    clock.schedule(20, () => fired.push('b'));
    clock.set({ drift: 1 });
    a();
    a();
    virtual.runFor(100);
    expect(fired).toEqual(['b']);
    expect(virtual.pending).toBe(0);
  });

  it('holds timers, deferred work and run() while paused, and runs them in order on resume', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    const log: string[] = [];
    clock.pause();
    expect(clock.paused).toBe(true);
    clock.schedule(10, () => log.push(`timer, reading ${clock.now()}`));
    const cancelled = clock.schedule(20, () => log.push('cancelled while held'));
    clock.run(() => log.push('request'));
    virtual.runFor(50);
    clock.defer(() => log.push('deferred'));
    virtual.runFor(50);
    expect(log).toEqual([]);
    cancelled();
    clock.resume();
    clock.run(() => log.push('after resume: at once'));
    virtual.runFor(0);
    expect(log).toEqual(['after resume: at once', 'request', 'timer, reading 100', 'deferred']);
  });

  it('discard drops what was held and un-pauses', () => {
    const virtual = new VirtualScheduler();
    const clock = new NodeClock(virtual);
    const log: string[] = [];
    clock.pause();
    clock.schedule(1, () => log.push('held'));
    virtual.runFor(5);
    clock.discard();
    expect(clock.paused).toBe(false);
    virtual.runFor(5);
    clock.run(() => log.push('runs'));
    expect(log).toEqual(['runs']);
  });

  it('refuses bad settings and delays', () => {
    const clock = new NodeClock(new VirtualScheduler());
    expect(() => clock.set({ drift: -1 })).toThrow(RangeError);
    expect(() => clock.set({ drift: Number.NaN })).toThrow(RangeError);
    expect(() => clock.set({ offsetMs: Infinity })).toThrow(RangeError);
    expect(() => clock.schedule(-1, () => undefined)).toThrow(RangeError);
    expect(() => clock.schedule(Number.NaN, () => undefined)).toThrow(RangeError);
    expect(clock.drift).toBe(0);
  });
});

const kvCluster = (seed: number, size = 3): { cluster: Cluster<KeyValueCommand, KeyValueResult>; store: (id: string) => KeyValueStore } => {
  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size, seed, stateMachine: () => new KeyValueStore() });
  return { cluster, store: (id) => cluster.stateMachine(id) as KeyValueStore };
};

describe('Cluster clock faults and pauses', () => {
  it.each([1, 2, 3])('a node whose clock runs fast times out, and campaigns, first (seed %i)', async (seed) => {
    const cluster = new Cluster({ size: 5, seed });
    cluster.setClock('4', { drift: 3 });
    await cluster.waitForLeader();
    expect(cluster.trace().find((e) => e.kind === 'role' && e.role !== 'follower')).toMatchObject({ node: '4', role: 'precandidate' });
    const reading = cluster.clock('4');
    expect(reading.drift).toBe(3);
    expect(reading.now).toBeCloseTo(cluster.now * 4, 6);
    expect(cluster.trace()).toContainEqual({ time: 0, kind: 'clock', node: '4', offsetMs: 0, drift: 3 });
  });

  it.each([1, 2, 3])('a paused leader is replaced, keeps its state, and follows the new leader once resumed (seed %i)', async (seed) => {
    const { cluster, store } = kvCluster(seed);
    await cluster.propose({ op: 'put', key: 'x', value: 1 });
    const old = cluster.leader()!;
    const { term, commitIndex } = cluster.node(old);
    cluster.pause(old);
    expect(cluster.paused(old)).toBe(true);
    expect(cluster.leader()).toBeUndefined();
    const { leaderId } = await cluster.propose({ op: 'put', key: 'x', value: 2 });
    expect(leaderId).not.toBe(old);
    await cluster.run(1_000);
    expect([cluster.node(old).role, cluster.node(old).term, cluster.node(old).commitIndex]).toEqual(['leader', term, commitIndex]); // frozen
    expect(store(old).get('x')).toBe(1);
    cluster.resume(old);
    await cluster.runUntil(() => store(old).get('x') === 2, { timeoutMs: 2_000 });
    expect(cluster.node(old).role).toBe('follower');
    expect(store(old).get('x')).toBe(2);
    expect(cluster.trace().filter((e) => e.kind === 'pause' || e.kind === 'resume').map((e) => e.kind)).toEqual(['pause', 'resume']);
  });

  it('a request to a paused node waits for the resume; a crash while paused loses it', async () => {
    const { cluster } = kvCluster(4);
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    cluster.pause(follower);
    let answered: string | undefined;
    void cluster.request(follower, (node) => node.role).then((role) => (answered = role));
    await cluster.run(500);
    expect(answered).toBeUndefined();
    cluster.resume(follower);
    await cluster.run(1);
    expect(answered).toBe('follower');

    cluster.pause(follower);
    let lost = false;
    void cluster.request(follower, () => (lost = true));
    cluster.crash(follower);
    expect(cluster.paused(follower)).toBe(false);
    cluster.restart(follower);
    await cluster.run(500);
    expect(lost).toBe(false);
    expect(() => cluster.pause('9')).toThrow(RangeError);
    cluster.crash(follower);
    expect(() => cluster.pause(follower)).toThrow(/not running/);
  });

  it('a paused follower on a slow disk takes nothing in (messages, landed writes) until it resumes', async () => {
    const cluster = new Cluster({ size: 3, seed: 5, diskLatencyMs: [1, 2] });
    const leader = await cluster.waitForLeader();
    const follower = cluster.ids.find((id) => id !== leader)!;
    cluster.node(leader).submit('a');
    await cluster.run(3); // its AppendEntries may have arrived, with the save still in flight
    cluster.pause(follower);
    const frozen = JSON.stringify(cluster.node(follower).status());
    cluster.node(leader).submit('b');
    await cluster.run(300);
    expect(JSON.stringify(cluster.node(follower).status())).toBe(frozen);
    expect(cluster.node(leader).commitIndex).toBe(3); // the other follower is a majority
    cluster.resume(follower);
    await cluster.run(300);
    expect(cluster.node(follower).commitIndex).toBe(3);
    cluster.checkInvariants();
  });

  it('a leader measures its lease on its own clock: a slow one serves stale lease reads past the drift bound', async () => {
    const { cluster, store } = kvCluster(6, 3);
    const old = await cluster.waitForLeader();
    await cluster.propose({ op: 'put', key: 'x', value: 1 });
    const others = cluster.ids.filter((id) => id !== old);
    cluster.setClock(old, { drift: -0.6 }); // far beyond maxClockDrift (0.1)
    for (const id of others) cluster.setClock(id, { drift: 0.6 });
    await cluster.runUntilSettled(cluster.node(old).read({ lease: true })); // a fresh lease
    cluster.partition([old]);
    const { leaderId } = await cluster.propose({ op: 'put', key: 'x', value: 2 }, { timeoutMs: 1_000 });
    expect(others).toContain(leaderId);
    // The write is acknowledged; the old leader still trusts its lease and answers from its state.
    await cluster.runUntilSettled(cluster.node(old).read({ lease: true }), { timeoutMs: 1 });
    expect(store(old).get('x')).toBe(1);

    // Within the bound, the same schedule finds the old leader's lease gone: the read waits.
    const { cluster: within } = kvCluster(6, 3);
    const leader = await within.waitForLeader();
    await within.propose({ op: 'put', key: 'x', value: 1 });
    within.setClock(leader, { drift: -0.05 });
    for (const id of within.ids.filter((id) => id !== leader)) within.setClock(id, { drift: 0.05 });
    await within.runUntilSettled(within.node(leader).read({ lease: true }));
    within.partition([leader]);
    await within.propose({ op: 'put', key: 'x', value: 2 }, { timeoutMs: 1_000 });
    await expect(within.runUntilSettled(within.node(leader).read({ lease: true }), { timeoutMs: 1 })).rejects.toThrow(/timed out/);
  });
});
