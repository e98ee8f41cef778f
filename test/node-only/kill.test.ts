/**
 * FileStorage against real `kill -9`: a child process writes through it and is killed at a
 * random moment, again and again (20 times here, 200 under `npm run test:deep`). After each
 * kill the store must open, hold every save the child saw resolve, and be consistent: a
 * contiguous log after its snapshot, each entry what was written, the hard state in step.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FileStorage } from '../../src/node-only/index.js';
import { SeededRandom } from '../../src/runtime/random.js';

const KILLS = process.env.RAFTKIT_DEEP === '1' ? 200 : 20;
const SEED = Number(process.env.RAFTKIT_SEED ?? 20261202);
const termOf = (index: number): number => Math.floor(index / 7) + 1;

let work = '';
let writer = '';
const children = new Set<ChildProcess>();

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'raftkit-kill-'));
  writer = join(work, 'writer.mjs');
  // The child runs the TypeScript sources, bundled (node does not run .ts itself).
  await build({ entryPoints: [new URL('./kill-writer.ts', import.meta.url).pathname], bundle: true, platform: 'node', format: 'esm', outfile: writer, logLevel: 'silent' });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); // only the ones this file started
  await rm(work, { recursive: true, force: true });
});

/** Starts the writer on `dir`, kills it (SIGKILL) `afterMs` after it began writing, and returns the highest index it saw acknowledged. */
function runAndKill(dir: string, afterMs: number): Promise<{ acked: number; started: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let acked = 0;
    let started = -1;
    let buffered = '';
    let stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.stdout.on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() as string;
      for (const line of lines) {
        const [word, n] = line.split(' ');
        if (word === 'ack') acked = Math.max(acked, Number(n));
        if (word === 'start' && started < 0) {
          started = Number(n);
          setTimeout(() => child.kill('SIGKILL'), afterMs);
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      children.delete(child);
      if (signal !== 'SIGKILL') reject(new Error(`the writer exited on its own (code ${code}): ${stderr}`));
      else resolve({ acked, started });
    });
  });
}

describe('FileStorage under kill -9', () => {
  it(`keeps every acknowledged save across ${KILLS} kills at random moments (seed ${SEED})`, async () => {
    const random = new SeededRandom(SEED);
    const dir = join(work, 'store');
    let total = 0;
    for (let kill = 1; kill <= KILLS; kill++) {
      const { acked, started } = await runAndKill(dir, random.int(1, 60));
      const storage = await FileStorage.open(dir, { onWarning: () => undefined });
      const { hardState, snapshot, entries } = await storage.load();
      await storage.close();
      const where = `kill ${kill} (seed ${SEED})`;
      const first = (snapshot?.index ?? 0) + 1;
      const last = first + entries.length - 1;
      expect(last, `${where}: lost acknowledged saves`).toBeGreaterThanOrEqual(acked);
      expect(last, `${where}: lost what an earlier run had`).toBeGreaterThanOrEqual(started);
      entries.forEach((entry, i) => expect(entry, where).toEqual({ index: first + i, term: termOf(first + i), kind: 'command', command: `v${first + i}` }));
      if (snapshot !== undefined) expect(snapshot, where).toMatchObject({ term: termOf(snapshot.index), data: `through ${snapshot.index}` });
      if (last > 0) expect(hardState.term, where).toBeGreaterThanOrEqual(termOf(acked));
      total += Math.max(0, acked - started);
    }
    expect(total).toBeGreaterThan(KILLS); // the runs wrote, and were killed mid-stream
  }, 120_000);
});
