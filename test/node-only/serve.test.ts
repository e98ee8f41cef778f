/**
 * `raftkit serve` across real processes on loopback. Three servers, each its own process with
 * its own data directory; clients record a Jepsen-style history of puts, gets and
 * compare-and-sets through the HTTP API while a nemesis kills the leader, a follower, or two nodes
 * at once (`kill -9`) and restarts them, or pauses a node (SIGSTOP, then SIGCONT). The history
 * must be linearizable, and so every acknowledged write survives. 5 rounds here, 100 under
 * `npm run test:deep`. Every process started is stopped by its PID, even when a check fails.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SeededRandom } from '../../src/runtime/random.js';
import { checkKvHistory, describeHistory, type KvOp, type Operation } from '../support/linearizability.js';
import { connect } from 'node:net';
import { freePorts, request, sleep, until } from './serve-cluster.js';

const ROUNDS = process.env.RAFTKIT_DEEP === '1' ? 100 : 5;
const SEED = Number(process.env.RAFTKIT_SEED ?? 20261203);
const KEYS = ['a', 'b', 'c'];
const CLIENTS = 5;

let work = '';
let cli = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'raftkit-serve-'));
  cli = join(work, 'cli.mjs');
  await build({ entryPoints: [new URL('../../src/cli.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: cli, logLevel: 'silent' });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // only the ones this file started (a stopped one too)
  await rm(work, { recursive: true, force: true });
});

interface Server {
  readonly id: string;
  readonly http: string;
  child: ChildProcess | null;
  stderr: string[];
  exited: Promise<number | string> | null;
}

/** Asks `server` for its status; undefined when it does not answer. */
async function statusOf(server: Server): Promise<{ role: string; term: number; leader: string | null } | undefined> {
  try {
    const response = await fetch(`${server.http}/status`, { signal: AbortSignal.timeout(500) });
    return (await response.json()) as { role: string; term: number; leader: string | null };
  } catch {
    return undefined;
  }
}

