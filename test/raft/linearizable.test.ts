/**
 * Client-visible histories under faults are linearizable (Jepsen-style; see test/support/jepsen.ts).
 * `npm test` runs 400 seeds, `npm run test:deep` 5,000; RAFTKIT_SEED=n runs seed n alone, and
 * RAFTKIT_HISTORIES=n runs seeds 1..n. A second set runs on a slow simulated disk (saves land
 * 0.5–4 ms later, and a crash loses those in flight), where a leader's appends leave before its
 * own write is durable (thesis §10.2.1): 200 seeds, 2,000 deep.
 */
import { describe, expect, it } from 'vitest';
import { deep } from '../support/runs.js';
import { explain, runHistory } from '../support/jepsen.js';

const only = process.env.RAFTKIT_SEED;
const count = Number(process.env.RAFTKIT_HISTORIES ?? (deep ? 5_000 : 400));
const SEEDS = only !== undefined ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
const BATCH = 25;

describe('client histories under a nemesis are linearizable', () => {
  for (let from = 0; from < SEEDS.length; from += BATCH) {
    const seeds = SEEDS.slice(from, from + BATCH);
    it(`seeds ${seeds[0]}–${seeds[seeds.length - 1]}`, async () => {
      const failures: string[] = [];
      let operations = 0;
      for (const seed of seeds) {
        const run = await runHistory(seed);
        operations += run.history.length;
        if (run.result.ok !== true) failures.push(explain(run));
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      expect(operations).toBeGreaterThan(seeds.length * 20); // the clients did work
    });
  }
});

const DISK_SEEDS = only !== undefined ? [Number(only)] : Array.from({ length: deep ? 2_000 : 200 }, (_, i) => i + 1);

describe('client histories on a slow disk, leaders writing in parallel with their appends, are linearizable', () => {
  for (let from = 0; from < DISK_SEEDS.length; from += BATCH) {
    const seeds = DISK_SEEDS.slice(from, from + BATCH);
    it(`seeds ${seeds[0]}–${seeds[seeds.length - 1]}`, async () => {
      const failures: string[] = [];
      let operations = 0;
      for (const seed of seeds) {
        const run = await runHistory(seed, { diskLatencyMs: [0.5, 4] });
        operations += run.history.length;
        if (run.result.ok !== true) failures.push(explain(run));
      }
      expect(failures, failures.join('\n\n')).toEqual([]);
      expect(operations).toBeGreaterThan(seeds.length * 20);
    });
  }
});
