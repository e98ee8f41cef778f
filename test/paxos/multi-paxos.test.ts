/**
 * Multi-Paxos: under random fault schedules every slot's safety is checked live, and once the
 * faults end a leader emerges, a new command is chosen within a bound and every node's log agrees
 * slot by slot. With a stable leader: one phase 1, then one phase 2 per command. On a leader
 * change the new leader recovers what was accepted and fills the gaps with no-ops.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import { PaxosNotLeaderError, type PaxosSafetyViolation } from '../../src/paxos/errors.js';
import type { LogValue, MultiPaxosMessage } from '../../src/paxos/messages.js';
import { MultiPaxosCluster, type MultiPaxosClusterOptions } from '../../src/paxos/simulation.js';
import type { NetworkConditions } from '../../src/transport/memory.js';
import { propertyParams } from '../support/runs.js';
import { calm, faults, network, scheduleFaults, type Fault } from './schedules.js';

interface Scenario {
  readonly seed: number;
  readonly size: number;
  readonly network: NetworkConditions;
  readonly faults: readonly Fault[];
  readonly submits: readonly number[];
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  seed: fc.integer(),
  size: fc.constantFrom(3, 3, 5),
  network,
  faults: faults(2_000, 10),
  submits: fc.array(fc.integer({ min: 0, max: 2_500 }), { minLength: 5, maxLength: 40 }),
});

/** Once the faults end, a leader emerges and a command is chosen within this (virtual ms). */
const LIVENESS_BOUND_MS = 5_000;

const text = (value: LogValue<string> | undefined): string => (value === undefined ? '?' : value.kind === 'noop' ? '-' : value.command);

/** Runs a scenario's faults, with commands submitted to whichever node leads; the checker throws on the first violation. */
function play(s: Scenario, transport?: MultiPaxosClusterOptions<string>['transport']): MultiPaxosCluster<string> {
  const cluster = new MultiPaxosCluster<string>({ size: s.size, seed: s.seed, network: s.network, ...(transport !== undefined && { transport }) });
  scheduleFaults(cluster, s.faults);
  s.submits.forEach((at, i) =>
    cluster.scheduler.schedule(at, () => {
      const leader = cluster.leader();
      if (leader !== undefined) cluster.node(leader).submit(`c${i}`);
    }),
  );
  cluster.run(2_500);
  return cluster;
}

describe('Multi-Paxos under random schedules', () => {
  it('keeps every slot safe, then makes progress and agrees slot by slot once the faults end', () => {
    fc.assert(
      fc.property(scenario, (s) => {
        const cluster = play(s);
        calm(cluster);
        const leader = cluster.waitForLeader({ timeoutMs: LIVENESS_BOUND_MS });
        const { slot } = cluster.propose('final', { timeoutMs: LIVENESS_BOUND_MS });
        const settled = cluster.runUntil(() => cluster.nodes.every((node) => node.appliedSlot >= slot), { timeoutMs: LIVENESS_BOUND_MS });
        expect(settled, `every node learns slots 1..${slot} (leader ${leader})`).toBe(true);
        const logs = cluster.nodes.map((node) => node.log().slice(0, slot).map((e) => text(e.value)).join(' '));
        expect(new Set(logs).size, logs.join('\n')).toBe(1);
        // A command appears at most once unless a leader change made the client retry it.
        expect(logs[0]?.split(' ').filter((c) => c === 'final').length).toBeGreaterThanOrEqual(1);
      }),
      propertyParams(300, 5_000),
    );
  });

  it('goes red when a new leader skips adopting the values its promises report', () => {
    // Every LogPromise reaches the candidate with its accepted values removed: it fills no-ops over chosen slots.
    const details = fc.check(
      fc.property(scenario, (s) => {
        play(s, (_id, endpoint) => ({
          send: (to, message) => endpoint.send(to, message),
          close: () => endpoint.close(),
          listen: (handler) => endpoint.listen((m) => handler((m as MultiPaxosMessage).type === 'LogPromise' ? { ...(m as object), accepted: [] } : m)),
        }));
      }),
      { numRuns: 2_000, seed: 1 },
    );
    expect(details.failed).toBe(true);
    expect((details.errorInstance as PaxosSafetyViolation).property).toBe('Agreement');
  });
});

