/**
 * A Jepsen-style run against a simulated Raft key-value store: clients doing random operations
 * while a nemesis injects faults, the history they recorded, and the checker's verdict on it.
 */
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../kv/key-value-store.js';
import { SeededRandom } from '../runtime/random.js';
import { Cluster, type ClusterOptions } from '../sim/cluster.js';
import { checkLinearizable, type CheckOptions, type CheckResult } from './check.js';
import { operationText } from './describe.js';
import type { Operation } from './history.js';
import { kvModel, type KvInput, type KvState } from './kv.js';
import { KvClient, readMode, type KvClientOptions, type ReadConsistency } from './kv-client.js';
import { faults, Nemesis, type Fault, type FaultRecord } from './nemesis.js';
import { HistoryRecorder } from './recorder.js';
import type { NetworkConditions } from '../transport/memory.js';

/**
 * Options of {@link runJepsen}. Only `seed` is required.
 *
 * @example
 * ```ts
 * import { faults, type JepsenOptions } from 'raftkit/testing';
 * const options: JepsenOptions = {
 *   seed: 7,
 *   cluster: { size: 5, network: { latencyMs: [1, 8] } },
 *   clients: 5,
 *   reads: ['index', 'lease'],
 *   nemesis: faults.standard(),
 *   durationMs: 3_000,
 * };
 * ```
 */
export interface JepsenOptions {
  /** The seed of everything: the cluster, the clients, the operations and the nemesis. */
  readonly seed: number | string;
  /** The cluster (default 3 nodes); each node gets a `KeyValueStore`. */
  readonly cluster?: Omit<ClusterOptions<KeyValueCommand, KeyValueResult>, 'seed' | 'stateMachine'>;
  /** How many clients (default 4). */
  readonly clients?: number;
  /** Per-client options (their `name` is their index, their `recorder` the run's). */
  readonly client?: (index: number) => Omit<KvClientOptions, 'name' | 'recorder'>;
  /** How reads go: one mode, or a list to draw each read's mode from (default `'index'`). */
  readonly reads?: ReadConsistency | readonly ReadConsistency[];
  /** The faults (default {@link Faults.standard}); null for none. */
  readonly nemesis?: Fault | null;
  /** Virtual ms between faults (default [20, 250]). */
  readonly faultIntervalMs?: readonly [number, number];
  /** Virtual ms of operations under faults (default 5,000); then everything heals and what is in flight may finish. */
  readonly durationMs?: number;
  /** The keys operations pick from (default a, b and c). */
  readonly keys?: readonly string[];
  /** Relative weights of the operations (default read 5, put 2.5, delete 1, cas 1.5). */
  readonly mix?: {
    /** Gets. */
    readonly read?: number;
    /** Puts. */
    readonly put?: number;
    /** Deletes. */
    readonly delete?: number;
    /** Compare-and-sets. */
    readonly cas?: number;
  };
  /** The checker's budget. */
  readonly check?: CheckOptions;
  /** Receives the report of a run not found linearizable, illegal or unknown (e.g. `console.log`). */
  readonly log?: (report: string) => void;
}

/**
 * What {@link runJepsen} found: the history, the faults, the verdict, and a report that names
 * the seed (run it again with the same options and that seed to replay it, byte for byte).
 *
 * @example
 * ```ts
 * import { runJepsen, type JepsenRun } from 'raftkit/testing';
 * const run: JepsenRun = await runJepsen({ seed: 1, durationMs: 500 });
 * console.log(run.result.result, run.history.length > 0); // linearizable true
 * ```
 */
export interface JepsenRun {
  /** The seed. */
  readonly seed: number | string;
  /** What was run: nodes, clients, reads, duration. */
  readonly setup: string;
  /** Every operation the clients did, as recorded. */
  readonly history: Operation<KvInput>[];
  /** The nemesis' log. */
  readonly faults: FaultRecord[];
  /** The checker's verdict, with `kvModel`. */
  readonly result: CheckResult<KvState>;
  /** The seed, the set-up and the verdict; when illegal, the counterexample with its key's operations, and the faults. */
  readonly report: string;
  /** The cluster, as the run left it. */
  readonly cluster: Cluster<KeyValueCommand, KeyValueResult>;
}

/** How long the run waits, after healing everything, for the operations still in flight. */
const RECOVER_MS = 3_000;
/** Operations of the failing key shown before the counterexample's window. */
const CONTEXT = 5;

/** Lets the promise callbacks of clients and nodes run between slices of virtual time. */
async function hop(): Promise<void> {
  for (let i = 0; i < 16; i++) await Promise.resolve();
}

/**
 * Runs a Jepsen-style test on a simulated Raft `KeyValueStore`: `clients` {@link KvClient}s
 * do random gets, puts, deletes and compare-and-sets on a few keys (every value written is
 * unique) while a {@link Nemesis} applies `nemesis` every `faultIntervalMs`; after `durationMs`
 * everything heals, operations still in flight get a few seconds to finish, the cluster's
 * safety invariants are checked, and the history is checked for linearizability with
 * `kvModel`. The same options give the same run, byte for byte.
 *
 * @example
 * ```ts
 * import { runJepsen, faults } from 'raftkit/testing';
 * const run = await runJepsen({
 *   seed: 42,
 *   cluster: { size: 5 },
 *   reads: ['index', 'lease'],
 *   nemesis: faults.mix(faults.randomHalves(), faults.pause(), faults.clock({ maxDrift: 0.05 }), faults.heal()),
 *   durationMs: 2_000,
 * });
 * console.log(run.result.result); // linearizable
 * console.log(run.report.split('\n')[0]); // seed 42 (5 nodes, 4 clients, index and lease reads, 2000 ms): linearizable, 166 operations, 13 faults
 * ```
 */
