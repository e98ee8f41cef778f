import type { Cluster } from '../../src/sim/cluster.js';

/**
 * A run with every kind of fault the trace records: proposals, the leader's crash, a partition
 * and its heal, a one-way cut, new conditions, a restart and more proposals (a refused one is
 * skipped: the script goes on).
 */
export async function faultScript(cluster: Cluster<number, number>): Promise<void> {
  const leader = await cluster.waitForLeader();
  for (let i = 0; i < 5; i++) await cluster.propose(1).catch(() => undefined);
  cluster.crash(leader);
  cluster.partition(['1', '2'], ['3', '4', '5']);
  await cluster.run(600);
  cluster.heal();
  cluster.network.cut('1', '2');
  cluster.network.configure({ dropRate: 0 });
  cluster.restart(leader);
  for (let i = 0; i < 10; i++) await cluster.propose(1).catch(() => undefined);
  cluster.network.restore('1', '2');
  await cluster.run(500);
}
