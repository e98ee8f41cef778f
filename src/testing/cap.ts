/**
 * The CAP experiment: the same clients and the same partition against a CP store (raftkit's
 * Raft `KeyValueStore` in a simulated `Cluster`) and an AP store (`ApReplica`s on an
 * `InMemoryNetwork`), on virtual time, deterministic by seed.
 */
import { ApReplica } from '../ap/replica.js';
import { ApSession } from '../ap/session.js';
import type { ApMessage } from '../ap/messages.js';
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../kv/key-value-store.js';
import { NotLeaderError } from '../raft/errors.js';
import { SeededRandom } from '../runtime/random.js';
import { Cluster } from '../sim/cluster.js';
import { VirtualScheduler } from '../sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../transport/memory.js';
import { checkCausal, type CausalResult } from './causal.js';
import { checkLinearizable, type CheckResult } from './check.js';
import { checkConvergence } from './convergence.js';
import { describeHistory } from './describe.js';
import type { Operation } from './history.js';
import { kvModel, type KvInput, type KvState } from './kv.js';
import { HistoryRecorder } from './recorder.js';
import { measureStaleness, type Staleness } from './staleness.js';

/**
 * Options of {@link runCapExperiment}. Times are virtual milliseconds.
 *
 * @example
 * ```ts
 * import { runCapExperiment, type CapOptions } from 'raftkit/testing';
 * const options: CapOptions = { seed: 7, nodes: 3, beforeMs: 200, partitionMs: 500, onProgress: (line) => console.log(line) };
 * const report = await runCapExperiment(options);
 * ```
 */
export interface CapOptions {
  /** The seed of every random choice (default 42): the same seed gives the same report. */
  readonly seed?: number | string;
  /** Replicas of each store, 3 to 15 (default 5); the partition cuts off a minority of ⌊(N−1)/2⌋. */
  readonly nodes?: number;
  /** Clients per replica, 1 to 10 (default 1); each talks to its own replica only. */
  readonly clientsPerNode?: number;
  /** How many keys the clients share, 1 to 26 (default 3): few keys make conflicts likely. */
  readonly keys?: number;
  /** How long the clients run before the partition (default 500). */
  readonly beforeMs?: number;
  /** How long the partition lasts (default 2,000); the clients stop issuing at the heal. */
  readonly partitionMs?: number;
  /** How long a CP client waits for an answer before it records the outcome as unknown (default 500). */
  readonly timeoutMs?: number;
  /** Receives a line as each phase starts and ends. */
  readonly onProgress?: (line: string) => void;
}

/**
 * Operations invoked in one phase of the experiment by clients of one side, and how many of
 * them were answered (`ok`; during the partition, answered before the heal).
 *
 * @example
 * ```ts
 * import type { CapAvailability } from 'raftkit/testing';
 * const minority: CapAvailability = { answered: 0, total: 12 };
 * console.log(`${(100 * minority.answered) / minority.total}%`); // 0%
 * ```
 */
export interface CapAvailability {
  /** Operations answered with a result. */
  readonly answered: number;
  /** Operations invoked. */
  readonly total: number;
}

/**
 * What one store did in the experiment.
 *
 * @example
 * ```ts
 * import { runCapExperiment, type CapStoreReport } from 'raftkit/testing';
 * const { cp, ap } = await runCapExperiment({ seed: 1, nodes: 3, beforeMs: 100, partitionMs: 400 });
 * const line = (r: CapStoreReport) => `${r.store}: ${r.minority.answered}/${r.minority.total} answered on the minority side`;
 * console.log(line(cp)); // CP: 0/… answered on the minority side
 * console.log(line(ap)); // AP: …/… (all) answered on the minority side
 * ```
 */
