/**
 * A Jepsen-style test of what clients see: several clients run key-value operations against a
 * simulated cluster while a nemesis partitions, cuts, crashes, restarts and flaps nodes,
 * transfers leadership, and makes the network lose, duplicate, reorder and delay messages. Every
 * operation goes into a history (invoke, complete, ok / fail / info), which the checker decides.
 *
 * A client records `fail` only for an answer that says the operation did not take effect
 * (NotLeaderError, TransferError): exactly the answers that must be true. Every other failure is
 * `info`: the operation may have taken effect at any point after its invocation, or never.
 */
import { KeyValueStore, type KeyValueCommand, type KeyValueResult } from '../../src/kv/key-value-store.js';
import type { RaftNode } from '../../src/node/raft-node.js';
import { NotLeaderError, TransferError } from '../../src/raft/errors.js';
import type { ClientSession, SessionTag } from '../../src/raft/sessions.js';
import { Cluster } from '../../src/sim/cluster.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { checkKvHistory, describeHistory, type CheckResult, type KvOp, type Operation } from './linearizability.js';

type KvNode = RaftNode<KeyValueCommand, KeyValueResult>;

export interface HistoryRun {
  readonly seed: number;
  /** What the run was made of (for the failure message). */
  readonly setup: string;
  readonly history: Operation[];
  readonly result: CheckResult;
  /** The nemesis' actions, in order, with their virtual times. */
  readonly faults: string[];
}

const KEYS = ['a', 'b', 'c'];

/** Lets promise callbacks (a node's answers, a client's next step) run between slices of virtual time. */
async function hop(): Promise<void> {
  for (let i = 0; i < 8; i++) await Promise.resolve();
}