export async function runJepsen(options: JepsenOptions): Promise<JepsenRun> {
  const { seed, durationMs = 5_000, keys = ['a', 'b', 'c'] } = options;
  const clientCount = options.clients ?? 4;
  if (!Number.isSafeInteger(clientCount) || clientCount < 1) throw new RangeError(`runJepsen: clients must be an integer ≥ 1, got ${String(clientCount)}`);
  if (!(durationMs >= 0 && Number.isFinite(durationMs))) throw new RangeError(`runJepsen: durationMs must be a finite number ≥ 0, got ${String(durationMs)}`);
  if (keys.length === 0) throw new RangeError('runJepsen: keys must not be empty');
  const reads: readonly ReadConsistency[] = typeof options.reads === 'string' ? [options.reads] : (options.reads ?? ['index']);
  if (reads.length === 0) throw new RangeError('runJepsen: reads must not be empty');
  reads.forEach(readMode);
  const weights = { read: 5, put: 2.5, delete: 1, cas: 1.5, ...options.mix };
  const total = weights.read + weights.put + weights.delete + weights.cas;
  if (!(total > 0) || Object.values(weights).some((w) => !(w >= 0))) throw new RangeError('runJepsen: mix weights must be ≥ 0, and not all 0');

  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, ...options.cluster, seed, stateMachine: () => new KeyValueStore() });
  const random = new SeededRandom(seed).fork('jepsen');
  const recorder = new HistoryRecorder<KvInput>({ now: () => cluster.now });
  const clients = Array.from(
    { length: clientCount },
    (_, i) => new KvClient(cluster, { random: random.fork(`client:${i}`), ...options.client?.(i), name: i, recorder }),
  );
  const setup = `${cluster.ids.length} nodes, ${clientCount} clients, ${inWords([...new Set(reads)])} reads, ${durationMs} ms`;

  let written = 0;
  const nextInput = (): KvInput => {
    const key = random.pick(keys);
    let roll = random.next() * total;
    if ((roll -= weights.read) < 0) return { op: 'get', key };
    if ((roll -= weights.put) < 0) return { op: 'put', key, value: ++written };
    if ((roll -= weights.delete) < 0) return { op: 'delete', key };
    const expected = random.next() < 0.3 ? undefined : random.int(Math.max(1, written - 3), Math.max(1, written));
    return { op: 'cas', key, expected, value: ++written };
  };

  await cluster.waitForLeader();
  const nemesis = new Nemesis(cluster, {
    fault: options.nemesis === null ? () => undefined : (options.nemesis ?? faults.standard()),
    random: random.fork('nemesis'),
    ...(options.faultIntervalMs && { intervalMs: options.faultIntervalMs }),
    ...(options.cluster?.network && { network: baseline(options.cluster.network) }),
  });
  nemesis.start();
  const end = cluster.now + durationMs;
  while (cluster.now < end) {
    for (const client of clients) {
      if (client.busy || random.next() >= 0.6) continue;
      const input = nextInput();
      void client.run(input, input.op === 'get' ? { read: random.pick(reads) } : {});
    }
    await cluster.run(random.int(1, 4));
    await hop();
  }
  // Heal everything and let what is in flight finish; what never does stays `info`.
  nemesis.heal();
  for (let t = 0; t < RECOVER_MS && clients.some((c) => c.busy); t += 10) {
    await cluster.run(10);
    await hop();
  }
  cluster.checkInvariants();

  const history = recorder.history();
  const result = checkLinearizable(history, kvModel, options.check);
  const run = { seed, setup, history, faults: nemesis.log, result, cluster };
  const report = describeRun(run);
  if (result.result !== 'linearizable') options.log?.(report);
  return { ...run, report };
}

/** "a", "a and b", "a, b and c". */
function inWords(items: readonly string[]): string {
  return items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

/** The conditions a run heals back to: those the cluster started with (a Cluster's default latency unless given). */
function baseline({ latencyMs = [1, 10], dropRate = 0, duplicateRate = 0, reorder = false }: NetworkConditions): NetworkConditions {
  return { latencyMs, dropRate, duplicateRate, reorder };
}

/** The report of a run: its first line says the seed, the set-up and the verdict. */
function describeRun(run: Omit<JepsenRun, 'report'>): string {
  const { seed, setup, history, faults: log, result } = run;
  const head = `seed ${String(seed)} (${setup})`;
  if (result.result === 'linearizable') return `${head}: linearizable, ${history.length} operations, ${log.length} faults`;
  if (result.result === 'unknown') return `${head}: unknown, the checker ran out of ${result.reason === 'steps' ? 'steps' : 'time'} on key ${String(result.partition)}`;
  const { counterexample } = result;
  // The failing key's operations up to the end of the window, the last few before it as context.
  const first = Math.min(...counterexample.window);
  const last = Math.max(...counterexample.window);
  const onKey = history.map((o, i) => [o, i] as const).filter(([o, i]) => o.input.key === counterexample.partition && i <= last);
  const shown = onKey.slice(Math.max(0, onKey.findIndex(([, i]) => i >= first) - CONTEXT));
  return [
    `${head}: NOT linearizable; replay with the same options and seed ${JSON.stringify(seed)}`,
    counterexample.message,
    `operations on key ${String(counterexample.partition)}:`,
    ...shown.map(([o, i]) => `  #${i} client ${String(o.client)} [${o.invoke}, ${o.complete ?? '?'}] ${o.status} ${operationText(o, kvModel)}`),
    'faults:',
    ...log.map(({ time, fault }) => `  ${time.toFixed(1)} ms ${fault}`),
  ].join('\n');
}