export interface CapStoreReport {
  /** Which store: `CP` (Raft) or `AP` (ApReplica). */
  readonly store: 'CP' | 'AP';
  /** The store in words. */
  readonly description: string;
  /** Every client operation, in invocation order; times from the start of the clients. */
  readonly history: readonly Operation<KvInput>[];
  /** Availability before the partition, all clients. */
  readonly before: CapAvailability;
  /** Availability during the partition, clients on the majority side. */
  readonly majority: CapAvailability;
  /** Availability during the partition, clients on the minority side. */
  readonly minority: CapAvailability;
  /** The linearizability checker's verdict on `history` (with a counterexample when illegal). */
  readonly linearizability: CheckResult<KvState>;
  /** The causal checker's verdict on `history`. */
  readonly causality: CausalResult;
  /** How stale the reads were (ages in ms). */
  readonly staleness: Staleness;
  /** Virtual ms from the heal until every replica held the same state for good; undefined if not within 30 s. */
  readonly convergeMs: number | undefined;
  /** Keys whose final value won over concurrent versions (AP only: Raft orders every write). */
  readonly conflicts: number;
  /** Acknowledged writes that last-writer-wins discarded for a concurrent one (AP only). */
  readonly lostWrites: number;
  /** Reads that saw concurrent versions of their key (AP only). */
  readonly concurrentReads: number;
}

/**
 * The report of {@link runCapExperiment}: the setup, and what each store did.
 *
 * @example
 * ```ts
 * import { formatCapReport, runCapExperiment, type CapReport } from 'raftkit/testing';
 * const report: CapReport = await runCapExperiment({ seed: 3, nodes: 3, beforeMs: 100, partitionMs: 300 });
 * console.log(report.minority, report.majority); // e.g. [ '2' ] [ '1', '3' ]: the Raft leader was cut off
 * console.log(formatCapReport(report).join('\n'));
 * ```
 */
export interface CapReport {
  /** The seed of the run. */
  readonly seed: number | string;
  /** Replicas per store. */
  readonly nodes: number;
  /** Clients in all (the same for both stores). */
  readonly clients: number;
  /** When the partition started and how long it lasted (ms from the start of the clients). */
  readonly partitionAt: number;
  /** How long the partition lasted. */
  readonly partitionMs: number;
  /** The ids on the minority side (the Raft leader's side when the partition began). */
  readonly minority: readonly string[];
  /** The ids on the majority side. */
  readonly majority: readonly string[];
  /** Raft's KeyValueStore. */
  readonly cp: CapStoreReport;
  /** The AP store. */
  readonly ap: CapStoreReport;
}

/** What a client's call returned. */
type Outcome = { readonly status: 'ok'; readonly output?: unknown } | { readonly status: 'fail' | 'info' };

/** A store under test, stepped by the experiment. */
interface Target {
  now(): number;
  /** Runs one virtual millisecond (and lets answers arrive). */
  step(): Promise<void>;
  partition(minority: readonly string[], majority: readonly string[]): void;
  heal(): void;
  call(client: Client, input: KvInput): Outcome | Promise<Outcome>;
  converged(): boolean;
}

/** A client: it talks to its home replica, one operation at a time, with a seeded script. */
interface Client {
  readonly name: string;
  readonly home: string;
  readonly random: SeededRandom;
  readonly session: ApSession;
  puts: number;
  busy: boolean;
  nextAt: number;
}

const THINK_MS: readonly [number, number] = [5, 25];
const SETTLE_MS = 30_000;
/** Operations of the counterexample's key shown before its window. */
const CONTEXT = 3;

function integerOption(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw new RangeError(`runCapExperiment: ${name} must be an integer from ${min} to ${max}, got ${String(value)}`);
  return value;
}

/** Every client, made afresh for each store so that both run the same scripts. */
function makeClients(seed: number | string, ids: readonly string[], perNode: number): Client[] {
  const clients: Client[] = [];
  for (let k = 0; k < perNode; k++) {
    for (const home of ids) {
      const name = `c${clients.length + 1}`;
      clients.push({ name, home, random: new SeededRandom(`${String(seed)}:client:${name}`), session: new ApSession(), puts: 0, busy: false, nextAt: 0 });
    }
  }
  return clients;
}

/** The client's next operation: a get or a put of a fresh value, on a random key. */
function nextInput(client: Client, keys: number): KvInput {
  const n = client.random.int(0, keys - 1);
  const key = keys <= 3 ? 'xyz'[n]! : `k${n + 1}`;
  return client.random.next() < 0.5 ? { op: 'get', key } : { op: 'put', key, value: `${client.name}:${++client.puts}` };
}

