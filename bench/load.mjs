#!/usr/bin/env node
// Closed-loop load generator for raftkit's HTTP API (`raftkit serve`) and etcd's v3 JSON gateway, so that both
// systems run under the same client. Node 20 built-ins only; every request goes to 127.0.0.1 (anything else is refused).
//
// The request helper, the etcd calls (POST /v3/kv/put and /v3/kv/range with base64 keys, /v3/maintenance/status),
// the /proc CPU accounting, the quiet-machine wait and the failover loop are adapted from the etcd baseline's load
// generator, ../shared/etcd-bench/bench.mjs (same model: N workers with one request outstanding each, a warm-up that
// is discarded, nearest-rank percentiles; failover: c=1 puts, SIGKILL of the leader's PID, 100 ms client timeout,
// round-robin over the endpoints after any error, 5 ms pause after a fast failure). The load itself goes through
// ./http-client.mjs, one keep-alive socket per worker with pre-encoded requests, since a keep-alive http.Agent cost
// about as much CPU per put as raftkit's servers on the two cores they share; control calls and failover use http.
//
// Used as a module by bench/cluster-vs-etcd.mjs, or from the command line (each prints one JSON line):
//   node bench/load.mjs leader   --system raftkit|etcd --endpoints http://127.0.0.1:8001,...
//   node bench/load.mjs load     --system raftkit|etcd --endpoints ... --op put|get --concurrency N
//                                [--duration-s 5] [--warmup-s 1] [--timeout-ms 10000] [--keys 10000] [--value-size 100]
//                                [--pids p1,p2,p3]        (server PIDs, for their CPU and to exclude them from "other")
//   node bench/load.mjs failover --system raftkit|etcd --members '[{"name":"1","url":"http://127.0.0.1:8001","pid":123,"log":"/tmp/x.log"},...]'
//                                [--pre-s 2] [--post-s 2] [--max-s 30] [--timeout-ms 100]
//   node bench/load.mjs rss      --pids p1,p2,p3          (VmRSS of each, in KiB, from /proc/<pid>/status)
import http from 'node:http';
import fs from 'node:fs';
import crypto from 'node:crypto';
import os from 'node:os';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Connection, encodeRequest } from './http-client.mjs';

// ---------- HTTP (loopback only) ----------

/** Throws unless the endpoint is on 127.0.0.1. */
export function checkLocal(u) {
  const url = new URL(u);
  if (url.hostname !== '127.0.0.1') throw new Error(`refusing non-127.0.0.1 endpoint ${u}`);
  return url;
}

const b64 = (s) => Buffer.from(s).toString('base64');

/** One request; never rejects. Resolves { ok (status 200), status, text | err, t0, t1 }. */
export function request(agent, endpoint, method, path, body, timeoutMs) {
  const url = checkLocal(endpoint);
  return new Promise((resolve) => {
    const t0 = performance.now();
    let timer = null;
    let done = false;
    const finish = (r) => {
      if (done) return;
      done = true;
      if (timer) clearTimeout(timer);
      r.t0 = t0;
      r.t1 = performance.now();
      resolve(r);
    };
    const headers = body != null ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {};
    const req = http.request({ host: url.hostname, port: url.port, path, method, agent, headers }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => finish({ ok: res.statusCode === 200, status: res.statusCode, text: Buffer.concat(chunks).toString() }));
      res.on('error', (e) => finish({ ok: false, err: e.code || e.message }));
    });
    if (timeoutMs) timer = setTimeout(() => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })), timeoutMs);
    req.on('error', (e) => finish({ ok: false, err: e.code || e.message }));
    req.end(body ?? undefined);
  });
}

const ctlAgent = new http.Agent({ keepAlive: false });

// ---------- the two systems ----------
// Each adapter: status(ep) → { ep, id, leader, isLeader, term, index } | null; put(i, value) and get() → a request
// { method, path, body }; preload(target, value) writes the key that get() reads; getOk(text) checks a read's answer;
// metrics(ep) → { fsyncs, fsyncSeconds, saves? }; becameLeader(line) → epoch ms when a log line says "I am leader".

