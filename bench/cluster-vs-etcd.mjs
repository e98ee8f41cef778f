#!/usr/bin/env node
// `npm run bench:cluster`: raftkit and etcd side by side, 3 processes each on 127.0.0.1, fsync on, same client
// (bench/load.mjs), one run. For raftkit: 3 `node dist/cli.js serve` processes (default --sync always) on free
// loopback ports with fresh data dirs under /tmp; puts at concurrency 1, 64 and 256, linearizable gets at 64;
// failover trials (kill -9 of the leader) with the default election timeout and with --election-timeout
// 1000-2000 (etcd's 1 s); RSS of each server under put load with compaction. Then the same load and failover for a
// 3-member etcd 3.4 cluster (defaults, as ../shared/etcd-bench/run.sh starts it). Prints markdown tables.
//
// Every process this script starts is remembered by PID and stopped by PID (SIGTERM, SIGKILL after 5 s), on
// success, on error and on Ctrl-C. Nothing is ever killed by name. Needs `npm run build` first (the npm script does it).
//
// Env knobs (defaults in brackets):
//   DUR [5] measured seconds per repetition; WARM [1] warm-up seconds; REPS [3] repetitions per workload;
//   TRIALS [3] failover trials per setting; FO_TIMEOUT_MS [100] client timeout during failover;
//   MEMORY_MINUTES [1] minutes of put load (c=64) while sampling RSS (0: skip); MEMORY_SAMPLE_S [5];
//   MEMORY_CONCURRENCY [64]; SYSTEMS [raftkit,etcd]; FAILOVER [1] (0: skip failover); LOADS [1] (0: skip the
//   throughput suites, e.g. for a failover-only run with TRIALS=9, or a memory-only run with MEMORY_MINUTES=10);
//   QUIET_BUSY [0.15] machine busy fraction that counts as quiet; QUIET_WAIT_S [20] longest wait per measurement;
//   QUIET_BUDGET_S [120] total waiting allowed in one run; OTHER_MAX [10] / UNATTR_MAX [30] contamination limits
//   (% of one core); RETRIES [1] extra attempts of a contaminated repetition (while the budget lasts);
//   BASE [/tmp/raftkit-vs-etcd] scratch and results directory (must be under /tmp);
//   PROFILE [0] 1: only raftkit, servers started with `node --cpu-prof`, puts at PROFILE_CONCURRENCY [64] for DUR
//   seconds, then the leader's hottest functions and files are printed.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { systems, load, failover, waitHealthy, findLeader, rssKb, procTicks, machineCpu, busyFrac, waitQuiet, r2 } from './load.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const env = (k, d) => (process.env[k] !== undefined && process.env[k] !== '' ? Number(process.env[k]) : d);
const DUR = env('DUR', 5);
const WARM = env('WARM', 1);
const REPS = env('REPS', 3);
const TRIALS = env('TRIALS', 3);
const FO_TIMEOUT_MS = env('FO_TIMEOUT_MS', 100);
const MEMORY_MINUTES = env('MEMORY_MINUTES', 1);
const MEMORY_SAMPLE_S = env('MEMORY_SAMPLE_S', 5);
const MEMORY_CONCURRENCY = env('MEMORY_CONCURRENCY', 64);
const FAILOVER = env('FAILOVER', 1);
const LOADS = env('LOADS', 1);
const QUIET_BUSY = env('QUIET_BUSY', 0.15);
const QUIET_WAIT_S = env('QUIET_WAIT_S', 20);
let quietBudgetS = env('QUIET_BUDGET_S', 120);
const OTHER_MAX = env('OTHER_MAX', 10);
const UNATTR_MAX = env('UNATTR_MAX', 30);
const RETRIES = env('RETRIES', 1);
const PROFILE = env('PROFILE', 0);
const PROFILE_CONCURRENCY = env('PROFILE_CONCURRENCY', 64);
const SYSTEMS = (process.env.SYSTEMS || (PROFILE ? 'raftkit' : 'raftkit,etcd')).split(',').filter(Boolean);
const BASE = process.env.BASE || '/tmp/raftkit-vs-etcd';
if (!path.resolve(BASE).startsWith('/tmp/')) throw new Error('BASE must be under /tmp');