interface Plan {
  readonly keys: number;
  readonly beforeMs: number;
  readonly partitionMs: number;
  readonly minority: readonly string[];
  readonly majority: readonly string[];
}

/** Runs the clients against `target` through the partition and the heal; returns the history and the convergence time. */
async function drive(target: Target, clients: Client[], plan: Plan): Promise<{ history: Operation<KvInput>[]; convergeMs: number | undefined }> {
  const t0 = target.now();
  const at = (): number => target.now() - t0;
  const recorder = new HistoryRecorder<KvInput>({ now: at });
  const partitionAt = plan.beforeMs;
  const healAt = plan.beforeMs + plan.partitionMs;
  for (const client of clients) client.nextAt = client.random.int(...THINK_MS);
  let phase: 'before' | 'partition' | 'healed' = 'before';
  let convergedAt: number | undefined;
  for (;;) {
    const t = at();
    if (phase === 'before' && t >= partitionAt) {
      target.partition(plan.minority, plan.majority);
      phase = 'partition';
    }
    if (phase === 'partition' && t >= healAt) {
      target.heal();
      phase = 'healed';
    }
    if (phase === 'healed') {
      if (!target.converged()) convergedAt = undefined;
      else convergedAt ??= t;
      if ((convergedAt !== undefined && clients.every((c) => !c.busy)) || t >= healAt + SETTLE_MS) break;
    } else {
      for (const client of clients) {
        if (client.busy || t < client.nextAt) continue;
        const input = nextInput(client, plan.keys);
        const pending = recorder.invoke(client.name, input);
        client.busy = true;
        const finish = (outcome: Outcome): void => {
          if (outcome.status === 'ok') pending.ok(outcome.output);
          else if (outcome.status === 'fail') pending.fail();
          else pending.info();
          client.busy = false;
          client.nextAt = at() + client.random.int(...THINK_MS);
        };
        const result = target.call(client, input);
        if (result instanceof Promise) void result.then(finish);
        else finish(result);
      }
    }
    await target.step();
  }
  return { history: recorder.history(), convergeMs: convergedAt === undefined ? undefined : convergedAt - healAt };
}

/** Availability by phase and side, from the history. */
function availability(history: readonly Operation<KvInput>[], clients: readonly Client[], plan: Plan): Pick<CapStoreReport, 'before' | 'majority' | 'minority'> {
  const home = new Map(clients.map((c) => [c.name, c.home]));
  const healAt = plan.beforeMs + plan.partitionMs;
  // During the partition, an answer counts only if it came before the heal.
  const count = (keep: (o: Operation<KvInput>) => boolean, by = Infinity): CapAvailability => {
    const ops = history.filter(keep);
    return { answered: ops.filter((o) => o.status === 'ok' && o.complete! < by).length, total: ops.length };
  };
  const during = (o: Operation<KvInput>): boolean => o.invoke >= plan.beforeMs && o.invoke < healAt;
  const onMinority = (o: Operation<KvInput>): boolean => plan.minority.includes(home.get(String(o.client))!);
  return {
    before: count((o) => o.invoke < plan.beforeMs),
    majority: count((o) => during(o) && !onMinority(o), healAt),
    minority: count((o) => during(o) && onMinority(o), healAt),
  };
}

function judge(history: Operation<KvInput>[]): Pick<CapStoreReport, 'history' | 'linearizability' | 'causality' | 'staleness'> {
  return { history, linearizability: checkLinearizable(history, kvModel), causality: checkCausal(history), staleness: measureStaleness(history) };
}

