/**
 * The Jepsen-style history runs of test/raft/linearizable.test.ts, on `raftkit/testing`'s
 * `runJepsen`: each seed draws a set-up (3 or 5 nodes, forwarding, snapshots, lease reads or
 * not, 3 to 6 clients, half of them retrying in client sessions) and runs the standard nemesis
 * (partitions, a majority ring, bridges, cuts, kills, flaps, pauses, loss, duplication,
 * reordering, delays, slow nodes, clock drift within the bound) plus faults of Raft's own:
 * a node flapping again and again while slow, and leadership transfers, some to a node cut off
 * from the leader, some while the network duplicates and delays. The same seed gives the same
 * run, byte for byte.
 */
import { SeededRandom } from '../../src/runtime/random.js';
import { faults, runJepsen, type Fault, type JepsenRun, type ReadConsistency } from '../../src/testing/index.js';

/** Crash and restart at once, with messages to and from the old incarnation still in flight. */
const flap = (victim: string): Fault => ({ cluster }) => {
  cluster.crash(victim);
  cluster.restart(victim);
  return `flap ${victim}`;
};

/** A node restarted again and again, each incarnation young with answers to the older ones in flight; mostly slow too. */
const flapping: Fault = (context) => {
  const { cluster, random, later } = context;
  const victim = cluster.ids[random.int(0, cluster.ids.length - 1)]!;
  let at = 0;
  for (let i = random.int(2, 4); i > 0; i--) later((at += random.int(10, 80)), flap(victim));
  const slow = random.next() < 0.8 ? faults.slowNode()(context) : undefined;
  return `flapping ${victim}${slow === undefined ? '' : `; ${slow}`}`;
};

/**
 * The leader hands over to another voter; with `stall`, one it is cut off from (so the transfer
 * gives up), and with `chaos` while the network duplicates and delays: copies of one request
 * reach the target before and after the transfer gave up.
 */
const transfer = ({ chaos }: { chaos: boolean }): Fault => ({ cluster, random }) => {
  const leader = cluster.leader();
  if (leader === undefined) return undefined;
  const others = cluster.ids.filter((id) => id !== leader);
  const target = others[random.int(0, others.length - 1)]!;
  const stall = chaos || random.next() < 0.5;
  if (chaos) cluster.network.configure({ duplicateRate: 0.5, latencyMs: [5, 600] });
  if (stall) cluster.network.cut(leader, target);
  cluster.node(leader).transferLeadership(target).catch(() => undefined);
  return `transfer from ${leader} to ${target}${stall ? ' (cut off)' : ''}${chaos ? ', duplicating and delaying' : ''}`;
};

const NEMESIS = faults.mix([12, faults.standard()], [3, flapping], [3, transfer({ chaos: false })], [2, transfer({ chaos: true })]);

/** Runs one seeded history; `run.report` replays it (its first line names the seed). */
export async function runHistory(seed: number, options: { durationMs?: number; diskLatencyMs?: readonly [number, number] } = {}): Promise<JepsenRun> {
  const random = new SeededRandom(`history:${seed}`);
  const size = random.pick([3, 3, 5]);
  const forwarding = random.pick(['none', 'some', 'all'] as const);
  const snapshotThreshold = random.pick([0, 4, 16]);
  const lease = random.next() < 0.5;
  // 40% of operations read without the log (half of those with a lease, in a lease run), 10% through it.
  const reads: ReadConsistency[] = lease ? ['index', 'lease', 'index', 'lease', 'log'] : ['index', 'index', 'index', 'index', 'log'];
  return runJepsen({
    seed,
    cluster: {
      size,
      network: { latencyMs: [1, 8], duplicateRate: 0.1 },
      ...(options.diskLatencyMs && { diskLatencyMs: options.diskLatencyMs }),
      nodeOptions: (id) => ({
        snapshotThreshold,
        snapshotChunkSize: 64,
        forwardProposals: forwarding === 'all' || (forwarding === 'some' && Number(id) % 2 === 1),
      }),
    },
    clients: random.int(3, 6),
    client: (i) => ({ session: i % 2 === 0 }),
    reads,
    nemesis: NEMESIS,
    durationMs: options.durationMs ?? 5_000,
  });
}
