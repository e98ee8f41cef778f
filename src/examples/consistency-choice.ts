import { ApReplica } from '../ap/replica.js';
import { ApSession } from '../ap/session.js';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../kv/key-value-store.js';
import { SeededRandom } from '../runtime/random.js';
import { Cluster } from '../sim/cluster.js';
import { VirtualScheduler } from '../sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../transport/memory.js';

/**
 * "Believing CAP is a one-time choice" is a mistake: one program, two consistency levels, per
 * operation. Selling a seat must happen once (strong: a compare-and-set through Raft, which
 * needs a majority); remembering what a customer looked at may be eventual (the AP store
 * accepts it on both sides of a partition, and the replicas merge after the heal). Returns the
 * printed lines (not part of the library's API; docs/consistency.md shows the same program).
 */
export async function consistencyChoiceExample(seed: number | string = 42): Promise<string[]> {
  const lines: string[] = [];

  // Strong: the seat is sold once, whoever asks at the same time.
  const seats = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed, stateMachine: () => new KeyValueStore() });
  await seats.propose({ op: 'put', key: 'seat 12A', value: 'free' });
  const sales = await Promise.all(['alice', 'bob'].map((buyer) => seats.propose({ op: 'cas', key: 'seat 12A', expected: 'free', value: buyer })));
  const winner = ['alice', 'bob'].find((_, i) => sales[i]!.result.ok);
  lines.push(`strong (Raft): seat 12A sold to ${winner ?? 'nobody'}; ${sales.filter((s) => !s.result.ok).length} other buyer refused`);

  // Eventual: browsing history, written on both sides of a partition.
  const scheduler = new VirtualScheduler();
  const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(seed), latencyMs: [1, 10] });
  const ids = ['eu', 'us'];
  const [eu, us] = ids.map((id) => new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler })) as [ApReplica, ApReplica];
  network.partition(['eu'], ['us']);
  const alice = new ApSession();
  eu.put('viewed by alice', ['seat 12A'], { session: alice });
  us.put('viewed by bob', ['seat 14C']);
  scheduler.runFor(100);
  lines.push(`eventual (AP), partitioned: eu sees ${eu.state().size} key, us sees ${us.state().size}; both accepted their writes`);
  lines.push(`alice's session on us: ${us.covers(alice) ? 'served' : 'refused (us has not seen her write: read-your-writes)'}`);
  network.heal();
  scheduler.runFor(1_000);
  lines.push(`after the heal: eu and us both hold ${[...us.state().keys()].map((key) => JSON.stringify(key)).join(' and ')}`);
  lines.push(`alice's session on us: ${JSON.stringify(us.get('viewed by alice', { session: alice }).value)}`);
  await Promise.all([eu.stop(), us.stop()]);
  return lines;
}
