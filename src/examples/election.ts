import { Cluster } from '../sim/cluster.js';
import type { TraceDocument } from '../sim/trace.js';

/**
 * The seed's 5-node election: nodes time out, one campaigns and wins. Returns the printed line,
 * e.g. `Node 2 elected leader for term 1` (which node depends on the seed).
 */
export async function electionExample(seed: number | string = 42): Promise<string[]> {
  const cluster = new Cluster({ size: 5, seed });
  const leader = await cluster.waitForLeader();
  return [`Node ${leader} elected leader for term ${cluster.node(leader).term}`];
}

/**
 * The seed's mini project: each round a node fails, the live ones elect a leader, the node
 * recovers. With `trace`, the run keeps up to `traceLimit` events (default 1,000,000) and hands
 * its trace document to `trace` at the end.
 */
export async function miniProject(
  options: { nodes?: number; rounds?: number; seed?: number | string; trace?: (document: TraceDocument) => void; traceLimit?: number } = {},
): Promise<string[]> {
  const cluster = new Cluster({ size: options.nodes ?? 5, seed: options.seed ?? 42, ...(options.trace && { traceLimit: options.traceLimit ?? 1_000_000 }) });
  const reports = await cluster.simulate({ rounds: options.rounds ?? 3 });
  options.trace?.(cluster.traceDocument());
  return reports.flatMap((r) => r.lines);
}
