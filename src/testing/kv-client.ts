/**
 * A client of a simulated Raft key-value store that records what it saw: each get, put, delete
 * and cas goes into a history (invoke, then `ok`, `fail` or `info`), ready for the checker.
 */
import type { KeyValueCommand, KeyValueResult } from '../kv/key-value-store.js';
import type { RaftNode } from '../node/raft-node.js';
import { NotLeaderError, SessionExpiredError, TransferError } from '../raft/errors.js';
import type { ClientSession, SessionTag } from '../raft/sessions.js';
import type { NodeId } from '../raft/types.js';
import { SeededRandom, type Random } from '../runtime/random.js';
import type { Cluster } from '../sim/cluster.js';
import { pick } from './pick.js';
import type { KvInput } from './kv.js';
import { HistoryRecorder } from './recorder.js';

/**
 * How a {@link KvClient} reads:
 * - `'index'`: a linearizable read without the log (ReadIndex, `node.read()`), then the replica's state;
 * - `'lease'`: the same with `lease: true`, answered at once by a leader within its lease (safe while
 *   clocks drift less than the nodes' `maxClockDrift`);
 * - `'log'`: a `get` command proposed through the log;
 * - `'stale'`: the replica's state as it is, with no check: a follower read, not linearizable.
 *
 * @example
 * ```ts
 * import type { ReadConsistency } from 'raftkit/testing';
 * const modes: ReadConsistency[] = ['index', 'lease', 'log', 'stale'];
 * ```
 */
export type ReadConsistency = 'index' | 'lease' | 'log' | 'stale';

/**
 * Options of a {@link KvClient}.
 *
 * @example
 * ```ts
 * import { HistoryRecorder, type KvClientOptions, type KvInput } from 'raftkit/testing';
 * const recorder = new HistoryRecorder<KvInput>();
 * const options: KvClientOptions = { name: 'alice', recorder, read: 'lease', timeoutMs: 300, session: true };
 * ```
 */
export interface KvClientOptions {
  /** Its name in the history. */
  readonly name: string | number;
  /**
   * Where it records (share one among the clients of a history). Default: a recorder of its
   * own, stamped with the cluster's virtual time.
   */
  readonly recorder?: HistoryRecorder<KvInput>;
  /** How `get` reads unless told otherwise (default `'index'`). */
  readonly read?: ReadConsistency;
  /**
   * How long it waits for each answer, in virtual ms of the cluster's time (default 500): past
   * it, that attempt's outcome is unknown.
   */
  readonly timeoutMs?: number;
  /**
   * Writes go in a client session (opened through the leader on first use): a write whose outcome
   * is unknown is then retried, with the same tag, and takes effect once. Default false.
   */
  readonly session?: boolean;
  /**
   * How many more attempts an operation gets: after a refusal ({@link NotLeaderError}, which
   * names the leader to try: at once; without a name, 10 ms later), after any failure of a read,
   * and after an unknown outcome of a write in a session (default 3). A write without a session
   * is never retried after an unknown outcome.
   */
  readonly retries?: number;
  /**
   * How often it asks the leader it was last pointed to, rather than a random live node (default
   * 0.7: the rest go to followers too, which forward or refuse).
   */
  readonly followHint?: number;
  /** Chooses the nodes (default: seeded by the cluster's seed and the client's name). */
  readonly random?: Random;
}

/**
 * How one operation of a {@link KvClient} ended, as recorded: `ok` with its output (get: the
 * value, undefined when absent; cas: whether it swapped), `fail` (known not to have happened)
 * or `info` (unknown).
 *
 * @example
 * ```ts
 * import type { KvOutcome } from 'raftkit/testing';
 * const show = (o: KvOutcome): string => (o.status === 'ok' ? `ok ${JSON.stringify(o.output)}` : o.status);
 * ```
 */
export type KvOutcome =
  | {
      /** It took effect. */
      readonly status: 'ok';
      /** What it returned. */
      readonly output: unknown;
    }
  | {
      /** It did not take effect (`fail`), or nobody knows (`info`). */
      readonly status: 'fail' | 'info';
    };

