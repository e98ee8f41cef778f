/** InMemoryNetwork needs no options: it defaults to the real clock and Math.random, as RaftNode does. */
import { describe, expect, it } from 'vitest';
import { InMemoryNetwork } from '../../src/transport/memory.js';

describe('new InMemoryNetwork()', () => {
  it('works with no options (RealScheduler, MathRandom)', async () => {
    const network = new InMemoryNetwork();
    const a = network.transport('a');
    const b = network.transport('b');
    const got = new Promise((resolve) => b.listen(resolve));
    a.send('b', { type: 'Ping', from: 'a', to: 'b' });
    expect(await got).toEqual({ type: 'Ping', from: 'a', to: 'b' });
    expect(network.stats().delivered.messages).toBe(1);
    await Promise.all([a.close(), b.close()]);
  });

  it('still refuses a bad scheduler or random', () => {
    expect(() => new InMemoryNetwork({ scheduler: {} as never })).toThrow(/scheduler/);
    expect(() => new InMemoryNetwork({ random: {} as never })).toThrow(/random/);
    expect(() => new InMemoryNetwork(null as never)).toThrow(TypeError);
  });
});