export const systems = {
  raftkit: {
    name: 'raftkit',
    async status(ep, timeoutMs = 1000) {
      const r = await request(ctlAgent, ep, 'GET', '/status', null, timeoutMs);
      if (!r.ok) return null;
      try {
        const j = JSON.parse(r.text);
        return { ep, id: String(j.id), leader: j.leader == null ? null : String(j.leader), isLeader: j.role === 'leader', term: Number(j.term), index: Number(j.commit), applied: Number(j.applied), snapshot: Number(j.snapshot) };
      } catch {
        return null;
      }
    },
    put: (i, value) => ({ method: 'PUT', path: `/kv/${encodeURIComponent(`bench/k${i}`)}`, body: JSON.stringify(value) }),
    get: () => ({ method: 'GET', path: `/kv/${encodeURIComponent('bench/range')}`, body: null }),
    async preload(target, value) {
      const r = await request(ctlAgent, target, 'PUT', `/kv/${encodeURIComponent('bench/range')}`, JSON.stringify(value), 5000);
      if (!r.ok) throw new Error(`raftkit preload failed: ${r.status ?? ''} ${r.text || r.err}`);
    },
    getOk: (text) => /"value"/.test(text),
    async metrics(ep) {
      const r = await request(ctlAgent, ep, 'GET', '/metrics', null, 2000);
      const m = {};
      if (!r.ok) return {};
      for (const line of r.text.split('\n')) {
        const mm = /^(raftkit_fsyncs_total|raftkit_fsync_seconds_sum|raftkit_fsync_seconds_count|raftkit_storage_writes_total|raftkit_storage_saves_total) ([0-9.e+-]+)$/.exec(line);
        if (mm) m[mm[1]] = Number(mm[2]);
      }
      // fsyncs of the log (the fsync histogram also times snapshot files: use its sum for the mean only)
      return { fsyncs: m.raftkit_fsyncs_total, fsyncSeconds: m.raftkit_fsync_seconds_sum, fsyncTimed: m.raftkit_fsync_seconds_count, writes: m.raftkit_storage_writes_total };
    },
    becameLeader(line) {
      if (!line.includes('"msg":"role"') || !line.includes('"role":"leader"')) return NaN;
      try {
        return Date.parse(JSON.parse(line).time);
      } catch {
        return NaN;
      }
    },
  },
  etcd: {
    name: 'etcd',
    async status(ep, timeoutMs = 1000) {
      const r = await request(ctlAgent, ep, 'POST', '/v3/maintenance/status', '{}', timeoutMs);
      if (!r.ok) return null;
      try {
        const j = JSON.parse(r.text);
        const id = j.header.member_id;
        const leader = j.leader && j.leader !== '0' ? j.leader : null;
        return { ep, id, leader, isLeader: leader !== null && leader === id, term: Number(j.raftTerm), index: Number(j.raftIndex), applied: Number(j.raftAppliedIndex ?? j.raftIndex) };
      } catch {
        return null;
      }
    },
    put: (i, value) => ({ method: 'POST', path: '/v3/kv/put', body: JSON.stringify({ key: b64(`bench/k${i}`), value: b64(value) }) }),
    // serializable=false (the default): a linearizable read (ReadIndex)
    get: () => ({ method: 'POST', path: '/v3/kv/range', body: JSON.stringify({ key: b64('bench/range') }) }),
    async preload(target, value) {
      const r = await request(ctlAgent, target, 'POST', '/v3/kv/put', JSON.stringify({ key: b64('bench/range'), value: b64(value) }), 5000);
      if (!r.ok) throw new Error(`etcd preload failed: ${r.status ?? ''} ${r.text || r.err}`);
    },
    getOk: (text) => /"kvs"/.test(text),
    async metrics(ep) {
      const r = await request(ctlAgent, ep, 'GET', '/metrics', null, 2000);
      const m = {};
      if (!r.ok) return {};
      for (const line of r.text.split('\n')) {
        const mm = /^(etcd_disk_wal_fsync_duration_seconds_(?:sum|count)) ([0-9.e+-]+)$/.exec(line);
        if (mm) m[mm[1]] = Number(mm[2]);
      }
      return { fsyncs: m.etcd_disk_wal_fsync_duration_seconds_count, fsyncSeconds: m.etcd_disk_wal_fsync_duration_seconds_sum, fsyncTimed: m.etcd_disk_wal_fsync_duration_seconds_count };
    },
    becameLeader(line) {
      if (!line.includes('became leader at term')) return NaN;
      const m = /"ts":"([^"]+)"/.exec(line); // zap: "2024-01-02T03:04:05.678Z" or "...+0000"
      return m ? Date.parse(m[1].replace(/([+-]\d\d)(\d\d)$/, '$1:$2')) : NaN;
    },
  },
};

