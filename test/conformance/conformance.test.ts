/**
 * The conformance suites (`raftkit/conformance`): raftkit's own InMemoryNetwork and MemoryStorage
 * pass every check, also on a network that loses, duplicates and reorders messages; and each
 * broken implementation below fails exactly the checks that describe what it breaks, so the
 * checks can fail.
 */
import { describe, expect, it } from 'vitest';
import {
  ConformanceError,
  runChecks,
  sampleMessages,
  storageChecks,
  transportChecks,
  type ConformanceCheck,
  type StorageHarness,
  type TransportHarness,
} from '../../src/conformance/index.js';
import { MemoryStorage, type Storage, type StorageUpdate } from '../../src/raft/storage.js';
import { MathRandom } from '../../src/sim/random.js';
import { RealScheduler } from '../../src/sim/real-scheduler.js';
import { InMemoryNetwork, type NetworkConditions } from '../../src/transport/memory.js';
import type { NodeId, Transport } from '../../src/transport/transport.js';

const CHECK_TIMEOUT_MS = 20_000;

function memoryNetwork(conditions: NetworkConditions = {}, wrap?: (inner: Transport, id: NodeId) => Transport): TransportHarness {
  return {
    createNetwork: () => {
      const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom(), countBytes: false, ...conditions });
      return { transport: (id) => (wrap === undefined ? network.transport(id) : wrap(network.transport(id), id)) };
    },
    timeoutMs: wrap === undefined ? 5_000 : 400, // a broken transport fails fast
  };
}

/** The names of the checks that fail. */
async function failing(checks: ConformanceCheck[]): Promise<string[]> {
  const results = await runChecks(checks);
  for (const r of results) if (!r.passed) expect(r.error, r.name).toBeInstanceOf(ConformanceError);
  return results.filter((r) => !r.passed).map((r) => r.name);
}

const nameOf = (checks: ConformanceCheck[], start: string): string => {
  const found = checks.find((c) => c.name.startsWith(start));
  if (found === undefined) throw new Error(`no check starts with "${start}"`);
  return found.name;
};

describe('transportChecks', () => {
  describe('InMemoryNetwork on real time passes every check', () => {
    for (const check of transportChecks(memoryNetwork({ latencyMs: [0, 2] }))) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });

  describe('… also losing, duplicating and reordering 20% of messages (checks resend, as Raft does)', () => {
    const lossy = memoryNetwork({ latencyMs: [0, 3], dropRate: 0.2, duplicateRate: 0.2, reorder: true });
    for (const check of transportChecks(lossy)) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });

  it('a transport that mangles non-ASCII text fails only the every-type check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => inner.send(to, JSON.parse(JSON.stringify(message).replace(/[^\x20-\x7e]/g, '?'))),
        listen: (handler) => inner.listen(handler),
        close: () => inner.close(),
      })),
    );
    expect(await failing(checks)).toEqual([nameOf(checks, 'carries every Raft message type')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that throws for an unknown peer fails only that check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => {
          if (to === 'nobody') throw new Error('ECONNREFUSED');
          inner.send(to, message);
        },
        listen: (handler) => inner.listen(handler),
        close: () => inner.close(),
      })),
    );
    const failed = await failing(checks);
    expect(failed).toEqual([nameOf(checks, 'send does not throw')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that delivers to every node fails the addressing check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner, id) => ({
        send: (_to, message) => ['a', 'b', 'c'].forEach((to) => to !== id && inner.send(to, message)),
        listen: (handler) => inner.listen(handler),
        close: () => inner.close(),
      })),
    );
    expect(await failing(checks)).toContain(nameOf(checks, 'delivers a message to the node it is addressed to'));
  }, CHECK_TIMEOUT_MS);

  it('a transport that keeps delivering after close() fails the close check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => {
        let handler: ((message: unknown) => void) | undefined;
        return {
          send: (to, message) => inner.send(to, message),
          listen: (h) => {
            handler = h;
            inner.listen((message) => handler?.(message));
          },
          close: async () => {
            // Forgets to unregister: the network still delivers to the old handler.
          },
        };
      }),
    );
    expect(await failing(checks)).toEqual([nameOf(checks, 'after close() resolves')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that drops messages over 64 KiB fails the large-message check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => {
          if (JSON.stringify(message).length <= 65_536) inner.send(to, message);
        },
        listen: (handler) => inner.listen(handler),
        close: () => inner.close(),
      })),
    );
    const failed = await failing(checks);
    expect(failed).toEqual([nameOf(checks, 'carries large messages')]);
    const result = (await runChecks(checks.filter((c) => c.name === failed[0])))[0];
    expect(String(result?.error)).toMatch(/1 MiB InstallSnapshot/);
  }, CHECK_TIMEOUT_MS);

  it('a factory that returns something other than a Transport is reported as such', async () => {
    const checks = transportChecks({ createNetwork: () => ({ transport: () => ({}) as Transport }) });
    await expect((checks[0] as ConformanceCheck).run()).rejects.toThrow(/did not return a Transport/);
  });

  it('sampleMessages covers every message type raftkit sends, and each survives JSON', () => {
    const messages = sampleMessages('a', 'b');
    expect(new Set(messages.map((m) => m.type)).size).toBe(13);
    for (const m of messages) expect(JSON.parse(JSON.stringify(m))).toEqual(m);
  });
});

