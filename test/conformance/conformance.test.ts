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
import { validateMessage, type MessageType } from '../../src/raft/messages.js';
import { MemoryStorage, type Storage, type StorageUpdate } from '../../src/raft/storage.js';
import { MathRandom } from '../../src/runtime/random.js';
import { RealScheduler } from '../../src/runtime/real-scheduler.js';
import { InMemoryNetwork, type NetworkConditions } from '../../src/transport/memory.js';
import type { NodeId } from '../../src/raft/types.js';
import type { Transport } from '../../src/transport/transport.js';

const CHECK_TIMEOUT_MS = 20_000;

/**
 * InMemoryNetwork on real time; `change` replaces some of each endpoint's methods (the others
 * delegate to it), to build a transport that breaks one rule.
 */
function memoryNetwork(conditions: NetworkConditions = {}, change?: (inner: Transport, id: NodeId) => Partial<Transport>): TransportHarness {
  return {
    createNetwork: () => {
      const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom(), countBytes: false, ...conditions });
      return {
        transport: (id) => {
          const inner = network.transport(id);
          if (change === undefined) return inner;
          return { send: (to, message) => inner.send(to, message), listen: (h) => inner.listen(h), close: () => inner.close(), ...change(inner, id) };
        },
      };
    },
    timeoutMs: change === undefined ? 5_000 : 2_000, // a broken transport fails sooner
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

  describe('… and through JSON, as a transport over a socket carries them', () => {
    const json = memoryNetwork({ latencyMs: [0, 2] }, (inner) => ({
      send: (to, message) => inner.send(to, JSON.parse(JSON.stringify(message))),
    }));
    for (const check of transportChecks(json)) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });

  it('a transport that never reaches node c fails only the Raft check (c never applies)', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => to === 'c' || inner.send(to, message),
      })),
    );
    expect(await failing(checks)).toEqual([nameOf(checks, 'three RaftNodes on it')]);
  }, 30_000);

  it('a transport that mangles non-ASCII text fails only the every-type check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => inner.send(to, JSON.parse(JSON.stringify(message).replace(/[^\x20-\x7e]/g, '?'))),
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
      })),
    );
    const failed = await failing(checks);
    expect(failed).toEqual([nameOf(checks, 'send does not throw')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that delivers to every node fails the addressing check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner, id) => ({
        send: (_to, message) => ['a', 'b', 'c'].forEach((to) => to !== id && inner.send(to, message)),
      })),
    );
    // Also the Raft check: every node reports the misaddressed copies it receives.
    expect(await failing(checks)).toEqual([nameOf(checks, 'delivers a message to the node it is addressed to'), nameOf(checks, 'three RaftNodes on it')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that keeps delivering after close() fails the close check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, () => ({
        close: async () => {
          // Forgets to close its endpoint: the network still delivers to it, and from it.
        },
      })),
    );
    expect(await failing(checks)).toEqual([nameOf(checks, 'after close() resolves')]);
  }, CHECK_TIMEOUT_MS);

  it('a transport that drops messages over 64 KiB fails the large-message check', async () => {
    const checks = transportChecks(
      memoryNetwork({}, (inner) => ({
        send: (to, message) => {
          if (JSON.stringify(message).length <= 65_536) inner.send(to, message);
        },
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

  it('sampleMessages covers every message type raftkit sends, and each is valid after a trip through JSON', () => {
    const everyType = {
      PreVote: 1, PreVoteResponse: 1, RequestVote: 1, RequestVoteResponse: 1, AppendEntries: 1, AppendEntriesResponse: 1, TimeoutNow: 1,
      ReadIndex: 1, ReadIndexResponse: 1, Propose: 1, ProposeResponse: 1, InstallSnapshot: 1, InstallSnapshotResponse: 1,
    } satisfies Record<MessageType, 1>;
    const messages = sampleMessages('a', 'b');
    expect(messages.map((m) => m.type).sort()).toEqual(Object.keys(everyType).sort());
    for (const m of messages) {
      const decoded: unknown = JSON.parse(JSON.stringify(m));
      expect(decoded).toEqual(m);
      expect(validateMessage(decoded, { maxEntries: 100 }), m.type).toEqual(m);
    }
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
        const later = (): Promise<void> => new Promise((resolve) => new RealScheduler().schedule(1, resolve));
        const storage: Storage = {
          load: async () => (await later(), inner.load()),
          save: async (update) => (await later(), inner.save(update)),
        };
        return { storage };
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

  it('a storage that allows one open instance, loaded once before any save, passes when the fixture closes it', async () => {
    let disk = new MemoryStorage(); // the durable state all instances of one check share
    let locked = false;
    class Locking implements Storage {
      #loaded = false;
      constructor() {
        if (locked) throw new Error('LOCK: already held');
        locked = true;
      }
      load() {
        if (this.#loaded) throw new Error('load() called twice on one instance');
        this.#loaded = true;
        return disk.load();
      }
      save(update: StorageUpdate) {
        if (!this.#loaded) throw new Error('save() before load()');
        disk.save(update);
      }
      close() {
        locked = false;
      }
    }
    const checks = storageChecks({
      create: () => {
        locked = false;
        disk = new MemoryStorage();
        return { storage: new Locking(), reopen: () => new Locking(), close: (storage) => (storage as Locking).close() };
      },
    });
    expect(await failing(checks)).toEqual([]);
  }, CHECK_TIMEOUT_MS);

  it('a storage that rewrites its log from every update (wiping it on one with no entries) fails the checks that save none', async () => {
    const checks = storageChecks({
      create: () => {
        let inner = new MemoryStorage();
        const storage: Storage = {
          load: () => inner.load(),
          save: (update) => {
            if (update.entries?.length === 0) {
              const { hardState } = inner.load();
              inner = new MemoryStorage(); // "the log is what the update holds": nothing
              inner.save({ hardState });
            }
            inner.save(update);
          },
        };
        return { storage, reopen: () => storage };
      },
    });
    expect(await failing(checks)).toEqual([nameOf(checks, 'an update with no entries'), nameOf(checks, 'a snapshot drops the entries')]);
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