/** Raft's KeyValueStore on a simulated Cluster; clients propose through their home node (forwarded to the leader). */
async function runCp(seed: number | string, ids: readonly string[], timeoutMs: number) {
  const stores = new Map<string, KeyValueStore>();
  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
    ids,
    seed,
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store);
      return store;
    },
    nodeOptions: () => ({ forwardProposals: true }),
  });
  const leader = await cluster.waitForLeader();
  const target: Target = {
    now: () => cluster.now,
    async step() {
      await cluster.run(1);
      for (let hop = 0; hop < 8; hop++) await Promise.resolve(); // let the answers of this millisecond settle
    },
    partition: (minority, majority) => cluster.partition([...minority], [...majority]),
    heal: () => cluster.heal(),
    call: (client, input) => {
      const command: KeyValueCommand = input.op === 'put' ? { op: 'put', key: input.key, value: input.value } : { op: 'get', key: input.key };
      return cluster
        .node(client.home)
        .propose(command, { timeoutMs })
        .then(
          ({ result }): Outcome => (input.op === 'get' ? { status: 'ok', output: result.previous } : { status: 'ok' }),
          // A refusal means "not applied"; anything else (a timeout, a lost leadership) leaves it unknown.
          (error: unknown): Outcome => ({ status: input.op === 'get' || error instanceof NotLeaderError ? 'fail' : 'info' }),
        );
    },
    converged: () => {
      const nodes = cluster.nodes;
      const snapshot = stores.get(nodes[0]!.id)?.snapshot();
      return nodes.every((node) => node.lastApplied === nodes[0]!.lastApplied && stores.get(node.id)?.snapshot() === snapshot);
    },
  };
  return { target, leader, startedAt: cluster.now };
}

/** The AP store: one ApReplica per id on an InMemoryNetwork over a VirtualScheduler. */
function runAp(seed: number | string, ids: readonly string[]) {
  const scheduler = new VirtualScheduler();
  const random = new SeededRandom(`${String(seed)}:ap`);
  const network = new InMemoryNetwork<ApMessage>({ scheduler, random: random.fork('network'), latencyMs: [1, 10] });
  const replicas = new Map(ids.map((id) => [id, new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler, random: random.fork(id), gossipIntervalMs: 50 })]));
  let concurrentReads = 0;
  const target: Target = {
    now: () => scheduler.now(),
    async step() {
      scheduler.runFor(1);
    },
    partition: (minority, majority) => network.partition(minority, majority),
    heal: () => network.heal(),
    call: (client, input) => {
      const replica = replicas.get(client.home)!;
      if (input.op === 'put') {
        replica.put(input.key, input.value, { session: client.session });
        return { status: 'ok' };
      }
      const read = replica.get(input.key, { session: client.session });
      if (read.concurrent.length > 0) concurrentReads++;
      return { status: 'ok', output: read.value };
    },
    converged: () => {
      const all = [...replicas.values()];
      const vector = JSON.stringify(all[0]!.vector);
      return all.every((r) => JSON.stringify(r.vector) === vector) && checkConvergence(new Map(all.map((r) => [r.id, r.state()]))).converged;
    },
  };
  const conflicts = (): { conflicts: number; lostWrites: number } => {
    const replica = replicas.values().next().value!;
    let conflicting = 0;
    let lost = 0;
    for (const key of replica.state().keys()) {
      const { concurrent } = replica.get(key);
      if (concurrent.length > 0) conflicting++;
      lost += concurrent.length;
    }
    return { conflicts: conflicting, lostWrites: lost };
  };
  const stop = async (): Promise<void> => {
    for (const replica of replicas.values()) await replica.stop();
  };
  return { target, conflicts, concurrentReads: () => concurrentReads, stop };
}

/**
 * Runs the CAP experiment. The same clients (one script per client, from the seed), each bound
 * to one replica, run the same workload of gets and puts of fresh values on a few shared keys
 * against two stores of `nodes` replicas each: first raftkit's Raft {@link KeyValueStore} in a
 * simulated {@link Cluster} (every operation proposed through the client's node, forwarded to
 * the leader), then {@link ApReplica}s on an {@link InMemoryNetwork}. Both see the same
 * partition: after `beforeMs`, a minority (holding the Raft leader) is cut off from the
 * majority for `partitionMs`; then the network heals, the clients stop, and the experiment waits
 * for every replica to hold the same state.
 *
 * The report gives, for each store, the availability on each side of the partition, the
 * verdicts of {@link checkLinearizable} and {@link checkCausal}, {@link measureStaleness}, and
 * the time to converge after the heal. The expected outcome, CAP in numbers: Raft answers no
 * one on the minority side and stays linearizable; the AP store answers everyone, is caught
 * non-linearizable with stale reads, and converges after the heal, losing concurrent writes to
 * last-writer-wins. Everything runs on virtual time: the same options give the same report.
 *
 * @throws RangeError for an option out of range.
 *
 * @example
 * ```ts
 * import { formatCapReport, runCapExperiment } from 'raftkit/testing';
 * const report = await runCapExperiment({ seed: 42, nodes: 3, beforeMs: 200, partitionMs: 600 });
 * console.log(report.cp.linearizability.result, report.ap.linearizability.result); // linearizable illegal
 * console.log(formatCapReport(report).join('\n'));
 * ```
 */