const RUN_ID = new Date().toISOString().replace(/[-:]/g, '').replace(/\.\d+Z$/, 'Z');
const OUT = path.join(BASE, 'results', RUN_ID);
const LOGS = path.join(OUT, 'logs');
const DATA = path.join(BASE, 'data', RUN_ID);
fs.mkdirSync(LOGS, { recursive: true });
fs.mkdirSync(DATA, { recursive: true });
const RESULTS = path.join(OUT, 'results.jsonl');
const DISCARDED = path.join(OUT, 'discarded.jsonl');
fs.writeFileSync(RESULTS, '');
fs.writeFileSync(DISCARDED, '');
const t0Run = Date.now();
const progress = (line) => process.stderr.write(`[${((Date.now() - t0Run) / 1000).toFixed(0).padStart(4)} s] ${line}\n`);
const record = (obj) => fs.appendFileSync(RESULTS, `${JSON.stringify(obj)}\n`);

// ---------- processes: every one started here, by PID ----------

/** pid → { name, child, exited: Promise } for every process this script started and has not seen exit. */
const running = new Map();

function startProcess(name, cmd, argv, logFile) {
  const fd = fs.openSync(logFile, 'a');
  const child = spawn(cmd, argv, { stdio: ['ignore', fd, fd], cwd: ROOT });
  fs.closeSync(fd);
  if (child.pid === undefined) throw new Error(`could not start ${name} (${cmd})`);
  const exited = new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const entry = { name, pid: child.pid, child, exited };
  running.set(child.pid, entry);
  exited.then(() => running.delete(child.pid));
  child.once('error', (e) => progress(`${name}: ${e.message}`));
  return entry;
}

/** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. */
async function stopProcess(entry) {
  if (!running.has(entry.pid)) return;
  try {
    process.kill(entry.pid, 'SIGTERM');
  } catch {}
  const done = await Promise.race([entry.exited.then(() => true), sleep(5000).then(() => false)]);
  if (!done) {
    try {
      process.kill(entry.pid, 'SIGKILL');
    } catch {}
    await entry.exited;
  }
}
const stopAll = () => Promise.all([...running.values()].map(stopProcess));

