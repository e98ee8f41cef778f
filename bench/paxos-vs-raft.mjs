// `npm run bench:paxos`: builds, then compares Paxos (the Synod and Multi-Paxos) with Raft on the
// simulator. Everything runs on virtual time from seeds, so the same BENCH_SEED prints the same
// tables on any machine. Prints markdown tables (docs/paxos.md has them). Not part of `npm test`.
import { Cluster, MultiPaxosCluster, SynodCluster } from '../dist/esm/index.js';

const SEED = process.env.BENCH_SEED ?? 'paxos-vs-raft';
/** Runs per row of the randomized tables. */
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
/** Commands per run in the steady-state and loss tables. */
const COMMANDS = Number(process.env.BENCH_COMMANDS ?? 100);
/** One-way latency (ms) of the message-count table: a round trip is twice this. */
const LATENCY = 5;
/** Latency of the randomized tables: the simulator's default. */
const JITTER = [1, 10];
/** A run that has not decided by then counts as undecided. */
const GIVE_UP_MS = 10_000;

const log = (line = '') => process.stdout.write(`${line}\n`);
const sorted = (xs) => [...xs].sort((a, b) => a - b);
const quantile = (xs, q) => (xs.length === 0 ? NaN : sorted(xs)[Math.min(xs.length - 1, Math.floor(q * xs.length))]);
const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
const fmt = (x, digits = 1) => (Number.isFinite(x) ? x.toFixed(digits) : '–');
const ms = (x) => (Number.isFinite(x) ? `${Math.round(x)}` : '–');
const perType = (byType, types) => types.reduce((sum, t) => sum + (byType[t]?.messages ?? 0), 0);

