/**
 * A world of AP replicas for tests: replicas on one InMemoryNetwork over a VirtualScheduler,
 * clients that record a history (with sessions), per-replica probes, and every accepted write
 * (for the last-writer-wins state the replicas must converge to).
 */
import { ApReplica, type ApReplicaOptions } from '../../src/ap/replica.js';
import { ApSession } from '../../src/ap/session.js';
import { SessionBehindError } from '../../src/ap/errors.js';
import type { ApMessage } from '../../src/ap/messages.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork, type NetworkConditions } from '../../src/transport/memory.js';
import { HistoryRecorder } from '../../src/testing/recorder.js';
import { checkConvergence, lastWriterWins, type LwwWrite } from '../../src/testing/convergence.js';
import type { KvInput } from '../../src/testing/kv.js';

export type ReplicaTuning = Partial<Omit<ApReplicaOptions, 'id' | 'peers' | 'transport' | 'scheduler' | 'random'>>;

export class ApWorld {
  readonly scheduler = new VirtualScheduler();
  readonly network: InMemoryNetwork<ApMessage>;
  readonly ids: string[];
  readonly replicas: ApReplica[];
  /** Every write a replica accepted from a client. */
  readonly accepted: LwwWrite[] = [];
  readonly recorder = new HistoryRecorder<KvInput>({ now: () => this.scheduler.now() });
  readonly sessions = new Map<string, ApSession>();
  /** Operations a replica refused because it was behind the session. */
  refused = 0;
  private puts = 0;

  constructor(seed: number | string, nodes: number, conditions: NetworkConditions = { latencyMs: [1, 10] }, tuning: (id: string) => ReplicaTuning = () => ({})) {
    const random = new SeededRandom(seed);
    this.network = new InMemoryNetwork<ApMessage>({ scheduler: this.scheduler, random: random.fork('network'), ...conditions });
    this.ids = Array.from({ length: nodes }, (_, i) => `r${i + 1}`);
    this.replicas = this.ids.map(
      (id) => new ApReplica({ id, peers: this.ids, transport: this.network.transport(id), scheduler: this.scheduler, random: random.fork(id), ...tuning(id) }),
    );
    for (const replica of this.replicas) {
      replica.on('apply', (version, local) => {
        if (local) this.accepted.push({ key: version.key, value: version.value, deleted: version.deleted, hlc: version.hlc });
      });
    }
  }

  replica(index: number): ApReplica {
    return this.replicas[index % this.replicas.length]!;
  }

  session(client: string): ApSession {
    let session = this.sessions.get(client);
    if (session === undefined) this.sessions.set(client, (session = new ApSession()));
    return session;
  }

  /**
   * A client operation at replica `index`, recorded: `ok`, or `fail` when the replica refused the
   * session. A put writes a fresh value. `session: false` runs it outside any session.
   */
  op(client: string, index: number, op: 'get' | 'put' | 'delete', key: string, options: { session?: boolean } = {}): void {
    const replica = this.replica(index);
    const session = options.session === false ? undefined : this.session(client);
    const input: KvInput = op === 'put' ? { op, key, value: `${client}:${++this.puts}` } : { op, key };
    const pending = this.recorder.invoke(client, input);
    try {
      if (input.op === 'put') replica.put(key, input.value, { session });
      else if (input.op === 'delete') replica.delete(key, { session });
      else return pending.ok(replica.get(key, { session }).value);
      pending.ok();
    } catch (error) {
      if (!(error instanceof SessionBehindError)) throw error;
      this.refused++;
      pending.fail();
    }
  }

  /** A read of what replica `index` exposes now, as a session of its own (a replica never goes back). */
  probe(index: number, key: string): void {
    const replica = this.replica(index);
    this.recorder.invoke(`probe ${replica.id}`, { op: 'get', key }).ok(replica.get(key).value);
  }

  /** Whether every replica applied the same writes. */
  sameVectors(): boolean {
    const first = JSON.stringify(this.replicas[0]!.vector);
    return this.replicas.every((r) => JSON.stringify(r.vector) === first);
  }

  /** Runs until every replica applied the same writes; returns whether that happened within `timeoutMs`. */
  settle(timeoutMs: number): boolean {
    return this.scheduler.runUntil(() => this.sameVectors(), { timeoutMs });
  }

  states(): Map<string, Map<string, unknown>> {
    return new Map(this.replicas.map((r) => [r.id, r.state()]));
  }

  /** The convergence verdict against the last-writer-wins state of every accepted write. */
  convergence(): ReturnType<typeof checkConvergence> {
    return checkConvergence(this.states(), { expected: lastWriterWins(this.accepted) });
  }
}
