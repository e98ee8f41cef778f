/**
 * raftkit/testing's runJepsen, with its KvClients and Nemesis, on Raft's KeyValueStore:
 * - under the standard nemesis (partitions, a majority ring, bridges, kills, pauses, loss,
 *   duplication, delays, clock drift within maxClockDrift) every history is linearizable, with
 *   ReadIndex reads and with lease reads: 100 seeds each in `npm test`, 5,000 each under
 *   RAFTKIT_DEEP=1; RAFTKIT_SEED=n runs seed n alone;
 * - the checker catches real faults: lease reads with clock drift beyond the bound, and stale
 *   follower reads, each give a non-linearizable history on a seed of a fixed range, and the
 *   counterexample names a read;
 * - the same seed gives the same history and fault log, byte for byte.
 * A failure prints the run's report, whose first line names the seed that replays it.
 */
import { describe, expect, it } from 'vitest';
import { deep } from '../support/runs.js';
import { faults, runJepsen, type Fault, type JepsenOptions, type JepsenRun, type ReadConsistency } from '../../src/testing/index.js';

const only = process.env.RAFTKIT_SEED;
const SEEDS = only !== undefined ? [Number(only)] : Array.from({ length: deep ? 5_000 : 100 }, (_, i) => i + 1);
const BATCH = deep ? 250 : 50;
const DURATION_MS = 2_000;

/** The kinds of fault a run's log shows (its first word). */
const kinds = (run: JepsenRun): string[] => run.faults.map(({ fault }) => fault.split(/[ :]/)[0]!);

