/**
 * The RaftNode contract (brief §3): lifecycle, campaign, submit/propose and their errors,
 * AbortSignal, events, batching, apply failures, persistence (including async storage and the
 * rule that nothing is sent before what it depends on is durable), restarts and storage failure.
 * Mostly on a VirtualScheduler (deterministic); a few short runs on the RealScheduler.
 */
import { describe, expect, it } from 'vitest';
import { RaftNode, type ProposalResult } from '../../src/node/raft-node.js';
import {
  AbortedError,
  ApplyError,
  LeadershipLostError,
  NodeStoppedError,
  NotLeaderError,
  RaftError,
} from '../../src/raft/errors.js';
import type { Message, RequestVote } from '../../src/raft/messages.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import { MemoryStorage, type PersistedState, type Storage, type StorageUpdate } from '../../src/raft/storage.js';
import type { HardState, LogEntry, NodeId, Role } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { RealScheduler } from '../../src/runtime/real-scheduler.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import { drain, manualTransport, runAsync, Sim, track, type Tracked } from './harness.js';

/** Returns the running sum: propose's result must be this value. */
function counter(): StateMachine<number, number> & { total: number } {
  return {
    total: 0,
    apply(delta) {
      this.total += delta;
      return this.total;
    },
  };
}

/** Echoes `r:<command>`; throws for 'boom'. Records what it applied. */
function echo(): StateMachine<unknown, string> & { applied: unknown[] } {
  const applied: unknown[] = [];
  return {
    applied,
    apply(command) {
      applied.push(command);
      if (command === 'boom') throw new Error(`cannot apply ${String(command)}`);
      return `r:${String(command)}`;
    },
  };
}

async function started(options: ConstructorParameters<typeof Sim>[0] = {}): Promise<Sim> {
  const sim = new Sim(options);
  await sim.startAll();
  return sim;
}

function rejection(t: Tracked<unknown>): unknown {
  expect(t.state).toBe('rejected');
  return t.error;
}

