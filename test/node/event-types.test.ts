/** Type-level: a RaftNode's events carry its state machine's command and result types (checked by tsc). */
import { describe, expectTypeOf, it } from 'vitest';
import { RaftNode, type NodeRole, type RaftNodeEvents } from '../../src/node/raft-node.js';
import type { LogEntry, Role } from '../../src/raft/types.js';
import { Cluster } from '../../src/sim/cluster.js';
import { manualTransport } from './harness.js';

describe('RaftNodeEvents', () => {
  it("gives 'apply' listeners the state machine's result type", () => {
    const node = new RaftNode<{ add: number }, number>({
      id: '1',
      peers: ['1'],
      transport: manualTransport().transport,
      stateMachine: { apply: (command) => command.add },
    });
    node.on('apply', (entry, result) => {
      expectTypeOf(result).toEqualTypeOf<number>();
      expectTypeOf(entry).toEqualTypeOf<LogEntry<{ add: number }>>();
    });
    expectTypeOf<Parameters<RaftNodeEvents<string, boolean>['apply']>[1]>().toEqualTypeOf<boolean>();
    expectTypeOf<Parameters<RaftNodeEvents['apply']>[1]>().toEqualTypeOf<unknown>();
    expectTypeOf<Parameters<RaftNodeEvents['role']>[0]>().toEqualTypeOf<Role>();

    const cluster = new Cluster<string, number>({ size: 1, seed: 1, stateMachine: () => ({ apply: (s) => s.length }) });
    cluster.node('1').on('apply', (_, result) => expectTypeOf(result).toEqualTypeOf<number>());
    expectTypeOf(node.role).toEqualTypeOf<NodeRole>();
  });
});