// Last resort (synchronous): whatever is still running when this process exits gets SIGKILL, by PID.
process.on('exit', () => {
  for (const pid of running.keys()) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {}
  }
});
let stopping = false;
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    progress(`${signal}: stopping ${running.size} process(es) by PID`);
    stopAll().finally(() => process.exit(130));
  });
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}
async function freePorts(n) {
  const ports = new Set();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

// ---------- contamination control ----------

async function quietWait() {
  if (quietBudgetS <= 0) return { quiet: false, waitedS: 0, skipped: true };
  const q = await waitQuiet(QUIET_BUSY, Math.min(QUIET_WAIT_S, quietBudgetS));
  quietBudgetS -= q.waitedS;
  if (!q.quiet) progress(`  machine not quiet after ${q.waitedS} s (busy ${Math.round(q.busyBefore * 100)} % of all cores); measuring anyway`);
  return q;
}
const contaminated = (r) => r.otherCpuPct > OTHER_MAX || r.unattributedCpuPct > UNATTR_MAX;

/** Runs fn (one measurement) after a quiet wait; redoes a contaminated attempt up to RETRIES times while the budget lasts. */
async function measured(fn) {
  for (let attempt = 0; ; attempt++) {
    const q = await quietWait();
    const r = await fn();
    r.quietWaitS = q.waitedS;
    r.quietBefore = q.quiet;
    if (!contaminated(r)) return r;
    const why = `other ${r.otherCpuPct}% ${r.otherTop.join(' ')}; unattributed ${r.unattributedCpuPct}%`;
    if (attempt >= RETRIES || quietBudgetS <= 0) {
      progress(`  contaminated (${why}); kept, flagged`);
      r.contaminated = true;
      return r;
    }
    progress(`  contaminated (${why}); redoing`);
    fs.appendFileSync(DISCARDED, `${JSON.stringify(r)}\n`);
  }
}

async function idleCpu(label, pids, secs = 3) {
  const a = procTicks(pids);
  const m = machineCpu();
  await sleep(secs * 1000);
  const r = { kind: 'idle', label, serverCpuPct: r2(((procTicks(pids) - a) / 100 / secs) * 100), machineBusyPct: r2(busyFrac(m, machineCpu()) * 100 * os.cpus().length) };
  record(r);
  progress(`  idle: servers ${r.serverCpuPct} % of a core, whole machine ${r.machineBusyPct} % (of ${os.cpus().length * 100} %)`);
  return r;
}

// ---------- clusters ----------

async function raftkitCluster(label, extraArgs = [], { nodeFlags = [] } = {}) {
  const cli = path.join(ROOT, 'dist', 'cli.js');
  if (!fs.existsSync(cli)) throw new Error('dist/cli.js is missing: run `npm run build` (npm run bench:cluster does)');
  const ports = await freePorts(6);
  const ids = ['1', '2', '3'];
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
  const dir = path.join(DATA, `raftkit-${label}`);
  const members = ids.map((id, i) => ({ name: id, url: `http://127.0.0.1:${ports[3 + i]}`, data: path.join(dir, id), log: path.join(LOGS, `raftkit-${label}-${id}.log`) }));
  const start = (m) => {
    const argv = [...nodeFlags, cli, 'serve', '--id', m.name, '--peers', peers, '--data', m.data, '--http', m.url.replace('http://', ''), ...extraArgs];
    const e = startProcess(`raftkit ${label} node ${m.name}`, process.execPath, argv, m.log);
    m.pid = e.pid;
    m.entry = e;
    return e;
  };
  members.forEach(start);
  progress(`raftkit (${label}): started 3 servers, pids ${members.map((m) => m.pid).join(', ')}; args ${extraArgs.join(' ') || '(defaults: --sync always, --election-timeout 300-600)'}`);
  const eps = members.map((m) => m.url);
  await waitHealthy(systems.raftkit, eps, 60);
  return { system: systems.raftkit, members, eps, start, dir, stop: () => Promise.all(members.map((m) => stopProcess(m.entry))) };
}

function ensureEtcd() {
  const which = (c) => {
    try {
      return execFileSync('sh', ['-c', `command -v ${c}`], { encoding: 'utf8' }).trim();
    } catch {
      return '';
    }
  };
  let etcd = which('etcd');
  if (!etcd) {
    progress('etcd not found: apt-get install -y etcd-server etcd-client');
    try {
      execFileSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], { stdio: ['ignore', 'inherit', 'inherit'] });
    } catch {
      execFileSync('apt-get', ['update'], { stdio: ['ignore', 'inherit', 'inherit'] });
      execFileSync('apt-get', ['install', '-y', 'etcd-server', 'etcd-client'], { stdio: ['ignore', 'inherit', 'inherit'] });
    }
    etcd = which('etcd');
    if (!etcd) throw new Error('etcd still not found after apt-get install');
  }
  return etcd;
}

async function etcdCluster(label, extraArgs = []) {
  const etcd = ensureEtcd();
  const ports = await freePorts(6);
  const names = ['m1', 'm2', 'm3'];
  const dir = path.join(DATA, `etcd-${label}`);
  const cluster = names.map((n, i) => `${n}=http://127.0.0.1:${ports[3 + i]}`).join(',');
  const token = `raftkit-vs-etcd-${RUN_ID}-${label}`;
  const members = names.map((n, i) => ({ name: n, url: `http://127.0.0.1:${ports[i]}`, peer: `http://127.0.0.1:${ports[3 + i]}`, data: path.join(dir, n), log: path.join(LOGS, `etcd-${label}-${n}.log`) }));
  const start = (m) => {
    // etcd's defaults apart from addresses, names and the logger (as ../shared/etcd-bench/run.sh)
    const argv = ['--name', m.name, '--data-dir', m.data, '--listen-client-urls', m.url, '--advertise-client-urls', m.url, '--listen-peer-urls', m.peer, '--initial-advertise-peer-urls', m.peer, '--initial-cluster', cluster, '--initial-cluster-token', token, '--initial-cluster-state', 'new', '--logger', 'zap', '--log-outputs', 'stderr', ...extraArgs];
    const e = startProcess(`etcd ${label} ${m.name}`, etcd, argv, m.log);
    m.pid = e.pid;
    m.entry = e;
    return e;
  };
  members.forEach(start);
  progress(`etcd (${label}): started 3 members, pids ${members.map((m) => m.pid).join(', ')}; ${execFileSync(etcd, ['--version'], { encoding: 'utf8' }).split('\n')[0]}`);
  const eps = members.map((m) => m.url);
  await waitHealthy(systems.etcd, eps, 60);
  return { system: systems.etcd, members, eps, start, dir, stop: () => Promise.all(members.map((m) => stopProcess(m.entry))) };
}