describe('lifecycle', () => {
  it('start and stop', async () => {
    const manual = manualTransport();
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: '1', peers: ['1', '2', '3'], transport: manual.transport, scheduler, random: new SeededRandom(1) });
    const sends: Message[] = [];
    node.on('send', (m) => sends.push(m));

    expect(node.running).toBe(false);
    expect(() => node.status()).toThrow(NodeStoppedError);
    expect(() => node.submit('x')).toThrow(NodeStoppedError);
    await expect(node.propose('x')).rejects.toBeInstanceOf(NodeStoppedError);

    await node.start();
    expect(node.running).toBe(true);
    expect(node.status()).toMatchObject({ id: '1', role: 'follower', term: 0, votedFor: null, leaderId: null, commitIndex: 0 });
    await expect(node.start()).rejects.toMatchObject({ code: 'ALREADY_STARTED' });

    // Running: its election timer fires and it campaigns (the other members never answer).
    scheduler.runFor(1_000);
    expect(sends.some((m) => m.type === 'PreVote')).toBe(true); // pre-vote is on by default
    expect(node.term).toBe(0); // nobody answered the pre-vote, so the term did not move
    expect(node.role).toBe('precandidate');

    await node.stop();
    expect(node.running).toBe(false);
    expect(manual.closed()).toBe(true);
    expect(() => node.submit('x')).toThrow(NodeStoppedError);
    expect(() => node.campaign()).toThrow(NodeStoppedError);
    await expect(node.propose('x')).rejects.toBeInstanceOf(NodeStoppedError);
    await node.stop(); // idempotent

    // Stopped: no timers, no messages.
    const count = sends.length;
    scheduler.runFor(10_000);
    expect(sends.length).toBe(count);
    expect(scheduler.pending).toBe(0);
  });

  it('rejects bad options at construction, with clear errors', () => {
    const transport = manualTransport().transport;
    const base = { id: '1', peers: ['1', '2'], transport };
    expect(() => new RaftNode({ ...base, id: '' })).toThrow(TypeError);
    expect(() => new RaftNode({ ...base, electionTimeoutMs: [300, 150] })).toThrow(/electionTimeoutMs/);
    expect(() => new RaftNode({ ...base, electionTimeoutMs: [150.5, 300] })).toThrow(/whole ms/);
    expect(() => new RaftNode({ ...base, heartbeatIntervalMs: 150 })).toThrow(/heartbeatIntervalMs/);
  });

  it('a failed asynchronous load rejects start() and leaves the node stopped, not starting', async () => {
    const storage: Storage = { load: () => Promise.reject(new Error('disk gone')), save: () => undefined };
    const node = new RaftNode({ id: '1', peers: ['1'], transport: manualTransport().transport, storage, scheduler: new VirtualScheduler() });
    await expect(node.start()).rejects.toThrow('disk gone');
    await expect(node.start()).rejects.toMatchObject({ code: 'ALREADY_STARTED' });
    expect(node.running).toBe(false);
    await node.stop();
  });

  it('a start that fails while booting leaves the node stopped, whether storage answered at once or later', async () => {
    // A snapshot the state machine cannot restore: booting fails after the load.
    const state: PersistedState = {
      hardState: { term: 1, votedFor: null },
      entries: [],
      snapshot: { index: 1, term: 1, membership: { voters: ['1'], learners: [] }, data: '{}' },
    };
    for (const load of [() => state, () => Promise.resolve(state)]) {
      const manual = manualTransport();
      const storage: Storage = { load, save: () => undefined };
      const node = new RaftNode({ id: '1', peers: ['1'], transport: manual.transport, storage, stateMachine: counter(), scheduler: new VirtualScheduler() });
      await expect(node.start()).rejects.toMatchObject({ code: 'SNAPSHOT_UNSUPPORTED' });
      expect(node.running).toBe(false);
      // Stopped already: stop() has nothing to do, and the transport stays its owner's.
      await node.stop();
      expect(manual.closed()).toBe(false);
    }
  });

  it('a node stopped before its asynchronous start completes never runs (no campaigning later)', async () => {
    let resolveLoad!: (state: PersistedState) => void;
    const storage: Storage = { load: () => new Promise((r) => (resolveLoad = r)), save: () => undefined };
    const manual = manualTransport();
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: '1', peers: ['1', '2', '3'], transport: manual.transport, storage, scheduler });
    const sends: Message[] = [];
    node.on('send', (m) => sends.push(m));
    const starting = node.start();
    await node.stop();
    resolveLoad({ hardState: { term: 0, votedFor: null }, entries: [] });
    await expect(starting).rejects.toBeInstanceOf(NodeStoppedError);
    scheduler.runFor(10_000);
    expect(node.running).toBe(false);
    expect(sends).toEqual([]);
  });

  it('stop() waits for a save already handed to storage (regression: the write landed after stop)', async () => {
    let finishSave!: () => void;
    let saves = 0;
    const backing = new MemoryStorage();
    const storage: Storage = {
      load: () => backing.load(),
      save: (update) => {
        saves++;
        return new Promise<void>((resolve) => {
          finishSave = () => {
            backing.save(update);
            resolve();
          };
        });
      },
    };
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: '1', peers: ['1'], transport: manualTransport().transport, storage, scheduler });
    await node.start();
    node.campaign(); // a single node: term 1, then a save
    scheduler.runFor(0);
    await drain();
    expect(saves).toBe(1);
    let stopped = false;
    const stopping = node.stop().then(() => (stopped = true));
    await drain();
    expect(stopped).toBe(false); // still waiting for the save
    finishSave();
    await stopping;
    expect(backing.load().hardState.term).toBe(1);
  });

  it('a throwing event listener is reported and cannot derail the node (regression: entries skipped)', async () => {
    const applied: unknown[] = [];
    const scheduler = new VirtualScheduler();
    const node = new RaftNode<string, string>({
      id: '1',
      peers: ['1'],
      transport: manualTransport().transport,
      scheduler,
      stateMachine: { apply: (c) => (applied.push(c), c) },
    });
    const errors: Error[] = [];
    node.on('error', (e) => errors.push(e));
    node.on('apply', (e) => {
      if (e.command === 'a') throw new Error('listener bug');
    });
    await node.start();
    node.campaign();
    const results = ['a', 'b', 'c'].map((c) => node.propose(c));
    scheduler.runFor(10);
    await drain();
    expect(applied).toEqual(['a', 'b', 'c']);
    expect((await Promise.all(results)).map((r) => r.result)).toEqual(['a', 'b', 'c']);
    expect(errors.map((e) => (e as RaftError).code)).toEqual(['LISTENER_FAILED']);
    await node.stop();
  });

  it('a transport whose send throws loses that message, is reported, and the node carries on', async () => {
    const scheduler = new VirtualScheduler();
    let throws = true;
    const sent: Message[] = [];
    const transport = {
      send: (_to: string, m: Message) => {
        if (throws) throw new Error('socket closed');
        sent.push(m);
      },
      listen: () => undefined,
      close: async () => undefined,
    };
    const node = new RaftNode({ id: '1', peers: ['1', '2', '3'], transport, scheduler, random: new SeededRandom(1) });
    const errors: RaftError[] = [];
    node.on('error', (e) => errors.push(e as RaftError));
    await node.start();
    node.campaign();
    scheduler.runFor(0);
    expect(errors.map((e) => e.code)).toEqual(['TRANSPORT_FAILED', 'TRANSPORT_FAILED']);
    expect(node.status().term).toBe(1); // the Ready was still completed
    throws = false;
    scheduler.runFor(1_000);
    expect(sent.some((m) => m.type === 'RequestVote' || m.type === 'PreVote')).toBe(true);
    await node.stop();
  });

  it('campaign() makes a node leader, and every member learns it', async () => {
    const sim = await started();
    const n1 = sim.node('1');
    n1.campaign();
    expect(n1.role).toBe('candidate');
    expect(n1.term).toBe(1);
    expect(n1.status().votedFor).toBe('1');
    sim.run(50);
    expect(n1.role).toBe('leader');
    expect(n1.leaderId).toBe('1');
    expect(n1.status().votes).toBeGreaterThanOrEqual(2);
    for (const id of ['2', '3']) {
      expect(sim.node(id).role).toBe('follower');
      expect(sim.node(id).term).toBe(1);
      expect(sim.node(id).leaderId).toBe('1');
    }
    n1.campaign(); // a no-op on a leader
    expect(n1.role).toBe('leader');
    expect(n1.term).toBe(1);
  });
});

