/**
 * The backbone: random clusters under random fault schedules, with membership changes and log
 * compaction. Raft's safety properties are checked after every simulated event (the Cluster
 * throws InvariantViolation, naming the seed); after the faults heal, every member's state
 * machine (restored from snapshots where it was compacted) holds the same commands in the same
 * order, each once, including every proposal acknowledged to a client.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LeadershipLostError } from '../../src/raft/errors.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import { Cluster } from '../../src/sim/cluster.js';
import { propertyParams } from '../support/runs.js';

type Action =
  | { kind: 'run'; ms: number }
  | { kind: 'crash' | 'restart' | 'disconnect' | 'reconnect'; node: number }
  | { kind: 'partition'; groups: number[] }
  | { kind: 'heal' }
  | { kind: 'network'; dropRate: number; duplicateRate: number; maxLatency: number; reorder: boolean }
  | { kind: 'propose'; count: number }
  | { kind: 'transfer'; node: number }
  | { kind: 'addNode'; voter: boolean }
  | { kind: 'removeNode' | 'compact'; node: number };

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
  { arbitrary: fc.record({ kind: fc.constant('addNode' as const), voter: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constantFrom('removeNode' as const, 'compact' as const), node: fc.nat(8) }), weight: 1 },
);

/** The commands applied, in order: what the checks compare. Snapshots are the list as JSON. */
class CommandList implements StateMachine<string, void> {
  commands: string[] = [];
  apply(command: string): void {
    this.commands.push(command);
  }
  snapshot(): string {
    return JSON.stringify(this.commands);
  }
  restore(snapshot: string): void {
    this.commands = JSON.parse(snapshot) as string[];
  }
}

/** Membership changes wait at most this long inside a schedule (they may complete later, or never). */
const CHANGE_TIMEOUT_MS = 1_500;

/** Virtual time allowed, once the faults are healed, for a leader to emerge and catch everyone up. */
const LIVENESS_BOUND_MS = 20_000;

/** Proposes a marker command, retrying when a stale leader loses leadership after accepting it. */
async function proposeUntilApplied(cluster: Cluster<string>, boundMs: number): Promise<{ index: number; leaderId: string }> {
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
  /** Entries applied between automatic snapshots (0: none), and the chunk size sending them. */
  snapshotThreshold: number;
  snapshotChunkSize: number;
}

async function runSchedule(size: number, seed: number, modes: Modes, actions: readonly Action[]): Promise<void> {
  const machines = new Map<string, CommandList>();
  const cluster = new Cluster<string>({
    size,
    seed,
    traceLimit: 200,
    network: { countBytes: false },
    nodeOptions: () => modes,
    stateMachine: (id) => {
      const machine = new CommandList();
      machines.set(id, machine); // the newest incarnation's
      return machine;
    },
  });
  let added = 0;
  const acknowledged = new Set<string>();
  let acknowledgedIndex = 0; // the highest log index acknowledged to a client
  let next = 0;
  for (const a of actions) {
    const id = 'node' in a ? cluster.ids[a.node % cluster.ids.length]! : '';
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
        cluster.ids.forEach((nodeId, i) => groups[a.groups[i % a.groups.length]!]!.push(nodeId));
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
      case 'addNode':
        if (cluster.ids.length < 9) await cluster.addNode(`n${++added}`, { voter: a.voter, timeoutMs: CHANGE_TIMEOUT_MS }).catch(() => undefined);
        break;
      case 'removeNode':
        // A removal that times out leaves the server running. Without pre-vote and check-quorum,
        // a removed server that keeps running can disrupt the cluster for ever (thesis §4.2.3):
        // only schedules with one of them remove servers.
        if (cluster.ids.length > 1 && (modes.preVote || modes.checkQuorum)) {
          await cluster.removeNode(id, { timeoutMs: CHANGE_TIMEOUT_MS }).catch(() => undefined);
        }
        break;
      case 'compact':
        if (cluster.liveIds.includes(id)) cluster.node(id).compact();
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

  // Heal everything and demand liveness: a leader, and every acknowledged command at every member.
  cluster.heal();
  cluster.network.configure({ dropRate: 0, duplicateRate: 0, latencyMs: [1, 10], reorder: false });
  for (const id of cluster.ids) if (!cluster.liveIds.includes(id)) cluster.restart(id);
  await cluster.run(0); // settle acknowledgements already made
  const final = await proposeUntilApplied(cluster, LIVENESS_BOUND_MS);
  // The members: a node whose addition never completed, or whose removal did, is not one.
  const { voters, learners } = cluster.node(final.leaderId).membership;
  const members = [...voters, ...learners];
  // Everything acknowledged (a forwarded proposal may land, and be acknowledged, after the marker).
  for (let target = final.index; ; ) {
    const everywhere = (): boolean => members.every((id) => cluster.node(id).lastApplied >= target);
    const converged = await cluster.runUntil(everywhere, { timeoutMs: LIVENESS_BOUND_MS });
    expect(converged, `seed ${seed}: not every member applied through ${target}`).toBe(true);
    await cluster.run(0); // let acknowledgements made meanwhile arrive
    if (acknowledgedIndex <= target) break;
    target = acknowledgedIndex;
  }
  cluster.checkInvariants();

  const reference = machines.get(final.leaderId)!.commands;
  for (const id of members) {
    const commands = machines.get(id)!.commands;
    expect(new Set(commands).size, `seed ${seed}: node ${id} applied a command twice`).toBe(commands.length);
    const upTo = Math.min(commands.length, reference.length);
    expect(commands.slice(0, upTo), `seed ${seed}: node ${id} applied other commands than the leader`).toEqual(reference.slice(0, upTo));
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
        fc.record({
          preVote: fc.boolean(),
          checkQuorum: fc.boolean(),
          forwardProposals: fc.boolean(),
          snapshotThreshold: fc.constantFrom(0, 5, 30, 200),
          snapshotChunkSize: fc.constantFrom(16, 1_024, 65_536),
        }),
        fc.array(action, { minLength: 5, maxLength: 40, size: 'medium' }),
        runSchedule,
      ),
      propertyParams(200, 10_000),
    );
  });
});
