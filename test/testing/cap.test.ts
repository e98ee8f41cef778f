/**
 * The CAP experiment: on every seed, the CP history is linearizable and the AP history is
 * caught as not linearizable; Raft answers nobody on the minority side while the AP store
 * answers everyone on both sides; both stay causally consistent and converge after the heal;
 * only the AP store serves stale reads and loses concurrent writes. Deterministic by seed.
 */
import { describe, expect, it } from 'vitest';
import { formatCapReport, runCapExperiment, type CapOptions } from '../../src/testing/cap.js';
import { deep } from '../support/runs.js';

const SEEDS = deep ? Array.from({ length: 60 }, (_, i) => i + 1) : [1, 2, 3, 42];
const SETUPS: CapOptions[] = [
  { nodes: 3, beforeMs: 200, partitionMs: 800 },
  { nodes: 5, beforeMs: 300, partitionMs: 1_200 },
];

describe('runCapExperiment', () => {
  describe.each(SETUPS)('$nodes nodes, a $partitionMs ms partition', (setup) => {
    it.each(SEEDS)('seed %s: CP is consistent and unavailable on the minority side; AP is available everywhere and not linearizable', async (seed) => {
      const report = await runCapExperiment({ ...setup, seed });
      const { cp, ap } = report;
      expect(report.minority).toHaveLength(Math.floor((setup.nodes! - 1) / 2));
      expect(report.minority.length + report.majority.length).toBe(setup.nodes);

      expect(cp.linearizability.result).toBe('linearizable');
      expect(ap.linearizability.result).toBe('illegal');
      for (const r of [cp, ap]) {
        expect(r.causality.consistent, `${r.store}: ${r.causality.message}`).toBe(true);
        expect(r.convergeMs, `${r.store} converged`).toBeDefined();
        expect(r.minority.total).toBeGreaterThan(0);
        expect(r.majority.total).toBeGreaterThan(0);
      }
      expect(cp.minority.answered).toBe(0);
      expect(cp.majority.answered / cp.majority.total).toBeGreaterThan(0.5); // less the new leader's election
      expect(cp.staleness.stale).toBe(0);
      expect(ap.before.answered).toBe(ap.before.total);
      expect(ap.minority.answered).toBe(ap.minority.total);
      expect(ap.majority.answered).toBe(ap.majority.total);
      expect(ap.staleness.stale).toBeGreaterThan(0);
    });
  });

  it('is deterministic by seed, and its report shows the table and the counterexample', async () => {
    const options: CapOptions = { seed: 'lecture', nodes: 3, beforeMs: 200, partitionMs: 600 };
    const first = formatCapReport(await runCapExperiment(options));
    expect(formatCapReport(await runCapExperiment(options))).toEqual(first);
    const text = first.join('\n');
    expect(text).toMatch(/^CAP experiment: seed lecture, 3 replicas per store, 3 clients; partition 600 ms from 200 ms/);
    expect(text).toMatch(/answered, minority side \[\d\] +0% \(0\/\d+\) +100% \(\d+\/\d+\)/);
    expect(text).toMatch(/linearizable +yes +no \(key [xyz], see below\)/);
    expect(text).toMatch(/AP counterexample:\n {2}not linearizable \(partition "[xyz]"\)/);
    expect(text).toMatch(/ {2}the window:\n {4}#\d+ client c\d/);
    expect(text).not.toMatch(/CP counterexample/);
  });

  it('refuses bad options', async () => {
    await expect(runCapExperiment({ nodes: 2 })).rejects.toThrow(RangeError);
    await expect(runCapExperiment({ partitionMs: 0 })).rejects.toThrow(/partitionMs/);
    await expect(runCapExperiment({ keys: 1.5 })).rejects.toThrow(/keys/);
    await expect(runCapExperiment({ seed: {} as never })).rejects.toThrow(TypeError);
  });
});