// ---------- suites ----------

const WORKLOADS = [
  ['put', 1],
  ['put', 64],
  ['put', 256],
  ['get', 64],
];

/**
 * Every workload, REPS times, on each cluster given. With two clusters the repetitions alternate
 * (raftkit, etcd, raftkit, ...), both clusters running throughout (idle, each uses a few % of a
 * core): the disk's fsync time drifts by 2x over minutes here, and alternating puts both systems
 * on the same stretch of it.
 */
async function loadSuite(...clusters) {
  for (const [op, conc] of WORKLOADS) {
    for (let rep = 1; rep <= REPS; rep++) {
      for (const c of clusters) {
        progress(`${c.system.name}: ${op} c=${conc} rep ${rep}/${REPS} (${WARM}+${DUR} s)`);
        const pids = c.members.map((m) => m.pid);
        const r = await measured(async () => (await waitHealthy(c.system, c.eps, 60), load({ system: c.system, endpoints: c.eps, op, concurrency: conc, durationS: DUR, warmupS: WARM, pids, label: `rep ${rep}` })));
        record(r);
        if (r.leaderChanged) progress('  the leader changed during this repetition');
        progress(`  ${r.opsPerSec} ops/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms, errors ${r.errors}, servers ${r.serverCpuPct} % CPU, client ${r.clientCpuPct} %${r.opsPerLeaderFsync ? `, ${r.opsPerLeaderFsync} puts per leader fsync` : ''}`);
      }
    }
  }
}

async function failoverSuite(c, setting) {
  for (let t = 1; t <= TRIALS; t++) {
    await waitHealthy(c.system, c.eps, 60);
    await sleep(1000);
    progress(`${c.system.name} (${setting}): failover trial ${t}/${TRIALS}`);
    const r = await measured(() => failover({ system: c.system, members: c.members, timeoutMs: FO_TIMEOUT_MS, label: `trial ${t}` }));
    r.setting = setting;
    record(r);
    progress(`  killed ${r.killed} (pid ${r.killedPid}); new leader ${r.newLeader ?? '?'}; kill → first put ${r.unavailMs ?? 'never'} ms; kill → "leader" log ${r.electionMsFromLogs ?? '?'} ms`);
    const victim = c.members.find((m) => m.name === r.killed);
    await victim.entry.exited; // reap the SIGKILLed process
    c.start(victim); // same data dir: it recovers from its log
  }
  await waitHealthy(c.system, c.eps, 60);
}

async function memorySuite(c) {
  const secs = MEMORY_MINUTES * 60;
  progress(`raftkit: memory, ${MEMORY_MINUTES} min of puts at c=${MEMORY_CONCURRENCY}, RSS every ${MEMORY_SAMPLE_S} s`);
  const pids = c.members.map((m) => m.pid);
  const samples = [];
  let stop = false;
  const sampler = (async () => {
    const t0 = Date.now();
    while (!stop) {
      samples.push({ t: Math.round((Date.now() - t0) / 1000), rss: pids.map(rssKb) });
      if (samples.length % Math.max(1, Math.round(60 / MEMORY_SAMPLE_S)) === 0) progress(`  ${samples.at(-1).t} s: RSS ${samples.at(-1).rss.map((k) => `${(k / 1024).toFixed(0)} MB`).join(' / ')}`);
      await sleep(MEMORY_SAMPLE_S * 1000);
    }
  })();
  const before = await findLeader(c.system, c.eps);
  const r = await load({ system: c.system, endpoints: c.eps, op: 'put', concurrency: MEMORY_CONCURRENCY, durationS: secs, warmupS: 0, pids, label: 'memory', maxOps: Infinity });
  stop = true;
  await sampler;
  samples.push({ t: Math.round(secs), rss: pids.map(rssKb) });
  const after = await findLeader(c.system, c.eps);
  const perServer = c.members.map((m, i) => {
    const xs = samples.map((s) => s.rss[i]).filter(Number.isFinite);
    return { name: m.name, pid: m.pid, wasLeader: before.leader?.ep === m.url, firstMB: r2(xs[0] / 1024), lastMB: r2(xs.at(-1) / 1024), maxMB: r2(Math.max(...xs) / 1024), dataMB: r2(duKb(m.data) / 1024) };
  });
  const res = { kind: 'memory', system: c.system.name, minutes: MEMORY_MINUTES, concurrency: MEMORY_CONCURRENCY, sampleS: MEMORY_SAMPLE_S, puts: r.ops, opsPerSec: r.opsPerSec, errors: r.errors, snapshotIndexBefore: before.leader?.snapshot ?? null, snapshotIndexAfter: after.leader?.snapshot ?? null, commitAfter: after.leader?.index ?? null, perServer, samples };
  record(res);
  for (const s of perServer) progress(`  node ${s.name}${s.wasLeader ? ' (leader)' : ''}: RSS first ${s.firstMB} MB, last ${s.lastMB} MB, max ${s.maxMB} MB; data dir ${s.dataMB} MB`);
  return res;
}