/** One attempt's outcome. */
type Attempt = { readonly kind: 'ok'; readonly output: unknown } | { readonly kind: 'refused'; readonly leader: NodeId | null } | { readonly kind: 'unknown'; readonly error: unknown };

type KvCluster = Cluster<KeyValueCommand, KeyValueResult>;

/** How long a client waits before it tries again without knowing where the leader is. */
const RETRY_DELAY_MS = 10;
type KvNode = RaftNode<KeyValueCommand, KeyValueResult>;

/**
 * One client of a simulated Raft `KeyValueStore`: it sends each operation to a node (the
 * leader it was last told of, mostly, see `followHint`), follows {@link NotLeaderError}'s
 * leader hint, gives up on an answer after `timeoutMs` of cluster time, and records every operation in its
 * history as Jepsen does: `fail` only for an answer that says the operation did not happen
 * (a refusal on every attempt), `info` for any other failure (a timeout, a crash, a lost
 * leadership): the operation may still take effect. Requests to a paused node wait for it.
 *
 * The cluster's state machines must be `KeyValueStore`s (or have its `get(key)`), which reads
 * other than `'log'` look at. Drive the simulation while operations run (`cluster.run`,
 * `cluster.runUntilSettled`, or {@link runJepsen}).
 *
 * @example
 * ```ts
 * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
 * import { KvClient, checkLinearizable, kvModel } from 'raftkit/testing';
 * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 1, stateMachine: () => new KeyValueStore() });
 * await cluster.waitForLeader();
 * const alice = new KvClient(cluster, { name: 'alice' });
 * const bob = new KvClient(cluster, { name: 'bob', recorder: alice.recorder, read: 'lease' });
 * await cluster.runUntilSettled(alice.put('x', 1));
 * console.log(await cluster.runUntilSettled(bob.cas('x', 1, 2))); // { status: 'ok', output: true }
 * console.log(await cluster.runUntilSettled(alice.get('x'))); // { status: 'ok', output: 2 }
 * console.log(checkLinearizable(alice.recorder.history(), kvModel).result); // linearizable
 * ```
 */
export class KvClient {
  /** The history it records into. */
  readonly recorder: HistoryRecorder<KvInput>;
  readonly #cluster: KvCluster;
  readonly #name: string | number;
  readonly #read: ReadConsistency;
  readonly #timeoutMs: number;
  readonly #useSession: boolean;
  readonly #retries: number;
  readonly #followHint: number;
  readonly #random: Random;
  #hint: NodeId | null = null;
  #session: ClientSession | null = null;
  #opening = false;
  #inFlight = 0;

