// `npm run bench:replay`: how fast raftkit/viz's TraceReplay seeks across a long trace. Builds a
// 60 s run of a 5-node cluster under load (a proposal every 10 ms, batched on the leader) with
// faults (a crash and restart every 6 s, a partition, a pause, a one-way cut, loss and
// duplication), then, for a few checkpoint spacings, times the replay's construction and its
// seeks: random positions, and a slider dragged across the whole run forward and backward.
// Prints per-seek mean and p99 in µs (BENCH_SPACINGS, BENCH_SEEKS and BENCH_SEED change what is
// measured). Reads the build (dist/esm); run with --expose-gc for the heap column. Not part of `npm test`:
// timings depend on the machine.
import { Cluster } from '../dist/esm/index.js';
import { TraceReplay } from '../dist/esm/viz/index.js';

const SEED = Number(process.env.BENCH_SEED ?? 1);
const RUN_MS = 60_000;
const SEEKS = Number(process.env.BENCH_SEEKS ?? 2_000);
const SPACINGS = (process.env.BENCH_SPACINGS ?? '64,256,1024').split(',').map(Number);

/** A seeded pseudo-random sequence (the bench's own positions; the run has its seed). */
function lcg(seed) {
  let x = seed >>> 0;
  return () => ((x = (Math.imul(x, 1_664_525) + 1_013_904_223) >>> 0) / 2 ** 32);
}

async function longRun() {
  const cluster = new Cluster({
    size: 5,
    seed: SEED,
    network: { latencyMs: [1, 10], dropRate: 0.02, duplicateRate: 0.02 },
    stateMachine: () => {
      let n = 0;
      return { apply: (by) => (n += by), snapshot: () => String(n), restore: (s) => void (n = Number(s)) };
    },
    nodeOptions: () => ({ snapshotThreshold: 500 }),
    traceLimit: 50_000_000,
  });
  // Load: a command every 10 ms to whoever leads (refusals while there is none are traced too).
  const load = () => {
    const leader = cluster.leader();
    if (leader !== undefined) cluster.node(leader).propose(1).catch(() => undefined);
    if (cluster.now < RUN_MS) cluster.schedule(10, load);
  };
  cluster.schedule(10, load);
  const ids = cluster.ids;
  for (let t = 3_000; t < RUN_MS; t += 6_000) {
    const victim = ids[(t / 6_000) % ids.length | 0];
    cluster.schedule(t, () => cluster.crash(victim));
    cluster.schedule(t + 1_000, () => cluster.restart(victim));
  }
  cluster.schedule(20_000, () => cluster.partition(['1', '2'], ['3', '4', '5']));
  cluster.schedule(23_000, () => cluster.heal());
  cluster.schedule(35_000, () => cluster.pause('2'));
  cluster.schedule(35_800, () => cluster.resume('2'));
  cluster.schedule(45_000, () => cluster.network.cut('3', '4'));
  cluster.schedule(48_000, () => cluster.network.restore('3', '4'));
  // Let proposal callbacks run between slices of virtual time.
  for (let t = 0; t < RUN_MS; t += 100) {
    await cluster.run(100);
    await Promise.resolve();
  }
  return cluster.traceDocument();
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const p99 = (xs) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * 0.99))];
const us = (ms) => (ms * 1000).toFixed(1).padStart(8);

/** Times `seek(position)` over `positions`; returns per-seek times in ms. */
function time(replay, positions) {
  const times = new Array(positions.length);
  let sink = 0;
  for (let i = 0; i < positions.length; i++) {
    const start = performance.now();
    sink += replay.stateAt(positions[i]).nodes.length;
    times[i] = performance.now() - start;
  }
  if (sink === 0) throw new Error('no nodes?');
  return times;
}

const started = performance.now();
const document = await longRun();
const events = document.events.length;
const last = new TraceReplay(document).stateAt(events);
console.log(
  `a ${RUN_MS / 1000} s run of 5 nodes, seed ${SEED}: ${events.toLocaleString('en')} events, ` +
    `${document.events.filter((e) => e.kind === 'send').length.toLocaleString('en')} messages, ` +
    `longest log ${Math.max(...last.nodes.map((n) => n.lastIndex)).toLocaleString('en')} entries (simulated in ${((performance.now() - started) / 1000).toFixed(1)} s)`,
);
// Warm up the JIT on a throwaway replay, so the first row is not the one that pays for it.
const warm = new TraceReplay(document);
time(warm, Array.from({ length: 2_000 }, (_, i) => (i * 7919) % events));
console.log('');
console.log('checkpoint every | build (ms) | heap (MB) | random seek µs mean / p99 | sweep forward µs mean / p99 | sweep backward µs mean / p99');
for (const every of SPACINGS) {
  const buildStart = performance.now();
  let replay = new TraceReplay(document, { checkpointEvery: every });
  const buildMs = performance.now() - buildStart;
  const random = lcg(every);
  const randomTimes = time(replay, Array.from({ length: SEEKS }, () => Math.floor(random() * events)));
  // A slider dragged across the run: one step per pixel of a 1,000-pixel track.
  const steps = Array.from({ length: 1_000 }, (_, i) => Math.round((i / 999) * events));
  const forward = time(replay, steps);
  const backward = time(replay, [...steps].reverse());
  // What the replay holds (its checkpoints, refilled by the seeks): the heap with it and without it.
  globalThis.gc?.();
  const heapWith = process.memoryUsage().heapUsed;
  replay = null;
  globalThis.gc?.();
  const heapMb = (heapWith - process.memoryUsage().heapUsed) / 2 ** 20;
  console.log(
    `${String(every).padStart(16)} | ${buildMs.toFixed(0).padStart(10)} | ${heapMb.toFixed(1).padStart(9)} | ` +
      `${us(mean(randomTimes))} / ${us(p99(randomTimes))}     | ${us(mean(forward))} / ${us(p99(forward))}       | ${us(mean(backward))} / ${us(p99(backward))}`,
  );
}