function duKb(dir) {
  try {
    return Number(execFileSync('du', ['-sk', dir], { encoding: 'utf8' }).split('\t')[0]);
  } catch {
    return NaN;
  }
}

// ---------- profile mode ----------

async function profileRun() {
  const profDir = path.join(OUT, 'cpuprof');
  fs.mkdirSync(profDir, { recursive: true });
  const c = await raftkitCluster('profile', [], { nodeFlags: ['--cpu-prof', `--cpu-prof-dir=${profDir}`] });
  const { leader } = await findLeader(c.system, c.eps);
  const leaderMember = c.members.find((m) => m.url === leader.ep);
  progress(`profile: leader is node ${leaderMember.name} (pid ${leaderMember.pid}); puts at c=${PROFILE_CONCURRENCY} for ${DUR} s`);
  const r = await load({ system: c.system, endpoints: c.eps, op: process.env.PROFILE_OP || 'put', concurrency: PROFILE_CONCURRENCY, durationS: DUR, warmupS: WARM, pids: c.members.map((m) => m.pid) });
  progress(`  ${r.opsPerSec} ops/s, p50 ${r.p50ms} ms, p99 ${r.p99ms} ms; servers ${r.serverCpuPct} % CPU; ${r.opsPerLeaderFsync} puts per leader fsync`);
  await c.stop(); // SIGTERM: a clean exit, so node writes the profiles
  const file = fs.readdirSync(profDir).find((f) => f.includes(`.${leaderMember.pid}.`));
  if (!file) throw new Error(`no profile for pid ${leaderMember.pid} in ${profDir}`);
  console.log(`leader profile: ${path.join(profDir, file)}\n`);
  console.log(summarizeProfile(JSON.parse(fs.readFileSync(path.join(profDir, file), 'utf8'))));
  const follower = c.members.find((m) => m !== leaderMember);
  const ffile = fs.readdirSync(profDir).find((f) => f.includes(`.${follower.pid}.`));
  if (ffile) {
    console.log(`\nfollower (node ${follower.name}) profile: ${path.join(profDir, ffile)}\n`);
    console.log(summarizeProfile(JSON.parse(fs.readFileSync(path.join(profDir, ffile), 'utf8')), 15));
  }
}

