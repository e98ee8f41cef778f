/**
 * Random fault schedules for the Paxos simulations: network conditions, and crashes, restarts,
 * partitions and heals at random virtual times.
 */
import fc from 'fast-check';
import type { NetworkConditions } from '../../src/transport/memory.js';
import type { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';

/** What the schedules need of a Synod or Multi-Paxos simulation. */
export interface Sim {
  readonly ids: readonly string[];
  readonly liveIds: string[];
  readonly scheduler: VirtualScheduler;
  readonly network: { configure(conditions: NetworkConditions): void };
  crash(id: string): void;
  restart(id: string): void;
  partition(...groups: string[][]): void;
  heal(): void;
}

export type Fault =
  | { readonly at: number; readonly kind: 'crash' | 'restart'; readonly node: number }
  /** A crash and a restart `downMs` later: an acceptor that comes back while its ballots are still in flight. */
  | { readonly at: number; readonly kind: 'bounce'; readonly node: number; readonly downMs: number }
  /** Node i goes to side `groups[i] % sides`. */
  | { readonly at: number; readonly kind: 'partition'; readonly sides: number; readonly groups: readonly number[] }
  | { readonly at: number; readonly kind: 'heal' };

export const network: fc.Arbitrary<NetworkConditions> = fc.record({
  latencyMs: fc.constantFrom<[number, number]>([1, 5], [1, 20], [5, 50], [1, 100]),
  dropRate: fc.constantFrom(0, 0, 0.1, 0.3),
  duplicateRate: fc.constantFrom(0, 0.1, 0.3),
  reorder: fc.boolean(),
});

/** Up to `max` faults in the first `spanMs` of virtual time, on nodes 0..size-1 (taken modulo the size). */
export function faults(spanMs: number, max: number): fc.Arbitrary<Fault[]> {
  const at = fc.integer({ min: 0, max: spanMs });
  return fc.array(
    fc.oneof(
      { arbitrary: fc.record({ at, kind: fc.constantFrom('crash' as const, 'restart' as const), node: fc.nat(4) }), weight: 4 },
      { arbitrary: fc.record({ at, kind: fc.constant('bounce' as const), node: fc.nat(4), downMs: fc.integer({ min: 0, max: 40 }) }), weight: 3 },
      { arbitrary: fc.record({ at, kind: fc.constant('partition' as const), sides: fc.constantFrom(2, 2, 3), groups: fc.array(fc.nat(2), { minLength: 5, maxLength: 5 }) }), weight: 2 },
      { arbitrary: fc.record({ at, kind: fc.constant('heal' as const) }), weight: 1 },
    ),
    { maxLength: max },
  );
}

/** Schedules the faults on the simulation's clock; `onRestart` runs after each restart. */
export function scheduleFaults(sim: Sim, list: readonly Fault[], onRestart: (id: string) => void = () => {}): void {
  const ids = sim.ids;
  const id = (n: number): string => ids[n % ids.length] as string;
  const restart = (node: string): void => {
    if (sim.liveIds.includes(node)) return;
    sim.restart(node);
    onRestart(node);
  };
  for (const fault of list) {
    sim.scheduler.schedule(fault.at, () => {
      switch (fault.kind) {
        case 'crash':
          return sim.crash(id(fault.node));
        case 'restart':
          return restart(id(fault.node));
        case 'bounce':
          sim.crash(id(fault.node));
          sim.scheduler.schedule(fault.downMs, () => restart(id(fault.node)));
          return;
        case 'partition': {
          const groups: string[][] = [[], [], []];
          ids.forEach((node, i) => groups[(fault.groups[i] ?? 0) % fault.sides]?.push(node));
          return sim.partition(...groups.filter((g) => g.length > 0));
        }
        case 'heal':
          return sim.heal();
      }
    });
  }
}

/** Ends the faults: heals the network, stops losing messages, restarts every crashed node. */
export function calm(sim: Sim, onRestart: (id: string) => void = () => {}): void {
  sim.heal();
  sim.network.configure({ dropRate: 0 });
  for (const id of sim.ids) {
    if (sim.liveIds.includes(id)) continue;
    sim.restart(id);
    onRestart(id);
  }
}
