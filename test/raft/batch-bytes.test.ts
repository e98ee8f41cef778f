/**
 * The byte limit on AppendEntries batches (`maxBytesPerMessage`): a follower far behind on large
 * entries is sent batches that fit, one entry at least, and catches up. Without the limit a
 * transport that carries messages up to some size drops every batch, and it never does.
 */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/raft/core.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Cluster } from '../../src/sim/cluster.js';
import { entryBytes, withinBytes } from '../../src/raft/entry-bytes.js';
import type { AppendEntries, Message } from '../../src/raft/messages.js';
import type { LogEntry } from '../../src/raft/types.js';

const big = (n: number): string => `v${n} ${'x'.repeat(3_000)}`;

/** A cluster whose network drops any AppendEntries larger than `frame` characters of JSON, as a transport with a frame limit does. */
async function lagging(maxBytesPerMessage: number | undefined, frame: number): Promise<{ caughtUp: boolean; largest: number; batches: number[] }> {
  const cluster = new Cluster<string, unknown>({ size: 3, seed: 5, nodeOptions: () => (maxBytesPerMessage === undefined ? {} : { maxBytesPerMessage }) });
  const leader = await cluster.waitForLeader();
  const follower = cluster.ids.find((id) => id !== leader) as string;
  const sizes: number[] = [];
  const batches: number[] = [];
  cluster.network.filter((message: Message) => {
    if (message.type !== 'AppendEntries' || (message as AppendEntries).entries.length === 0) return 'deliver';
    const size = JSON.stringify(message).length;
    sizes.push(size);
    batches.push((message as AppendEntries).entries.length);
    return size <= frame ? 'deliver' : 'drop';
  });
  cluster.crash(follower);
  for (let i = 0; i < 40; i++) await cluster.propose(big(i));
  cluster.restart(follower);
  await cluster.run(5_000);
  const caughtUp = cluster.node(follower).lastApplied === cluster.node(leader).commitIndex;
  return { caughtUp, largest: Math.max(...sizes), batches };
}

describe('maxBytesPerMessage', () => {
  it('keeps each batch to a far-behind follower within the limit, so it catches up through a transport with a frame limit', async () => {
    const limited = await lagging(20_000, 25_000);
    expect(limited.caughtUp).toBe(true);
    expect(limited.largest).toBeLessThanOrEqual(25_000);
    expect(Math.max(...limited.batches)).toBeGreaterThan(1); // batches, not one entry at a time
    // Without the limit the same follower is sent one batch of everything, dropped each time.
    const unlimited = await lagging(undefined, 25_000);
    expect(unlimited.caughtUp).toBe(false);
  });

  it('measures entries as their JSON and always lets one through', () => {
    const entries: LogEntry[] = [1, 2, 3].map((index) => ({ index, term: 1, kind: 'command', command: 'x'.repeat(100) }));
    const one = entryBytes(entries[0] as LogEntry);
    expect(one).toBe(JSON.stringify(entries[0]).length);
    expect(withinBytes(entries, one * 2)).toHaveLength(2);
    expect(withinBytes(entries, 1)).toHaveLength(1);
    expect(withinBytes(entries, Infinity)).toBe(entries);
    expect(() => new RaftCore({ id: 'a', peers: ['a'], random: new SeededRandom(1), maxBytesPerMessage: 0 })).toThrow(/maxBytesPerMessage must be a positive number/);
  });
});
