// raftkit's side of the benchmarks: 3 RaftNodes in one process on an InMemoryNetwork with zero
// added latency and real timers, plus the simulator and memory measurements.
import { RaftNode, InMemoryNetwork, RealScheduler, MathRandom, Cluster, VirtualScheduler, SeededRandom } from '../dist/esm/index.js';

const PAYLOAD = 'x'.repeat(100);

class CountingStateMachine {
  applied = 0;
  apply() {
    return ++this.applied;
  }
}

/** A counter that can be snapshotted, so its node can compact its log. */
class SnapshottingCounter extends CountingStateMachine {
  snapshot() {
    return String(this.applied);
  }
  restore(snapshot) {
    this.applied = Number(snapshot);
  }
}

/**
 * Starts a 3-node cluster on real timers; resolves once node 1 leads. `storage(id)` gives each
 * node its storage (default MemoryStorage), `nodeOptions` any other RaftNode options.
 */
export async function startRaftkit({ storage, nodeOptions = {} } = {}) {
  const scheduler = new RealScheduler();
  const random = new MathRandom();
  const network = new InMemoryNetwork({ scheduler, random, countBytes: false });
  const ids = ['1', '2', '3'];
  const machines = ids.map(() => new SnapshottingCounter());
  const nodes = ids.map(
    (id, i) =>
      new RaftNode({ id, peers: ids, transport: network.transport(id), stateMachine: machines[i], scheduler, random, ...(storage && { storage: storage(id) }), ...nodeOptions }),
  );
  await Promise.all(nodes.map((n) => n.start()));
  nodes[0].campaign();
  await new Promise((resolve) => {
    const check = () => (nodes[0].role === 'leader' ? resolve() : setTimeout(check, 1));
    check();
  });
  const leader = nodes[0];
  return {
    propose: (command) => leader.propose(command),
    appliedEverywhere: (count) => machines.every((m) => m.applied >= count),
    applied: () => machines.map((m) => m.applied),
    stop: () => Promise.all(nodes.map((n) => n.stop())),
  };
}

/**
 * Virtual seconds per wall second for a 5-node Cluster, once the JIT is warm: the same
 * simulation runs `warmUps` times untimed first (each on a new Cluster). One warm-up is not
 * enough here: V8 compiles the simulator's hot paths for the first Cluster's objects, drops that
 * code when the second one starts ("wrong map" deoptimisations), and needs about three runs
 * before the figures settle (a cold first run is ~2× slower). With `traceLimit` above 0 the
 * trace is on (the default Cluster keeps 10,000 events).
 */
export async function simulatorSpeed({ virtualMs, proposalsPerSecond, dropRate, traceLimit = 0, warmUps = 3 }) {
  for (let i = 0; i < warmUps; i++) await simulateOnce({ virtualMs, proposalsPerSecond, dropRate, traceLimit });
  return simulateOnce({ virtualMs, proposalsPerSecond, dropRate, traceLimit });
}

async function simulateOnce({ virtualMs, proposalsPerSecond, dropRate, traceLimit }) {
  const cluster = new Cluster({
    size: 5,
    seed: 1,
    network: { dropRate, latencyMs: [1, 5], countBytes: false },
    traceLimit,
    checkInvariants: false,
  });
  await cluster.waitForLeader();
  let events = 0;
  const start = performance.now();
  const step = 100;
  for (let t = 0; t < virtualMs; t += step) {
    if (proposalsPerSecond > 0) {
      const leader = cluster.leader();
      if (leader !== undefined) {
        const node = cluster.node(leader);
        const count = (proposalsPerSecond * step) / 1000;
        for (let i = 0; i < count; i++) node.submit(PAYLOAD);
      }
    }
    await cluster.run(step);
  }
  const wallMs = performance.now() - start;
  events = cluster.network.stats().delivered.messages;
  return { wallMs, speedup: virtualMs / wallMs, messagesPerSecond: (events / wallMs) * 1000 };
}

/**
 * Heap (after a forced GC) before and after `count` proposals of 100 bytes, applied on 3 RaftNodes
 * in virtual time; with `compaction`, each node snapshots and compacts every 10,000 entries.
 */
export async function memoryAfter(count, { compaction }) {
  const heap = () => {
    globalThis.gc?.();
    return process.memoryUsage().heapUsed;
  };
  const heapBefore = heap();
  const scheduler = new VirtualScheduler();
  const random = new SeededRandom(1);
  const network = new InMemoryNetwork({ scheduler, random, latencyMs: 1, countBytes: false });
  const ids = ['1', '2', '3'];
  const machines = ids.map(() => new SnapshottingCounter());
  const nodes = ids.map(
    (id, i) =>
      new RaftNode({
        id,
        peers: ids,
        transport: network.transport(id),
        stateMachine: machines[i],
        scheduler,
        random: random.fork(id),
        snapshotThreshold: compaction ? 10_000 : 0,
      }),
  );
  for (const node of nodes) await node.start();
  nodes[0].campaign();
  scheduler.runUntil(() => nodes[0].role === 'leader', { timeoutMs: 5_000 });
  const batch = 10_000;
  for (let done = 0; done < count; done += batch) {
    for (let i = 0; i < batch; i++) nodes[0].submit(PAYLOAD + i);
    scheduler.runFor(20);
  }
  scheduler.runFor(1_000);
  const heapUsed = heap();
  const result = { heapBefore, heapUsed, applied: machines.map((m) => m.applied), logLength: nodes.map((n) => n.entries().length) };
  for (const node of nodes) await node.stop();
  return result;
}