describe('Multi-Paxos with a stable leader', () => {
  it('runs phase 1 once, then one accept round per command, and applies in slot order', () => {
    const cluster = new MultiPaxosCluster<KeyValueCommand, KeyValueResult>({ size: 5, seed: 7, network: { latencyMs: 5 }, stateMachine: () => new KeyValueStore() });
    const leader = cluster.waitForLeader();
    const ballot = cluster.node(leader).ballot;
    cluster.run(100);
    cluster.network.resetStats();
    for (let i = 0; i < 100; i++) {
      const { slot, result, leaderId } = cluster.propose({ op: 'put', key: 'n', value: i });
      expect([slot, leaderId, result.ok]).toEqual([i + 1, leader, true]);
    }
    expect(cluster.node(leader).ballot).toEqual(ballot);
    const byType = cluster.network.stats().sent.byType;
    expect(byType['LogPrepare']).toBeUndefined();
    expect(byType['LogAccept']?.messages).toBe(100 * 4);
    expect(byType['LogAccepted']?.messages).toBe(100 * 4);
    cluster.run(200);
    for (const node of cluster.nodes) expect(node.appliedSlot).toBe(100);
    const { result } = cluster.propose({ op: 'get', key: 'n' });
    expect(result.previous).toBe(99);
  });

  it('refuses a submit on a follower, naming the leader', () => {
    const cluster = new MultiPaxosCluster<string>({ size: 3, seed: 2 });
    const leader = cluster.waitForLeader();
    cluster.run(100);
    const follower = cluster.ids.find((id) => id !== leader) as string;
    expect(() => cluster.node(follower).submit('x')).toThrow(PaxosNotLeaderError);
    try {
      cluster.node(follower).submit('x');
    } catch (error) {
      expect((error as PaxosNotLeaderError).leaderId).toBe(leader);
    }
  });

  it('keeps its leader when a partitioned node comes back with a higher ballot', () => {
    const cluster = new MultiPaxosCluster<string>({ size: 5, seed: 11 });
    const leader = cluster.waitForLeader();
    const loner = cluster.ids.find((id) => id !== leader) as string;
    cluster.partition([loner]);
    cluster.run(3_000); // the loner runs phase 1 again and again, in ever higher ballots
    cluster.heal();
    cluster.run(1_000);
    expect(cluster.leader()).toBe(leader);
    expect(cluster.propose('after').leaderId).toBe(leader);
  });
});

describe('Multi-Paxos on a leader change', () => {
  it('recovers accepted values and fills the gaps with no-ops', () => {
    const cluster = new MultiPaxosCluster<string>({ size: 5, seed: 3, network: { latencyMs: 5 } });
    const leader = cluster.waitForLeader();
    cluster.run(100);
    // Slot 2's accepts reach nobody: only the leader itself accepts it. Slot 3's reach one node.
    const witness = cluster.ids.find((id) => id !== leader) as string;
    cluster.network.filter((m, from, to) => (from === leader && m.type === 'LogAccept' && (m.slot === 2 || (m.slot === 3 && to !== witness)) ? 'drop' : 'deliver'));
    const node = cluster.node(leader);
    for (const command of ['a', 'b', 'c', 'd']) node.submit(command);
    cluster.run(20);
    expect(node.appliedSlot).toBe(1);
    expect(cluster.checker?.chosen(4)).toEqual({ value: { kind: 'command', command: 'd' } });
    cluster.crash(leader);
    const next = cluster.waitForLeader();
    cluster.run(500);
    // a was chosen; b was accepted by the dead leader alone: a no-op; c was accepted by the
    // witness: recovered and chosen; d was chosen already.
    for (const id of cluster.liveIds) expect(cluster.node(id).log().map((e) => text(e.value)), `node ${id} (leader ${next})`).toEqual(['a', '-', 'c', 'd']);
  });

  it('brings a restarted node up to date: it learns the log again and rebuilds its state machine', () => {
    const cluster = new MultiPaxosCluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 5, stateMachine: () => new KeyValueStore() });
    const leader = cluster.waitForLeader();
    const other = cluster.ids.find((id) => id !== leader) as string;
    cluster.crash(other);
    for (let i = 0; i < 300; i++) cluster.propose({ op: 'put', key: `k${i % 7}`, value: i });
    cluster.restart(other);
    expect(cluster.runUntil(() => cluster.node(other).appliedSlot === 300, { timeoutMs: 2_000 })).toBe(true);
    expect(cluster.node(other).log()).toEqual(cluster.node(leader).log());
  });
});
