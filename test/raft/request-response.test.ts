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
import { CoreHarness } from '../support/core-harness.js';
import type { ProposeResponse } from '../../src/raft/messages.js';

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

/** The answers `id` sent to forwarded proposals, taken out of the harness queue. */
function answers(h: CoreHarness): ProposeResponse[] {
  const found = h.queue.filter((m): m is ProposeResponse => m.type === 'ProposeResponse');
  h.queue = h.queue.filter((m) => m.type !== 'ProposeResponse');
  return found;
}

describe('Propose / ProposeResponse: every copy gets a consistent answer', () => {
  const propose = (id: number): Message => ({ type: 'Propose', from: '2', to: '1', term: 1, id, command: `c${id}` });

  it('a copy that reaches the leader after it appended the first is answered with the same index, even while handing over', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').step(propose(7));
    h.flush();
    const [first] = answers(h);
    h.core('1').transferLeadership('3');
    h.core('1').step(propose(7));
    h.flush();
    expect(first).toMatchObject({ outcome: 'appended', index: 2 });
    expect(answers(h)).toMatchObject([{ outcome: 'appended', index: 2 }]);
    expect(h.core('1').entries().filter((e) => e.command === 'c7')).toHaveLength(1);
  });

  it('a leader that appended a copy, then stepped down in the same term, answers a duplicate "unknown", never "refused"', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').step(propose(8));
    h.flush();
    h.queue = []; // the answer and the appends are lost
    h.core('1').elapse(150);
    h.core('1').elapse(150); // check-quorum: no follower answered since the last check, so it steps down (still term 1)
    h.queue = [];
    expect([h.core('1').role, h.core('1').term]).toEqual(['follower', 1]);
    h.core('1').step(propose(8));
    h.flush();
    expect(answers(h)).toMatchObject([{ outcome: 'unknown', index: 0 }]);
  });

  it('a node that never campaigned in the term refuses for certain; a copy of an older term is "unknown"', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    // Node 3 follows in term 1: it never led term 1, so nothing of it was or will be appended there.
    h.core('3').step({ type: 'Propose', from: '2', to: '3', term: 1, id: 9, command: 'x' });
    h.flush();
    expect(answers(h)).toMatchObject([{ from: '3', outcome: 'refused' }]);
    // A term the receiver is past: it may have led it (in this or an earlier incarnation).
    h.elect('3');
    h.core('1').step({ type: 'Propose', from: '2', to: '1', term: 1, id: 10, command: 'y' });
    h.flush();
    expect(answers(h)).toMatchObject([{ from: '1', outcome: 'unknown' }]);
  });
});

describe('ReadIndex / ReadIndexResponse: duplicates', () => {
  it('the first answer to a read settles it: a later refusal of a duplicate does not fail it', async () => {
    const { sim, store } = kvSim();
    await sim.startAll();
    const leader = sim.elect('1');
    // Node 2 lags: the read's index is known before node 2 has applied it.
    sim.network.filter((m, _from, to) => (to === '2' && m.type === 'AppendEntries' && m.entries.length > 0 ? { delayMs: 40 } : 'deliver'));
    const written = track(leader.propose(put('x', 1)));
    sim.run(10);
    await drain();
    expect(written.state).toBe('fulfilled');
    let refuse = false;
    sim.network.filter((m, from, to) => {
      if (m.type === 'ReadIndexResponse' && from === '1' && to === '2' && !refuse) {
        refuse = true;
        // The duplicate comes back refused (as if the leader had stepped down in between).
        sim.scheduler.schedule(2, () => sim.network.transport('x').send('2', { ...m, from: '1', ok: false, index: 0 }));
      }
      return 'deliver';
    });
    const read = track(sim.node('2').read());
    sim.run(50);
    await drain();
    expect(read.state).toBe('fulfilled');
    expect(store('2').get('x')).toBe(1);
    await Promise.all(sim.all.map((n) => n.stop()));
  });
});

describe('RequestVote / RequestVoteResponse', () => {
  it('votes granted to a candidate before it restarted do not make its new incarnation leader', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.core('1').campaign();
    h.flush();
    const requests = h.queue.splice(0);
    for (const m of requests) h.core(m.to).step(m);
    h.flush();
    const grants = h.queue.splice(0).filter((m) => m.type === 'RequestVoteResponse');
    expect(grants).toHaveLength(2);
    h.crash('1');
    h.boot('1'); // the same term and vote, as a follower
    for (const m of grants) h.core('1').step(m);
    h.flush();
    expect(h.core('1').role).toBe('follower');
    expect(h.core('1').term).toBe(1);
  });

  it('a duplicated grant counts once', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }, { id: '4' }, { id: '5' }]);
    h.core('1').campaign();
    h.flush();
    const toTwo = h.queue.find((m) => m.to === '2')!;
    h.queue = [];
    h.core('2').step(toTwo);
    h.flush();
    const grant = h.queue.splice(0)[0]!;
    for (let i = 0; i < 3; i++) h.core('1').step(grant);
    expect(h.core('1').role).toBe('candidate'); // 2 of 5, however many copies
  });
});