export async function runCapExperiment(options: CapOptions = {}): Promise<CapReport> {
  const seed = options.seed ?? 42;
  if (typeof seed !== 'number' && typeof seed !== 'string') throw new TypeError('runCapExperiment: seed must be a number or a string');
  const nodes = integerOption('nodes', options.nodes, 5, 3, 15);
  const perNode = integerOption('clientsPerNode', options.clientsPerNode, 1, 1, 10);
  const keys = integerOption('keys', options.keys, 3, 1, 26);
  const beforeMs = integerOption('beforeMs', options.beforeMs, 500, 0, 600_000);
  const partitionMs = integerOption('partitionMs', options.partitionMs, 2_000, 1, 600_000);
  const timeoutMs = integerOption('timeoutMs', options.timeoutMs, 500, 1, 60_000);
  const progress = options.onProgress ?? (() => {});
  const ids = Array.from({ length: nodes }, (_, i) => String(i + 1));
  const clientCount = nodes * perNode;

  progress(`CP: Raft KeyValueStore, ${nodes} nodes in a simulated Cluster (seed ${String(seed)})`);
  const cp = await runCp(seed, ids, timeoutMs);
  const size = Math.floor((nodes - 1) / 2);
  const minority = [cp.leader, ...ids.filter((id) => id !== cp.leader)].slice(0, size).sort((a, b) => Number(a) - Number(b));
  const majority = ids.filter((id) => !minority.includes(id));
  const plan: Plan = { keys, beforeMs, partitionMs, minority, majority };
  const sides = `[${minority.join(', ')}] | [${majority.join(', ')}]`;
  progress(`CP: node ${cp.leader} leads at ${cp.startedAt} ms; ${clientCount} clients for ${beforeMs} ms, then partition ${sides} for ${partitionMs} ms, then heal`);
  const cpClients = makeClients(seed, ids, perNode);
  const cpRun = await drive(cp.target, cpClients, plan);
  progress(`CP: ${cpRun.history.length} operations; checking them`);
  const cpReport: CapStoreReport = {
    store: 'CP',
    description: `Raft KeyValueStore (${nodes}-node Cluster)`,
    ...judge(cpRun.history),
    ...availability(cpRun.history, cpClients, plan),
    convergeMs: cpRun.convergeMs,
    conflicts: 0,
    lostWrites: 0,
    concurrentReads: 0,
  };

  progress(`AP: ApReplica, ${nodes} replicas on an InMemoryNetwork; the same clients and partition`);
  const ap = runAp(seed, ids);
  const apClients = makeClients(seed, ids, perNode);
  const apRun = await drive(ap.target, apClients, plan);
  progress(`AP: ${apRun.history.length} operations; checking them`);
  const apReport: CapStoreReport = {
    store: 'AP',
    description: `ApReplica (LWW by HLC, gossip)`,
    ...judge(apRun.history),
    ...availability(apRun.history, apClients, plan),
    convergeMs: apRun.convergeMs,
    ...ap.conflicts(),
    concurrentReads: ap.concurrentReads(),
  };
  await ap.stop();
  return { seed, nodes, clients: clientCount, partitionAt: beforeMs, partitionMs, minority, majority, cp: cpReport, ap: apReport };
}

const percent = (a: CapAvailability): string => (a.total === 0 ? 'no operations' : `${Math.round((100 * a.answered) / a.total)}% (${a.answered}/${a.total})`);