/** Runs one seeded history: the same seed gives the same run, byte for byte. */
export async function runHistory(seed: number, options: { durationMs?: number; diskLatencyMs?: readonly [number, number] } = {}): Promise<HistoryRun> {
  const random = new SeededRandom(`history:${seed}`);
  const size = random.pick([3, 3, 5]);
  const forwarding = random.pick(['none', 'some', 'all'] as const);
  const snapshotThreshold = random.pick([0, 4, 16]);
  const lease = random.next() < 0.5;
  const stores = new Map<string, KeyValueStore>();
  const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
    size,
    seed,
    network: { latencyMs: [1, 8], duplicateRate: 0.1 },
    ...(options.diskLatencyMs && { diskLatencyMs: options.diskLatencyMs }),
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store);
      return store;
    },
    nodeOptions: (id) => ({
      snapshotThreshold,
      snapshotChunkSize: 64,
      forwardProposals: forwarding === 'all' || (forwarding === 'some' && Number(id) % 2 === 1),
    }),
  });
  for (const node of cluster.nodes) node.on('error', () => undefined);
  const setup = `${size} nodes, forwarding ${forwarding}, snapshots every ${snapshotThreshold || 'never'}, ${lease ? 'lease and ReadIndex' : 'ReadIndex'} reads`;
  const history: Operation[] = [];
  const faults: string[] = [];
  const durationMs = options.durationMs ?? 5_000;
  await cluster.waitForLeader();

  // ── Clients ──────────────────────────────────────────────────────────────────────────────
  const clients = random.int(3, 6);
  let written = 0;
  const busy = new Set<number>();
  /** Each client's session, for the clients that retry in one (half of them, once opened). */
  const sessions = new Map<number, ClientSession>();
  const pickNode = (hint: string | null): { id: string; node: KvNode } => {
    const live = cluster.liveIds;
    const id = hint !== null && live.includes(hint) && random.next() < 0.7 ? hint : random.pick(live.length > 0 ? live : cluster.ids);
    return { id, node: cluster.node(id) };
  };
  const hints = new Map<number, string | null>();

  const step = (client: number): void => {
    busy.add(client);
    const record: { -readonly [K in keyof Operation]: Operation[K] } = { client, invoke: cluster.now, complete: undefined, status: 'info', op: { f: 'get', key: 'a' } };
    const finish = (status: Operation['status'], output?: unknown): void => {
      record.status = status;
      record.complete = cluster.now;
      if (output !== undefined || record.op.f === 'get') record.output = output;
      busy.delete(client);
    };
    const outcomeOf = (error: unknown): Operation['status'] => {
      if (error instanceof NotLeaderError) hints.set(client, error.leaderId);
      return error instanceof NotLeaderError || error instanceof TransferError ? 'fail' : 'info';
    };
    history.push(record);
    const key = random.pick(KEYS);
    const { id, node } = pickNode(hints.get(client) ?? null);
    const roll = random.next();
    if (roll < 0.4) {
      // A read without the log (ReadIndex, or a lease), then the replica's state once it applied the index.
      record.op = { f: 'get', key };
      const store = stores.get(id);
      node.read({ timeoutMs: 500, lease: lease && random.next() < 0.5 }).then(
        () => finish('ok', store?.get(key)),
        (error: unknown) => finish(outcomeOf(error)),
      );
      return;
    }
    let command: KeyValueCommand;
    if (roll < 0.5) {
      command = { op: 'get', key }; // a read through the log
      record.op = { f: 'get', key };
    } else if (roll < 0.75) {
      const value = ++written;
      command = { op: 'put', key, value };
      record.op = { f: 'put', key, value };
    } else if (roll < 0.85) {
      command = { op: 'delete', key };
      record.op = { f: 'delete', key };
    } else {
      const expected = random.next() < 0.3 ? undefined : random.int(Math.max(1, written - 3), Math.max(1, written));
      const value = ++written;
      command = { op: 'cas', key, expected, value };
      record.op = { f: 'cas', key, expected, value };
    }
    const output = (result: KeyValueResult): unknown => (command.op === 'get' ? result.previous : command.op === 'cas' ? result.ok : undefined);
    const session = sessions.get(client);
    if (session === undefined) {
      node.propose(command, { timeoutMs: 500 }).then(
        ({ result }) => finish('ok', output(result)),
        (error: unknown) => finish(outcomeOf(error)),
      );
      return;
    }
    // A client with a session retries an unknown outcome, with the same tag, on another node.
    const tag = session.next();
    const attempt = (left: number, target: KvNode, definite: boolean): void => {
      target.propose(command, { timeoutMs: 500, session: tag }).then(
        ({ result }) => {
          session.done(tag.seq);
          finish('ok', output(result));
        },
        (error: unknown) => {
          const status = outcomeOf(error);
          // Refused for certain, every time so far: it never took effect.
          const stillDefinite = definite && status === 'fail';
          if (left === 0) {
            session.done(tag.seq);
            return finish(stillDefinite ? 'fail' : 'info');
          }
          retries.push(() => attempt(left - 1, pickNode(hints.get(client) ?? null).node, stillDefinite));
        },
      );
    };
    attempt(3, node, true);
  };
  const retries: Array<() => void> = [];
  const openSessions = (): void => {
    for (let client = 0; client < clients; client++) {
      if (client % 2 === 1 || sessions.has(client)) continue;
      const leader = cluster.leader();
      if (leader === undefined) return;
      cluster.node(leader).openSession().then((s) => sessions.set(client, s), () => undefined);
    }
  };

  // ── Nemesis ──────────────────────────────────────────────────────────────────────────────
  const crashed = (): string[] => cluster.ids.filter((id) => !cluster.liveIds.includes(id));
  /** Filters the nemesis added (slow nodes), removed when it heals the network. */
  const filters: Array<() => void> = [];
  const say = (what: string): void => void faults.push(`${cluster.now.toFixed(1)} ${what}`);
  /** Faults due later (a flapping node's restarts). */
  const later: Array<{ at: number; fault: () => void }> = [];
  /** Crash and restart at once, with messages to and from the old incarnation still in flight. */
  const flap = (victim: string): void => {
    cluster.crash(victim);
    cluster.restart(victim);
    say(`flap ${victim}`);
  };
  /** A slow node: what is sent to it is held back, each message by its own delay (its answers come late, out of order; its state lags). */
  const slow = (victim: string): void => {
    const delayMs = random.int(50, 400);
    filters.push(cluster.network.filter((_m, _from, to) => (to === victim ? { delayMs: random.int(0, delayMs) } : 'deliver')));
    say(`slow ${victim} (up to ${delayMs} ms)`);
  };
  const shuffled = (): string[] => [...cluster.ids].sort(() => random.next() - 0.5);
  const faultKinds: Array<[weight: number, fault: () => void]> = [
    [2, () => {
      // Random halves: a minority (maybe with the leader) and the rest.
      const ids = shuffled().slice(0, random.int(1, Math.floor(cluster.ids.length / 2)));
      cluster.partition(ids);
      say(`partition ${ids.join(',')} | rest`);
    }],
    [1, () => {
      // A bridge: two halves that both see one node in the middle.
      const [middle, ...rest] = shuffled();
      const half = rest.slice(0, Math.floor(rest.length / 2));
      for (const a of half) for (const b of rest.filter((x) => !half.includes(x))) {
        cluster.network.cut(a, b);
        cluster.network.cut(b, a);
      }
      say(`bridge through ${middle}`);
    }],
    [1, () => {
      const [from, to] = shuffled();
      cluster.network.cut(from!, to!);
      say(`cut ${from} → ${to}`);
    }],
    [2, () => {
      if (crashed().length >= Math.floor((cluster.ids.length - 1) / 2) || cluster.liveIds.length === 0) return;
      const victim = random.pick(cluster.liveIds);
      cluster.crash(victim);
      say(`crash ${victim}`);
    }],
    [1, () => {
      for (const id of crashed()) cluster.restart(id);
      say('restart all');
    }],
    [2, () => {
      if (cluster.liveIds.length > 0) flap(random.pick(cluster.liveIds));
    }],
    [3, () => {
      // A flapping node: restarted again and again, each incarnation young, answers to the older ones in flight.
      const victim = random.pick(cluster.ids);
      let at = cluster.now;
      for (let i = random.int(2, 4); i > 0; i--) later.push({ at: (at += random.int(10, 80)), fault: () => flap(victim) });
      say(`flapping ${victim}`);
      if (random.next() < 0.8) slow(victim);
    }],
    [2, () => {
      // The leader hands over to a node cut off from it while the network duplicates and delays
      // messages: copies of one request reach it before and after the transfer gives up.
      const leader = cluster.leader();
      if (leader === undefined) return;
      const target = random.pick(cluster.ids.filter((id) => id !== leader));
      cluster.network.configure({ duplicateRate: 0.5, latencyMs: [5, 600] });
      cluster.network.cut(leader, target);
      cluster.node(leader).transferLeadership(target).catch(() => undefined);
      say(`stalled transfer from ${leader} to ${target}, duplicating and delaying`);
    }],
    [3, () => {
      // A transfer to any voter; cut off from the leader, the target cannot take over, and the leader gives up.
      const leader = cluster.leader();
      if (leader === undefined) return;
      const target = random.pick(cluster.ids.filter((id) => id !== leader));
      const stall = random.next() < 0.5;
      if (stall) cluster.network.cut(leader, target);
      cluster.node(leader).transferLeadership(target).catch(() => undefined);
      say(`transfer from ${leader} to ${target}${stall ? ' (cut off)' : ''}`);
    }],
    [2, () => slow(random.pick(cluster.ids))],
    [2, () => {
      const conditions = { dropRate: random.pick([0, 0.05, 0.2]), duplicateRate: random.pick([0, 0.2, 0.5]), reorder: random.next() < 0.5 };
      cluster.network.configure(conditions);
      say(`network ${JSON.stringify(conditions)}`);
    }],
    [1, () => {
      const latencyMs = random.pick([[1, 8], [5, 60], [1, 200], [10, 400], [10, 800]] as const);
      cluster.network.configure({ latencyMs });
      say(`latency ${latencyMs.join('–')} ms`);
    }],
    [3, () => {
      cluster.heal();
      for (const remove of filters.splice(0)) remove();
      say('heal');
    }],
  ];
  const totalWeight = faultKinds.reduce((sum, [weight]) => sum + weight, 0);
  const nemesis = (): void => {
    let roll = random.next() * totalWeight;
    for (const [weight, fault] of faultKinds) if ((roll -= weight) < 0) return fault();
  };

  // ── The run ──────────────────────────────────────────────────────────────────────────────
  const end = cluster.now + durationMs;
  let nextFault = cluster.now + random.int(50, 300);
  openSessions();
  while (cluster.now < end) {
    if (cluster.now >= nextFault) {
      nemesis();
      nextFault = cluster.now + random.int(20, 250);
    }
    for (let i = 0; i < later.length; i++) {
      if (later[i]!.at <= cluster.now) later.splice(i--, 1)[0]!.fault();
    }
    if (random.next() < 0.05) openSessions();
    for (const retry of retries.splice(0)) retry();
    for (let client = 0; client < clients; client++) if (!busy.has(client) && random.next() < 0.6) step(client);
    await cluster.run(random.int(1, 4));
    await hop();
  }
  // Heal everything and let what is in flight finish; what never does stays `info`.
  cluster.heal();
  for (const remove of filters.splice(0)) remove();
  cluster.network.configure({ dropRate: 0, duplicateRate: 0, reorder: false, latencyMs: [1, 8] });
  for (const id of crashed()) cluster.restart(id);
  for (let t = 0; t < 3_000 && (busy.size > 0 || retries.length > 0); t += 10) {
    for (const retry of retries.splice(0)) retry();
    await cluster.run(10);
    await hop();
  }
  cluster.checkInvariants();
  return { seed, setup, history, result: checkKvHistory(history), faults };
}

/** A failure message that replays: the seed, the set-up, the checker's reason, the key's history and the faults. */
export function explain(run: HistoryRun): string {
  if (run.result.ok === true) return `seed ${run.seed}: linearizable`;
  if (run.result.ok === 'unknown') return `seed ${run.seed}: the checker ran out of budget`;
  return [
    `seed ${run.seed} (${run.setup}): not linearizable on key ${run.result.key}: ${run.result.reason}`,
    describeHistory(run.result.ops),
    'faults:',
    ...run.faults,
  ].join('\n');
}

export type { KvOp, SessionTag };
