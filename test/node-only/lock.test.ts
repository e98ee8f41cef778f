/**
 * The store's lock across real processes: several children open, hold and close one store as
 * fast as they can, and some die while they hold it, so that the rest race to take over a stale
 * lock. Their shared log must never show two holders at once.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CONTENDERS = 4;
const RUN_MS = process.env.RAFTKIT_DEEP === '1' ? 20_000 : 3_000;

let work = '';
let contender = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'raftkit-lock-'));
  contender = join(work, 'contender.mjs');
  await build({ entryPoints: [new URL('./lock-contender.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: contender, logLevel: 'silent' });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // only the ones this file started
  await rm(work, { recursive: true, force: true });
});

/** Runs a contender to its end; one that dies (as it means to) is replaced while time remains. */
function contend(dir: string, log: string, until: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [contender, dir, log, String(until), '15'], { stdio: ['ignore', 'ignore', 'pipe'] });
    children.add(child);
    let stderr = '';
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (signal === 'SIGKILL') resolve(Date.now() < until ? contend(dir, log, until) : undefined);
      else if (code === 0) resolve();
      else reject(new Error(`a contender failed (code ${code}): ${stderr}`));
    });
  });
}

describe('the lock of a FileStorage, across processes', () => {
  it(`lets one process at a time hold the store, through ${RUN_MS / 1000} s of ${CONTENDERS} processes opening it, some dying while they hold it`, async () => {
    const dir = join(work, 'store');
    const log = join(work, 'log');
    const until = Date.now() + RUN_MS;
    await Promise.all(Array.from({ length: CONTENDERS }, () => contend(dir, log, until)));

    const lines = (await readFile(log, 'utf8')).trim().split('\n');
    let holder: string | null = null;
    const overlaps: string[] = [];
    const counts = { enter: 0, die: 0, stale: 0 };
    for (const [i, line] of lines.entries()) {
      const [word, pid] = line.split(' ') as [string, string];
      if (word === 'enter') {
        if (holder !== null) overlaps.push(`line ${i + 1}: ${pid} entered while ${holder} held the store`);
        holder = pid;
      } else if (word === 'exit' || word === 'die') {
        if (holder === pid) holder = null;
      } else if (word !== 'stale') {
        throw new Error(`line ${i + 1}: ${line}`);
      }
      if (word in counts) counts[word as keyof typeof counts]++;
    }
    expect(overlaps).toEqual([]);
    // The run did what it claims: many turns, deaths, and the stale locks they left taken over.
    expect(counts.enter).toBeGreaterThan(100);
    expect(counts.die).toBeGreaterThan(3);
    expect(counts.stale).toBeGreaterThanOrEqual(counts.die - 1);
  }, 60_000);
});