function verdict(r: CapStoreReport): string {
  switch (r.linearizability.result) {
    case 'linearizable':
      return 'yes';
    case 'illegal':
      return `no (key ${r.linearizability.counterexample.partition ?? '?'}, see below)`;
    case 'unknown':
      return `unknown (checker budget ran out on ${r.linearizability.partition ?? '?'})`;
  }
}

function staleText(r: CapStoreReport): string {
  const s = r.staleness;
  return `${s.stale} of ${s.reads}${s.reads === 0 ? '' : ` (${Math.round((100 * s.stale) / s.reads)}%)`}`;
}

function ageText(r: CapStoreReport): string {
  const s = r.staleness;
  return s.stale === 0 ? '-' : `${Math.round(s.maxAge)} / ${Math.round(s.meanAge)} ms, up to ${s.maxVersions} version${s.maxVersions === 1 ? '' : 's'}`;
}

/**
 * The report as lines of text: a table of both stores side by side, then the AP history's
 * counterexample in the checker's words, with the operations of its window as
 * {@link describeHistory} prints them. (`raftkit cap` prints this.)
 *
 * @example
 * ```ts
 * import { formatCapReport, runCapExperiment } from 'raftkit/testing';
 * const lines = formatCapReport(await runCapExperiment({ seed: 5, nodes: 3, beforeMs: 100, partitionMs: 300 }));
 * console.log(lines.slice(0, 4).join('\n')); // the heading and the first rows of the table
 * ```
 */
export function formatCapReport(report: CapReport): string[] {
  const { cp, ap } = report;
  const rows: [string, string, string][] = [
    ['', `CP: ${cp.description}`, `AP: ${ap.description}`],
    ['answered before the partition', percent(cp.before), percent(ap.before)],
    [`answered, majority side [${report.majority.join(', ')}]`, percent(cp.majority), percent(ap.majority)],
    [`answered, minority side [${report.minority.join(', ')}]`, percent(cp.minority), percent(ap.minority)],
    ['linearizable', verdict(cp), verdict(ap)],
    ['causally consistent', cp.causality.consistent ? 'yes' : 'no', ap.causality.consistent ? 'yes' : 'no'],
    ['stale reads', staleText(cp), staleText(ap)],
    ['staleness (max / mean)', ageText(cp), ageText(ap)],
    ['converged after the heal', cp.convergeMs === undefined ? 'not within 30 s' : `${cp.convergeMs} ms`, ap.convergeMs === undefined ? 'not within 30 s' : `${ap.convergeMs} ms`],
    ['writes lost to LWW (keys)', '0 (Raft orders writes)', `${ap.lostWrites} (${ap.conflicts} key${ap.conflicts === 1 ? '' : 's'})`],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((row) => row[c]!.length)));
  const lines = [
    `CAP experiment: seed ${String(report.seed)}, ${report.nodes} replicas per store, ${report.clients} clients; partition ${report.partitionMs} ms from ${report.partitionAt} ms (virtual time)`,
    '',
    ...rows.map((row) => row.map((cell, c) => cell.padEnd(widths[c]!)).join('  ').trimEnd()),
  ];
  for (const r of [cp, ap]) {
    if (r.linearizability.result !== 'illegal') continue;
    const { counterexample } = r.linearizability;
    const described = describeHistory(r.history, kvModel).split('\n');
    // The window starts from a state that earlier operations of its key made: show the last few.
    const first = Math.min(...counterexample.window);
    const key = counterexample.partition;
    const earlier = r.history.flatMap((o, i) => (i < first && o.input.key === key && o.status !== 'fail' ? [i] : [])).slice(-CONTEXT);
    lines.push('', `${r.store} counterexample:`, ...counterexample.message.split('\n').map((l) => `  ${l}`));
    if (earlier.length > 0) lines.push(`  the last operations on ${key ?? 'it'} before the window:`, ...earlier.map((i) => `    ${described[i]!}`));
    lines.push('  the window:', ...counterexample.window.map((i) => `    ${described[i]!}`));
  }
  return lines;
}
