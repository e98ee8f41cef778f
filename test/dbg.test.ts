import { it } from 'vitest';
import { runHistory } from './support/jepsen.js';
it('dbg', async () => {
  for (const seed of [1, 2, 3]) {
    const r = await runHistory(seed);
    const c = { ok: 0, fail: 0, info: 0 };
    for (const o of r.history) c[o.status]++;
    console.log(seed, r.setup, r.history.length, JSON.stringify(c), r.faults.length, r.faults.slice(0, 5));
    console.log(r.history.slice(0, 8).map((o) => `${o.client} ${o.invoke}-${o.complete} ${o.status} ${JSON.stringify(o.op)} ${JSON.stringify(o.output)}`).join('\n'));
  }
});
