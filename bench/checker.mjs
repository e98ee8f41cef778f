// `npm run bench:checker`: how long raftkit/testing's checkLinearizable takes on linearizable
// key-value histories of 10,000 and 100,000 operations over 10 keys and 10 clients (goals:
// under 1 s and under 10 s), and on histories with one read corrupted near the end (the time to
// find it and shrink it to a window). Reads the build (dist/esm). Not part of
// `npm test`: timings depend on the machine.
import { checkLinearizable, kvModel } from '../dist/esm/testing/index.js';
import { linearizableKvHistory } from './kv-history.mjs';

const RUNS = Number(process.env.BENCH_TRIALS ?? 3);
const CASES = [
  { count: 10_000, goalMs: 1_000 },
  { count: 100_000, goalMs: 10_000 },
];

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

let failed = false;
for (const { count, goalMs } of CASES) {
  const history = linearizableKvHistory({ count, keys: 10, clients: 10, seed: count });
  checkLinearizable(history.slice(0, 2_000), kvModel); // warm up the JIT
  const times = [];
  for (let run = 0; run < RUNS; run++) {
    const start = performance.now();
    const verdict = checkLinearizable(history, kvModel);
    times.push(performance.now() - start);
    if (verdict.result !== 'linearizable') throw new Error(`a linearizable history was judged ${verdict.result}`);
  }
  const ms = median(times);
  failed ||= ms >= goalMs;
  console.log(`${count.toLocaleString('en')} ops, 10 keys, 10 clients: ${ms.toFixed(0)} ms median of ${RUNS} (${times.map((t) => t.toFixed(0)).join(', ')}); goal < ${goalMs.toLocaleString('en')} ms ${ms < goalMs ? 'met' : 'MISSED'}`);
}

// One read of a value never written, late in the history: refused, with a small window. Each
// info operation stays pending to the end of the history, and a failing search must try them
// all; with 1 in 100 info, a failing history of 100,000 operations is beyond the default budget.
for (const { count, infoRate } of [
  { count: 10_000, infoRate: 0.01 },
  { count: 100_000, infoRate: 0.001 },
]) {
  const history = linearizableKvHistory({ count, keys: 10, clients: 10, seed: count, infoRate });
  const bad = history.findIndex((o, i) => i >= count * 0.9 && o.status === 'ok' && o.input.op === 'get');
  const corrupted = history.map((o, i) => (i === bad ? { ...o, output: 'never written' } : o));
  const start = performance.now();
  const verdict = checkLinearizable(corrupted, kvModel);
  const ms = performance.now() - start;
  if (verdict.result !== 'illegal' || verdict.counterexample.operation !== bad) throw new Error(`the corrupted read #${bad} was not the one refused: ${JSON.stringify(verdict)}`);
  console.log(`${count.toLocaleString('en')} ops (${infoRate * 100}% info), read #${bad} corrupted: illegal in ${ms.toFixed(0)} ms, window of ${verdict.counterexample.window.length} ops`);
}
process.exitCode = failed ? 1 : 0;