function table(headers, rows) {
  log(`| ${headers.join(' | ')} |`);
  log(`| ${headers.map((h, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) log(`| ${row.join(' | ')} |`);
  log();
}

/**
 * Raft's counterpart of MultiPaxosCluster.propose: submit to the leader, run until it applied the
 * entry (checked after every event), again on the next leader if leadership moves on. (Cluster's
 * own propose notices the outcome only every 5 virtual ms.)
 */
async function raftPropose(cluster, command, timeoutMs = GIVE_UP_MS) {
  const deadline = cluster.now + timeoutMs;
  while (cluster.now < deadline) {
    const id = cluster.leader();
    if (id === undefined) {
      await cluster.runUntil(() => cluster.leader() !== undefined, { timeoutMs: deadline - cluster.now });
      continue;
    }
    const node = cluster.node(id);
    const { index } = node.submit(command);
    await cluster.runUntil(() => node.lastApplied >= index || node.role !== 'leader' || cluster.leader() !== id, { timeoutMs: Math.max(0, deadline - cluster.now) });
    if (node.lastApplied >= index && node.entries(index, index)[0]?.command === command) return { index, leaderId: id };
  }
  throw new Error(`not applied within ${timeoutMs} ms`);
}

// ── 1. Messages and round trips per chosen value ─────────────────────────────────────────────

function synodOnce(size) {
  const cluster = new SynodCluster({ size, seed: SEED, network: { latencyMs: LATENCY } });
  cluster.node('1').propose('v');
  cluster.runUntil(() => cluster.node('1').learned !== null);
  const proposerMs = cluster.now;
  cluster.runUntil(() => cluster.nodes.every((node) => node.learned !== null));
  const { byType, messages } = cluster.network.stats().sent;
  return { messages, phase2: perType(byType, ['Accept', 'Accepted']), heartbeats: 0, roundTrips: proposerMs / (2 * LATENCY), everyoneMs: cluster.now };
}

function multiPaxosSteady(size) {
  const cluster = new MultiPaxosCluster({ size, seed: SEED, network: { latencyMs: LATENCY } });
  cluster.waitForLeader();
  cluster.run(200);
  cluster.propose('warm-up');
  cluster.network.resetStats();
  const latencies = [];
  for (let i = 0; i < COMMANDS; i++) {
    const start = cluster.now;
    cluster.propose(`c${i}`);
    latencies.push(cluster.now - start);
  }
  const { byType, messages } = cluster.network.stats().sent;
  // One more command, alone: how long until every node has applied it.
  const start = cluster.now;
  const { slot } = cluster.propose('last');
  cluster.runUntil(() => cluster.nodes.every((node) => node.appliedSlot >= slot));
  return {
    messages: messages / COMMANDS,
    phase2: perType(byType, ['LogAccept', 'LogAccepted']) / COMMANDS,
    heartbeats: perType(byType, ['LogHeartbeat']) / COMMANDS,
    roundTrips: mean(latencies) / (2 * LATENCY),
    everyoneMs: cluster.now - start,
  };
}

async function raftSteady(size) {
  const cluster = new Cluster({ size, seed: SEED, network: { latencyMs: LATENCY }, traceLimit: 0 });
  await cluster.waitForLeader();
  await cluster.run(200);
  await raftPropose(cluster, 'warm-up');
  cluster.network.resetStats();
  const latencies = [];
  for (let i = 0; i < COMMANDS; i++) {
    const start = cluster.now;
    await raftPropose(cluster, `c${i}`);
    latencies.push(cluster.now - start);
  }
  const { byType, messages } = cluster.network.stats().sent;
  const start = cluster.now;
  const { index } = await raftPropose(cluster, 'last');
  await cluster.runUntil(() => cluster.nodes.every((node) => node.lastApplied >= index));
  // A heartbeat is an AppendEntries with no entries: counted with replication here.
  return {
    messages: messages / COMMANDS,
    phase2: perType(byType, ['AppendEntries', 'AppendEntriesResponse']) / COMMANDS,
    heartbeats: NaN,
    roundTrips: mean(latencies) / (2 * LATENCY),
    everyoneMs: cluster.now - start,
  };
}

/** Messages per second of an idle cluster with a leader: the price of a stable leader. */
async function idleRate(kind, size) {
  const seconds = 10;
  if (kind === 'Multi-Paxos') {
    const cluster = new MultiPaxosCluster({ size, seed: SEED, network: { latencyMs: LATENCY } });
    cluster.waitForLeader();
    cluster.run(500);
    cluster.network.resetStats();
    cluster.run(seconds * 1000);
    return cluster.network.stats().sent.messages / seconds;
  }
  const cluster = new Cluster({ size, seed: SEED, network: { latencyMs: LATENCY }, traceLimit: 0 });
  await cluster.waitForLeader();
  await cluster.run(500);
  cluster.network.resetStats();
  await cluster.run(seconds * 1000);
  return cluster.network.stats().sent.messages / seconds;
}

async function messagesTable() {
  log(`### Messages and round trips per chosen value`);
  log();
  log(`One-way latency ${LATENCY} ms (a round trip is ${2 * LATENCY} ms), no loss; Multi-Paxos and Raft: ${COMMANDS} commands one after another on a stable leader, heartbeats every 50 ms.`);
  log();
  const rows = [];
  for (const size of [3, 5]) {
    const s = synodOnce(size);
    rows.push([`Synod (one value, one proposer)`, size, fmt(s.messages), `${fmt(s.phase2)} (Accept + Accepted to every learner)`, '–', fmt(s.roundTrips), ms(s.everyoneMs)]);
    const m = multiPaxosSteady(size);
    rows.push([`Multi-Paxos, steady state`, size, fmt(m.messages), `${fmt(m.phase2)} (LogAccept + LogAccepted)`, fmt(m.heartbeats), fmt(m.roundTrips), ms(m.everyoneMs)]);
    const r = await raftSteady(size);
    rows.push([`Raft, steady state`, size, fmt(r.messages), `${fmt(r.phase2)} (AppendEntries + responses, heartbeats included)`, '–', fmt(r.roundTrips), ms(r.everyoneMs)]);
  }
  table(['protocol', 'nodes', 'messages per value', 'of which replication', 'of which heartbeats', 'round trips until the proposer/leader knows', 'ms until every node knows'], rows);
  const idle = [];
  for (const size of [3, 5]) idle.push([size, fmt(await idleRate('Multi-Paxos', size)), fmt(await idleRate('Raft', size))]);
  log(`Idle cost of a stable leader (messages per second, nothing proposed):`);
  log();
  table(['nodes', 'Multi-Paxos', 'Raft'], idle);
}

// ── 2. Duelling proposers against randomized election timeouts ──────────────────────────────

function synodDuel(proposers, backoff, latencyMs, i) {
  const cluster = new SynodCluster({ size: 3, seed: `${SEED}/duel/${i}`, network: { latencyMs }, node: { backoff } });
  for (let p = 1; p <= proposers; p++) cluster.node(String(p)).propose(`v${p}`);
  const decided = cluster.runUntil(() => cluster.chosen() !== undefined, { timeoutMs: GIVE_UP_MS });
  return { decided, ms: cluster.now, rounds: cluster.nodes.reduce((sum, node) => sum + node.rounds, 0), messages: cluster.network.stats().sent.messages };
}

/** Raft or Multi-Paxos, all nodes starting together: from the first campaign to a leader. */
async function election(kind, range, i) {
  const options = { size: 3, seed: `${SEED}/election/${i}`, network: { latencyMs: JITTER } };
  let first = Infinity;
  if (kind === 'Multi-Paxos') {
    const cluster = new MultiPaxosCluster({ ...options, node: { electionTimeoutMs: range } });
    for (const node of cluster.nodes) node.on('role', (role) => role === 'candidate' && (first = Math.min(first, cluster.now)));
    const decided = cluster.runUntil(() => cluster.leader() !== undefined, { timeoutMs: GIVE_UP_MS });
    return { decided, ms: cluster.now - first, rounds: decided ? cluster.node(cluster.leader()).ballot.round : NaN, messages: cluster.network.stats().sent.messages };
  }
  const cluster = new Cluster({ ...options, electionTimeoutMs: range, traceLimit: 0 });
  for (const node of cluster.nodes) node.on('role', (role) => role !== 'follower' && (first = Math.min(first, cluster.now)));
  const decided = await cluster.runUntil(() => cluster.leader() !== undefined, { timeoutMs: GIVE_UP_MS });
  return { decided, ms: cluster.now - first, rounds: decided ? cluster.node(cluster.leader()).term : NaN, messages: cluster.network.stats().sent.messages };
}

function duelRow(label, runs) {
  const done = runs.filter((r) => r.decided);
  const times = done.map((r) => r.ms);
  const undecided = runs.length - done.length;
  const stuck = undecided === 0 ? '0' : `${undecided} (${fmt(mean(runs.filter((r) => !r.decided).map((r) => r.rounds)), 0)} ballots each)`;
  return [label, ms(quantile(times, 0.5)), ms(quantile(times, 0.9)), ms(times.length === 0 ? NaN : Math.max(...times)), fmt(mean(done.map((r) => r.rounds))), fmt(mean(done.map((r) => r.messages)), 0), stuck];
}

async function duelTable() {
  log(`### Duelling proposers against randomized election timeouts`);
  log();
  log(`3 nodes, latency ${JITTER[0]}–${JITTER[1]} ms (or a fixed ${LATENCY} ms, where no jitter breaks ties), ${RUNS} seeds per row, all contenders starting at the same instant. Synod: time from the proposals to a chosen value, and ballots started by all proposers together (randomized back-off: [10, 400] ms, exponential with full jitter; none: retry at once). Raft and Multi-Paxos: time from the first campaign to a leader, and the winning term or round. Undecided: no decision within ${GIVE_UP_MS / 1000} s of virtual time (the other columns leave those runs out).`);
  log();
  const rows = [];
  for (const latencyMs of [JITTER, LATENCY]) {
    const latency = typeof latencyMs === 'number' ? `fixed ${latencyMs} ms` : `${latencyMs.join('–')} ms`;
    for (const proposers of [2, 3]) {
      for (const backoff of ['randomized', 'none']) {
        const runs = Array.from({ length: RUNS }, (_, i) => synodDuel(proposers, backoff, latencyMs, i));
        rows.push(duelRow(`Synod, ${proposers} proposers, back-off ${backoff}, latency ${latency}`, runs));
      }
    }
  }
  for (const kind of ['Raft', 'Multi-Paxos']) {
    for (const range of [[150, 300], [150, 150]]) {
      const runs = [];
      for (let i = 0; i < RUNS; i++) runs.push(await election(kind, range, i));
      rows.push(duelRow(`${kind} election, timeouts [${range.join(', ')}] ms`, runs));
    }
  }
  table(['contenders', 'median ms', 'p90 ms', 'max ms', 'ballots/terms', 'messages', 'undecided'], rows);
}

// ── 3. The same faults ───────────────────────────────────────────────────────────────────────

function synodUnderLoss(dropRate, i) {
  const cluster = new SynodCluster({ size: 3, seed: `${SEED}/loss/${i}`, network: { latencyMs: JITTER, dropRate } });
  cluster.node('1').propose('v');
  const decided = cluster.runUntil(() => cluster.node('1').learned !== null, { timeoutMs: GIVE_UP_MS });
  const learnedAt = cluster.now;
  cluster.run(1_000); // the Accepted messages still in flight
  return { decided, ms: learnedAt, messages: cluster.network.stats().sent.messages };
}

/** `COMMANDS / 4` commands one after another under loss; per-command latency, messages per command, leader changes. */
async function logUnderLoss(kind, dropRate, i) {
  const commands = Math.max(1, Math.round(COMMANDS / 4));
  const options = { size: 3, seed: `${SEED}/loss/${i}`, network: { latencyMs: JITTER, dropRate } };
  const latencies = [];
  let leaders = 0;
  if (kind === 'Multi-Paxos') {
    const cluster = new MultiPaxosCluster(options);
    for (const node of cluster.nodes) node.on('role', (role) => role === 'leader' && leaders++);
    cluster.waitForLeader({ timeoutMs: GIVE_UP_MS });
    cluster.network.resetStats();
    for (let c = 0; c < commands; c++) {
      const start = cluster.now;
      cluster.propose(`c${c}`, { timeoutMs: GIVE_UP_MS });
      latencies.push(cluster.now - start);
    }
    return { latencies, messages: cluster.network.stats().sent.messages / commands, leaderChanges: leaders - 1 };
  }
  const cluster = new Cluster({ ...options, traceLimit: 0 });
  for (const node of cluster.nodes) node.on('role', (role) => role === 'leader' && leaders++);
  await cluster.waitForLeader({ timeoutMs: GIVE_UP_MS });
  await raftPropose(cluster, 'warm-up');
  cluster.network.resetStats();
  for (let c = 0; c < commands; c++) {
    const start = cluster.now;
    await raftPropose(cluster, `c${c}`);
    latencies.push(cluster.now - start);
  }
  return { latencies, messages: cluster.network.stats().sent.messages / commands, leaderChanges: leaders - 1 };
}

async function lossTable() {
  const runs = Math.max(1, Math.round(RUNS / 4));
  log(`### Under message loss`);
  log();
  log(`3 nodes, latency ${JITTER[0]}–${JITTER[1]} ms, ${runs} seeds per row. Synod: one proposer, time until it learns the value. Multi-Paxos and Raft: ${Math.max(1, Math.round(COMMANDS / 4))} commands one after another per seed, time per command (until the leader applied it, the client retrying on the next leader), messages per command, leader changes per seed.`);
  log();
  const rows = [];
  for (const dropRate of [0, 0.1, 0.3]) {
    const synod = Array.from({ length: runs }, (_, i) => synodUnderLoss(dropRate, i));
    const times = synod.filter((r) => r.decided).map((r) => r.ms);
    rows.push([`Synod`, `${dropRate * 100}%`, ms(quantile(times, 0.5)), ms(quantile(times, 0.9)), fmt(mean(synod.map((r) => r.messages))), '–']);
    for (const kind of ['Multi-Paxos', 'Raft']) {
      const results = [];
      for (let i = 0; i < runs; i++) results.push(await logUnderLoss(kind, dropRate, i));
      const latencies = results.flatMap((r) => r.latencies);
      rows.push([kind, `${dropRate * 100}%`, ms(quantile(latencies, 0.5)), ms(quantile(latencies, 0.9)), fmt(mean(results.map((r) => r.messages))), fmt(mean(results.map((r) => r.leaderChanges)), 2)]);
    }
  }
  table(['protocol', 'loss', 'median ms per value', 'p90 ms', 'messages per value', 'leader changes'], rows);
}

/** The leader is cut off from the other four for 2 s while a client keeps proposing. */
async function leaderPartition(kind, i) {
  const options = { size: 5, seed: `${SEED}/partition/${i}`, network: { latencyMs: JITTER } };
  const commits = [];
  let leaders = 0;
  const isMulti = kind === 'Multi-Paxos';
  const cluster = isMulti ? new MultiPaxosCluster(options) : new Cluster({ ...options, traceLimit: 0 });
  for (const node of cluster.nodes) node.on('role', (role) => role === 'leader' && leaders++);
  const old = isMulti ? cluster.waitForLeader() : await cluster.waitForLeader();
  const cutAt = cluster.now + 300;
  const healAt = cutAt + 2_000;
  const end = healAt + 1_000;
  let cut = false;
  let cutTime = Infinity;
  let healed = false;
  let oldStillLeads = false;
  let isolatedSent = 0;
  cluster.network.on('send', (_m, from) => cut && !healed && from === old && isolatedSent++);
  for (let c = 0; cluster.now < end; c++) {
    if (!cut && cluster.now >= cutAt) {
      cluster.partition([old]);
      cut = true;
      cutTime = cluster.now;
    }
    if (cut && !healed && cluster.now >= healAt) {
      oldStillLeads = cluster.node(old).role === 'leader';
      cluster.heal();
      healed = true;
    }
    // Proposals wait at most 200 ms, so that the loop sees the partition and the heal on time.
    try {
      if (isMulti) cluster.propose(`c${c}`, { timeoutMs: 200 });
      else await raftPropose(cluster, `c${c}`, 200);
      commits.push(cluster.now);
    } catch {
      // timed out: try the next command
    }
  }
  const firstAfterCut = commits.find((t) => t > cutTime) ?? Infinity;
  return { unavailableMs: firstAfterCut - cutTime, leaderChanges: leaders - 1, oldStillLeads, isolatedSent };
}

async function partitionTable() {
  const runs = Math.max(1, Math.round(RUNS / 4));
  log(`### The leader cut off by a partition`);
  log();
  log(`5 nodes, latency ${JITTER[0]}–${JITTER[1]} ms, ${runs} seeds; a client proposes one command after another; the leader is partitioned from the other four for 2 s, then healed. Unavailable: from the cut to the first command chosen after it. The Synod row: proposers 1 and 5 on either side of a {1, 2} | {3, 4, 5} partition from the start, healed after 1 s; the minority proposer's time to learn the majority's value after the heal.`);
  log();
  const rows = [];
  for (const kind of ['Multi-Paxos', 'Raft']) {
    const results = [];
    for (let i = 0; i < runs; i++) results.push(await leaderPartition(kind, i));
    const gaps = results.map((r) => r.unavailableMs);
    rows.push([kind, ms(quantile(gaps, 0.5)), ms(quantile(gaps, 0.9)), fmt(mean(results.map((r) => r.leaderChanges)), 2), `${results.filter((r) => r.oldStillLeads).length}/${runs}`, fmt(mean(results.map((r) => r.isolatedSent)), 0)]);
  }
  const learn = [];
  for (let i = 0; i < runs; i++) {
    const cluster = new SynodCluster({ size: 5, seed: `${SEED}/partition/${i}`, network: { latencyMs: JITTER } });
    cluster.partition(['1', '2'], ['3', '4', '5']);
    cluster.node('1').propose('minority');
    cluster.node('5').propose('majority');
    cluster.run(1_000);
    cluster.heal();
    const healedAt = cluster.now;
    cluster.runUntil(() => cluster.node('1').learned !== null, { timeoutMs: GIVE_UP_MS });
    if (cluster.node('1').learned?.value !== 'majority') throw new Error('the minority learned its own value');
    learn.push(cluster.now - healedAt);
  }
  rows.push(['Synod (minority proposer learns after the heal)', ms(quantile(learn, 0.5)), ms(quantile(learn, 0.9)), '–', '–', '–']);
  table(['protocol', 'unavailable, median ms', 'p90 ms', 'leader changes', 'old leader still leading at the heal', 'messages the cut-off leader sent'], rows);
}

log(`## Paxos against Raft (seed ${JSON.stringify(SEED)})`);
log();
await messagesTable();
await duelTable();
await lossTable();
await partitionTable();