describe.each<ReadConsistency>(['index', 'lease'])('Raft KeyValueStore under the standard nemesis, %s reads', (reads) => {
  for (let from = 0; from < SEEDS.length; from += BATCH) {
    const batch = SEEDS.slice(from, from + BATCH);
    it(`is linearizable: seeds ${batch[0]}–${batch[batch.length - 1]}`, async () => {
      const failures: string[] = [];
      const seen = new Set<string>();
      let operations = 0;
      for (const seed of batch) {
        const run = await runJepsen({ seed, reads, durationMs: DURATION_MS, cluster: { size: seed % 4 === 0 ? 5 : 3 } });
        operations += run.history.filter((o) => o.status === 'ok').length;
        for (const kind of kinds(run)) seen.add(kind);
        if (run.result.result !== 'linearizable') failures.push(run.report);
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      expect(operations).toBeGreaterThan(batch.length * 50); // the clients got answers
      if (batch.length >= 25) for (const kind of ['partition', 'majority', 'bridge', 'kill', 'pause', 'resume', 'messages', 'latency', 'slow', 'clock', 'heal']) expect(seen, kind).toContain(kind);
    });
  }
});

/** Runs `options` on seeds 1..`last` until one is not linearizable; returns that run, if any. */
async function firstCaught(last: number, options: Omit<JepsenOptions, 'seed'>): Promise<JepsenRun | undefined> {
  for (let seed = 1; seed <= last; seed++) {
    const run = await runJepsen({ ...options, seed });
    if (run.result.result === 'illegal') return run;
    expect(run.result.result, run.report).toBe('linearizable');
  }
  return undefined;
}

/** The operation the counterexample could not place. */
function blocked(run: JepsenRun): JepsenRun['history'][number] {
  if (run.result.result !== 'illegal') throw new Error('not illegal');
  return run.history[run.result.counterexample.operation]!;
}

/** Clock drift on every node (each its own) with a partition that may isolate the leader; then a heal. */
const skewAndSplit = (maxDrift: number): Fault => faults.mix(faults.all(faults.clock({ maxDrift, everyNode: true }), faults.randomHalves()), faults.heal());
/** Many clients with short timeouts, so that some reach the old leader while a new one takes writes. */
const busy = { clients: 8, client: () => ({ timeoutMs: 150 }), faultIntervalMs: [300, 700], durationMs: 3_000 } as const;

describe('the checker catches real faults', () => {
  it('lease reads with clock drift beyond maxClockDrift: a stale read, caught; within it, or with ReadIndex, none', async () => {
    const caught = await firstCaught(20, { ...busy, reads: 'lease', nemesis: skewAndSplit(0.9) });
    expect(caught, 'some seed in 1..20 is caught').toBeDefined();
    const run = caught!;
    expect(run.seed).toBe(7);
    expect(blocked(run).input.op, run.report).toBe('get');
    expect(run.report).toMatch(/NOT linearizable.*seed 7[\s\S]*get\(/);
    // The same seed with drift within the bound (each clock within half of the default 0.1), or with ReadIndex reads: linearizable.
    for (const options of [{ reads: 'lease', nemesis: skewAndSplit(0.05) }, { reads: 'index', nemesis: skewAndSplit(0.9) }] as const) {
      const again = await runJepsen({ ...busy, ...options, seed: run.seed });
      expect(again.result.result, again.report).toBe('linearizable');
    }
  });

  it('stale follower reads: caught, and the counterexample names a read', async () => {
    const run = await firstCaught(10, { reads: 'stale', durationMs: DURATION_MS });
    expect(run, 'some seed in 1..10 is caught').toBeDefined();
    expect(run!.seed).toBe(1);
    expect(blocked(run!).input.op).toBe('get');
  });
});

describe('runJepsen', () => {
  it('is deterministic: the same seed gives the same history and fault log, byte for byte', async () => {
    const options = { reads: ['index', 'lease', 'log'], durationMs: 1_500, cluster: { size: 5 } } as const;
    const [a, b, c] = await Promise.all([runJepsen({ ...options, seed: 11 }), runJepsen({ ...options, seed: 11 }), runJepsen({ ...options, seed: 12 })]);
    expect(JSON.stringify(a.history)).toBe(JSON.stringify(b.history));
    expect(JSON.stringify(a.faults)).toBe(JSON.stringify(b.faults));
    expect(JSON.stringify(a.cluster.trace())).toBe(JSON.stringify(b.cluster.trace()));
    expect(a.report).toBe(b.report);
    expect(JSON.stringify(a.history)).not.toBe(JSON.stringify(c.history));
    expect(a.faults.length).toBeGreaterThan(3);
    expect(a.report).toMatch(/^seed 11 \(5 nodes, 4 clients, index, lease and log reads, 1500 ms\): linearizable, \d+ operations, \d+ faults$/);
  });

  it('runs without faults, with the mix, keys and clients asked for; logs only a failing run', async () => {
    const logged: string[] = [];
    const run = await runJepsen({ seed: 3, nemesis: null, clients: 2, keys: ['k'], mix: { read: 1, put: 1, delete: 0, cas: 0 }, durationMs: 300, log: (r) => logged.push(r) });
    expect(run.result.result).toBe('linearizable');
    expect(run.faults).toEqual([{ time: run.faults[0]!.time, fault: 'heal everything' }]);
    expect(new Set(run.history.map((o) => o.client))).toEqual(new Set([0, 1]));
    expect(new Set(run.history.map((o) => `${o.input.op} ${o.input.key}`))).toEqual(new Set(['get k', 'put k']));
    expect(run.history.every((o) => o.status === 'ok')).toBe(true); // nothing went wrong
    expect(logged).toEqual([]);
    const stale = await runJepsen({ seed: 1, reads: 'stale', durationMs: DURATION_MS, log: (r) => logged.push(r) });
    expect(logged).toEqual([stale.report]);
  });

  it('refuses bad options', async () => {
    await expect(runJepsen({ seed: 1, clients: 0 })).rejects.toThrow(RangeError);
    await expect(runJepsen({ seed: 1, durationMs: -1 })).rejects.toThrow(RangeError);
    await expect(runJepsen({ seed: 1, keys: [] })).rejects.toThrow(RangeError);
    await expect(runJepsen({ seed: 1, reads: [] })).rejects.toThrow(RangeError);
    await expect(runJepsen({ seed: 1, mix: { read: 0, put: 0, delete: 0, cas: 0 } })).rejects.toThrow(RangeError);
    await expect(runJepsen({ seed: 1, reads: 'bogus' as ReadConsistency })).rejects.toThrow(RangeError);
  });
});