function systemOf(name) {
  const s = systems[name];
  if (!s) throw new Error(`unknown system ${name} (raftkit or etcd)`);
  return s;
}

/** The leader, as every reachable endpoint reports it. */
export async function findLeader(system, eps) {
  const statuses = (await Promise.all(eps.map((e) => system.status(e)))).filter(Boolean);
  const leader = statuses.find((s) => s.isLeader) ?? null;
  return { leader, statuses };
}

/** Waits until every endpoint answers, all agree on one leader, and every member is within 10 entries of it. */
export async function waitHealthy(system, eps, timeoutS = 60) {
  const deadline = Date.now() + timeoutS * 1000;
  while (Date.now() < deadline) {
    const { leader, statuses } = await findLeader(system, eps);
    if (leader && statuses.length === eps.length) {
      let healthy = true;
      if (system.name === 'etcd') {
        const h = await Promise.all(eps.map((e) => request(ctlAgent, e, 'GET', '/health', null, 1000)));
        healthy = h.every((x) => x.ok && /"health":\s*"true"/.test(x.text));
      }
      const agree = statuses.every((s) => s.leader === leader.id);
      const caughtUp = statuses.every((s) => leader.index - s.index <= 10);
      if (healthy && agree && caughtUp) return leader;
    }
    await sleep(100);
  }
  throw new Error(`${system.name}: no healthy cluster with one agreed leader within ${timeoutS} s (${eps.join(', ')})`);
}

// ---------- /proc accounting (Linux) ----------

/** utime + stime of the given PIDs, in clock ticks (USER_HZ = 100). */
export function procTicks(pids) {
  let t = 0;
  for (const p of pids) {
    try {
      const s = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      t += Number(f[11]) + Number(f[12]);
    } catch {}
  }
  return t;
}

/** VmRSS of a PID in KiB (NaN if it is gone). */
export function rssKb(pid) {
  try {
    const m = /^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : NaN;
  } catch {
    return NaN;
  }
}

/** CPU ticks of every other user-space process (non-empty cmdline): other jobs sharing this box. */
export function otherProcSnapshot(excludePids) {
  const ex = new Set(excludePids.map(Number));
  const out = new Map();
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const pid = Number(d);
    if (ex.has(pid)) continue;
    try {
      if (fs.readFileSync(`/proc/${d}/cmdline`).length === 0) continue; // kernel thread
      const s = fs.readFileSync(`/proc/${d}/stat`, 'utf8');
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
      out.set(pid, { ticks: Number(f[11]) + Number(f[12]), name: s.slice(s.indexOf('(') + 1, s.lastIndexOf(')')) });
    } catch {}
  }
  return out;
}
export function otherProcDelta(a, b) {
  let t = 0;
  const top = [];
  for (const [pid, v] of b) {
    const d = v.ticks - (a.get(pid)?.ticks ?? 0); // a new process: all its CPU fell inside the window
    if (d > 0) {
      t += d;
      top.push([d, `${v.name}(${pid})`]);
    }
  }
  top.sort((x, y) => y[0] - x[0]);
  return { ticks: t, top: top.slice(0, 3).map(([d, n]) => `${n}:${d}`) };
}
export function machineCpu() {
  const f = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3] + (f[4] || 0), total: f.reduce((x, y) => x + y, 0) };
}
export const busyFrac = (a, b) => 1 - (b.idle - a.idle) / Math.max(1, b.total - a.total);

/** Waits (at most maxWaitS) until the whole machine is at most maxBusy busy (fraction of all cores) over 2 s. */
export async function waitQuiet(maxBusy, maxWaitS) {
  const t0 = Date.now();
  let busy = 1;
  let quiet = false;
  while (Date.now() - t0 < maxWaitS * 1000) {
    const a = machineCpu();
    await sleep(2000);
    busy = busyFrac(a, machineCpu());
    if (busy > maxBusy) continue;
    await sleep(Math.floor(Math.random() * 1000)); // jitter, so as not to start together with another job's wait
    const c = machineCpu();
    await sleep(500);
    busy = busyFrac(c, machineCpu());
    if (busy <= maxBusy) {
      quiet = true;
      break;
    }
  }
  return { quiet, waitedS: Math.round((Date.now() - t0) / 1000), busyBefore: r2(busy) };
}