describe('submit', () => {
  it('on the leader returns { index, term } at once, with the entry already in its log', async () => {
    const sim = await started();
    const leader = sim.elect('1');
    const last = leader.entries().length;
    const first = leader.submit('x');
    expect(first).toEqual({ index: last + 1, term: 1 });
    expect(leader.entries().at(-1)).toMatchObject({ index: last + 1, term: 1, kind: 'command', command: 'x' });
    expect(leader.submit('y')).toEqual({ index: last + 2, term: 1 });
    expect(sim.settle(last + 2)).toBe(true);
    for (const n of sim.all) expect(n.entries().slice(-2).map((e) => e.command)).toEqual(['x', 'y']);
  });

  it('on a follower throws NotLeaderError naming the leader; null when no leader is known', async () => {
    const sim = await started();
    const before = sim.node('2').entries().length;
    try {
      sim.node('2').submit('x');
      expect.unreachable('submit on a follower must throw');
    } catch (error) {
      expect(error).toBeInstanceOf(NotLeaderError);
      expect((error as NotLeaderError).leaderId).toBeNull();
      expect((error as NotLeaderError).code).toBe('NOT_LEADER');
    }
    expect(sim.node('2').entries().length).toBe(before);

    sim.elect('1');
    for (const id of ['2', '3']) {
      try {
        sim.node(id).submit('x');
        expect.unreachable('submit on a follower must throw');
      } catch (error) {
        expect(error).toBeInstanceOf(NotLeaderError);
        expect((error as NotLeaderError).leaderId).toBe('1');
      }
    }
    // A candidate knows no leader.
    await sim.node('3').stop();
    await sim.node('1').stop();
    sim.node('2').campaign();
    expect(sim.node('2').role).toBe('candidate');
    expect(() => sim.node('2').submit('x')).toThrow(expect.objectContaining({ leaderId: null }) as unknown as Error);
  });
});

