/**
 * Network faults between `raftkit serve` processes. Three processes on loopback, each told to
 * reach every peer through a fault-injecting proxy of the tests' own (test/support/tcp-proxy.ts):
 * node X reaches Y at proxy(X→Y), which carries X's messages to Y and nothing else. With
 * pre-vote and check-quorum (on by default):
 * - a follower partitioned away and healed never deposes the leader, and no term moves;
 * - a leader cut off from the majority steps down, the majority elects another and keeps
 *   taking writes, and once healed the old leader follows the new one;
 * - with the leader's messages to one follower blocked (only that way), the leader stays and
 *   the cluster keeps committing;
 * - under delays and dropped connections, writes commit and the history stays linearizable.
 * Clients record every operation through the HTTP API (they are never cut off): every
 * history must be linearizable, and every acknowledged write readable at the end. Every process
 * is stopped by its PID in afterAll, whatever happened.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/runtime/random.js';
import { TcpProxy } from '../support/tcp-proxy.js';
import { agreedLeader, freePorts, Processes, ServeProcess, sleep, until, Workload, type Status } from './serve-cluster.js';

const DEEP = process.env.RAFTKIT_DEEP === '1';
/** How long a fault is held: many election timeouts (300–600 ms). */
const HOLD_MS = DEEP ? 10_000 : 3_000;
/** A failing test fails, rather than hangs (they take 5–15 s). */
const TEST_TIMEOUT_MS = DEEP ? 180_000 : 60_000;
const SEED = Number(process.env.RAFTKIT_SEED ?? 20261207);

const processes = new Processes();
let proxy: TcpProxy;
let servers: ServeProcess[] = [];
const byId = (id: string): ServeProcess => servers.find((s) => s.id === id) as ServeProcess;

beforeAll(async () => {
  await processes.setUp('raftkit-faults-');
  const ids = ['1', '2', '3'];
  const ports = await freePorts(6);
  const raft = Object.fromEntries(ids.map((id, i) => [id, ports[i] as number]));
  proxy = await TcpProxy.start(raft);
  servers = ids.map((id, i) => {
    const listen = `127.0.0.1:${raft[id]}`;
    const http = `127.0.0.1:${ports[3 + i]}`;
    return new ServeProcess(id, `http://${http}`, raft[id] as number, ['--id', id, '--peers', proxy.peersOf(id, listen), '--listen', listen, '--data', join(processes.work, `data-${id}`), '--http', http]);
  });
  servers.forEach((s) => processes.start(s));
  await until('a first leader', () => agreedLeader(servers), 15_000);
});

afterAll(async () => {
  await processes.stopAll();
  await proxy?.close();
});

// Whatever a test left behind, the next starts from a healed network and a settled cluster.
afterEach(async () => {
  proxy.heal();
  await until('a settled cluster after the test', () => agreedLeader(servers), 15_000);
});

/** Every node's status, polled every 100 ms for `ms`; undefined where a node did not answer. */
async function watchStatuses(ms: number, nodes: readonly ServeProcess[]): Promise<Array<Array<Status | undefined>>> {
  const samples: Array<Array<Status | undefined>> = [];
  const end = performance.now() + ms;
  while (performance.now() < end) {
    samples.push(await Promise.all(nodes.map((s) => s.status())));
    await sleep(100);
  }
  return samples;
}

/** One line per sample: each node's role, term and leader. */
const describeSamples = (samples: Array<Array<Status | undefined>>): string =>
  samples.map((row, i) => `${i}: ${row.map((s) => (s === undefined ? '-' : `${s.id}:${s.role}@${s.term}→${s.leader} applied ${s.applied}`)).join('  ')}`).join('\n');

/** Whether node `column` applied nothing from the 5th sample on (what was in flight at the cut has landed by then). */
const frozen = (samples: Array<Array<Status | undefined>>, column: number): boolean =>
  new Set(samples.slice(5).map((row) => row[column]?.applied)).size === 1;

async function expectVerified(workload: Workload, minAcknowledged: number, note = ''): Promise<void> {
  const { linearizable, lost, acknowledged, operations } = await workload.verify(servers);
  console.info(`${expect.getState().currentTestName}: ${acknowledged} acknowledged writes, all read back, in ${operations} operations${note}`);
  expect(linearizable === true, `not linearizable (${operations} operations): ${String(linearizable)}\n${servers.map((s) => s.tail()).join('\n')}`).toBe(true);
  expect(lost, 'acknowledged writes not read back').toEqual([]);
  expect(acknowledged, `${acknowledged} acknowledged writes of ${operations} operations`).toBeGreaterThanOrEqual(minAcknowledged);
}

