/**
 * The Nemesis and its faults: each does what it says (and what it says is logged with its
 * virtual time), node faults keep a majority up, heal() undoes everything but the clocks, and a
 * schedule is the same for the same seed.
 */
import { describe, expect, it } from 'vitest';
import { Cluster } from '../../src/sim/cluster.js';
import { Nemesis, faults, type Fault } from '../../src/testing/index.js';

async function started(size: number, seed = 1): Promise<Cluster> {
  const cluster = new Cluster({ size, seed });
  await cluster.waitForLeader();
  return cluster;
}

/** Which pairs can talk, both ways. */
const links = (cluster: Cluster): Map<string, string[]> =>
  new Map(cluster.ids.map((a) => [a, cluster.ids.filter((b) => b !== a && cluster.network.reachable(a, b) && cluster.network.reachable(b, a))]));

describe('faults', () => {
  it('randomHalves: a minority cut off from the rest', async () => {
    for (let seed = 1; seed <= 10; seed++) {
      const cluster = await started(5, seed);
      const done = new Nemesis(cluster).apply(faults.randomHalves())!;
      const [, minority, rest] = /^partition (\S+) \| (\S+)$/.exec(done)!;
      const small = minority!.split(',');
      expect(small.length).toBeGreaterThanOrEqual(1);
      expect(small.length).toBeLessThanOrEqual(2);
      for (const a of small) for (const b of rest!.split(',')) expect(cluster.network.reachable(a, b)).toBe(false);
    }
  });

  it('majorityRing: each node sees a majority, itself included, and no two the same one', async () => {
    for (const size of [4, 5, 7]) {
      const cluster = await started(size);
      expect(new Nemesis(cluster).apply(faults.majorityRing())).toMatch(/^majority ring /);
      const seen = [...links(cluster)].map(([a, others]) => [a, ...others].sort().join(','));
      for (const view of seen) expect(view.split(',').length * 2, view).toBeGreaterThan(size);
      expect(new Set(seen).size).toBe(size);
    }
    const three = await started(3);
    expect(new Nemesis(three).apply(faults.majorityRing())).toMatch(/^bridge through /);
  });

  it('bridge: two halves that only the middle node links', async () => {
    const cluster = await started(5);
    const done = new Nemesis(cluster).apply(faults.bridge())!;
    const [, middle, a, b] = /^bridge through (\S+): (\S+) \| (\S+)$/.exec(done)!;
    expect(links(cluster).get(middle!)!.sort()).toEqual(cluster.ids.filter((id) => id !== middle).sort());
    for (const x of a!.split(',')) for (const y of b!.split(',')) expect(cluster.network.reachable(x, y)).toBe(false);
  });

  it('oneWayCut: one direction of one link', async () => {
    const cluster = await started(3);
    const [, from, to] = /^cut (\S+) → (\S+)$/.exec(new Nemesis(cluster).apply(faults.oneWayCut())!)!;
    expect(cluster.network.reachable(from!, to!)).toBe(false);
    expect(cluster.network.reachable(to!, from!)).toBe(true);
  });

  it('kill and pause leave a majority running; restart, resume and the delayed ones bring them back', async () => {
    const cluster = await started(5);
    const nemesis = new Nemesis(cluster);
    const done = [faults.kill(), faults.pause(), faults.kill(), faults.pause()].map((f) => nemesis.apply(f));
    expect(done.filter((d) => d !== undefined)).toHaveLength(2); // 2 of 5 may go down
    const down = cluster.ids.filter((id) => !cluster.liveIds.includes(id) || cluster.paused(id));
    expect(down).toHaveLength(2);
    expect(nemesis.apply(faults.restart())).toMatch(/^restart /);
    expect(nemesis.apply(faults.resume())).toMatch(/^resume /);
    expect(nemesis.apply(faults.resume())).toBeUndefined();
    expect(cluster.liveIds.filter((id) => !cluster.paused(id))).toHaveLength(5);

    expect(nemesis.apply(faults.kill({ restartAfterMs: [100, 100] }))).toMatch(/^kill \S+ \(restart in 100 ms\)$/);
    expect(nemesis.apply(faults.pause({ resumeAfterMs: [50, 50] }))).toMatch(/^pause \S+ \(resume in 50 ms\)$/);
    expect(nemesis.apply(faults.kill({ restartAfterMs: [0, 0] }))).toBeUndefined(); // two down already
    await cluster.run(100);
    expect(cluster.liveIds.filter((id) => !cluster.paused(id))).toHaveLength(5);
    expect(nemesis.log.slice(-2).map(({ time, fault }) => [time - nemesis.log[nemesis.log.length - 3]!.time, fault.split(' ')[0]])).toEqual([
      [50, 'resume'],
      [100, 'restart'],
    ]);
    expect(nemesis.apply(faults.kill({ restartAfterMs: [0, 0] }))).toMatch(/^kill and restart /);
    expect(cluster.liveIds).toHaveLength(5);
  });

  it('messages, delay and slowNode change the network; heal removes the cuts and the slow-node filters', async () => {
    const cluster = await started(3);
    const nemesis = new Nemesis(cluster);
    expect(nemesis.apply(faults.messages({ dropRate: [1], duplicateRate: [0], reorder: [false] }))).toBe('messages: drop 1, duplicate 0');
    const before = cluster.network.stats().dropped.messages;
    await cluster.run(100);
    expect(cluster.network.stats().dropped.messages).toBeGreaterThan(before);
    nemesis.apply(faults.messages({ dropRate: [0], duplicateRate: [0], reorder: [false] }));
    expect(nemesis.apply(faults.delay({ latencyMs: [[300, 300]] }))).toBe('latency 300–300 ms');
    expect(nemesis.apply(faults.slowNode({ maxDelayMs: [500, 500] }))).toMatch(/^slow \S+ \(up to 500 ms\)$/);
    nemesis.apply(faults.oneWayCut());
    expect(nemesis.apply(faults.heal())).toBe('heal the network');
    expect([...links(cluster).values()].every((others) => others.length === 2)).toBe(true);
  });

  it('clock: drifts within the bound given, steps only when asked, every node with everyNode', async () => {
    const cluster = await started(5);
    const nemesis = new Nemesis(cluster);
    for (let i = 0; i < 50; i++) nemesis.apply(faults.clock({ maxDrift: 0.05 }));
    for (const id of cluster.ids) {
      expect(Math.abs(cluster.clock(id).drift)).toBeLessThanOrEqual(0.05);
      expect(Math.abs(cluster.clock(id).offsetMs)).toBeLessThan(1e-9); // no steps: continuous at t = 0
    }
    await cluster.run(1_000);
    const done = nemesis.apply(faults.clock({ maxDrift: 0.5, maxStepMs: 200, everyNode: true }))!;
    expect(done.match(/drift/g)).toHaveLength(5);
    expect(done.match(/step/g)).toHaveLength(5);
    expect(cluster.ids.some((id) => Math.abs(cluster.clock(id).offsetMs) > 50)).toBe(true);
    expect(() => faults.clock({ maxDrift: 1 })).toThrow(RangeError);
    expect(() => faults.clock({ maxDrift: 0.1, maxStepMs: -1 })).toThrow(RangeError);
  });

  it('mix picks by weight; all applies each; undefined steps are not logged', async () => {
    const cluster = await started(3);
    const nemesis = new Nemesis(cluster);
    const counts = new Map<string, number>();
    const named = (name: string): Fault => () => name;
    const mixed = faults.mix([3, named('a')], named('b'));
    for (let i = 0; i < 4_000; i++) {
      const name = nemesis.apply(mixed)!;
      counts.set(name, (counts.get(name) ?? 0) + 1);
    }
    expect(counts.get('a')! / 4_000).toBeCloseTo(0.75, 1);
    expect(nemesis.apply(faults.all(named('x'), () => undefined, named('y')))).toBe('x; y');
    expect(nemesis.apply(faults.all(() => undefined))).toBeUndefined();
    expect(nemesis.log).toHaveLength(4_001);
    expect(() => faults.mix()).toThrow(RangeError);
    expect(() => faults.mix([0, named('a')])).toThrow(RangeError);
  });
});