describe('PreVote / PreVoteResponse', () => {
  it('a duplicated pre-vote grant counts once, and a precandidate that restarted ignores its old grants', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }, { id: '4' }, { id: '5' }], { preVote: true });
    h.core('1').elapse(1_000); // the election timeout: a pre-vote
    h.flush();
    expect(h.core('1').role).toBe('precandidate');
    const toTwo = h.queue.find((m) => m.type === 'PreVote' && m.to === '2')!;
    h.queue = [];
    h.core('2').elapse(1_000); // node 2 heard from no leader for a while: it grants
    h.core('2').step(toTwo);
    h.flush();
    const grant = h.queue.splice(0).find((m) => m.type === 'PreVoteResponse')!;
    expect(grant).toMatchObject({ voteGranted: true });
    for (let i = 0; i < 3; i++) h.core('1').step(grant);
    expect(h.core('1').role).toBe('precandidate');
    h.crash('1');
    h.boot('1');
    h.core('1').step(grant);
    expect([h.core('1').role, h.core('1').term]).toEqual(['follower', 0]);
  });
});

describe('AppendEntries / AppendEntriesResponse', () => {
  it('a duplicated, late success answer moves nothing back, and an answer to an older read round confirms no newer read', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').propose('a');
    h.flush();
    const appends = h.queue.splice(0);
    for (const m of appends) h.core(m.to).step(m);
    h.flush();
    const oldAnswers = h.queue.filter((m) => m.type === 'AppendEntriesResponse');
    h.deliverAll();
    const match = h.core('1').status().followers!['2']!.matchIndex;
    // A read starts a new round; only answers to messages of that round confirm it.
    h.core('1').read(1);
    h.flush();
    h.queue = [];
    for (const m of oldAnswers) h.core('1').step(m);
    h.flush();
    expect(h.core('1').status().followers!['2']!.matchIndex).toBe(match);
    expect(h.core('1').ready().reads).toEqual([]);
  });
});

describe('InstallSnapshot / InstallSnapshotResponse', () => {
  it('with duplicated chunks and a restart of the follower mid-transfer, the follower installs exactly the leader\'s snapshot', async () => {
    const stores = new Map<string, KeyValueStore>();
    const sim = new Sim({
      network: { latencyMs: [1, 5], duplicateRate: 0.5, reorder: true },
      stateMachine: (id) => {
        const store = new KeyValueStore();
        stores.set(id, store);
        return store;
      },
      nodeOptions: () => ({ snapshotThreshold: 20, snapshotChunkSize: 16 }),
    });
    await sim.startAll();
    const leader = sim.elect('1');
    await sim.node('3').stop();
    for (let i = 0; i < 60; i++) leader.submit(put(`k${i % 7}`, i));
    sim.run(500);
    expect(leader.status().snapshotIndex).toBeGreaterThan(0);
    let chunks = 0;
    sim.network.on('deliver', (m, _from, to) => {
      if (m.type === 'InstallSnapshot' && to === '3') chunks++;
    });
    const node = sim.make('3');
    await node.start();
    sim.runUntil(() => chunks >= 3, 2_000);
    await node.stop(); // mid-transfer: its chunks so far are lost
    const again = sim.make('3');
    await again.start();
    sim.runUntil(() => again.lastApplied >= leader.lastApplied, 5_000);
    expect(again.lastApplied).toBeGreaterThanOrEqual(leader.lastApplied);
    expect(stores.get('3')!.snapshot()).toBe(stores.get('1')!.snapshot());
    await Promise.all(sim.all.map((n) => n.stop()));
  });
});

describe('TimeoutNow', () => {
  it('a duplicated TimeoutNow starts one election: the copy is of an older term once the target campaigned', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').transferLeadership('2');
    h.flush();
    const timeoutNow = h.queue.find((m) => m.type === 'TimeoutNow')!;
    h.deliverAll();
    expect([h.core('2').role, h.core('2').term]).toEqual(['leader', 2]);
    h.core('2').step(timeoutNow);
    h.flush();
    expect([h.core('2').role, h.core('2').term]).toEqual(['leader', 2]);
  });
});