describe('raftkit serve, three processes', () => {
  it(`keeps a linearizable history through ${ROUNDS} rounds of kill -9, restarts and pauses (seed ${SEED})`, async () => {
    const random = new SeededRandom(SEED);
    const ports = await freePorts(6);
    const ids = ['1', '2', '3'];
    const peers = ids.map((id, i) => `${id}=127.0.0.1:${ports[i]}`).join(',');
    const servers: Server[] = ids.map((id, i) => ({ id, http: `http://127.0.0.1:${ports[3 + i]}`, child: null, stderr: [], exited: null }));
    const start = (server: Server): void => {
      const child = spawn(process.execPath, [cli, 'serve', '--id', server.id, '--peers', peers, '--data', join(work, `data-${server.id}`), '--http', server.http.slice('http://'.length), '--election-timeout', '300-600'], { stdio: ['ignore', 'ignore', 'pipe'] });
      children.add(child);
      server.child = child;
      child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
        server.stderr.push(...chunk.split('\n').filter((l) => l !== ''));
        if (server.stderr.length > 50) server.stderr.splice(0, server.stderr.length - 50);
      });
      server.exited = new Promise((resolve) => child.on('exit', (code, signal) => {
        children.delete(child);
        resolve(signal ?? code ?? -1);
      }));
    };
    const kill = async (server: Server): Promise<void> => {
      server.child?.kill('SIGKILL');
      await server.exited;
      server.child = null;
    };
    const leader = async (): Promise<Server | undefined> => {
      for (let i = 0; i < 100; i++) {
        const statuses = await Promise.all(servers.map(async (s) => (s.child === null ? undefined : statusOf(s))));
        const at = statuses.findIndex((s) => s?.role === 'leader');
        if (at >= 0) return servers[at];
        await sleep(50);
      }
      return undefined;
    };
    servers.forEach(start);
    expect(await leader(), 'a first leader').toBeDefined();

    // The clients: each its own sequence of operations, on random keys and random nodes.
    const history: Operation[] = [];
    const t0 = performance.now();
    const now = (): number => Math.round((performance.now() - t0) * 1000) / 1000;
    let stopping = false;
    const client = async (c: number): Promise<void> => {
      const mine = new SeededRandom(SEED * 31 + c);
      for (let n = 0; !stopping; n++) {
        const key = KEYS[mine.int(0, KEYS.length - 1)] as string;
        const server = servers[mine.int(0, servers.length - 1)] as Server;
        const roll = mine.int(0, 9);
        const op: KvOp = roll < 4 ? { f: 'put', key, value: `${c}-${n}` } : roll < 8 ? { f: 'get', key } : { f: 'cas', key, expected: `${mine.int(0, CLIENTS - 1)}-${Math.max(0, n - mine.int(1, 6))}`, value: `${c}-${n}` };
        history.push(await request(c, server, op, now));
        if (server.child === null) await sleep(20);
      }
    };
    const running = Array.from({ length: CLIENTS }, (_, c) => client(c));

    const counts = { leader: 0, follower: 0, two: 0, pause: 0 };
    try {
      for (let round = 1; round <= ROUNDS; round++) {
        await sleep(random.int(300, 700));
        const current = await leader();
        const kind = (['leader', 'follower', 'two', 'pause'] as const)[random.int(0, 3)] as keyof typeof counts;
        counts[kind]++;
        if (kind === 'pause') {
          const victim = servers[random.int(0, 2)] as Server;
          victim.child?.kill('SIGSTOP');
          await sleep(random.int(500, 1500));
          victim.child?.kill('SIGCONT');
          continue;
        }
        const others = servers.filter((s) => s !== current);
        const victims = kind === 'leader' ? [current ?? (servers[0] as Server)] : kind === 'follower' ? [others[random.int(0, others.length - 1)] as Server] : [servers[0], servers[1], servers[2]].filter((_, i) => i !== random.int(0, 2)).slice(0, 2) as Server[];
        await Promise.all(victims.map(kill));
        await sleep(random.int(200, 800));
        victims.forEach(start);
      }
      await sleep(500);
    } finally {
      stopping = true;
      await Promise.all(running);
    }
    expect(await leader(), 'a leader at the end').toBeDefined();
    // Final reads: what every key holds once the cluster is whole.
    for (const key of KEYS) {
      for (let attempt = 0; attempt < 20; attempt++) {
        const read = await request('final', servers[attempt % 3] as Server, { f: 'get', key }, now);
        history.push(read);
        if (read.status === 'ok') break;
      }
    }

    const verdict = checkKvHistory(history);
    const acknowledged = history.filter((o) => o.status === 'ok' && o.op.f !== 'get').length;
    const diagnosis = verdict.ok === false ? `seed ${SEED}, key ${verdict.key}: ${verdict.reason}\n${describeHistory(verdict.ops)}\n${servers.map((s) => `node ${s.id}:\n${s.stderr.slice(-10).join('\n')}`).join('\n')}` : '';
    expect(verdict.ok, diagnosis).toBe(true);
    expect(acknowledged, `${acknowledged} acknowledged writes of ${history.length} operations`).toBeGreaterThan(ROUNDS * 5);
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(ROUNDS);

    // SIGTERM: each shuts down cleanly (exit code 0).
    for (const server of servers) server.child?.kill('SIGTERM');
    expect(await Promise.all(servers.map((s) => s.exited))).toEqual([0, 0, 0]);
  }, 60_000 + ROUNDS * 4_000);
  it('serve: bad flags exit 2 with the reason; the transport and Raft flags reach the node', async () => {
    const [raft, http] = (await freePorts(2)) as [number, number];
    const base = ['serve', '--id', '1', '--peers', `1=127.0.0.1:${raft}`, '--data', join(work, 'flags'), '--http', `127.0.0.1:${http}`, '--sync', 'never'];
    const run = (extra: string[]): Promise<{ code: number | null; stderr: string }> =>
      new Promise((resolve) => {
        const child = spawn(process.execPath, [cli, ...base, ...extra], { stdio: ['ignore', 'ignore', 'pipe'] });
        children.add(child);
        let stderr = '';
        child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
    for (const [flag, value] of [['--max-connections', '0'], ['--heartbeat-interval', 'soon'], ['--handshake-timeout', '-5']] as const) {
      const { code, stderr } = await run([flag, value]);
      expect(code, flag).toBe(2);
      expect(stderr, flag).toContain(flag);
    }
    const child = spawn(process.execPath, [cli, ...base, '--no-pre-vote', '--no-check-quorum', '--heartbeat-interval', '20', '--handshake-timeout', '300', '--max-connections', '2'], { stdio: ['ignore', 'ignore', 'ignore'] });
    children.add(child);
    try {
      const url = `http://127.0.0.1:${http}`;
      await until('a leader', async () => ((await fetch(`${url}/status`).then((r) => r.json()).catch(() => undefined)) as { role?: string } | undefined)?.role === 'leader' || undefined);
      // Silent connections: two are held until the 300 ms handshake timeout closes them; a third is over the limit.
      const opened = Date.now();
      const sockets = [0, 1, 2].map(() => connect(raft, '127.0.0.1').resume()); // (read the refusal, and so see the end)
      const closedAfter = await Promise.all(sockets.map((socket) => new Promise<number>((resolve) => socket.on('close', () => resolve(Date.now() - opened)).on('error', () => undefined))));
      expect(Math.max(...closedAfter)).toBeLessThan(3_000); // the default handshake timeout is 5 s
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(/^raftkit_connections_refused_total\{reason="handshake-timeout"\} 2$/m);
      expect(metrics).toMatch(/^raftkit_connections_refused_total\{reason="too-many-connections"\} 1$/m);
    } finally {
      child.kill('SIGKILL');
    }
  }, 30_000);

  it('serve --local: the nodes it started stop when it is killed (regression: they ran on as orphans)', async () => {
    const [raft, http] = await freePorts(2);
    const parent = spawn(process.execPath, [cli, 'serve', '--local', '2', '--base-port', String(raft), '--http-base-port', String(http), '--data', join(work, 'local'), '--sync', 'never'], { stdio: ['ignore', 'pipe', 'ignore'] });
    children.add(parent);
    const pids: number[] = [];
    try {
      let out = '';
      parent.stdout?.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
      for (let i = 0; i < 200 && pids.length < 2; i++) {
        await sleep(25);
        pids.splice(0, pids.length, ...[...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1])));
      }
      expect(pids).toHaveLength(2);
      const alive = (pid: number): boolean => {
        try {
          process.kill(pid, 0);
          return true;
        } catch {
          return false;
        }
      };
      expect(pids.every(alive)).toBe(true);
      parent.kill('SIGKILL');
      for (let i = 0; i < 200 && pids.some(alive); i++) await sleep(25);
      expect(pids.filter(alive), 'nodes still running after their parent died').toEqual([]);
    } finally {
      for (const pid of pids) {
        try {
          process.kill(pid, 'SIGKILL'); // exactly the nodes this test started, if any survived
        } catch {
          // gone
        }
      }
    }
  }, 30_000);
});
