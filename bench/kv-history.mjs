// A linearizable key-value history, for the checker's bench and tests: clients issue operations
// one after another, with overlapping intervals; each takes effect at a random instant inside
// its interval, and the outputs come from applying them in that order. A fraction `infoRate`
// (default 1 in 100) is info: half of those took effect, half never did. The same seed gives the
// same history.

/** mulberry32: a small seeded PRNG in [0, 1). */
function mulberry32(seed) {
  let s = seed | 0;
  return () => {
    s = (s + 0x6d2b79f5) | 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `count` operations over `keys` keys by `clients` clients, in raftkit/testing's `Operation` shape with `kvModel` inputs. */
export function linearizableKvHistory({ count, keys, clients, seed = 1, infoRate = 0.01 }) {
  const random = mulberry32(seed);
  const int = (n) => Math.floor(random() * n);
  const calls = [];
  const clock = new Array(clients).fill(0);
  for (let i = 0; i < count; i++) {
    const client = i % clients;
    const invoke = clock[client] + int(3);
    const complete = invoke + 1 + int(20);
    clock[client] = complete;
    const key = `k${int(keys)}`;
    const input = [
      { op: 'get', key },
      { op: 'put', key, value: int(3) },
      { op: 'delete', key },
      { op: 'cas', key, expected: int(3), value: int(3) },
    ][int(4)];
    const info = random() < infoRate;
    const at = info && random() < 0.5 ? undefined : invoke + random() * (complete - invoke);
    calls.push({ operation: { client, input, invoke, complete: info ? undefined : complete, status: info ? 'info' : 'ok' }, at });
  }

  const store = new Map();
  const outputs = new Map();
  for (const { operation, at } of calls.filter((c) => c.at !== undefined).sort((a, b) => a.at - b.at)) {
    const { input } = operation;
    const current = store.get(input.key);
    if (input.op === 'get') outputs.set(operation, current);
    if (input.op === 'put') store.set(input.key, input.value);
    if (input.op === 'delete') store.delete(input.key);
    if (input.op === 'cas') {
      const swaps = JSON.stringify(current) === JSON.stringify(input.expected);
      if (swaps) store.set(input.key, input.value);
      outputs.set(operation, swaps);
    }
  }
  return calls.map(({ operation }) => (outputs.has(operation) && operation.status === 'ok' ? { ...operation, output: outputs.get(operation) } : operation));
}
