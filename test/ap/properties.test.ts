/**
 * Properties of the AP store over random schedules: client operations (with sessions, at a home
 * replica or roaming), per-replica probes, partitions into random groups, one-way cuts, heals, loss,
 * duplication, reordering and latency changes, on random replica tunings (message limits,
 * push on or off, a tiny pending buffer). After the last heal:
 * - the replicas converge, to the last-writer-wins state of every write accepted;
 * - the history (clients and probes) is causally consistent, with the session guarantees;
 * - every operation not in a roaming session was answered, on whichever side it ran;
 * - once converged, the logs empty (every peer is known to have every write).
 * A failure prints fast-check's seed and the shrunk schedule.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { checkCausal } from '../../src/testing/causal.js';
import { propertyParams } from '../support/runs.js';
import { ApWorld } from './harness.js';

const KEYS = ['x', 'y', 'z'];
/** Clients 'home0' and 'home1' always use their own replica; 'roamer' picks one per operation. */
const CLIENTS = ['home0', 'home1', 'roamer'];

type Step =
  | { readonly kind: 'op'; readonly client: number; readonly replica: number; readonly op: 'get' | 'put' | 'delete'; readonly key: number }
  | { readonly kind: 'probe'; readonly replica: number; readonly key: number }
  | { readonly kind: 'wait'; readonly ms: number }
  | { readonly kind: 'partition'; readonly groups: readonly number[] }
  | { readonly kind: 'cut'; readonly from: number; readonly to: number }
  | { readonly kind: 'heal' }
  | { readonly kind: 'faults'; readonly dropRate: number; readonly duplicateRate: number; readonly reorder: boolean; readonly latency: readonly [number, number] };

const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('op' as const), client: fc.nat(2), replica: fc.nat(4), op: fc.constantFrom('get' as const, 'put' as const, 'put' as const, 'delete' as const), key: fc.nat(2) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('probe' as const), replica: fc.nat(4), key: fc.nat(2) }) },
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 300 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('partition' as const), groups: fc.array(fc.nat(2), { minLength: 5, maxLength: 5 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('cut' as const), from: fc.nat(4), to: fc.nat(4) }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'heal' as const }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('faults' as const),
      dropRate: fc.constantFrom(0, 0.1, 0.3, 0.5),
      duplicateRate: fc.constantFrom(0, 0.1, 0.3),
      reorder: fc.boolean(),
      latency: fc.constantFrom([0, 0] as const, [1, 10] as const, [5, 200] as const),
    }),
  },
);

const tuning = fc.record({
  gossipIntervalMs: fc.integer({ min: 10, max: 150 }),
  maxWritesPerMessage: fc.integer({ min: 1, max: 8 }),
  maxBytesPerMessage: fc.constantFrom(64, 512, 65_536),
  push: fc.boolean(),
  maxPending: fc.constantFrom(2, 1024),
});

const schedule = fc.record({ seed: fc.integer(), nodes: fc.integer({ min: 2, max: 5 }), tuning, steps: fc.array(step, { minLength: 5, maxLength: 60 }) });
type Schedule = typeof schedule extends fc.Arbitrary<infer T> ? T : never;

/** Runs one schedule; returns the world after the final heal and settling. */
function run({ seed, nodes, tuning: t, steps }: Schedule): { world: ApWorld; settled: boolean } {
  const world = new ApWorld(seed, nodes, { latencyMs: [1, 10] }, () => t);
  for (const s of steps) {
    switch (s.kind) {
      case 'op': {
        const client = CLIENTS[s.client]!;
        world.op(client, client === 'roamer' ? s.replica : s.client, s.op, KEYS[s.key]!);
        break;
      }
      case 'probe':
        world.probe(s.replica, KEYS[s.key]!);
        break;
      case 'wait':
        world.scheduler.runFor(s.ms);
        break;
      case 'partition': {
        const groups = [0, 1, 2].map((g) => world.ids.filter((_, i) => s.groups[i] === g));
        world.network.partition(...groups.filter((g) => g.length > 0));
        break;
      }
      case 'cut':
        world.network.cut(world.replica(s.from).id, world.replica(s.to).id); // one way: reachability is no longer transitive
        break;
      case 'heal':
        world.network.heal();
        break;
      case 'faults':
        world.network.configure({ dropRate: s.dropRate, duplicateRate: s.duplicateRate, reorder: s.reorder, latencyMs: s.latency });
        break;
    }
  }
  world.network.heal(); // loss, duplication and reordering stay as they were
  return { world, settled: world.settle(120_000) };
}

describe('AP store under random schedules', () => {
  it('converges after the heal to the last-writer-wins state, stays causally consistent and available', () => {
    fc.assert(
      fc.property(schedule, (s) => {
        const { world, settled } = run(s);
        expect(settled, 'every replica applied the same writes').toBe(true);
        const convergence = world.convergence();
        expect(convergence.converged, convergence.message).toBe(true);
        for (const replica of world.replicas) expect(replica.stats().pending).toBe(0);
        // Probes after convergence see the same thing everywhere (and join the causal check).
        for (let i = 0; i < world.replicas.length; i++) for (const key of KEYS) world.probe(i, key);
        const history = world.recorder.history();
        const causal = checkCausal(history);
        expect(causal.consistent, causal.message).toBe(true);
        // Only a roaming session may be refused; everything else is answered, partition or not.
        const refused = history.filter((o) => o.status !== 'ok');
        expect(refused.every((o) => o.client === 'roamer')).toBe(true);
        // Once every peer is known to have every write, the logs are empty.
        const emptied = world.scheduler.runUntil(() => world.replicas.every((r) => r.stats().logLength === 0), { timeoutMs: 120_000 });
        expect(emptied, 'logs emptied').toBe(true);
      }),
      propertyParams(300, 3_000),
    );
  });

  it('never exposes a write before one it depends on: a write that travels by a detour waits for its cause', () => {
    // alice writes the photo at r1; bob reads it at r2 and then writes the album; r1 → r3 is cut,
    // so the photo reaches r3 only through r2, while the album may come straight from r2.
    const timing = fc.record({
      seed: fc.integer(),
      latency: fc.constantFrom([0, 0] as const, [1, 10] as const, [1, 50] as const),
      reorder: fc.boolean(),
      push: fc.boolean(),
      gossipIntervalMs: fc.integer({ min: 5, max: 100 }),
      beforeBob: fc.integer({ min: 0, max: 100 }),
      probes: fc.array(fc.integer({ min: 0, max: 30 }), { minLength: 1, maxLength: 8 }),
    });
    fc.assert(
      fc.property(timing, ({ seed, latency, reorder, push, gossipIntervalMs, beforeBob, probes }) => {
        const world = new ApWorld(seed, 3, { latencyMs: latency, reorder }, () => ({ push, gossipIntervalMs }));
        world.network.cut('r1', 'r3');
        world.op('alice', 0, 'put', 'photo');
        world.scheduler.runFor(beforeBob);
        world.op('bob', 1, 'get', 'photo');
        world.op('bob', 1, 'put', 'album');
        for (const wait of probes) {
          world.scheduler.runFor(wait);
          world.probe(2, 'album');
          world.probe(2, 'photo');
        }
        world.network.heal();
        expect(world.settle(60_000)).toBe(true);
        const causal = checkCausal(world.recorder.history());
        expect(causal.consistent, causal.message).toBe(true);
        expect(world.convergence().converged).toBe(true);
      }),
      propertyParams(300, 5_000),
    );
  });
});