/** CPU accounting over a window: our process, the servers, other processes, the whole machine. */
function cpuWindow(serverPids) {
  const exclude = [...serverPids, process.pid];
  const t0 = performance.now();
  const ticks0 = procTicks(serverPids);
  const cpu0 = process.cpuUsage();
  const other0 = otherProcSnapshot(exclude);
  const mach0 = machineCpu();
  return (serverTicksOverride) => {
    const secs = (performance.now() - t0) / 1000;
    const serverTicks = (serverTicksOverride ?? procTicks(serverPids)) - ticks0;
    const cpu = process.cpuUsage(cpu0);
    const other = otherProcDelta(other0, otherProcSnapshot(exclude));
    const machPct = busyFrac(mach0, machineCpu()) * 100 * os.cpus().length;
    const clientCpuPct = ((cpu.user + cpu.system) / 1e6 / secs) * 100;
    const serverCpuPct = (serverTicks / 100 / secs) * 100;
    const otherCpuPct = (other.ticks / 100 / secs) * 100;
    return {
      clientCpuPct: r2(clientCpuPct),
      serverCpuPct: serverPids.length ? r2(serverCpuPct) : null,
      otherCpuPct: r2(otherCpuPct),
      otherTop: other.top,
      machineBusyPct: r2(machPct),
      // machine busy time not explained by client + servers + other live processes: our own kernel work (loopback,
      // fsync) is a few %; much more means short-lived foreign processes (an npm/vitest run, say)
      unattributedCpuPct: r2(machPct - clientCpuPct - serverCpuPct - otherCpuPct),
    };
  };
}

export function pct(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}
export const r2 = (x) => Math.round(x * 100) / 100;

// ---------- load ----------

/**
 * Closed-loop load against the leader: `concurrency` workers, each with one request outstanding.
 * op 'put' cycles over `keys` distinct keys with a value of `valueSize` random bytes (base64); op 'get' reads one
 * preloaded key, linearizably. Returns one result object (throughput, latency percentiles, errors, CPU).
 */
export async function load({ system: sys, endpoints, op = 'put', concurrency = 1, durationS = 5, warmupS = 1, timeoutMs = 10_000, keys = 10_000, valueSize = 100, pids = [], maxOps = 5_000_000, label = '' }) {
  const system = typeof sys === 'string' ? systemOf(sys) : sys;
  endpoints.forEach(checkLocal);
  const { leader } = await findLeader(system, endpoints);
  if (!leader) throw new Error(`${system.name}: no leader`);
  const target = leader.ep;
  const value = crypto.randomBytes(valueSize).toString('base64');
  let reqs;
  if (op === 'put') reqs = Array.from({ length: keys }, (_, i) => system.put(i, value));
  else if (op === 'get') {
    await system.preload(target, value);
    reqs = [system.get()];
  } else throw new Error(`unknown op ${op}`);

  const { hostname, port } = checkLocal(target);
  const wire = reqs.map((q) => encodeRequest(hostname, port, q.method, q.path, q.body));
  const connections = Array.from({ length: concurrency }, () => new Connection(hostname, port));
  let lat = new Float64Array(1 << 18);
  let nLat = 0;
  let issued = 0;
  let errors = 0;
  const errKinds = {};
  let checked = false;
  let badAnswer = null;

  const tStart = performance.now();
  const tMeasure = tStart + warmupS * 1000;
  const tEnd = tMeasure + durationS * 1000;
  let window = null;
  let m0 = null;
  const snap0 = (async () => {
    await sleep(Math.max(0, tMeasure - performance.now()));
    window = cpuWindow(pids);
    m0 = await system.metrics(target);
  })();

  async function worker(w) {
    let i = w;
    while (issued < maxOps && badAnswer === null) {
      if (performance.now() >= tEnd) break;
      issued++;
      const bytes = wire[i % wire.length];
      i += concurrency;
      const r = await connections[w].send(bytes, timeoutMs);
      if (r.t1 >= tMeasure && r.t1 < tEnd) {
        if (r.ok) {
          if (op === 'get' && !checked) {
            checked = true;
            if (!system.getOk(r.text)) badAnswer = r.text;
          }
          if (nLat === lat.length) {
            const grown = new Float64Array(lat.length * 2);
            grown.set(lat);
            lat = grown;
          }
          lat[nLat++] = r.t1 - r.t0;
        } else {
          errors++;
          const k = r.err || `http${r.status}:${(r.text || '').slice(0, 60)}`;
          errKinds[k] = (errKinds[k] || 0) + 1;
        }
      }
    }
  }
  await Promise.all(Array.from({ length: concurrency }, (_, w) => worker(w)));
  if (badAnswer !== null) throw new Error(`${system.name}: a read returned no value: ${badAnswer.slice(0, 200)}`);
  const tDone = Math.min(performance.now(), tEnd);
  await snap0;
  const cpu = window();
  const m1 = await system.metrics(target);
  for (const c of connections) c.close();
  const after = await findLeader(system, endpoints);

  const secs = (tDone - tMeasure) / 1000;
  const sorted = lat.subarray(0, nLat).sort();
  const fsyncs = (m1.fsyncs ?? NaN) - (m0.fsyncs ?? NaN);
  const timed = (m1.fsyncTimed ?? NaN) - (m0.fsyncTimed ?? NaN);
  const fsyncSeconds = (m1.fsyncSeconds ?? NaN) - (m0.fsyncSeconds ?? NaN);
  return {
    kind: 'load',
    system: system.name,
    label,
    op,
    concurrency,
    target,
    term: leader.term,
    // the leader changed during the run (requests to the old one then fail until the run ends, or it leads again)
    leaderChanged: after.leader?.ep !== target || after.leader?.term !== leader.term,
    secs: r2(secs),
    ops: nLat,
    errors,
    errKinds,
    opsPerSec: r2(nLat / secs),
    p50ms: r2(pct(sorted, 50)),
    p99ms: r2(pct(sorted, 99)),
    maxms: r2(sorted[sorted.length - 1] ?? NaN),
    leaderFsyncs: Number.isFinite(fsyncs) ? fsyncs : null,
    leaderFsyncMeanMs: timed > 0 ? r2((fsyncSeconds / timed) * 1000) : null,
    opsPerLeaderFsync: fsyncs > 0 && op === 'put' ? r2(nLat / fsyncs) : null,
    ...cpu,
    startedAt: new Date(Date.now() - (performance.now() - tStart)).toISOString(),
  };
}

