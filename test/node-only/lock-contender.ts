/**
 * The child process of lock.test.ts: until its deadline, opens the store, holds it a moment and
 * closes it, again and again, logging to a shared file `enter <pid>` once it holds the store and
 * `exit <pid>` before it lets go (so the logged spans lie inside the real ones). Now and then it
 * dies while it holds the store (`die <pid>`, then SIGKILL to itself), leaving a stale lock for
 * the others to take over at once.
 */
import { appendFileSync } from 'node:fs';
import { FileStorage, StorageError } from '../../src/node-only/index.js';

const [dir, log, until, dieOneIn] = process.argv.slice(2) as [string, string, string, string];
const note = (word: string): void => appendFileSync(log, `${word} ${process.pid}\n`);
let seed = process.pid;
const chance = (oneIn: number): boolean => (seed = (seed * 1103515245 + 12345) % 2 ** 31) % oneIn === 0;

while (Date.now() < Number(until)) {
  let storage: FileStorage;
  try {
    storage = await FileStorage.open(dir, { onWarning: (w) => note(w.code === 'STALE_LOCK' ? 'stale' : w.code) });
  } catch (error) {
    if (!(error instanceof StorageError) || error.code !== 'LOCKED') note(`error:${String(error)}`.replace(/\s+/g, '_'));
    await new Promise((r) => setImmediate(r));
    continue;
  }
  note('enter');
  if (chance(Number(dieOneIn))) {
    note('die');
    process.kill(process.pid, 'SIGKILL');
  }
  await new Promise((r) => setTimeout(r, seed % 3));
  note('exit');
  await storage.close();
}
