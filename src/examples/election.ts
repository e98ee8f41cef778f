import { Cluster } from '../sim/cluster.js';

/**
 * The seed's 5-node election: nodes time out, one campaigns and wins. Returns the printed line,
 * e.g. `Node 2 elected leader for term 1` (which node depends on the seed).
 */
export async function electionExample(seed: number | string = 42): Promise<string[]> {
  const cluster = new Cluster({ size: 5, seed });
  const leader = await cluster.waitForLeader();
  return [`Node ${leader} elected leader for term ${cluster.node(leader).term}`];
}

/** The seed's mini project: each round a node fails, the live ones elect a leader, the node recovers. */
export async function miniProject(options: { nodes?: number; rounds?: number; seed?: number | string } = {}): Promise<string[]> {
  const cluster = new Cluster({ size: options.nodes ?? 5, seed: options.seed ?? 42 });
  const reports = await cluster.simulate({ rounds: options.rounds ?? 3 });
  return reports.flatMap((r) => r.lines);
}