// ---------- failover ----------

/**
 * c=1 puts starting at the leader; after preS seconds the leader's PID gets SIGKILL (through `kill(member)`, by
 * default process.kill). Every put has a `timeoutMs` client timeout; after any error the client moves to the next
 * endpoint, round-robin. Measures kill → first successful put issued after the kill (client), and kill → the first
 * "became leader" log line of a survivor (server). members: [{ name, url, pid, log }].
 */
export async function failover({ system: sys, members, preS = 2, postS = 2, maxS = 30, timeoutMs = 100, maxOps = 200_000, label = '', kill = (m) => process.kill(m.pid, 'SIGKILL') }) {
  const system = typeof sys === 'string' ? systemOf(sys) : sys;
  members.forEach((m) => checkLocal(m.url));
  const eps = members.map((m) => m.url);
  const { leader } = await findLeader(system, eps);
  if (!leader) throw new Error(`${system.name}: no leader before failover`);
  const victim = members.find((m) => m.url === leader.ep);
  const survivors = members.filter((m) => m !== victim);
  const window = cpuWindow(members.map((m) => m.pid));
  let victimTicksAtKill = null;
  const logOffsets = new Map(survivors.map((m) => [m, m.log ? safeSize(m.log) : 0]));
  const value = crypto.randomBytes(100).toString('base64');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

  let cur = eps.indexOf(leader.ep);
  let tKill = null;
  let killEpoch = null;
  let firstOk = null;
  let lastOkBeforeKill = null;
  const errKinds = {};
  let ops = 0;
  let okAfter = 0;
  let fails = 0;
  let prevOkEnd = null;
  let maxGap = 0;
  const tStart = performance.now();
  while (ops < maxOps) {
    const now = performance.now();
    if (tKill === null && now - tStart >= preS * 1000) {
      victimTicksAtKill = procTicks(members.map((m) => (m === victim ? m.pid : -1)));
      killEpoch = Date.now();
      kill(victim);
      tKill = performance.now();
    }
    if (tKill !== null && (now - tKill > maxS * 1000 || (firstOk && now - firstOk.t1 > postS * 1000))) break;
    const q = system.put(ops % 1000, value);
    ops++;
    const r = await request(agent, eps[cur], q.method, q.path.replace('bench', 'failover'), q.body, timeoutMs);
    if (r.ok) {
      if (prevOkEnd !== null) maxGap = Math.max(maxGap, r.t1 - prevOkEnd);
      prevOkEnd = r.t1;
      if (tKill === null) lastOkBeforeKill = r.t1;
      else if (r.t0 >= tKill) {
        okAfter++;
        if (!firstOk) firstOk = { t0: r.t0, t1: r.t1, ep: eps[cur] };
      }
    } else {
      fails++;
      if (tKill !== null) {
        const k = r.err || `http${r.status}:${(r.text || '').slice(0, 60)}`;
        errKinds[k] = (errKinds[k] || 0) + 1;
      }
      cur = (cur + 1) % eps.length;
      if (r.t1 - r.t0 < 5) await sleep(5); // don't spin on fast failures (2 shared cores)
    }
  }
  agent.destroy();
  const survivorTicks = procTicks(survivors.map((m) => m.pid));
  const cpu = window(survivorTicks + (victimTicksAtKill ?? 0));

  // the server's view: the first "became leader" line a survivor logged after the kill
  let electedAt = NaN;
  let newLeader = null;
  for (const m of survivors) {
    if (!m.log) continue;
    let text = '';
    try {
      const fd = fs.openSync(m.log, 'r');
      const size = fs.fstatSync(fd).size;
      const from = logOffsets.get(m) ?? 0;
      const buf = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
      fs.closeSync(fd);
      text = buf.toString('utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n')) {
      const ts = system.becameLeader(line);
      if (ts >= killEpoch - 1 && !(ts >= electedAt)) {
        electedAt = ts;
        newLeader = m.name;
      }
    }
  }
  return {
    kind: 'failover',
    system: system.name,
    label,
    killed: victim.name,
    killedPid: victim.pid,
    oldTerm: leader.term,
    newLeader,
    unavailMs: firstOk ? r2(firstOk.t1 - tKill) : null,
    lastOkBeforeKillMsAgo: lastOkBeforeKill !== null ? r2(tKill - lastOkBeforeKill) : null,
    electionMsFromLogs: Number.isFinite(electedAt) ? electedAt - killEpoch : null,
    firstOkEndpoint: firstOk?.ep ?? null,
    maxGapBetweenOkMs: r2(maxGap),
    opsAfterKillOk: okAfter,
    failedAttempts: fails,
    errKinds,
    clientTimeoutMs: timeoutMs,
    ...cpu,
    startedAt: new Date(Date.now() - (performance.now() - tStart)).toISOString(),
  };
}