/** MemoryStorage with one rule broken by `save`. */
function brokenStorage(save: (inner: MemoryStorage, update: StorageUpdate) => void): StorageHarness {
  return {
    create: () => {
      const inner = new MemoryStorage();
      const storage: Storage = { load: () => inner.load(), save: (update) => save(inner, update) };
      return { storage, reopen: () => storage };
    },
  };
}

describe('storageChecks', () => {
  describe('MemoryStorage passes every check', () => {
    const checks = storageChecks({
      create: () => {
        const storage = new MemoryStorage();
        return { storage, reopen: () => storage };
      },
    });
    for (const check of checks) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });

  it('… also with asynchronous saves, and without reopen', async () => {
    const harness: StorageHarness = {
      create: () => {
        const inner = new MemoryStorage();
        return { storage: { load: () => Promise.resolve(inner.load()), save: async (update) => inner.save(update) } };
      },
    };
    expect(await failing(storageChecks(harness))).toEqual([]);
  }, CHECK_TIMEOUT_MS);

  it('a storage that appends without replacing a conflicting suffix fails that check', async () => {
    const checks = storageChecks(
      brokenStorage((inner, { entries = [], ...rest }) => {
        inner.save(rest);
        const last = inner.lastIndex;
        inner.save({ entries: entries.filter((e) => e.index > last) }); // keeps what it holds
      }),
    );
    expect(await failing(checks)).toEqual([nameOf(checks, 'entries from an index on replace')]);
  }, CHECK_TIMEOUT_MS);

  it('a storage that ignores snapshots fails the snapshot checks', async () => {
    const checks = storageChecks(brokenStorage((inner, { snapshot: _ignored, ...rest }) => inner.save(rest)));
    expect(await failing(checks)).toEqual([
      nameOf(checks, 'a snapshot drops the entries'),
      nameOf(checks, 'a snapshot the log does not hold'),
      nameOf(checks, 'one update with a hard state, a snapshot and entries'),
    ]);
  }, CHECK_TIMEOUT_MS);

  it('a storage that forgets everything on reopen fails every check that reads something back', async () => {
    const checks = storageChecks({
      create: () => ({ storage: new MemoryStorage(), reopen: () => new MemoryStorage() }),
    });
    const failed = await failing(checks);
    expect(failed).not.toContain(nameOf(checks, 'a new storage loads the empty state'));
    expect(failed).toHaveLength(checks.length - 1);
  }, CHECK_TIMEOUT_MS);

  it('runChecks reports every outcome as it comes, with the error of a failure', async () => {
    const seen: string[] = [];
    const boom = new ConformanceError('boom');
    const results = await runChecks(
      [
        { name: 'passes', run: () => Promise.resolve() },
        { name: 'fails', run: () => Promise.reject(boom) },
      ],
      { onResult: (r) => seen.push(`${r.name}:${r.passed}`) },
    );
    expect(seen).toEqual(['passes:true', 'fails:false']);
    expect(results[1]?.error).toBe(boom);
    expect(results.every((r) => r.ms >= 0)).toBe(true);
  });
});
