/**
 * Client-visible histories under faults are linearizable (Jepsen-style; see test/support/jepsen.ts).
 * `npm test` runs 400 seeds, `npm run test:deep` 5,000; RAFTKIT_SEED=n runs seed n alone, and
 * RAFTKIT_HISTORIES=n runs seeds 1..n. A second set runs on a slow simulated disk (saves land
 * 0.5–4 ms later, and a crash loses those in flight), where a leader's appends leave before its
 * own write is durable (thesis §10.2.1): 200 seeds, 2,000 deep.
 */
import { describe, expect, it } from 'vitest';
import { deep } from '../support/runs.js';
import { runHistory } from '../support/jepsen.js';

const only = process.env.RAFTKIT_SEED;
const count = Number(process.env.RAFTKIT_HISTORIES ?? (deep ? 5_000 : 400));
const SEEDS = only !== undefined ? [Number(only)] : Array.from({ length: count }, (_, i) => i + 1);
const BATCH = 25;

/** Registers the history runs of `seeds`, in batches. */
function histories(title: string, seeds: readonly number[], options: Parameters<typeof runHistory>[1] = {}): void {
  describe(title, () => {
    for (let from = 0; from < seeds.length; from += BATCH) {
      const batch = seeds.slice(from, from + BATCH);
      it(`seeds ${batch[0]}–${batch[batch.length - 1]}`, async () => {
        const failures: string[] = [];
        let operations = 0;
        for (const seed of batch) {
          const run = await runHistory(seed, options);
          operations += run.history.length;
          if (run.result.result !== 'linearizable') failures.push(run.report);
        }
        expect(failures, failures.join('\n\n')).toEqual([]);
        expect(operations).toBeGreaterThan(batch.length * 20); // the clients did work
      });
    }
  });
}

histories('client histories under a nemesis are linearizable', SEEDS);
const DISK_SEEDS = only !== undefined ? [Number(only)] : Array.from({ length: deep ? 2_000 : 200 }, (_, i) => i + 1);
histories('client histories on a slow disk, leaders writing in parallel with their appends, are linearizable', DISK_SEEDS, { diskLatencyMs: [0.5, 4] });
