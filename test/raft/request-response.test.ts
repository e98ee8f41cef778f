/**
 * Every request/response pair of the protocol, under the two faults that break such pairs: a
 * duplicate answered differently from its original, and an answer that crosses a restart of the
 * node that asked. One deterministic scenario per pair where a fault was possible.
 */
import { describe, expect, it } from 'vitest';
import { KeyValueStore, type KeyValueCommand } from '../../src/kv/key-value-store.js';
import type { RaftNode } from '../../src/node/raft-node.js';
import { NotLeaderError } from '../../src/raft/errors.js';
import type { Message } from '../../src/raft/messages.js';
import type { Transport } from '../../src/transport/transport.js';
import { drain, Sim, track } from '../node/harness.js';

/** A 3-node Sim with key-value stores, 1 ms links, and a hook on every node's outgoing messages. */
function kvSim(options: { forward?: boolean; outgoing?: (from: string, to: string, m: Message, send: (m: Message) => void) => void } = {}) {
  const stores = new Map<string, KeyValueStore>();
  const transports = new Map<string, Transport<Message>>();
  const sim = new Sim({
    network: { latencyMs: 1 },
    stateMachine: (id) => {
      const store = new KeyValueStore();
      stores.set(id, store);
      return store;
    },
    nodeOptions: () => ({ forwardProposals: options.forward ?? false, snapshotThreshold: 0 }),
    wrapTransport: (id, transport) => {
      transports.set(id, transport);
      const outgoing = options.outgoing;
      if (outgoing === undefined) return transport;
      return {
        send: (to, m) => outgoing(id, to, m, (copy) => transport.send(to, copy)),
        listen: (h) => transport.listen(h),
        close: () => transport.close(),
      };
    },
  });
  /** Restarts `id` from its storage, with a fresh state machine. */
  const restart = async (id: string): Promise<RaftNode> => {
    await sim.node(id).stop();
    const node = sim.make(id);
    await node.start();
    return node;
  };
  return { sim, store: (id: string) => stores.get(id)!, transport: (id: string) => transports.get(id)!, restart };
}

const put = (key: string, value: unknown): KeyValueCommand => ({ op: 'put', key, value });

describe('Propose / ProposeResponse (forwarded proposals)', () => {
  it('a copy refused during a leadership transfer never contradicts a duplicate appended after it (regression)', async () => {
    // The follower's Propose is duplicated; the first copy reaches a leader that is handing over,
    // the second arrives once the transfer gave up and is appended. Before the fix the follower
    // took the first answer, a refusal, and told its client NotLeaderError: "not applied".
    let hold = false;
    let held: Message | undefined;
    const { sim, store, transport } = kvSim({
      forward: true,
      outgoing: (from, _to, m, send) => {
        if (hold && m.type === 'Propose' && from === '2' && held === undefined) held = m; // keep a copy to deliver later
        send(m);
      },
    });
    await sim.startAll();
    const leader = sim.elect('1');
    await drain();
    // A first forwarded proposal (node 2 opens its client session with it).
    const warmUp = track(sim.node('2').propose(put('w', 0)));
    sim.run(50);
    await drain();
    expect(warmUp.state).toBe('fulfilled');
    hold = true;
    // Node 3 hears nothing, so it cannot catch up and the transfer to it stays under way.
    sim.network.filter((m, _from, to) => (to === '3' && (m.type === 'AppendEntries' || m.type === 'TimeoutNow') ? 'drop' : 'deliver'));
    leader.submit(put('a', 1));
    sim.run(20);
    const transfer = track(leader.transferLeadership('3'));
    const proposal = track(sim.node('2').propose(put('c', 68)));
    sim.run(10);
    await drain();
    sim.run(400); // the transfer gives up (after a maximum election timeout): the leader serves again
    await drain();
    transport('2').send('1', held!); // the duplicate arrives now
    sim.run(100);
    await drain();
    sim.run(1_000);
    await drain();
    expect(transfer.state).toBe('rejected');
    const applied = store('1').get('c') === 68;
    if (proposal.state === 'rejected' && proposal.error instanceof NotLeaderError) {
      // A NotLeaderError says the command was not applied: that must be true.
      expect(applied, 'the proposal was reported not applied, yet it was').toBe(false);
    }
    await Promise.all(sim.all.map((n) => n.stop()));
  });
});

describe('ReadIndex / ReadIndexResponse', () => {
  it("a restarted follower's read is never answered by its previous incarnation's ReadIndexResponse (regression)", async () => {
    // Node 2 asks for a read index, then restarts before the answer arrives. Before the fix its
    // new incarnation numbered reads from 1 again, so the old answer settled its first new read
    // at an index older than a write acknowledged before that read began.
    let holdReadAnswer = true;
    let held: Message | undefined;
    const { sim, store, transport, restart } = kvSim({
      outgoing: (from, _to, m, send) => {
        if (from === '1' && m.type === 'ReadIndexResponse' && holdReadAnswer) {
          holdReadAnswer = false;
          held = m;
          return;
        }
        send(m);
      },
    });
    await sim.startAll();
    const leader = sim.elect('1');
    const first = track(leader.propose(put('x', 1)));
    sim.run(50);
    await drain();
    expect(first.state).toBe('fulfilled');
    const oldRead = track(sim.node('2').read());
    sim.run(10);
    await drain();
    expect(held, 'the leader answered the read').toBeDefined();
    // Node 2 restarts; meanwhile x = 2 is acknowledged, and node 2 is kept from receiving it.
    const follower = await restart('2');
    sim.network.filter((m, _from, to) => (to === '2' && m.type === 'AppendEntries' && m.entries.length > 0 ? 'drop' : 'deliver'));
    const second = track(leader.propose(put('x', 2)));
    sim.run(50);
    await drain();
    expect(second.state).toBe('fulfilled');
    sim.runUntil(() => follower.leaderId === '1');
    // A read that begins now must see x = 2.
    const read = track(follower.read());
    transport('1').send('2', held!); // the old incarnation's answer arrives first
    sim.run(5);
    await drain();
    sim.run(500);
    await drain();
    expect(oldRead.state).toBe('rejected'); // the old incarnation stopped
    if (read.state === 'fulfilled') expect(store('2').get('x'), `read at index ${String(read.value)}`).toBe(2);
    await Promise.all(sim.all.map((n) => n.stop()));
  });
});
