/**
 * The Synod (single-decree Paxos) under random schedules: latency, loss, duplication, reordering,
 * partitions, acceptor crashes and restarts, and up to three proposers. The PaxosChecker throws
 * on the first acceptance or learn that breaks safety; fast-check prints the seed to replay
 * (RAFTKIT_SEED). Liveness: once one proposer remains and the network heals, a value is chosen
 * within a bound. And the safety test is shown to catch broken Paxos.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Backoff } from '../../src/paxos/synod.js';
import { PaxosSafetyViolation } from '../../src/paxos/errors.js';
import type { SynodMessage } from '../../src/paxos/messages.js';
import { SynodCluster, type SynodClusterOptions } from '../../src/paxos/simulation.js';
import type { NetworkConditions } from '../../src/transport/memory.js';
import { propertyParams } from '../support/runs.js';
import { calm, faults, network, scheduleFaults, type Fault } from './schedules.js';

interface Scenario {
  readonly seed: number;
  readonly size: number;
  readonly proposers: ReadonlyArray<{ readonly node: number; readonly at: number }>;
  readonly backoff: Backoff;
  readonly network: NetworkConditions;
  readonly faults: readonly Fault[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer(),
  size: fc.constantFrom(3, 3, 5),
  proposers: fc.array(fc.record({ node: fc.nat(4), at: fc.integer({ min: 0, max: 100 }) }), { minLength: 1, maxLength: 3 }),
  backoff: fc.constantFrom<Backoff>('randomized', 'none'),
  network,
  faults: faults(400, 6),
});

/** How long a schedule runs, in virtual ms. */
const RUN_MS = 1_200;
/** Once one proposer remains and the network is healed, a value is chosen within this (virtual ms). */
const LIVENESS_BOUND_MS = 5_000;

type Parts = Pick<SynodClusterOptions<string>, 'storage' | 'transport'>;

/** Runs a scenario's faults and proposals; the checker throws on the first violation. */
function play(s: Scenario, parts: Parts = {}): { cluster: SynodCluster<string>; proposals: Map<string, string> } {
  const cluster = new SynodCluster<string>({ size: s.size, seed: s.seed, network: s.network, node: { backoff: s.backoff, retryTimeoutMs: 120 }, ...parts });
  const proposals = new Map<string, string>();
  s.proposers.forEach((p, i) => {
    const id = cluster.ids[p.node % s.size] as string;
    if (proposals.has(id)) return;
    proposals.set(id, `v${i}`);
    cluster.scheduler.schedule(p.at, () => cluster.node(id).propose(`v${i}`));
  });
  // A restarted proposer has forgotten its proposal: its client tries again.
  const repropose = (id: string): void => {
    const value = proposals.get(id);
    if (value !== undefined) cluster.node(id).propose(value);
  };
  scheduleFaults(cluster, s.faults, repropose);
  cluster.run(RUN_MS);
  return { cluster, proposals };
}

/** No two learners learned different values, and what they learned was proposed. */
function agree(cluster: SynodCluster<string>, proposals: Map<string, string>): void {
  const learned = new Set(cluster.nodes.flatMap((node) => (node.learned === null ? [] : [node.learned.value])));
  expect(learned.size).toBeLessThanOrEqual(1);
  for (const value of learned) expect([...proposals.values()]).toContain(value);
}

describe('the Synod under random schedules', () => {
  it('never lets two learners learn different values (10,000 schedules)', () => {
    let decided = 0;
    fc.assert(
      fc.property(scenario, (s) => {
        const { cluster, proposals } = play(s);
        agree(cluster, proposals);
        if (cluster.chosen() !== undefined) decided++;
      }),
      propertyParams(10_000, 100_000),
    );
    // The schedules are not all hopeless: most choose a value.
    expect(decided).toBeGreaterThan(1_000);
  });

  it('chooses a value within the bound once one proposer remains and the network heals', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const { cluster, proposals } = play(s);
        const repropose = (id: string): void => {
          const value = proposals.get(id);
          if (value !== undefined) cluster.node(id).propose(value);
        };
        calm(cluster, repropose);
        const [survivor, ...others] = [...proposals.keys()] as [string, ...string[]];
        for (const id of others) cluster.node(id).withdraw();
        const start = cluster.now;
        expect(cluster.runUntil(() => cluster.node(survivor).learned !== null, { timeoutMs: LIVENESS_BOUND_MS }), `chosen within ${LIVENESS_BOUND_MS} ms`).toBe(true);
        expect(cluster.chosen()).toEqual(cluster.node(survivor).learned);
        // Any node that proposes now learns the chosen value (the others answer it with it).
        for (const node of cluster.nodes) node.propose('late');
        expect(cluster.runUntil(() => cluster.nodes.every((node) => node.learned !== null), { timeoutMs: LIVENESS_BOUND_MS })).toBe(true);
        agree(cluster, proposals);
        expect(cluster.now - start).toBeLessThan(2 * LIVENESS_BOUND_MS);
      }),
      propertyParams(500, 10_000),
    );
  });
});

describe('broken Paxos turns the safety property red', () => {
  /** Runs the safety property against a mutation; returns fast-check's verdict. */
  function check(parts: Parts): fc.RunDetails<[Scenario]> {
    return fc.check(
      fc.property(scenario, (s) => {
        const { cluster, proposals } = play(s, parts);
        agree(cluster, proposals);
      }),
      { numRuns: 10_000, seed: 1 },
    );
  }

  it('catches a proposer that skips adopting the highest accepted value in phase 2', () => {
    // Every Promise reaches the proposer with its accepted value removed.
    const details = check({
      transport: (_id, endpoint) => ({
        send: (to, message) => endpoint.send(to, message),
        close: () => endpoint.close(),
        listen: (handler) => endpoint.listen((m) => handler((m as SynodMessage).type === 'Promise' ? { ...(m as object), accepted: null } : m)),
      }),
    });
    expect(details.failed).toBe(true);
    expect(details.errorInstance).toBeInstanceOf(PaxosSafetyViolation);
    expect((details.errorInstance as PaxosSafetyViolation).property).toBe('Agreement');
  });

  it('catches an acceptor that forgets its promise when it restarts (and so accepts below it)', () => {
    const details = check({
      storage: () => {
        const saved = new Map<number, { slot: number; ballot: { round: number; node: string }; value: string }>();
        return {
          load: () => ({ promised: null, accepted: [...saved.values()] }),
          save: (update) => {
            if (update.accepted !== undefined) saved.set(update.accepted.slot, update.accepted);
          },
        };
      },
    });
    expect(details.failed).toBe(true);
    expect(details.errorInstance).toBeInstanceOf(PaxosSafetyViolation);
  });
});