function safeSize(file) {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

// ---------- command line ----------

function parseArgs(argv) {
  const out = { _: [] };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a.startsWith('--')) {
      const v = argv[i + 1] !== undefined && !argv[i + 1].startsWith('--') ? argv[++i] : 'true';
      out[a.slice(2)] = v;
    } else out._.push(a);
  }
  return out;
}

async function cli() {
  const args = parseArgs(process.argv.slice(2));
  const num = (k, d) => (args[k] !== undefined ? Number(args[k]) : d);
  const list = (k) => (args[k] || '').split(',').filter(Boolean);
  const system = systemOf(args.system || 'raftkit');
  switch (args._[0]) {
    case 'leader': {
      const { leader } = await findLeader(system, list('endpoints').map((e) => (checkLocal(e), e)));
      console.log(JSON.stringify(leader ? { ok: true, leader: leader.ep, id: leader.id, term: leader.term } : { ok: false }));
      return leader ? 0 : 1;
    }
    case 'load':
      console.log(JSON.stringify(await load({ system, endpoints: list('endpoints'), op: args.op || 'put', concurrency: num('concurrency', 1), durationS: num('duration-s', 5), warmupS: num('warmup-s', 1), timeoutMs: num('timeout-ms', 10_000), keys: num('keys', 10_000), valueSize: num('value-size', 100), pids: list('pids').map(Number), label: args.label || '' })));
      return 0;
    case 'failover':
      console.log(JSON.stringify(await failover({ system, members: JSON.parse(args.members), preS: num('pre-s', 2), postS: num('post-s', 2), maxS: num('max-s', 30), timeoutMs: num('timeout-ms', 100), label: args.label || '' })));
      return 0;
    case 'rss':
      console.log(JSON.stringify(Object.fromEntries(list('pids').map((p) => [p, rssKb(Number(p))]))));
      return 0;
    default:
      console.error('usage: node bench/load.mjs leader|load|failover|rss --system raftkit|etcd ... (see the header of bench/load.mjs)');
      return 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === fs.realpathSync(process.argv[1])) {
  cli().then(
    (code) => (process.exitCode = code),
    (error) => {
      console.error(error?.stack ?? String(error));
      process.exitCode = 1;
    },
  );
}
