// `npm run bench`: builds, then measures raftkit (and peers, when installed) and prints one table.
// Writes bench/results/latest.json. Not part of `npm test`: timings depend on the machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { startRaftkit, simulatorSpeed, memoryAfter } from './raftkit.mjs';
import { diskProbe, startDurable, recoveryTime, durableMemoryAfter } from './durable.mjs';
import { bundleSizes } from '../scripts/bundle-size.mjs';

const TRIALS = Number(process.env.BENCH_TRIALS ?? 3);
/** Untimed runs before the trials of each row, so every system is measured with its code optimised. */
const WARMUPS = Number(process.env.BENCH_WARMUPS ?? 1);
const DURATION_MS = Number(process.env.BENCH_DURATION_MS ?? 2000);
const PAYLOAD = 'x'.repeat(100);
const log = (line) => process.stderr.write(`${line}\n`);

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

/** Keeps `concurrency` proposals outstanding for DURATION_MS; then checks every one applied on all nodes. */
async function throughput(system, concurrency) {
  const cluster = await system.start();
  // Preallocated, so recording a latency allocates nothing (the client must not dominate the profile).
  let latencies = new Float64Array(1 << 20);
  let completed = 0;
  let issued = 0;
  let failed = 0;
  const deadline = performance.now() + DURATION_MS;
  const start = performance.now();
  async function client() {
    for (;;) {
      const t0 = performance.now();
      if (t0 >= deadline) return;
      issued++;
      try {
        await cluster.propose(PAYLOAD);
      } catch {
        failed++; // lost or rejected: counted, never as a commit
        continue;
      }
      if (completed === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[completed++] = performance.now() - t0;
    }
  }
  await Promise.all(Array.from({ length: concurrency }, client));
  const elapsed = performance.now() - start;
  // Every proposal must be applied on every node: count it, do not assume it.
  const settleBy = performance.now() + 5_000;
  while (!cluster.appliedEverywhere(completed) && performance.now() < settleBy) await new Promise((r) => setTimeout(r, 5));
  const everywhere = cluster.appliedEverywhere(completed);
  await cluster.stop();
  const sorted = latencies.subarray(0, completed).sort();
  return {
    perSecond: (completed / elapsed) * 1000,
    p50: percentile(sorted, 50),
    p99: percentile(sorted, 99),
    completed,
    issued,
    failed,
    appliedEverywhere: everywhere,
  };
}

async function trials(label, fn) {
  for (let i = 0; i < WARMUPS; i++) {
    log(`  ${label}: warm-up ${i + 1}/${WARMUPS}`);
    await fn();
  }
  const results = [];
  for (let i = 0; i < TRIALS; i++) {
    log(`  ${label}: trial ${i + 1}/${TRIALS}`);
    results.push(await fn());
  }
  return results;
}

const systems = [{ name: 'raftkit', start: startRaftkit }];
try {
  const { startLiferaft } = await import('./liferaft.mjs');
  systems.push({ name: 'liferaft', start: startLiferaft });
} catch (error) {
  log(`liferaft not benchmarked: ${error.message}`);
}

const results = { machine: { node: process.version, cpus: (await import('node:os')).cpus().length }, rows: [] };
const row = (name, system, unit, values, extra = {}) => {
  results.rows.push({ name, system, unit, median: median(values), min: Math.min(...values), max: Math.max(...values), ...extra });
};

for (const concurrency of [1, 16, 64, 256, 1024]) {
  for (const system of systems) {
    log(`throughput ${system.name}, ${concurrency} outstanding`);
    const runs = await trials(system.name, () => throughput(system, concurrency));
    row(`commits/s, ${concurrency === 1 ? '1 sequential client' : `${concurrency} concurrent`}`, system.name, '/s', runs.map((r) => r.perSecond), {
      p50: median(runs.map((r) => r.p50)),
      p99: median(runs.map((r) => r.p99)),
      allApplied: runs.every((r) => r.appliedEverywhere),
      lost: median(runs.map((r) => r.failed)),
    });
  }
}

// Durable: each node on its own FileStorage directory, all on this machine's one disk.
log('disk: sequential 4 KiB write + fdatasync');
const probes = await trials('disk', () => diskProbe(1000));
row('disk limit: 4 KiB write + fdatasync, sequential', 'disk', '/s', probes.map((r) => r.perSecond), { p50: median(probes.map((r) => r.meanMs)) });
const durable = { name: 'raftkit', start: startDurable };
for (const concurrency of [1, 16, 256]) {
  log(`durable throughput, ${concurrency} outstanding`);
  const runs = await trials('durable', () => throughput(durable, concurrency));
  row(`durable commits/s (FileStorage), ${concurrency === 1 ? '1 sequential client' : `${concurrency} concurrent`}`, 'raftkit', '/s', runs.map((r) => r.perSecond), {
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    allApplied: runs.every((r) => r.appliedEverywhere),
    lost: median(runs.map((r) => r.failed)),
  });
}
const recoveryBytes = Number(process.env.BENCH_RECOVERY_BYTES ?? 2 ** 30);
log(`recovery of a ${(recoveryBytes / 2 ** 30).toFixed(2)} GiB log`);
const recovered = await recoveryTime(recoveryBytes);
log(`  ${recovered.entries.toLocaleString('en-US')} entries of 1 KiB, ${(recovered.bytes / 2 ** 20).toFixed(0)} MiB: open + load in ${recovered.ms.toFixed(0)} ms`);
row(`recovery ms: open + load of a ${(recovered.bytes / 2 ** 30).toFixed(2)} GiB log (${recovered.entries.toLocaleString('en-US')} entries of 1 KiB)`, 'raftkit', 'ms', [recovered.ms]);

// Each trial runs the simulation with the trace off, then on (the default 10,000 events): the cost
// of the trace is the median of the pairs' slowdowns, so a noisy moment hits both runs of a pair.
const SIM_TRIALS = Math.max(TRIALS, 7);
for (const [what, options] of [
  ['5 nodes idle (600 virtual s)', { virtualMs: 600_000, proposalsPerSecond: 0, dropRate: 0 }],
  ['1000 proposals/s, 1% loss', { virtualMs: 60_000, proposalsPerSecond: 1000, dropRate: 0.01 }],
]) {
  log(`simulator speed, ${what}`);
  const off = [];
  const on = [];
  for (let i = 0; i < SIM_TRIALS; i++) {
    log(`  trial ${i + 1}/${SIM_TRIALS}`);
    off.push((await simulatorSpeed({ ...options, traceLimit: 0 })).speedup);
    on.push((await simulatorSpeed({ ...options, traceLimit: 10_000 })).speedup);
  }
  row(`simulator ×real time, ${what}`, 'raftkit', '×', off);
  row(`simulator ×real time, ${what}, traced (10,000 events kept)`, 'raftkit', '×', on);
  row(`simulator: the trace's cost, ${what}`, 'raftkit', '%', on.map((v, i) => (1 - v / off[i]) * 100));
}

log('memory');
const memoryProposals = Number(process.env.BENCH_MEMORY_PROPOSALS ?? 1_000_000);
for (const compaction of [false, true]) {
  const mem = await memoryAfter(memoryProposals, { compaction });
  const what = compaction ? 'snapshot and compaction every 10,000' : 'no compaction';
  if (!mem.applied.every((n) => n === memoryProposals)) throw new Error(`memory run: applied ${mem.applied.join('/')}`);
  log(`  ${what}: heap ${(mem.heapBefore / 2 ** 20).toFixed(1)} MB before, ${(mem.heapUsed / 2 ** 20).toFixed(1)} MB after; log lengths ${mem.logLength.join('/')}`);
  row(`heap MB after ${(memoryProposals / 1e6).toFixed(1)}M proposals of 100 B (3 nodes, ${what})`, 'raftkit', 'MB', [mem.heapUsed / 2 ** 20]);
}

const durableProposals = Number(process.env.BENCH_DURABLE_PROPOSALS ?? 1_000_000);
log(`memory: ${durableProposals.toLocaleString('en-US')} durable proposals`);
const durableMem = await durableMemoryAfter(durableProposals);
log(`  heap ${(durableMem.heapBefore / 2 ** 20).toFixed(1)} MB before, ${(durableMem.heapUsed / 2 ** 20).toFixed(1)} MB after (${durableMem.seconds.toFixed(1)} s)`);
row(`heap MB after ${(durableProposals / 1e6).toFixed(1)}M durable proposals of 100 B (3 nodes on FileStorage, snapshot every 10,000)`, 'raftkit', 'MB', [durableMem.heapUsed / 2 ** 20]);

for (const size of await bundleSizes()) row(`bundle min+gzip: ${size.label}`, 'raftkit', 'B', [size.gzip]);

// The table.
const fmt = (v) => (v >= 100 ? Math.round(v).toLocaleString('en-US') : v.toFixed(2));
const lines = [
  '| measurement | system | median | min–max | p50 ms | p99 ms | applied on all 3 | lost |',
  '| --- | --- | ---: | ---: | ---: | ---: | :---: | ---: |',
];
for (const r of results.rows) {
  lines.push(
    `| ${r.name} | ${r.system} | ${fmt(r.median)} ${r.unit} | ${fmt(r.min)}–${fmt(r.max)} | ${r.p50 === undefined ? '' : r.p50.toFixed(3)} | ${r.p99 === undefined ? '' : r.p99.toFixed(3)} | ${r.allApplied === undefined ? '' : r.allApplied ? 'yes' : 'NO'} | ${r.lost ?? ''} |`,
  );
}
const ratios = [];
for (const r of results.rows.filter((x) => x.system === 'raftkit' && x.unit === '/s')) {
  const peer = results.rows.find((x) => x.system === 'liferaft' && x.name === r.name);
  if (peer) ratios.push(`| ${r.name} | ${(r.median / peer.median).toFixed(1)}× |`);
}
if (ratios.length > 0) lines.push('', '| raftkit / liferaft | ratio |', '| --- | ---: |', ...ratios);
console.log(lines.join('\n'));
mkdirSync(new URL('./results/', import.meta.url), { recursive: true });
writeFileSync(new URL('./results/latest.json', import.meta.url), JSON.stringify(results, null, 2));
process.exit(0);