describe('Nemesis', () => {
  it('applies its fault every intervalMs, logs each with its virtual time, and stops', async () => {
    const cluster = await started(3);
    const times: number[] = [];
    const nemesis = new Nemesis(cluster, { fault: ({ cluster: c }) => (times.push(c.now), `at ${c.now}`), intervalMs: [100, 200] });
    const start = cluster.now;
    nemesis.start();
    nemesis.start(); // once
    await cluster.run(2_000);
    nemesis.stop();
    await cluster.run(1_000);
    expect(times.length).toBeGreaterThanOrEqual(10);
    expect(times.length).toBeLessThanOrEqual(20);
    times.forEach((t, i) => expect(t - (i === 0 ? start : times[i - 1]!)).toBeGreaterThanOrEqual(100));
    expect(nemesis.log.map(({ time }) => time)).toEqual(times);
    expect(nemesis.log.every(({ time, fault }) => fault === `at ${time}`)).toBe(true);
  });

  it('heal: stops, and undoes every fault but the clocks', async () => {
    const cluster = await started(5);
    const nemesis = new Nemesis(cluster, { fault: faults.standard({ maxClockDrift: 0.2 }) });
    nemesis.start();
    await cluster.run(10_000);
    nemesis.heal();
    expect(nemesis.log[nemesis.log.length - 1]!.fault).toBe('heal everything');
    const drifts = cluster.ids.map((id) => cluster.clock(id).drift);
    expect(drifts.every((d) => Math.abs(d) <= 0.1)).toBe(true);
    expect(cluster.liveIds).toHaveLength(5);
    expect(cluster.ids.some((id) => cluster.paused(id))).toBe(false);
    expect([...links(cluster).values()].every((others) => others.length === 4)).toBe(true);
    const logged = nemesis.log.length;
    await cluster.run(2_000);
    expect(nemesis.log).toHaveLength(logged); // stopped, delayed faults included
    await cluster.waitForLeader();
    await cluster.propose('after', { timeoutMs: 2_000 });
    expect(new Set(nemesis.log.map(({ fault }) => fault.split(/[ :]/)[0]))).toEqual(
      new Set(['partition', 'majority', 'bridge', 'cut', 'kill', 'restart', 'pause', 'resume', 'messages', 'latency', 'slow', 'clock', 'heal']),
    );
  });

  it('is deterministic: the same seed gives the same faults at the same times', async () => {
    const logOf = async (seed: number): Promise<string> => {
      const cluster = await started(5, seed);
      const nemesis = new Nemesis(cluster);
      nemesis.start();
      await cluster.run(3_000);
      nemesis.heal();
      return JSON.stringify([nemesis.log, cluster.trace()]);
    };
    expect(await logOf(8)).toBe(await logOf(8));
    expect(await logOf(8)).not.toBe(await logOf(9));
  });

  it('refuses a bad interval', () => {
    const cluster = new Cluster({ size: 3, seed: 1 });
    expect(() => new Nemesis(cluster, { intervalMs: [0, 10] })).toThrow(RangeError);
    expect(() => new Nemesis(cluster, { intervalMs: [20, 10] })).toThrow(RangeError);
  });
});