/** Self time by function and by file of a .cpuprofile. */
function summarizeProfile(prof, top = 30) {
  const byId = new Map(prof.nodes.map((n) => [n.id, n]));
  const self = new Map();
  prof.samples.forEach((id, i) => self.set(id, (self.get(id) ?? 0) + (prof.timeDeltas[i] ?? 0)));
  const total = [...self.values()].reduce((a, b) => a + b, 0);
  const fn = new Map();
  const file = new Map();
  for (const [id, us] of self) {
    const cf = byId.get(id).callFrame;
    const f = cf.url ? cf.url.replace(/^file:\/\//, '').replace(ROOT + '/', '') : `(${cf.functionName || 'native'})`;
    const k = `${cf.functionName || '(anonymous)'}  ${f}:${cf.lineNumber + 1}`;
    fn.set(k, (fn.get(k) ?? 0) + us);
    const fk = cf.url ? (f.startsWith('node:') ? f : f.replace(/^.*node_modules\//, 'node_modules/')) : f;
    file.set(fk, (file.get(fk) ?? 0) + us);
  }
  const rows = (m) => [...m].sort((a, b) => b[1] - a[1]).slice(0, top).map(([k, us]) => `| ${(100 * us / total).toFixed(1)} % | ${k.replace(/\|/g, '\\|')} |`);
  return [`Total sampled: ${(total / 1e6).toFixed(1)} s`, '', '| self | function |', '|---:|---|', ...rows(fn), '', '| self | file |', '|---:|---|', ...rows(file)].join('\n');
}

// ---------- report ----------

function median(xs) {
  const s = xs.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  if (!s.length) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}
const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '–');

function report(lines, discardedFile = DISCARDED) {
  const out = [];
  const loads = lines.filter((l) => l.kind === 'load');
  const row = (sys, op, conc) => loads.filter((l) => l.system === sys && l.op === op && l.concurrency === conc);
  const goals = { 'put 1': 1, 'put 64': 2, 'put 256': 2 };
  const reps = [...new Set(loads.map((l) => row(l.system, l.op, l.concurrency).length))].join('/');
  const secs = [...new Set(loads.map((l) => Math.round(l.secs)))].join('/');
  if (loads.length) out.push(`Medians of ${reps} repetitions of ${secs} s each (after a warm-up); 3 processes on 127.0.0.1, fsync on; the client on the same 2 cores.`);
  out.push('');
  out.push('| workload | raftkit ops/s (min–max) | p50 / p99 ms | etcd ops/s (min–max) | p50 / p99 ms | raftkit ÷ etcd | goal | met |');
  out.push('|---|---:|---:|---:|---:|---:|---:|:---:|');
  for (const [op, conc] of WORKLOADS) {
    const a = row('raftkit', op, conc);
    const b = row('etcd', op, conc);
    const cell = (g) => (g.length ? `**${fmt(median(g.map((x) => x.opsPerSec)))}** (${fmt(Math.min(...g.map((x) => x.opsPerSec)))}–${fmt(Math.max(...g.map((x) => x.opsPerSec)))})` : '–');
    const lat = (g) => (g.length ? `${fmt(median(g.map((x) => x.p50ms)), 2)} / ${fmt(median(g.map((x) => x.p99ms)), 1)}` : '–');
    const ratio = median(a.map((x) => x.opsPerSec)) / median(b.map((x) => x.opsPerSec));
    const goal = goals[`${op} ${conc}`];
    out.push(`| ${op === 'get' ? 'linearizable get' : 'put'}, ${conc} client${conc > 1 ? 's' : ''} | ${cell(a)} | ${lat(a)} | ${cell(b)} | ${lat(b)} | ${fmt(ratio, 2)}× | ${goal ? `≥ ${goal}×` : '–'} | ${goal && Number.isFinite(ratio) ? (ratio >= goal ? 'yes' : '**no**') : '–'} |`);
  }
  out.push('');
  out.push('Side figures (medians): errors are summed over the repetitions; CPU in % of one core (the machine has 200 %).');
  out.push('');
  out.push('| workload | system | errors (reps with a leader change) | server CPU (3 procs) | client CPU | puts per leader fsync | leader fsync ms | other procs CPU (max) | unattributed CPU (max) | contaminated reps |');
  out.push('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [op, conc] of WORKLOADS) {
    for (const sys of ['raftkit', 'etcd']) {
      const g = row(sys, op, conc);
      if (!g.length) continue;
      out.push(`| ${op} c=${conc} | ${sys} | ${g.reduce((s, x) => s + x.errors, 0)} (${g.filter((x) => x.leaderChanged).length}) | ${fmt(median(g.map((x) => x.serverCpuPct)))} % | ${fmt(median(g.map((x) => x.clientCpuPct)))} % | ${op === 'put' ? fmt(median(g.map((x) => x.opsPerLeaderFsync)), 1) : '–'} | ${fmt(median(g.map((x) => x.leaderFsyncMeanMs)), 2)} | ${fmt(Math.max(...g.map((x) => x.otherCpuPct)))} % | ${fmt(Math.max(...g.map((x) => x.unattributedCpuPct)))} % | ${g.filter((x) => x.contaminated).length} |`);
    }
  }
  const fo = lines.filter((l) => l.kind === 'failover');
  if (fo.length) {
    out.push('');
    out.push(`Failover: c=1 puts, the leader's PID gets SIGKILL; client timeout ${FO_TIMEOUT_MS} ms, then the next endpoint (round-robin). "first put" = kill → first successful put issued after the kill (client); "log" = kill → the first "became leader" line of a survivor (server).`);
    out.push('');
    out.push('| system | setting | trials | kill → first put, median (min–max) ms | kill → leader (log), median ms | per trial (first put ms) |');
    out.push('|---|---|---:|---:|---:|---|');
    const settings = [...new Set(fo.map((x) => `${x.system}|${x.setting}`))];
    for (const k of settings) {
      const [sys, setting] = k.split('|');
      const g = fo.filter((x) => x.system === sys && x.setting === setting);
      const u = g.map((x) => x.unavailMs).filter((x) => x !== null);
      out.push(`| ${sys} | ${setting} | ${g.length} | **${fmt(median(u))}** (${fmt(Math.min(...u))}–${fmt(Math.max(...u))}) | ${fmt(median(g.map((x) => x.electionMsFromLogs)))} | ${g.map((x) => `${x.unavailMs ?? 'never'}${x.contaminated ? '*' : ''}`).join(', ')} |`);
    }
    const etcdMed = median(fo.filter((x) => x.system === 'etcd').map((x) => x.unavailMs));
    if (Number.isFinite(etcdMed)) {
      out.push('');
      for (const k of settings.filter((s) => s.startsWith('raftkit|'))) {
        const setting = k.split('|')[1];
        const m = median(fo.filter((x) => x.system === 'raftkit' && x.setting === setting).map((x) => x.unavailMs));
        out.push(`- raftkit (${setting}) median ${fmt(m)} ms vs etcd (defaults) ${fmt(etcdMed)} ms: ${m <= etcdMed ? 'at most etcd\'s median (met)' : '**above etcd\'s median (not met)**'}.`);
      }
    }
  }
  const mem = lines.filter((l) => l.kind === 'memory');
  for (const m of mem) {
    out.push('');
    out.push(`Memory (${m.system}): ${m.minutes} min of puts at c=${m.concurrency} over 10,000 keys (${fmt(m.puts)} puts, ${fmt(m.opsPerSec)}/s, ${m.errors} errors), RSS from /proc/<pid>/status every ${m.sampleS} s; leader's snapshot index ${m.snapshotIndexBefore} → ${m.snapshotIndexAfter} (commit ${m.commitAfter}).`);
    out.push('');
    out.push('| server | RSS first MB | RSS last MB | RSS max MB | data dir MB at the end |');
    out.push('|---|---:|---:|---:|---:|');
    for (const s of m.perServer) out.push(`| node ${s.name}${s.wasLeader ? ' (leader)' : ''} | ${fmt(s.firstMB)} | ${fmt(s.lastMB)} | ${fmt(s.maxMB)} | ${fmt(s.dataMB, 1)} |`);
  }
  const idle = lines.filter((l) => l.kind === 'idle');
  if (idle.length) {
    out.push('');
    out.push(`Idle checks (3 s, no load): ${idle.map((x) => `${x.label}: servers ${x.serverCpuPct} %, machine ${x.machineBusyPct} % busy`).join('; ')}.`);
  }
  const waited = loads.concat(fo).reduce((s, x) => s + (x.quietWaitS ?? 0), 0);
  const notQuiet = loads.concat(fo).filter((x) => x.quietBefore === false).length;
  const discarded = (discardedFile && fs.existsSync(discardedFile) ? fs.readFileSync(discardedFile, 'utf8') : '').split('\n').filter(Boolean).length;
  out.push('');
  out.push(`Contamination: waited ${waited} s in total for a quiet machine (≤ ${Math.round(QUIET_BUSY * 100)} % busy); ${notQuiet} measurement(s) started without one; ${discarded} attempt(s) discarded and redone (other processes > ${OTHER_MAX} % or unattributed > ${UNATTR_MAX} % of a core); ${loads.concat(fo).filter((x) => x.contaminated).length} kept flagged as contaminated.`);
  return out.join('\n');
}

// ---------- main ----------

function envText() {
  const lines = [`run ${RUN_ID}`, `node ${process.version}`, `${os.cpus().length} × ${os.cpus()[0]?.model ?? '?'}`, `kernel ${os.release()}`, `RAM ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`];
  try {
    lines.push(`fs of ${BASE}: ${execFileSync('df', ['-T', BASE], { encoding: 'utf8' }).trim().split('\n').at(-1)}`);
    const dd = execFileSync('sh', ['-c', `dd if=/dev/zero of=${BASE}/dd.test bs=4k count=1000 oflag=dsync 2>&1 | tail -1; rm -f ${BASE}/dd.test`], { encoding: 'utf8' }).trim();
    lines.push(`dd 4 KiB O_DSYNC writes (1000): ${dd}`);
  } catch {}
  lines.push(`settings: DUR=${DUR} WARM=${WARM} REPS=${REPS} TRIALS=${TRIALS} FO_TIMEOUT_MS=${FO_TIMEOUT_MS} MEMORY_MINUTES=${MEMORY_MINUTES} LOADS=${LOADS} FAILOVER=${FAILOVER} SYSTEMS=${SYSTEMS.join(',')}`);
  return lines.join('\n');
}

async function main() {
  const envInfo = envText();
  fs.writeFileSync(path.join(OUT, 'env.txt'), `${envInfo}\n`);
  progress(envInfo.replace(/\n/g, '\n       '));
  progress(`results and logs: ${OUT}`);
  await idleCpu('machine before start', []);
  if (PROFILE) return profileRun();
  if (SYSTEMS.includes('etcd')) ensureEtcd(); // install (if needed) before anything is measured

  // The loads: both systems at once, their repetitions alternating (see loadSuite).
  const both = SYSTEMS.includes('raftkit') && SYSTEMS.includes('etcd');
  let raftkit = SYSTEMS.includes('raftkit') ? await raftkitCluster('default') : null;
  const etcd = SYSTEMS.includes('etcd') ? await etcdCluster('default') : null;
  await sleep(1000);
  if (raftkit) await idleCpu('raftkit 3 servers', raftkit.members.map((m) => m.pid));
  if (etcd) await idleCpu('etcd 3 members', etcd.members.map((m) => m.pid));
  if (LOADS) await loadSuite(...[raftkit, etcd].filter(Boolean));
  if (both) progress('loads done; the failover trials run one system at a time');
  if (etcd) {
    if (FAILOVER) await failoverSuite(etcd, 'defaults (1000 ms, randomised to 1000-2000)');
    await etcd.stop();
    progress('etcd: stopped');
  }
  if (raftkit) {
    if (MEMORY_MINUTES > 0) await memorySuite(raftkit);
    if (FAILOVER) await failoverSuite(raftkit, 'default (300-600 ms)');
    await raftkit.stop();
    progress('raftkit (default): stopped');
    if (FAILOVER) {
      raftkit = await raftkitCluster('et1000', ['--election-timeout', '1000-2000']);
      await failoverSuite(raftkit, '--election-timeout 1000-2000');
      await raftkit.stop();
      progress('raftkit (et1000): stopped');
    }
  }
  const lines = fs.readFileSync(RESULTS, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l));
  const summary = report(lines);
  fs.writeFileSync(path.join(OUT, 'summary.md'), `${summary}\n\n${envInfo}\n`);
  console.log(summary);
  progress(`done in ${((Date.now() - t0Run) / 60000).toFixed(1)} min; results ${OUT}`);
}

if (process.argv[2] === 'report') {
  // node bench/cluster-vs-etcd.mjs report results.jsonl [more.jsonl ...]: the tables again, from raw results
  const files = process.argv.slice(3);
  const lines = files.flatMap((f) => fs.readFileSync(f, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l)));
  console.log(report(lines, null));
  fs.rmSync(OUT, { recursive: true, force: true });
  fs.rmSync(DATA, { recursive: true, force: true });
  process.exit(0);
}

try {
  await main();
} catch (error) {
  progress(`error: ${error?.stack ?? error}`);
  process.exitCode = 1;
} finally {
  await stopAll();
  fs.rmSync(DATA, { recursive: true, force: true });
  if (running.size) progress(`still running: ${[...running.keys()].join(', ')}`);
}