  /**
   * A client of `cluster` (see {@link KvClientOptions}).
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 2, stateMachine: () => new KeyValueStore() });
   * const client = new KvClient(cluster, { name: 1, timeoutMs: 1_000 });
   * ```
   */
  constructor(cluster: Cluster<KeyValueCommand, KeyValueResult>, options: KvClientOptions) {
    const { name, timeoutMs = 500, retries = 3, followHint = 0.7 } = options;
    if (typeof name !== 'string' && typeof name !== 'number') throw new TypeError('KvClient: name must be a string or a number');
    if (!(timeoutMs > 0) || !Number.isFinite(timeoutMs)) throw new RangeError(`KvClient: timeoutMs must be a finite number > 0, got ${String(timeoutMs)}`);
    if (!Number.isSafeInteger(retries) || retries < 0) throw new RangeError(`KvClient: retries must be an integer ≥ 0, got ${String(retries)}`);
    if (!(followHint >= 0 && followHint <= 1)) throw new RangeError(`KvClient: followHint must be in [0, 1], got ${String(followHint)}`);
    this.#cluster = cluster;
    this.#name = name;
    this.#read = readMode(options.read ?? 'index');
    this.#timeoutMs = timeoutMs;
    this.#useSession = options.session === true;
    this.#retries = retries;
    this.#followHint = followHint;
    this.#random = options.random ?? new SeededRandom(`${String(cluster.seed)}:client:${String(name)}`);
    this.recorder = options.recorder ?? new HistoryRecorder<KvInput>({ now: () => cluster.now });
    if (this.#read !== 'log') for (const id of cluster.ids) storeOf(cluster, id);
  }

  /**
   * Whether an operation of this client is still waiting for its outcome.
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 3, stateMachine: () => new KeyValueStore() });
   * const client = new KvClient(cluster, { name: 'c' });
   * const put = client.put('x', 1);
   * console.log(client.busy); // true
   * await cluster.runUntilSettled(put);
   * console.log(client.busy); // false
   * ```
   */
  get busy(): boolean {
    return this.#inFlight > 0;
  }

  /**
   * Reads `key`, as `read` says (default: the client's `read` option).
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 4, stateMachine: () => new KeyValueStore() });
   * await cluster.waitForLeader();
   * const client = new KvClient(cluster, { name: 'c' });
   * console.log(await cluster.runUntilSettled(client.get('x', { read: 'log' }))); // { status: 'ok', output: undefined }
   * ```
   */
  get(key: string, options: { readonly read?: ReadConsistency } = {}): Promise<KvOutcome> {
    return this.run({ op: 'get', key }, options);
  }

  /**
   * Sets `key` to `value` (any JSON value).
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 5, stateMachine: () => new KeyValueStore() });
   * await cluster.waitForLeader();
   * const client = new KvClient(cluster, { name: 'c' });
   * await cluster.runUntilSettled(client.put('x', { n: 1 }));
   * ```
   */
  put(key: string, value: unknown): Promise<KvOutcome> {
    return this.run({ op: 'put', key, value });
  }

  /**
   * Removes `key`.
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 6, stateMachine: () => new KeyValueStore() });
   * await cluster.waitForLeader();
   * const client = new KvClient(cluster, { name: 'c' });
   * await cluster.runUntilSettled(client.delete('x'));
   * ```
   */
  delete(key: string): Promise<KvOutcome> {
    return this.run({ op: 'delete', key });
  }

  /**
   * Sets `key` to `value` if it holds `expected` (undefined: absent); the output says whether it did.
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 7, stateMachine: () => new KeyValueStore() });
   * await cluster.waitForLeader();
   * const client = new KvClient(cluster, { name: 'c' });
   * console.log(await cluster.runUntilSettled(client.cas('x', undefined, 1))); // { status: 'ok', output: true }
   * ```
   */
  cas(key: string, expected: unknown, value: unknown): Promise<KvOutcome> {
    return this.run({ op: 'cas', key, expected, value });
  }

  /**
   * Runs any {@link KvInput} and records it; resolves with how it ended (never rejects).
   *
   * @example
   * ```ts
   * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
   * import { KvClient } from 'raftkit/testing';
   * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({ size: 3, seed: 8, stateMachine: () => new KeyValueStore() });
   * await cluster.waitForLeader();
   * const client = new KvClient(cluster, { name: 'c' });
   * await cluster.runUntilSettled(client.run({ op: 'put', key: 'x', value: 1 }));
   * console.log(await cluster.runUntilSettled(client.run({ op: 'get', key: 'x' }, { read: 'lease' }))); // { status: 'ok', output: 1 }
   * ```
   */
  async run(input: KvInput, options: { readonly read?: ReadConsistency } = {}): Promise<KvOutcome> {
    const read = input.op === 'get' ? readMode(options.read ?? this.#read) : undefined;
    const pending = this.recorder.invoke(this.#name, input);
    this.#inFlight++;
    if (this.#useSession && read === undefined) this.#openSession();
    const session = read === undefined ? this.#session : null;
    const tag = session?.next();
    let outcome: KvOutcome = { status: 'fail' };
    try {
      for (let attempt = 0; ; attempt++) {
        const result = await this.#attempt(this.#pick(), input, read, tag);
        if (result.kind === 'ok') {
          outcome = { status: 'ok', output: result.output };
          break;
        }
        if (result.kind === 'refused') this.#hint = result.leader;
        else {
          outcome = { status: 'info' }; // it may have happened; a later refusal does not undo that
          this.#hint = null;
          if (result.error instanceof SessionExpiredError && this.#session === session) this.#session = null;
        }
        // A read has no effect and a tagged write takes effect once: both may go again; an untagged write only after a refusal.
        const again = result.kind === 'refused' || read !== undefined || tag !== undefined;
        if (!again || attempt >= this.#retries) break;
        if (result.kind !== 'refused' || result.leader === null) await this.#wait(RETRY_DELAY_MS);
      }
    } finally {
      if (tag !== undefined) session?.done(tag.seq);
      this.#inFlight--;
    }
    if (outcome.status === 'ok') pending.ok(outcome.output);
    else if (outcome.status === 'fail') pending.fail();
    else pending.info();
    return outcome;
  }

  /** The node for the next attempt: the hinted leader (mostly), or any live node. */
  #pick(): NodeId {
    const live = this.#cluster.liveIds;
    const ids = live.length > 0 ? live : this.#cluster.ids;
    const hint = this.#hint;
    if (hint !== null && ids.includes(hint) && this.#random.next() < this.#followHint) return hint;
    return pick(this.#random, ids);
  }

  /** Resolves after `ms` of cluster time. */
  #wait(ms: number): Promise<void> {
    return new Promise((resolve) => this.#cluster.schedule(ms, resolve));
  }

  /** One attempt on node `id`, settled by its answer or, after `timeoutMs` of cluster time, as unknown. */
  #attempt(id: NodeId, input: KvInput, read: ReadConsistency | undefined, tag: SessionTag | undefined): Promise<Attempt> {
    const cluster = this.#cluster;
    const timeoutMs = this.#timeoutMs;
    return new Promise<Attempt>((resolve) => {
      let settled = false;
      const settle = (attempt: Attempt): void => {
        if (settled) return;
        settled = true;
        cancel();
        resolve(attempt);
      };
      const cancel = cluster.schedule(timeoutMs, () => settle({ kind: 'unknown', error: undefined }));
      // The node's own timeout, on its clock, in whole ms (its answer is bounded by the one above anyway).
      const nodeTimeoutMs = Math.max(1, Math.round(timeoutMs));
      cluster.request(id, (node) => call(cluster, id, node, input, read, tag, nodeTimeoutMs)).then(
        (output) => settle({ kind: 'ok', output }),
        (error: unknown) =>
          settle(
            error instanceof NotLeaderError ? { kind: 'refused', leader: error.leaderId } : error instanceof TransferError ? { kind: 'refused', leader: null } : { kind: 'unknown', error },
          ),
      );
    });
  }

  /** Opens the session through the leader, in the background; until then writes go without one. */
  #openSession(): void {
    if (this.#session !== null || this.#opening) return;
    const leader = this.#cluster.leader();
    if (leader === undefined) return;
    this.#opening = true;
    this.#cluster.request(leader, (node) => node.openSession()).then(
      (session) => {
        this.#session = session;
        this.#opening = false;
      },
      () => (this.#opening = false),
    );
  }
}

/** Does `input` on `node` (the current incarnation of `id`), resolving with the history's output. */
function call(cluster: KvCluster, id: NodeId, node: KvNode, input: KvInput, read: ReadConsistency | undefined, tag: SessionTag | undefined, timeoutMs: number): unknown {
  if (read === undefined || read === 'log') {
    const command = input as KeyValueCommand;
    return node.propose(command, { timeoutMs, ...(tag !== undefined && { session: tag }) }).then(({ result }) => (input.op === 'get' ? result.previous : input.op === 'cas' ? result.ok : undefined));
  }
  const store = storeOf(cluster, id); // this incarnation's: a restart meanwhile must not answer for it
  if (read === 'stale') return store.get(input.key);
  return node.read({ timeoutMs, lease: read === 'lease' }).then(() => store.get(input.key));
}

function storeOf(cluster: KvCluster, id: NodeId): { get(key: string): unknown } {
  const machine = cluster.stateMachine(id) as { get?: unknown } | undefined;
  if (typeof machine?.get !== 'function') throw new TypeError(`KvClient: node ${id}'s state machine has no get(key): give the Cluster KeyValueStores`);
  return machine as { get(key: string): unknown };
}

const READ_MODES: ReadonlySet<unknown> = new Set(['index', 'lease', 'log', 'stale']);

/** `mode`, checked. */
export function readMode(mode: ReadConsistency): ReadConsistency {
  if (!READ_MODES.has(mode)) throw new RangeError(`KvClient: read must be 'index', 'lease', 'log' or 'stale', got ${JSON.stringify(mode)}`);
  return mode;
}
