/**
 * The child process of kill.test.ts: writes through FileStorage until it is killed, printing
 * `ack <index>` once the save of entry `index` has resolved. It continues from whatever the
 * store holds; entry i is `v<i>` in term ⌊i/7⌋+1 (the hard state follows), and every 40
 * entries it saves a snapshot 10 entries back.
 */
import { FileStorage } from '../../src/node-only/index.js';

const termOf = (index: number): number => Math.floor(index / 7) + 1;
const dir = process.argv[2] as string;
const storage = await FileStorage.open(dir, { segmentBytes: 8192, onWarning: (w) => process.stderr.write(`${w.code}\n`) });
const state = await storage.load();
let index = (state.snapshot?.index ?? 0) + state.entries.length;
const membership = { voters: ['1'], learners: [] };
process.stdout.write(`start ${index}\n`);
for (;;) {
  // A few saves at once, so that they share writes (group commit).
  const saves: Array<Promise<void>> = [];
  for (let i = 1 + (index % 5); i > 0; i--) {
    const at = ++index;
    const update = { hardState: { term: termOf(at), votedFor: '1' }, entries: [{ index: at, term: termOf(at), kind: 'command' as const, command: `v${at}` }] };
    saves.push(storage.save(update).then(() => void process.stdout.write(`ack ${at}\n`)));
    if (at % 40 === 0) saves.push(storage.save({ snapshot: { index: at - 10, term: termOf(at - 10), membership, data: `through ${at - 10}` } }));
  }
  await Promise.all(saves);
}
