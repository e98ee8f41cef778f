/**
 * The backbone: random clusters under random fault schedules. Raft's safety properties are
 * checked after every simulated event (the Cluster throws InvariantViolation, naming the seed);
 * after the faults heal, every proposal acknowledged to a client must be applied everywhere.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeadershipLostError } from '../../src/raft/errors.js';
import { Cluster } from '../../src/sim/cluster.js';
import { propertyParams } from '../support/runs.js';

type Action =
  | { kind: 'run'; ms: number }
  | { kind: 'crash' | 'restart' | 'disconnect' | 'reconnect'; node: number }
  | { kind: 'partition'; groups: number[] }
  | { kind: 'heal' }
  | { kind: 'network'; dropRate: number; duplicateRate: number; maxLatency: number; reorder: boolean }
  | { kind: 'propose'; count: number }
  | { kind: 'transfer'; node: number };

const action: fc.Arbitrary<Action> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 1, max: 3_000 }) }), weight: 5 },
  {
    arbitrary: fc.record({
      kind: fc.constantFrom('crash' as const, 'restart' as const, 'disconnect' as const, 'reconnect' as const),
      node: fc.nat(6),
    }),
    weight: 3,
  },
  { arbitrary: fc.record({ kind: fc.constant('partition' as const), groups: fc.array(fc.nat(2), { minLength: 7, maxLength: 7 }) }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('heal' as const) }), weight: 1 },
  {
    arbitrary: fc.record({
      kind: fc.constant('network' as const),
      dropRate: fc.constantFrom(0, 0.01, 0.1, 0.3),
      duplicateRate: fc.constantFrom(0, 0.05, 0.2),
      maxLatency: fc.constantFrom(1, 10, 50, 300, 2_000),
      reorder: fc.boolean(),
    }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant('propose' as const), count: fc.integer({ min: 1, max: 20 }) }), weight: 5 },
  { arbitrary: fc.record({ kind: fc.constant('transfer' as const), node: fc.nat(6) }), weight: 1 },
);

/** Virtual time allowed, once the faults are healed, for a leader to emerge and catch everyone up. */
const LIVENESS_BOUND_MS = 20_000;

/** Proposes a marker command, retrying when a stale leader loses leadership after accepting it. */
async function proposeUntilApplied(cluster: Cluster<string>, boundMs: number): Promise<{ index: number }> {
  const deadline = cluster.now + boundMs;
  for (let attempt = 0; ; attempt++) {
    try {
      return await cluster.propose(`final${attempt}`, { timeoutMs: Math.max(1, deadline - cluster.now) });
    } catch (error) {
      if (!(error instanceof LeadershipLostError) || cluster.now >= deadline) throw error;
    }
  }
}

interface Modes {
  preVote: boolean;
  checkQuorum: boolean;
  /** Followers forward proposals to the leader (and some proposals are made on followers). */
  forwardProposals: boolean;
}

async function runSchedule(size: number, seed: number, modes: Modes, actions: readonly Action[]): Promise<void> {
  const cluster = new Cluster<string>({ size, seed, traceLimit: 200, network: { countBytes: false }, nodeOptions: () => modes });
  const acknowledged = new Set<string>();
  let acknowledgedIndex = 0; // the highest log index acknowledged to a client
  let next = 0;
  for (const a of actions) {
    const id = 'node' in a ? cluster.ids[a.node % size]! : '';
    switch (a.kind) {
      case 'run':
        await cluster.run(a.ms);
        break;
      case 'crash':
        cluster.crash(id);
        break;
      case 'restart':
        if (!cluster.liveIds.includes(id)) cluster.restart(id);
        break;
      case 'disconnect':
        cluster.disconnect(id);
        break;
      case 'reconnect':
        cluster.reconnect(id);
        break;
      case 'partition': {
        const groups: string[][] = [[], [], []];
        cluster.ids.forEach((nodeId, i) => groups[a.groups[i]!]!.push(nodeId));
        cluster.partition(...groups.filter((g) => g.length > 0));
        break;
      }
      case 'heal':
        cluster.heal();
        break;
      case 'network':
        cluster.network.configure({
          dropRate: a.dropRate,
          duplicateRate: a.duplicateRate,
          latencyMs: [1, a.maxLatency],
          reorder: a.reorder,
        });
        break;
      case 'transfer': {
        const leader = cluster.leader();
        if (leader !== undefined) cluster.node(leader).transferLeadership(id).catch(() => undefined);
        break;
      }
      case 'propose': {
        const leader = cluster.leader();
        if (leader === undefined) break;
        const live = cluster.liveIds;
        for (let i = 0; i < a.count; i++) {
          const command = `c${next++}`;
          // With forwarding on, every other proposal goes through some live node (often a follower).
          const via = modes.forwardProposals && i % 2 === 1 ? live[(next + i) % live.length]! : leader;
          cluster
            .node(via)
            .propose(command)
            .then(
              ({ index }) => {
                acknowledged.add(command);
                acknowledgedIndex = Math.max(acknowledgedIndex, index);
              },
              () => undefined, // not acknowledged: may or may not commit
            );
        }
        break;
      }
    }
  }

  // Heal everything and demand liveness: a leader, and every acknowledged command everywhere.
  cluster.heal();
  cluster.network.configure({ dropRate: 0, duplicateRate: 0, latencyMs: [1, 10], reorder: false });
  for (const id of cluster.ids) if (!cluster.liveIds.includes(id)) cluster.restart(id);
  await cluster.run(0); // settle acknowledgements already made
  const final = await proposeUntilApplied(cluster, LIVENESS_BOUND_MS);
  // Everything acknowledged (a forwarded proposal may land, and be acknowledged, after the marker).
  for (let target = final.index; ; ) {
    const everywhere = (): boolean => cluster.ids.every((id) => cluster.node(id).lastApplied >= target);
    const converged = await cluster.runUntil(everywhere, { timeoutMs: LIVENESS_BOUND_MS });
    expect(converged, `seed ${seed}: not every node applied through ${target}`).toBe(true);
    await cluster.run(0); // let acknowledgements made meanwhile arrive
    if (acknowledgedIndex <= target) break;
    target = acknowledgedIndex;
  }
  cluster.checkInvariants();

  for (const id of cluster.ids) {
    const commands = cluster.applied(id).map((e) => e.command);
    expect(new Set(commands).size, `seed ${seed}: node ${id} applied a command twice`).toBe(commands.length);
    const applied = new Set(commands);
    for (const command of acknowledged) {
      expect(applied.has(command), `seed ${seed}: acknowledged ${command} missing on node ${id}`).toBe(true);
    }
  }
}

describe('Raft under random fault schedules', () => {
  it('keeps every safety property, and after healing commits every acknowledged proposal on every node', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 7 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.record({ preVote: fc.boolean(), checkQuorum: fc.boolean(), forwardProposals: fc.boolean() }),
        fc.array(action, { minLength: 5, maxLength: 40, size: 'medium' }),
        runSchedule,
      ),
      propertyParams(200, 10_000),
    );
  });
});
