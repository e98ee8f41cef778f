// liferaft 1.0.0 (the most used JavaScript Raft), driven by an in-memory transport of the
// benchmark's own: packets are copied through JSON (as over a wire) and delivered with
// setImmediate. It stores its log in memdown (its own tests do the same).
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const LifeRaft = require('liferaft');
const Log = require('liferaft/log');
const memdown = require('memdown');

const PROPOSAL_TIMEOUT_MS = 2_000;
const copy = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));

export async function startLiferaft() {
  const registry = new Map();
  let stopped = false;
  class MemoryRaft extends LifeRaft {
    initialize() {
      registry.set(this.address, this);
    }
    write(packet, fn) {
      if (stopped) return; // ended: deliver nothing more
      const target = registry.get(this.address);
      if (target === undefined) return fn(new Error(`no node ${this.address}`));
      const wire = copy(packet);
      setImmediate(() => stopped || target.emit('data', wire, (reply) => setImmediate(() => stopped || fn(undefined, copy(reply)))));
    }
    // liferaft 1.0.0 may run a heartbeat left in a promise chain after end(), which has cleared its timers.
    heartbeat(...args) {
      return this.timers ? super.heartbeat(...args) : this;
    }
  }
  const addresses = ['a', 'b', 'c'];
  const nodes = addresses.map(
    (address) => new MemoryRaft({ address, Log, adapter: memdown, 'election min': 150, 'election max': 300, heartbeat: 50 }),
  );
  for (const node of nodes) for (const address of addresses) node.join(address);
  const committed = nodes.map(() => new Set());
  const waiting = new Map();
  nodes.forEach((node, i) =>
    node.on('commit', (command) => {
      committed[i].add(command.id);
      if (i === 0) waiting.get(command.id)?.();
    }),
  );
  const leader = nodes[0];
  await new Promise((resolve) => {
    leader.once('leader', resolve);
    leader.promote();
  });
  let next = 0;
  return {
    propose(payload) {
      const id = next++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiting.delete(id);
          reject(new Error(`liferaft proposal ${id} not committed within ${PROPOSAL_TIMEOUT_MS} ms`));
        }, PROPOSAL_TIMEOUT_MS);
        waiting.set(id, () => {
          clearTimeout(timer);
          waiting.delete(id);
          resolve();
        });
        leader.command({ id, payload }).catch(reject);
      });
    },
    appliedEverywhere: (count) => committed.every((set) => set.size >= count),
    applied: () => committed.map((set) => set.size),
    stop: async () => {
      stopped = true;
      await new Promise((resolve) => setTimeout(resolve, 20)); // let callbacks already queued run out
      for (const node of nodes) node.end();
    },
  };
}