describe('raftkit serve, three processes behind a fault-injecting proxy', () => {
  it('a follower partitioned away and healed does not depose the leader: no term moves, on either side', async () => {
    const { leader, term } = await until('a leader', () => agreedLeader(servers));
    const [lonely, other] = servers.filter((s) => s !== leader) as [ServeProcess, ServeProcess];
    const workload = new Workload(() => [leader, other], 4, SEED).start();

    proxy.partition([[lonely.id], [leader.id, other.id]]);
    const during = await watchStatuses(HOLD_MS, [leader, other, lonely]);
    const cutOff = workload.now();
    const majority = during.map((row) => row.slice(0, 2));
    expect(majority.flat().every((s) => s?.term === term && s.leader === leader.id), `the majority side keeps leader ${leader.id} in term ${term}\n${describeSamples(during)}`).toBe(true);
    // Pre-vote: the lonely node's elections never reach a vote, so even its term stays.
    expect(during.every((row) => row[2]?.term === term && row[2].role !== 'leader'), `node ${lonely.id}'s term stays ${term}\n${describeSamples(during)}`).toBe(true);
    expect(workload.acknowledged(), 'writes commit on the majority side meanwhile').toBeGreaterThan(10);
    expect(frozen(during, 2), `the partition is real: node ${lonely.id} applies nothing while it lasts\n${describeSamples(during)}`).toBe(true);

    proxy.heal();
    const { applied } = (await leader.status()) as Status;
    await until(`node ${lonely.id} to catch up`, async () => ((await lonely.status())?.applied ?? 0) >= applied || undefined);
    const after = await watchStatuses(1_500, servers);
    expect(after.flat().every((s) => s?.term === term && s.leader === leader.id), `after the heal: leader ${leader.id}, term ${term}\n${describeSamples(after)}`).toBe(true);
    expect(workload.acknowledged(cutOff), 'writes commit after the heal').toBeGreaterThan(5);
    await expectVerified(workload, 20);
  }, TEST_TIMEOUT_MS);

  it('a leader cut off from the majority steps down; the majority elects a new leader and takes writes; healed, the old leader follows', async () => {
    const { leader: old, term } = await until('a leader', () => agreedLeader(servers));
    const majority = servers.filter((s) => s !== old);
    const workload = new Workload(() => servers, 4, SEED + 1).start();

    proxy.partition([[old.id], majority.map((s) => s.id)]);
    const cut = performance.now();
    // Check-quorum: it notices within an election timeout or two (300–600 ms); allow far more.
    await until(`old leader ${old.id} to step down`, async () => { const s = await old.status(); return s !== undefined && s.role !== 'leader' ? s : undefined; }, 5_000);
    const steppedDownMs = performance.now() - cut;
    const next = await until('a new leader on the majority side', async () => {
      const statuses = await Promise.all(majority.map((s) => s.status()));
      const leader = statuses.find((s) => s?.role === 'leader' && s.term > term);
      return leader !== undefined && statuses.every((s) => s?.leader === leader.id && s.term === leader.term) ? leader : undefined;
    }, 10_000);
    const since = workload.now();
    const during = await watchStatuses(HOLD_MS, servers);
    expect(during.every((row) => row[servers.indexOf(old)]?.role !== 'leader'), `the old leader never leads again while cut off\n${describeSamples(during)}`).toBe(true);
    expect(workload.acknowledged(since), 'writes commit on the majority side').toBeGreaterThan(10);

    proxy.heal();
    await until(`old leader ${old.id} to follow ${next.id}`, async () => {
      const s = await old.status();
      return s?.role === 'follower' && s.leader === next.id && s.term === next.term ? s : undefined;
    }, 10_000);
    const { leader: final } = await until('a settled cluster', () => agreedLeader(servers));
    expect(final.id, 'the new leader stays after the heal').toBe(next.id);
    expect(steppedDownMs).toBeLessThan(5_000);
    await expectVerified(workload, 20, `; the old leader stepped down after ${Math.round(steppedDownMs)} ms, node ${next.id} leads term ${next.term}`);
  }, TEST_TIMEOUT_MS);

  it('with only the leader→follower direction cut, the leader stays and the cluster keeps committing', async () => {
    const { leader, term } = await until('a leader', () => agreedLeader(servers));
    const [deaf, other] = servers.filter((s) => s !== leader) as [ServeProcess, ServeProcess];
    // Clients stay off the deaf node: it cannot answer them (it hears nothing from the leader).
    const workload = new Workload(() => [leader, other], 4, SEED + 2).start();

    proxy.cut(leader.id, deaf.id); // the follower hears nothing from the leader; all else flows
    const before = ((await leader.status()) as Status).commit;
    const since = workload.now();
    const during = await watchStatuses(HOLD_MS, [leader, other, deaf]);
    expect(during.map((row) => row.slice(0, 2)).flat().every((s) => s?.term === term && s.leader === leader.id), `leader ${leader.id} stays in term ${term}\n${describeSamples(during)}`).toBe(true);
    // It times out and asks for pre-votes, which the leader and the other follower refuse: no term moves.
    expect(during.every((row) => row[2]?.term === term), `node ${deaf.id}'s term stays ${term}\n${describeSamples(during)}`).toBe(true);
    expect(((await leader.status()) as Status).commit, 'the commit index moves').toBeGreaterThan(before + 10);
    expect(frozen(during, 2), `the cut is real: node ${deaf.id} applies nothing while it lasts\n${describeSamples(during)}`).toBe(true);
    expect(workload.acknowledged(since)).toBeGreaterThan(10);

    proxy.heal();
    const { applied } = (await leader.status()) as Status;
    await until(`node ${deaf.id} to catch up`, async () => ((await deaf.status())?.applied ?? 0) >= applied || undefined);
    const { leader: final, term: finalTerm } = await until('a settled cluster', () => agreedLeader(servers));
    expect([final.id, finalTerm]).toEqual([leader.id, term]);
    await expectVerified(workload, 20);
  }, TEST_TIMEOUT_MS);

  it(`under delays and dropped connections, writes commit and the history is linearizable (seed ${SEED})`, async () => {
    const random = new SeededRandom(SEED);
    const workload = new Workload(() => servers, 5, SEED + 3).start();
    const counts = { delays: 0, drops: 0, oneWay: 0, dropped: 0 };
    const end = performance.now() + (DEEP ? 30_000 : 6_000);
    const ids = servers.map((s) => s.id);
    const connections = (): number => ids.flatMap((from) => ids.filter((to) => to !== from).map((to) => proxy.accepted(from, to))).reduce((a, b) => a + b, 0);
    const connectionsBefore = connections();
    const pair = (): [string, string] => {
      const from = ids[random.int(0, 2)] as string;
      const to = ids.filter((id) => id !== from)[random.int(0, 1)] as string;
      return [from, to];
    };
    while (performance.now() < end) {
      const roll = random.int(0, 9);
      if (roll < 4) {
        // A slow link (one way): tens of ms, jittered, under the election timeout.
        const [from, to] = pair();
        proxy.delay(from, to, random.int(5, 60), random.int(0, 40));
        counts.delays++;
      } else if (roll < 8) {
        // Connections closed under the nodes' feet, mid-frame or not.
        const [from, to] = pair();
        counts.dropped += proxy.drop(from, to);
        counts.drops++;
      } else {
        // A short one-way outage, its connections closed on arrival.
        const [from, to] = pair();
        proxy.cut(from, to, 'close');
        await sleep(random.int(100, 400));
        proxy.heal();
        proxy.delayAll(random.int(0, 20), random.int(0, 20));
        counts.oneWay++;
      }
      await sleep(random.int(100, 400));
    }
    proxy.heal();
    await until('a settled cluster after the faults', () => agreedLeader(servers), 15_000);
    expect(counts.delays + counts.drops + counts.oneWay).toBeGreaterThan(10);
    const reconnections = connections() - connectionsBefore;
    // (A node redials a dropped connection when it next has something to send: a follower seldom does to another.)
    expect(counts.dropped, 'connections were dropped').toBeGreaterThan(0);
    expect(reconnections, 'the nodes reconnected after the drops').toBeGreaterThan(0);
    await expectVerified(workload, 50, `; ${counts.delays} delays, ${counts.drops} drops (${counts.dropped} connections closed), ${counts.oneWay} one-way outages, ${reconnections} connections through the proxy`);
  }, TEST_TIMEOUT_MS);
});
