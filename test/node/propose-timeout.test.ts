/** `propose(cmd, { timeoutMs })` on the leader: it times out like a forwarded proposal, and cleans up. */
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/node/raft-node.js';
import { TimeoutError } from '../../src/raft/errors.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { drain, manualTransport, Sim, track } from './harness.js';

describe('propose with timeoutMs on the leader', () => {
  it('rejects with TimeoutError (outcome unknown) when the followers are cut off and check-quorum is off', async () => {
    const seed = 3;
    const sim = new Sim({ seed, nodeOptions: () => ({ checkQuorum: false }) });
    await sim.startAll();
    const leader = sim.elect('1');
    sim.network.disconnect('2');
    sim.network.disconnect('3');
    const p = track(leader.propose('x', { timeoutMs: 100 }));
    sim.run(1_000); // 10 × the timeout
    await drain();
    expect(p.state, `seed ${seed}`).toBe('rejected');
    expect(p.error).toBeInstanceOf(TimeoutError);
    expect((p.error as TimeoutError).timeoutMs).toBe(100);
    expect((p.error as Error).message).toMatch(/outcome is unknown/);
    expect(leader.role, `seed ${seed}`).toBe('leader'); // still leading: only the wait ended
    // The entry may still commit: once the followers are back it does, and nothing breaks.
    sim.network.heal();
    expect(sim.settle(leader.status().lastLogIndex), `seed ${seed}`).toBe(true);
  });

  it('resolves as usual within the timeout, and leaves no timer behind', async () => {
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, scheduler, random: new SeededRandom(1) });
    await node.start();
    node.campaign();
    scheduler.runFor(10);
    const before = scheduler.pending;
    const p = track(node.propose('x', { timeoutMs: 5_000 }));
    const q = track(node.propose('y', { timeoutMs: 5_000, signal: new AbortController().signal }));
    scheduler.runFor(10);
    await drain();
    expect(p.state).toBe('fulfilled');
    expect(q.state).toBe('fulfilled');
    expect(scheduler.pending).toBe(before);
    await node.stop();
  });
});
