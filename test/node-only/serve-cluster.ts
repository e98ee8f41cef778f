/**
 * Helpers of the multi-process tests: `raftkit serve` bundled once into a temporary directory,
 * processes started on loopback and stopped by their PIDs (every survivor is SIGKILLed by
 * `stopAll`, and by an exit hook should the worker end without it), their status, metrics and
 * memory, and a recording client that keeps a Jepsen-style history through the HTTP API.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { SeededRandom } from '../../src/runtime/random.js';
import { checkKvHistory, describeHistory, type KvOp, type Operation } from '../support/linearizability.js';

import { freePorts, sleep } from './tcp-support.js';

export { freePorts, sleep };

/** Polls `check` every 50 ms until it returns a value other than undefined; throws after `timeoutMs`. */
export async function until<T>(what: string, check: () => Promise<T | undefined> | T | undefined, timeoutMs = 10_000): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

export interface Status {
  readonly id: string;
  readonly role: string;
  readonly term: number;
  readonly leader: string | null;
  readonly commit: number;
  readonly applied: number;
}

/** One `raftkit serve` process. */
export class ServeProcess {
  child: ChildProcess | null = null;
  readonly stderr: string[] = [];
  exited: Promise<number | string> | null = null;

  constructor(
    readonly id: string,
    /** `http://127.0.0.1:port` */
    readonly http: string,
    readonly raftPort: number,
    /** The arguments after `serve`. */
    readonly args: readonly string[],
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  async status(): Promise<Status | undefined> {
    try {
      const response = await fetch(`${this.http}/status`, { signal: AbortSignal.timeout(1_000) });
      return (await response.json()) as Status;
    } catch {
      return undefined;
    }
  }

  /** `raftkit_connections_refused_total` by reason. */
  async refused(): Promise<Record<string, number>> {
    const text = await (await fetch(`${this.http}/metrics`, { signal: AbortSignal.timeout(2_000) })).text();
    const counts: Record<string, number> = {};
    for (const match of text.matchAll(/^raftkit_connections_refused_total\{reason="([^"]+)"\} (\d+)$/gm)) counts[match[1] as string] = Number(match[2]);
    return counts;
  }

  /** Resident memory in bytes, from /proc/<pid>/status. */
  async rss(): Promise<number> {
    const text = await readFile(`/proc/${this.pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+) kB$/m.exec(text);
    if (match === null) throw new Error(`no VmRSS for pid ${this.pid}`);
    return Number(match[1]) * 1024;
  }

  /** The last lines it logged, for failure messages. */
  tail(n = 15): string {
    return `node ${this.id} (pid ${this.pid}):\n${this.stderr.slice(-n).join('\n')}`;
  }
}

/**
 * The processes of one test file. `start` spawns, `stopAll` SIGKILLs every survivor by its PID
 * (call it in afterAll). Only processes started here are ever signalled.
 */
export class Processes {
  readonly #children = new Set<ChildProcess>();
  readonly #onExit = (): void => {
    for (const child of this.#children) if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      try {
        process.kill(child.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  };
  work = '';
  cli = '';

  /** Makes the temporary directory and bundles the CLI into it. */
  async setUp(prefix: string): Promise<void> {
    process.on('exit', this.#onExit);
    this.work = await mkdtemp(join(tmpdir(), prefix));
    this.cli = join(this.work, 'cli.mjs');
    await build({ entryPoints: [new URL('../../src/cli.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: this.cli, logLevel: 'silent' });
  }

  start(server: ServeProcess): void {
    const child = spawn(process.execPath, [this.cli, 'serve', ...server.args], { stdio: ['ignore', 'ignore', 'pipe'] });
    this.#children.add(child);
    server.child = child;
    child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
      server.stderr.push(...chunk.split('\n').filter((l) => l !== ''));
      if (server.stderr.length > 100) server.stderr.splice(0, server.stderr.length - 100);
    });
    server.exited = new Promise((resolve) =>
      child.on('exit', (code, signal) => {
        this.#children.delete(child);
        resolve(signal ?? code ?? -1);
      }),
    );
  }

  /** SIGKILLs every process started here that is still running, by its PID; removes the directory. */
  async stopAll(): Promise<void> {
    const exits = [...this.#children].map((child) => new Promise<void>((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    }));
    await Promise.all(exits);
    process.off('exit', this.#onExit);
    if (this.work !== '') await rm(this.work, { recursive: true, force: true });
  }
}

/** Three (or more) servers' statuses, once all answer and agree on one leader in one term. */
export async function agreedLeader(servers: readonly ServeProcess[]): Promise<{ leader: ServeProcess; term: number; statuses: Status[] } | undefined> {
  const statuses = await Promise.all(servers.map((s) => s.status()));
  if (statuses.some((s) => s === undefined)) return undefined;
  const all = statuses as Status[];
  const leaders = all.filter((s) => s.role === 'leader');
  if (leaders.length !== 1) return undefined;
  const { id, term } = leaders[0] as Status;
  if (!all.every((s) => s.leader === id && s.term === term)) return undefined;
  return { leader: servers.find((s) => s.id === id) as ServeProcess, term, statuses: all };
}

// ── The recording client ───────────────────────────────────────────────────────────────────

/**
 * Clients that each loop over operations on random nodes (of `targets()`, which may change as
 * faults come and go) until stopped: half of them puts of a key of their own, written once
 * (every acknowledged one must be readable at the end), the rest puts, gets and compare-and-sets
 * on a few shared registers (for the linearizability check). Every operation goes into `history`.
 * Keys are named after the seed, so workloads with different seeds on one cluster never meet.
 */
export class Workload {
  readonly history: Operation[] = [];
  readonly #t0 = performance.now();
  #stopping = false;
  #running: Promise<void>[] = [];
  readonly #registers: string[];

  constructor(
    readonly targets: () => readonly ServeProcess[],
    readonly clients = 4,
    readonly seed = 1,
  ) {
    this.#registers = [0, 1, 2].map((i) => `r${seed}-${i}`);
  }

  now = (): number => Math.round((performance.now() - this.#t0) * 1000) / 1000;

  start(): this {
    this.#running = Array.from({ length: this.clients }, (_, c) => this.#client(c));
    return this;
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    await Promise.all(this.#running);
  }

  /** Writes acknowledged (ok) so far, or since `since` (a time of {@link now}). */
  acknowledged(since = -Infinity): number {
    return this.history.filter((o) => o.status === 'ok' && o.op.f !== 'get' && (o.complete ?? 0) >= since).length;
  }

  async #client(c: number): Promise<void> {
    const random = new SeededRandom(this.seed * 97 + c);
    for (let n = 0; !this.#stopping; n++) {
      const targets = this.targets();
      const server = targets[random.int(0, targets.length - 1)] as ServeProcess;
      const key = this.#registers[random.int(0, this.#registers.length - 1)] as string;
      const roll = random.int(0, 9);
      const value = `${c}-${n}`;
      const op: KvOp =
        roll < 5 ? { f: 'put', key: `w${this.seed}-${c}-${n}`, value } : roll < 7 ? { f: 'put', key, value } : roll < 9 ? { f: 'get', key } : { f: 'cas', key, expected: `${random.int(0, this.clients - 1)}-${Math.max(0, n - random.int(1, 6))}`, value };
      const done = await request(c, server, op, this.now);
      this.history.push(done);
      if (done.status !== 'ok') await sleep(20);
    }
  }

  /**
   * After the faults: reads every register and every acknowledged write-once key back (through
   * `servers`, retrying), adds the reads to the history, and returns what is wrong: the
   * linearizability verdict and the acknowledged writes not read back.
   */
  async verify(servers: readonly ServeProcess[]): Promise<{ linearizable: true | string; lost: string[]; acknowledged: number; operations: number }> {
    await this.stop();
    const acked = this.history.filter((o) => o.status === 'ok' && o.op.f === 'put' && o.op.key.startsWith('w'));
    const lost: string[] = [];
    const read = async (key: string): Promise<Operation | undefined> => {
      for (let attempt = 0; attempt < 30; attempt++) {
        const op = await request('final', servers[attempt % servers.length] as ServeProcess, { f: 'get', key }, this.now);
        if (op.status === 'ok') return op;
        await sleep(50);
      }
      return undefined;
    };
    const finals: Operation[] = [];
    for (const key of this.#registers) {
      const op = await read(key);
      if (op !== undefined) finals.push(op);
    }
    for (const write of acked) {
      const op = await read(write.op.key);
      if (op !== undefined) finals.push(op);
      if (JSON.stringify(op?.output) !== JSON.stringify((write.op as { value: unknown }).value)) lost.push(`${write.op.key}: wrote ${JSON.stringify((write.op as { value: unknown }).value)}, read ${op === undefined ? 'nothing (no answer)' : JSON.stringify(op.output)}`);
    }
    this.history.push(...finals);
    const verdict = checkKvHistory(this.history);
    const linearizable = verdict.ok === true ? true : verdict.ok === false ? `key ${verdict.key}: ${verdict.reason}\n${describeHistory(verdict.ops)}` : 'the checker ran out of steps';
    return { linearizable, lost, acknowledged: this.acknowledged(), operations: this.history.length };
  }
}

/** One operation through the HTTP API, recorded as ok, fail (known not to have happened) or info (unknown). */
export async function request(client: string | number, server: { readonly http: string }, op: KvOp, now: () => number): Promise<Operation> {
  const invoke = now();
  const path = `${server.http}/kv/${op.key}${op.f === 'cas' ? '/cas' : ''}`;
  const init: RequestInit = op.f === 'get' ? { method: 'GET' } : op.f === 'put' ? { method: 'PUT', body: JSON.stringify(op.value) } : op.f === 'cas' ? { method: 'POST', body: JSON.stringify({ expected: op.expected, value: op.value }) } : { method: 'DELETE' };
  const done = (status: Operation['status'], output?: unknown): Operation => ({ client, invoke, complete: status === 'info' ? undefined : now(), status, op, ...(output === undefined && op.f !== 'get' ? {} : { output }) });
  let response: Response;
  try {
    response = await fetch(path, { ...init, signal: AbortSignal.timeout(3_000) });
  } catch (error) {
    // Refused: it never reached a server. Anything else (a reset, a timeout): a write may have taken effect.
    const refused = (error as { cause?: { code?: string } }).cause?.code === 'ECONNREFUSED';
    return done(refused || op.f === 'get' ? 'fail' : 'info');
  }
  const body = (await response.json().catch(() => ({}))) as { value?: unknown; code?: string };
  if (response.status === 200) return done('ok', op.f === 'get' ? body.value : op.f === 'cas' ? true : undefined);
  if (op.f === 'get' && response.status === 404) return done('ok', undefined);
  if (op.f === 'cas' && response.status === 409) return done('ok', false);
  if (response.status === 503 && body.code === 'OUTCOME_UNKNOWN') return done('info');
  if (response.status === 503) return done('fail'); // NOT_APPLIED, or a read that failed
  throw new Error(`unexpected answer ${response.status} ${JSON.stringify(body)} to ${JSON.stringify(op)}`);
}