describe('propose', () => {
  it("resolves with { index, term, result }, result being the state machine's return value", async () => {
    const sim = await started({ stateMachine: () => counter() as StateMachine<unknown, unknown> });
    const leader = sim.elect('1');
    const a = track(leader.propose(5));
    const b = track(leader.propose(3));
    expect(sim.settle(leader.entries().length)).toBe(true);
    await drain();
    expect(a.state).toBe('fulfilled');
    expect(b.state).toBe('fulfilled');
    const ra = a.value as ProposalResult;
    const rb = b.value as ProposalResult;
    expect(ra).toEqual({ index: 2, term: 1, result: 5 });
    expect(rb).toEqual({ index: 3, term: 1, result: 8 });
    expect(leader.entries(ra.index, ra.index)[0]).toMatchObject({ term: ra.term, command: 5 });
  });

  it('on a follower rejects with NotLeaderError', async () => {
    const sim = await started();
    sim.elect('2');
    const error = await sim.node('1').propose('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotLeaderError);
    expect((error as NotLeaderError).leaderId).toBe('2');
  });

  it('rejects with LeadershipLostError (does not hang) when the leader is cut off and another is elected', async () => {
    const machines = new Map<NodeId, ReturnType<typeof echo>>();
    const sim = await started({
      seed: 3,
      stateMachine: (id) => {
        const m = echo();
        machines.set(id, m);
        return m;
      },
    });
    const old = sim.elect('1');
    sim.network.partition(['1'], ['2', '3']);
    const lost = track(old.propose('lost'));
    const index = old.entries().length;
    expect(sim.runUntil(() => ['2', '3'].some((id) => sim.node(id).role === 'leader'), 3_000)).toBe(true);
    const next = sim.leader()!;
    expect(next.id).not.toBe('1');
    sim.network.heal();
    expect(sim.runUntil(() => old.role === 'follower', 2_000)).toBe(true);
    await drain();
    const error = rejection(lost);
    expect(error).toBeInstanceOf(LeadershipLostError);
    expect((error as LeadershipLostError).index).toBe(index);
    expect((error as LeadershipLostError).code).toBe('LEADERSHIP_LOST');
    // It really was lost: once the logs converge nobody applied it.
    expect(sim.settle(next.entries().length)).toBe(true);
    for (const m of machines.values()) expect(m.applied).not.toContain('lost');
    const again = await old.propose('again').catch((e: unknown) => e);
    expect(again).toBeInstanceOf(NotLeaderError);
    expect((again as NotLeaderError).leaderId).toBe(next.id);
  });

  it('rejects with AbortedError when the signal is already aborted, without submitting', async () => {
    const sim = await started();
    const leader = sim.elect('1');
    const before = leader.entries().length;
    const controller = new AbortController();
    controller.abort('changed my mind');
    const error = await leader.propose('x', { signal: controller.signal }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe('changed my mind');
    expect(leader.entries().length).toBe(before);
  });

  it('rejects with AbortedError when the signal aborts while pending (the entry may still commit)', async () => {
    const sim = await started({ stateMachine: () => echo() });
    const leader = sim.elect('1');
    const controller = new AbortController();
    const pending = track(leader.propose('x', { signal: controller.signal }));
    const index = leader.entries().length;
    sim.run(0);
    await drain();
    expect(pending.state).toBe('pending');
    controller.abort('timeout');
    await drain();
    const error = rejection(pending);
    expect(error).toBeInstanceOf(AbortedError);
    expect((error as AbortedError).cause).toBe('timeout');
    expect(sim.settle(index)).toBe(true);
    expect(leader.entries(index, index)[0]?.command).toBe('x');

    // Aborting after the proposal resolved changes nothing.
    const late = new AbortController();
    const done = track(leader.propose('y', { signal: late.signal }));
    expect(sim.settle(index + 1)).toBe(true);
    await drain();
    late.abort();
    await drain();
    expect(done.state).toBe('fulfilled');
    expect((done.value as ProposalResult).result).toBe('r:y');
  });

  it('stop() rejects pending proposals with NodeStoppedError', async () => {
    const sim = await started();
    const leader = sim.elect('1');
    sim.network.partition(['1'], ['2', '3']); // nothing can commit
    const a = track(leader.propose('a'));
    const b = track(leader.propose('b'));
    sim.run(100);
    await drain();
    expect(a.state).toBe('pending');
    await leader.stop();
    await drain();
    expect(rejection(a)).toBeInstanceOf(NodeStoppedError);
    expect(rejection(b)).toBeInstanceOf(NodeStoppedError);
  });

  it('a state machine that throws rejects that proposal with ApplyError; later ones succeed', async () => {
    const sim = await started({ stateMachine: () => echo() });
    const leader = sim.elect('1');
    const errors = new Map<NodeId, Error[]>(sim.ids.map((id) => [id, []]));
    for (const n of sim.all) n.on('error', (e) => errors.get(n.id)!.push(e));
    const a = track(leader.propose('a'));
    const boom = track(leader.propose('boom'));
    const c = track(leader.propose('c'));
    const boomIndex = leader.entries().length - 1;
    expect(sim.settle(leader.entries().length)).toBe(true);
    await drain();
    expect((a.value as ProposalResult).result).toBe('r:a');
    const error = rejection(boom);
    expect(error).toBeInstanceOf(ApplyError);
    expect((error as ApplyError).index).toBe(boomIndex);
    expect(((error as ApplyError).cause as Error).message).toBe('cannot apply boom');
    expect(c.value).toEqual({ index: boomIndex + 1, term: 1, result: 'r:c' });
    // Every node reported it and went on applying.
    for (const n of sim.all) {
      expect(errors.get(n.id)!.filter((e) => e instanceof ApplyError).map((e) => (e as ApplyError).index)).toEqual([boomIndex]);
      expect(n.lastApplied).toBe(boomIndex + 1);
    }
    const d = track(leader.propose('d'));
    expect(sim.settle(boomIndex + 2)).toBe(true);
    await drain();
    expect((d.value as ProposalResult).result).toBe('r:d');
  });

  it('proposals made in one synchronous loop are batched into few AppendEntries', async () => {
    const sim = await started();
    const leader = sim.elect('1');
    expect(sim.settle(1)).toBe(true);
    sim.run(10);
    const appends = new Map<NodeId, AppendCount>([
      ['2', { messages: 0, entries: 0 }],
      ['3', { messages: 0, entries: 0 }],
    ]);
    leader.on('send', (m) => {
      if (m.type !== 'AppendEntries') return;
      const c = appends.get(m.to)!;
      c.messages++;
      c.entries += m.entries.length;
    });
    const results: Array<Tracked<ProposalResult>> = [];
    for (let i = 0; i < 100; i++) results.push(track(leader.propose(i)));
    const last = leader.entries().length;
    expect(sim.settle(last)).toBe(true);
    await drain();
    expect(results.every((r) => r.state === 'fulfilled')).toBe(true);
    expect(results.map((r) => r.value!.index)).toEqual(Array.from({ length: 100 }, (_, i) => last - 99 + i));
    for (const [id, c] of appends) {
      expect(c.entries, `entries sent to ${id}`).toBeGreaterThanOrEqual(100);
      expect(c.messages, `AppendEntries sent to ${id}`).toBeLessThanOrEqual(5);
    }
  });
});

interface AppendCount {
  messages: number;
  entries: number;
}

describe('events', () => {
  it('role, leader, term, commit, apply, send and receive fire with the right arguments', async () => {
    const sim = new Sim({ stateMachine: () => echo() });
    type Log = {
      role: Array<[Role, number]>;
      leader: Array<[NodeId | null, number]>;
      term: number[];
      commit: number[];
      apply: Array<[LogEntry, unknown]>;
      send: Message[];
      receive: Message[];
      order: string[];
    };
    const logs = new Map<NodeId, Log>();
    const problems: string[] = [];
    for (const n of sim.all) {
      const log: Log = { role: [], leader: [], term: [], commit: [], apply: [], send: [], receive: [], order: [] };
      logs.set(n.id, log);
      const check = (ok: boolean, what: string) => ok || problems.push(`${n.id}: ${what}`);
      n.on('role', (role, term) => {
        log.role.push([role, term]);
        check(n.role === role && n.term === term, `role event (${role}, ${term}) vs state (${n.role}, ${n.term})`);
      });
      n.on('leader', (leaderId, term) => {
        log.leader.push([leaderId, term]);
        check(n.leaderId === leaderId && n.term === term, `leader event (${leaderId}, ${term})`);
      });
      n.on('term', (term) => {
        log.term.push(term);
        check(n.term === term, `term event ${term}`);
      });
      n.on('commit', (index) => {
        log.commit.push(index);
        log.order.push(`commit ${index}`);
        check(n.commitIndex === index, `commit event ${index} vs ${n.commitIndex}`);
      });
      n.on('apply', (entry, result) => {
        log.apply.push([entry, result]);
        log.order.push(`apply ${entry.index}`);
        check(Math.max(0, ...log.commit) >= entry.index, `apply ${entry.index} before its commit event`);
      });
      n.on('send', (m) => {
        log.send.push(m);
        check(m.from === n.id, `sent a message from ${m.from}`);
      });
      n.on('receive', (m) => {
        log.receive.push(m);
        check(m.to === n.id, `received a message for ${m.to}`);
      });
    }
    await sim.startAll();
    sim.elect('1');
    const leader = sim.node('1');
    const x = track(leader.propose('x'));
    expect(sim.settle(2)).toBe(true);
    sim.run(20);
    await drain();
    expect((x.value as ProposalResult).result).toBe('r:x');
    expect(problems).toEqual([]);

    const l1 = logs.get('1')!;
    expect(l1.term).toEqual([1]);
    expect(l1.role).toEqual([
      ['candidate', 1],
      ['leader', 1],
    ]);
    expect(l1.leader).toEqual([['1', 1]]);
    expect(l1.send.slice(0, 2)).toEqual([
      { type: 'RequestVote', from: '1', to: '2', term: 1, lastLogIndex: 0, lastLogTerm: 0, force: true },
      { type: 'RequestVote', from: '1', to: '3', term: 1, lastLogIndex: 0, lastLogTerm: 0, force: true },
    ]);
    expect(l1.receive.filter((m) => m.type === 'RequestVoteResponse' && m.voteGranted).map((m) => m.from).sort()).toEqual(['2', '3']);
    for (const id of ['2', '3']) {
      const l = logs.get(id)!;
      expect(l.term).toEqual([1]);
      expect(l.role).toEqual([]);
      expect(l.leader).toEqual([['1', 1]]);
      expect(l.send.find((m) => m.type === 'RequestVoteResponse')).toEqual({
        type: 'RequestVoteResponse',
        from: id,
        to: '1',
        term: 1,
        voteGranted: true,
      });
    }
    for (const l of logs.values()) {
      expect(l.commit).toEqual([1, 2]); // the leader's no-op, then 'x'
      expect(l.apply).toEqual([[{ index: 2, term: 1, kind: 'command', command: 'x' }, 'r:x']]); // commands only
    }
    // Every message received is one that its sender announced (the network delivers the very object).
    const sent = new Set<Message>([...logs.values()].flatMap((l) => l.send));
    for (const l of logs.values()) for (const m of l.receive) expect(sent.has(m)).toBe(true);

    // Leader loss: followers announce an unknown leader, then the new one.
    await leader.stop();
    expect(sim.runUntil(() => sim.leader() !== undefined, 3_000)).toBe(true);
    const next = sim.leader()!;
    sim.run(100);
    expect(problems).toEqual([]);
    for (const id of ['2', '3']) {
      const l = logs.get(id)!;
      expect(l.leader.at(-1)).toEqual([next.id, next.term]);
      expect(l.term.at(-1)).toBe(next.term);
    }
    expect(logs.get(next.id)!.role.slice(-2)).toEqual([
      ['candidate', next.term],
      ['leader', next.term],
    ]);
    expect(logs.get(next.id)!.leader.some(([leaderId]) => leaderId === null)).toBe(true);
  });
});

// ── Persistence ────────────────────────────────────────────────────────────────────────────

type Line =
  | { kind: 'save-started'; node: NodeId; update: StorageUpdate }
  | { kind: 'save-resolved'; node: NodeId; update: StorageUpdate }
  | { kind: 'send'; node: NodeId; message: Message; log: readonly LogEntry[] };

/** Storage whose load and save complete later (on the virtual clock), logging both ends. */
class SlowStorage implements Storage {
  inFlight = 0;
  maxInFlight = 0;
  private hardState: HardState = { term: 0, votedFor: null };
  private entries: LogEntry[] = [];
  constructor(
    private readonly id: NodeId,
    private readonly scheduler: VirtualScheduler,
    private readonly random: SeededRandom,
    private readonly lines: Line[],
  ) {}
  load(): Promise<PersistedState> {
    return Promise.resolve({ hardState: this.hardState, entries: this.entries.slice() });
  }
  save(update: StorageUpdate): Promise<void> {
    this.lines.push({ kind: 'save-started', node: this.id, update });
    this.maxInFlight = Math.max(this.maxInFlight, ++this.inFlight);
    return new Promise((resolve) => {
      this.scheduler.schedule(this.random.int(1, 8), () => {
        if (update.hardState) this.hardState = update.hardState;
        const entries = update.entries ?? [];
        if (entries.length > 0) {
          this.entries.length = entries[0]!.index - 1;
          this.entries.push(...entries);
        }
        this.inFlight--;
        this.lines.push({ kind: 'save-resolved', node: this.id, update });
        resolve();
      });
    });
  }
}

/**
 * Replays the ordering log: durable state changes only at save-resolved; at each send, the
 * state the message depends on must already be durable. Returns the violations and counts.
 */
function checkOrdering(lines: readonly Line[]): { violations: string[]; checked: Record<string, number> } {
  const durable = new Map<NodeId, { hardState: HardState; terms: number[] }>();
  const violations: string[] = [];
  const checked: Record<string, number> = { RequestVote: 0, grant: 0, AppendEntriesResponse: 0, any: 0 };
  lines.forEach((line, at) => {
    const d = durable.get(line.node) ?? { hardState: { term: 0, votedFor: null }, terms: [] };
    durable.set(line.node, d);
    if (line.kind === 'save-resolved') {
      if (line.update.hardState) d.hardState = line.update.hardState;
      const entries = line.update.entries ?? [];
      if (entries.length > 0) d.terms = [...d.terms.slice(0, entries[0]!.index - 1), ...entries.map((e) => e.term)];
      return;
    }
    if (line.kind !== 'send') return;
    const m = line.message;
    const fail = (why: string) => violations.push(`#${at} ${m.type} ${m.from}→${m.to} term ${m.term}: ${why} (durable ${JSON.stringify(d.hardState)})`);
    checked['any']!++;
    // A pre-vote asks about the next term and changes nothing: it needs no durable state.
    if (m.type === 'PreVote') {
      if (m.term > d.hardState.term + 1) fail('pre-votes for a term beyond the next one');
      return;
    }
    if (m.type === 'PreVoteResponse' && m.voteGranted) return;
    if (d.hardState.term < m.term) fail('its term is not durable');
    if (m.type === 'RequestVote') {
      checked['RequestVote']!++;
      if (d.hardState.term === m.term && d.hardState.votedFor !== m.from) fail('the self-vote is not durable');
    }
    if (m.type === 'RequestVoteResponse' && m.voteGranted) {
      checked['grant']!++;
      if (d.hardState.term !== m.term || d.hardState.votedFor !== m.to) fail('the vote is not durable');
    }
    if (m.type === 'AppendEntriesResponse' && m.success) {
      checked['AppendEntriesResponse']!++;
      if (d.terms.length < m.index) fail(`acknowledges ${m.index} entries, only ${d.terms.length} durable`);
      for (let i = 1; i <= Math.min(m.index, d.terms.length); i++) {
        if (d.terms[i - 1] !== line.log[i - 1]?.term) {
          fail(`durable entry ${i} differs from the log it acknowledges`);
          break;
        }
      }
    }
  });
  return { violations, checked };
}

describe('persistence', () => {
  it('with async storage: works, saves one at a time, and sends nothing before what it depends on is durable', async () => {
    const lines: Line[] = [];
    const scheduler = new VirtualScheduler();
    const random = new SeededRandom(21);
    const network = new InMemoryNetwork<Message>({ scheduler, random: random.fork('net'), latencyMs: [1, 6] });
    const ids = ['1', '2', '3'];
    const storages = new Map(ids.map((id) => [id, new SlowStorage(id, scheduler, random.fork(`disk:${id}`), lines)] as const));
    const nodes = ids.map(
      (id) =>
        new RaftNode<unknown, string>({
          id,
          peers: ids,
          transport: network.transport(id),
          storage: storages.get(id)!,
          scheduler,
          random: random.fork(`node:${id}`),
          stateMachine: echo(),
        }),
    );
    for (const n of nodes) n.on('send', (message) => lines.push({ kind: 'send', node: n.id, message, log: n.entries() }));
    await Promise.all(nodes.map((n) => n.start()));
    const leaderOf = () => nodes.find((n) => n.running && n.role === 'leader');

    expect(await runAsync(scheduler, 5_000, () => leaderOf() !== undefined)).toBe(true);
    const first = leaderOf()!;
    const batch = Array.from({ length: 10 }, (_, i) => track(first.propose(`a${i}`)));
    expect(await runAsync(scheduler, 5_000, () => batch.every((p) => p.state !== 'pending'))).toBe(true);
    expect(batch.map((p) => p.state)).toEqual(Array(10).fill('fulfilled'));
    expect(batch.map((p) => (p.value as ProposalResult).result)).toEqual(Array.from({ length: 10 }, (_, i) => `r:a${i}`));

    // Force a re-election so votes are cast under async persistence too.
    network.partition([first.id], ids.filter((id) => id !== first.id));
    expect(await runAsync(scheduler, 5_000, () => nodes.some((n) => n !== first && n.role === 'leader'))).toBe(true);
    network.heal();
    expect(await runAsync(scheduler, 5_000, () => first.role === 'follower')).toBe(true);
    const second = leaderOf()!;
    const more = Array.from({ length: 5 }, (_, i) => track(second.propose(`b${i}`)));
    expect(await runAsync(scheduler, 5_000, () => more.every((p) => p.state !== 'pending'))).toBe(true);
    expect(more.map((p) => p.state)).toEqual(Array(5).fill('fulfilled'));

    // Churn: a lossy, duplicating, reordering network while whoever leads keeps taking commands.
    network.configure({ dropRate: 0.15, duplicateRate: 0.1, reorder: true, latencyMs: [1, 40] });
    for (let i = 0; i < 60; i++) {
      const l = leaderOf();
      if (l !== undefined) l.submit(`c${i}`);
      await runAsync(scheduler, 25);
    }
    network.configure({ dropRate: 0, duplicateRate: 0, reorder: false, latencyMs: [1, 6] });
    expect(await runAsync(scheduler, 5_000, () => leaderOf() !== undefined)).toBe(true);
    const final = track(leaderOf()!.propose('final'));
    expect(await runAsync(scheduler, 5_000, () => final.state !== 'pending')).toBe(true);
    const last = leaderOf()!.entries().length;
    expect(await runAsync(scheduler, 5_000, () => nodes.every((n) => n.lastApplied >= last))).toBe(true);

    const { violations, checked } = checkOrdering(lines);
    expect(violations).toEqual([]);
    expect(checked['RequestVote']).toBeGreaterThan(0);
    expect(checked['grant']).toBeGreaterThan(0);
    expect(checked['AppendEntriesResponse']).toBeGreaterThan(0);
    for (const s of storages.values()) expect(s.maxInFlight).toBe(1);
    // What is durable is what the nodes hold.
    for (const n of nodes) expect((await storages.get(n.id)!.load()).entries).toEqual(n.entries());
    await Promise.all(nodes.map((n) => n.stop()));
  });

  it('the ordering check catches a message sent before its save resolved', () => {
    // The checker itself must be able to fail: a vote granted while its save is still in flight.
    const update = { hardState: { term: 1, votedFor: '1' } };
    const grant: Message = { type: 'RequestVoteResponse', from: '2', to: '1', term: 1, voteGranted: true };
    const early: Line[] = [
      { kind: 'save-started', node: '2', update },
      { kind: 'send', node: '2', message: grant, log: [] },
      { kind: 'save-resolved', node: '2', update },
    ];
    expect(checkOrdering(early).violations.some((v) => v.includes('the vote is not durable'))).toBe(true);
    const inOrder: Line[] = [early[0]!, early[2]!, early[1]!];
    expect(checkOrdering(inOrder).violations).toEqual([]);
  });

  it('a node restarted from the same MemoryStorage keeps term, votedFor and log, and re-applies its commands', async () => {
    const sim = await started({ stateMachine: () => echo() });
    const leader = sim.elect('1');
    for (const c of ['a', 'b', 'c']) leader.submit(c);
    expect(sim.settle(4)).toBe(true);
    for (const id of ['1', '2']) {
      const old = sim.node(id);
      const before = { term: old.term, votedFor: old.status().votedFor, entries: old.entries() };
      expect(before.votedFor).toBe('1');
      await old.stop();
      const fresh = sim.make(id);
      const applied: unknown[] = [];
      fresh.on('apply', (entry, result) => applied.push(result));
      await fresh.start();
      expect(fresh.term).toBe(before.term);
      expect(fresh.status().votedFor).toBe(before.votedFor);
      expect(fresh.entries()).toEqual(before.entries);
      expect(sim.runUntil(() => sim.leader() !== undefined && fresh.lastApplied >= 4, 3_000)).toBe(true);
      expect(applied).toEqual(['r:a', 'r:b', 'r:c']);
    }
  });

  it('a restarted node never votes twice in the same term', async () => {
    const storage = new MemoryStorage();
    const scheduler = new VirtualScheduler();
    const boot = async (store: MemoryStorage) => {
      const manual = manualTransport();
      const node = new RaftNode({
        id: '3',
        peers: ['1', '2', '3'],
        transport: manual.transport,
        storage: store,
        scheduler,
        random: new SeededRandom(3),
        electionTimeoutMs: [10_000, 20_000],
      });
      await node.start();
      return { node, manual };
    };
    // Forced requests: a freshly started node otherwise keeps a leader lease for a while.
    const ask = (from: string): RequestVote => ({ type: 'RequestVote', from, to: '3', term: 1, lastLogIndex: 0, lastLogTerm: 0, force: true });
    const answer = (sent: Message[]) => {
      scheduler.runFor(0);
      return sent.filter((m) => m.type === 'RequestVoteResponse').at(-1);
    };

    const first = await boot(storage);
    first.manual.inject(ask('1'));
    expect(answer(first.manual.sent)).toMatchObject({ to: '1', term: 1, voteGranted: true });
    await first.node.stop(); // crash right after voting

    const second = await boot(storage);
    expect(second.node.status()).toMatchObject({ term: 1, votedFor: '1' });
    second.manual.inject(ask('2'));
    expect(answer(second.manual.sent)).toMatchObject({ to: '2', term: 1, voteGranted: false });
    second.manual.inject(ask('1')); // the same candidate asking again may be answered again
    expect(answer(second.manual.sent)).toMatchObject({ to: '1', term: 1, voteGranted: true });

    // Control: without the persisted vote, the same request from '2' is granted.
    const control = await boot(new MemoryStorage());
    control.manual.inject(ask('2'));
    expect(answer(control.manual.sent)).toMatchObject({ to: '2', term: 1, voteGranted: true });
  });

  class FailingStorage extends MemoryStorage {
    saves = 0;
    constructor(
      private readonly failAt: number,
      private readonly mode: 'throw' | 'reject',
    ) {
      super();
    }
    override save(update: StorageUpdate): void {
      if (++this.saves < this.failAt) return super.save(update);
      if (this.mode === 'throw') throw new Error('disk full');
      return Promise.reject(new Error('disk full')) as unknown as void;
    }
  }

  it.each(['throw', 'reject'] as const)('storage.save failing (%s) makes the node emit an error and stop, sending nothing', async (mode) => {
    const scheduler = new VirtualScheduler();
    const manual = manualTransport();
    const node = new RaftNode({
      id: '1',
      peers: ['1', '2', '3'],
      transport: manual.transport,
      storage: new FailingStorage(1, mode),
      scheduler,
      random: new SeededRandom(1),
    });
    const errors: Error[] = [];
    const sends: Message[] = [];
    node.on('error', (e) => errors.push(e));
    node.on('send', (m) => sends.push(m));
    await node.start();
    node.campaign();
    scheduler.runFor(0);
    await drain();
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(RaftError);
    expect((errors[0] as RaftError).code).toBe('STORAGE_FAILED');
    expect(((errors[0] as RaftError).cause as Error).message).toBe('disk full');
    expect(node.running).toBe(false);
    expect(manual.closed()).toBe(true);
    expect(sends).toEqual([]); // the RequestVotes depended on the failed save
    expect(manual.sent).toEqual([]);
    expect(() => node.campaign()).toThrow(NodeStoppedError);
  });

  it('a storage failure on the leader rejects its pending proposals with NodeStoppedError', async () => {
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({
      id: 'solo',
      peers: ['solo'],
      transport: manualTransport().transport,
      storage: new FailingStorage(2, 'throw'),
      scheduler,
      random: new SeededRandom(1),
    });
    const errors: Error[] = [];
    node.on('error', (e) => errors.push(e));
    await node.start();
    node.campaign();
    expect(node.role).toBe('leader');
    scheduler.runFor(0); // first save: term, vote and the no-op
    const p = track(node.propose('x'));
    scheduler.runFor(0); // second save fails
    await drain();
    expect(node.running).toBe(false);
    expect(errors.map((e) => (e as RaftError).code)).toEqual(['STORAGE_FAILED']);
    expect(rejection(p)).toBeInstanceOf(NodeStoppedError);
  });
});

describe('on the RealScheduler (short runs, no timing assertions)', () => {
  it('a single node campaigns, leads and applies a proposal', async () => {
    const node = new RaftNode<number, number>({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, stateMachine: counter() });
    await node.start();
    node.campaign();
    expect(node.role).toBe('leader');
    const result = await node.propose(7);
    expect(result).toEqual({ index: 2, term: 1, result: 7 });
    await node.stop();
    expect(node.running).toBe(false);
  });

  it('under sustained load the queue of waiting proposals stays bounded', { timeout: 20_000 }, async () => {
    const scheduler = new RealScheduler();
    const network = new InMemoryNetwork<Message>({ scheduler, random: new SeededRandom(6) });
    const ids = ['a', 'b', 'c'];
    const nodes = ids.map((id) => new RaftNode<number, number>({ id, peers: ids, transport: network.transport(id), scheduler }));
    await Promise.all(nodes.map((n) => n.start()));
    const leader = nodes[0]!;
    leader.campaign();
    while (leader.role !== 'leader') await new Promise((r) => setTimeout(r, 1));
    // 256 clients, each proposing again as soon as it is answered: the queue never empties.
    const queue = (): unknown[] => (leader as unknown as { pending: unknown[] }).pending;
    let longest = 0;
    let issued = 0;
    const client = async (): Promise<void> => {
      while (issued++ < 20_000) {
        await leader.propose(issued);
        longest = Math.max(longest, queue().length);
      }
    };
    await Promise.all(Array.from({ length: 256 }, client));
    await Promise.all(nodes.map((n) => n.stop()));
    expect(longest).toBeLessThan(2_500); // answered proposals are dropped in chunks of 1,024
  });

  it('three nodes on an in-memory network elect a leader and commit', { timeout: 10_000 }, async () => {
    const scheduler = new RealScheduler();
    const network = new InMemoryNetwork<Message>({ scheduler, random: new SeededRandom(5) });
    const ids = ['a', 'b', 'c'];
    const nodes = ids.map((id) => new RaftNode<number, number>({ id, peers: ids, transport: network.transport(id), stateMachine: counter() }));
    const elected = new Promise<RaftNode<number, number>>((resolve) => {
      for (const n of nodes) n.on('role', (role) => role === 'leader' && resolve(n));
    });
    await Promise.all(nodes.map((n) => n.start()));
    nodes[0]!.campaign();
    const leader = await elected;
    const [x, y] = await Promise.all([leader.propose(2), leader.propose(40)]);
    expect(x!.result).toBe(2);
    expect(y!.result).toBe(42);
    expect(y!.index).toBe(x!.index + 1);
    const pending = track(leader.propose(1));
    await Promise.all(nodes.map((n) => n.stop()));
    await drain();
    expect(pending.state === 'fulfilled' || pending.error instanceof NodeStoppedError).toBe(true);
  });
});
