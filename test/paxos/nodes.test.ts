/**
 * The Paxos nodes up close: message validation (invalid messages are dropped and reported, never
 * thrown), durable promises across a restart, learners answering late proposers, options.
 */
import { describe, expect, it } from 'vitest';
import { InvalidMessageError } from '../../src/raft/errors.js';
import { compareBallots } from '../../src/paxos/ballot.js';
import { PaxosChecker } from '../../src/paxos/checker.js';
import { PaxosSafetyViolation } from '../../src/paxos/errors.js';
import { MAX_SLOTS_PER_MESSAGE, validateMultiPaxosMessage, validateSynodMessage, type SynodMessage } from '../../src/paxos/messages.js';
import { MultiPaxosNode } from '../../src/paxos/multi-paxos.js';
import { MultiPaxosCluster, SynodCluster } from '../../src/paxos/simulation.js';
import { SynodNode } from '../../src/paxos/synod.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';

const b = (round: number, node = 'a') => ({ round, node });

describe('validateSynodMessage', () => {
  it('accepts every well-formed message', () => {
    const messages: SynodMessage[] = [
      { type: 'Prepare', from: 'a', to: 'b', ballot: b(1) },
      { type: 'Promise', from: 'b', to: 'a', ballot: b(1), accepted: null },
      { type: 'Promise', from: 'b', to: 'a', ballot: b(2), accepted: { ballot: b(1), value: { any: ['json'] } } },
      { type: 'Accept', from: 'a', to: 'b', ballot: b(1), value: null },
      { type: 'Accepted', from: 'b', to: 'c', ballot: b(1), value: 0 },
      { type: 'Nack', from: 'b', to: 'a', ballot: b(1), promised: b(2, 'c') },
      { type: 'Chosen', from: 'c', to: 'a', value: 'x' },
    ];
    for (const m of messages) expect(validateSynodMessage(m)).toBe(m);
  });

  it('refuses malformed ones with a reason, and never throws', () => {
    const hostile = new Proxy({}, { get: () => { throw new Error('boom'); } });
    const getter = { type: 'Prepare', from: 'a', to: 'b', get ballot(): never { throw new Error('boom'); } };
    const bad: unknown[] = [
      null, 'Prepare', [], hostile, getter,
      { type: 'Prepare', from: '', to: 'b', ballot: b(1) },
      { type: 'Prepare', from: 'a', to: 'b', ballot: b(0) },
      { type: 'Prepare', from: 'a', to: 'b', ballot: { round: 1.5, node: 'a' } },
      { type: 'Prepare', from: 'a', to: 'b', ballot: { round: 1, node: 7 } },
      { type: 'Promise', from: 'b', to: 'a', ballot: b(1), accepted: { ballot: b(1) } },
      { type: 'Promise', from: 'b', to: 'a', ballot: b(1) },
      { type: 'Accept', from: 'a', to: 'b', ballot: b(1) },
      { type: 'Nack', from: 'b', to: 'a', ballot: b(1), promised: null },
      { type: 'Chosen', from: 'c', to: 'a' },
      JSON.parse('{"type":"Prepare","from":"a","to":"b","ballot":{"round":1,"node":"a"},"__proto__":{}}'),
      { type: 'Elect', from: 'a', to: 'b', ballot: b(1) },
    ];
    bad.forEach((raw, i) => expect(typeof validateSynodMessage(raw), `case ${i}`).toBe('string'));
  });
});

describe('validateMultiPaxosMessage', () => {
  const noop = { kind: 'noop' } as const;
  it('accepts every well-formed message', () => {
    const messages = [
      { type: 'LogPrepare', from: 'a', to: 'b', ballot: b(1), fromSlot: 1 },
      { type: 'LogPromise', from: 'b', to: 'a', ballot: b(1), accepted: [{ slot: 1, ballot: b(1), value: noop }, { slot: 3, ballot: b(1), value: { kind: 'command', command: null } }] },
      { type: 'LogAccept', from: 'a', to: 'b', ballot: b(1), slot: 2, value: noop, commit: 1 },
      { type: 'LogAccepted', from: 'b', to: 'a', ballot: b(1), slot: 2 },
      { type: 'LogNack', from: 'b', to: 'a', ballot: b(1), promised: null },
      { type: 'LogHeartbeat', from: 'a', to: 'b', ballot: b(1), commit: 0 },
      { type: 'LogCatchUp', from: 'b', to: 'a', ballot: b(1), fromSlot: 4 },
      { type: 'LogChosen', from: 'a', to: 'b', ballot: b(1), entries: [{ slot: 4, value: noop }], commit: 4 },
    ];
    for (const m of messages) expect(validateMultiPaxosMessage(m)).toBe(m);
  });

  it('refuses malformed ones: slots, lists, values', () => {
    const entry = (slot: number) => ({ slot, ballot: b(1), value: noop });
    const bad: unknown[] = [
      { type: 'LogPrepare', from: 'a', to: 'b', ballot: b(1), fromSlot: 0 },
      { type: 'LogPromise', from: 'b', to: 'a', ballot: b(1), accepted: [entry(2), entry(1)] },
      { type: 'LogPromise', from: 'b', to: 'a', ballot: b(1), accepted: [entry(1), entry(1)] },
      { type: 'LogPromise', from: 'b', to: 'a', ballot: b(1), accepted: Array.from({ length: MAX_SLOTS_PER_MESSAGE + 1 }, (_, i) => entry(i + 1)) },
      { type: 'LogPromise', from: 'b', to: 'a', ballot: b(1), accepted: [{ slot: 1, value: noop }] },
      { type: 'LogAccept', from: 'a', to: 'b', ballot: b(1), slot: 2, value: { kind: 'command' }, commit: 1 },
      { type: 'LogAccept', from: 'a', to: 'b', ballot: b(1), slot: 2, value: { kind: 'other' }, commit: 1 },
      { type: 'LogAccept', from: 'a', to: 'b', ballot: b(1), slot: 2, value: noop, commit: -1 },
      { type: 'LogAccepted', from: 'b', to: 'a', ballot: b(1), slot: -1 },
      { type: 'LogNack', from: 'b', to: 'a', ballot: b(1), promised: 3 },
      { type: 'LogHeartbeat', from: 'a', to: 'b', ballot: b(1) },
      { type: 'LogChosen', from: 'a', to: 'b', ballot: b(1), entries: {}, commit: 4 },
      { type: 'LogHeartbeat', from: 'a', to: 'b', commit: 0 },
    ];
    for (const raw of bad) expect(typeof validateMultiPaxosMessage(raw), JSON.stringify(raw)).toBe('string');
  });
});

describe('compareBallots', () => {
  it('orders by round, then node, with null lowest', () => {
    expect(compareBallots(b(2, 'a'), b(1, 'z'))).toBeGreaterThan(0);
    expect(compareBallots(b(1, 'a'), b(1, 'b'))).toBeLessThan(0);
    expect(compareBallots(b(1, 'a'), b(1, 'a'))).toBe(0);
    expect(compareBallots(null, b(1))).toBeLessThan(0);
    expect(compareBallots(null, null)).toBe(0);
  });
});

describe('a Paxos node receiving garbage', () => {
  it('drops and reports it, and carries on (Synod and Multi-Paxos)', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1) });
    const synod = new SynodNode<string>({ id: 'a', peers: ['a', 'b', 'c'], transport: network.transport('a'), scheduler });
    const multi = new MultiPaxosNode<string>({ id: 'm', peers: ['m', 'n', 'o'], transport: network.transport('m'), scheduler, random: new SeededRandom(2) });
    const errors: Error[] = [];
    synod.on('error', (e) => errors.push(e));
    multi.on('error', (e) => errors.push(e));
    synod.start();
    multi.start();
    const mallory = network.transport('b');
    mallory.send('a', { type: 'Prepare', from: 'b', to: 'a', ballot: b(-1) } as never);
    mallory.send('a', { type: 'Prepare', from: 'x', to: 'a', ballot: b(9, 'x') } as never); // not a peer
    mallory.send('a', { type: 'Prepare', from: 'a', to: 'a', ballot: b(9) } as never); // "from itself"
    mallory.send('a', { type: 'Prepare', from: 'b', to: 'c', ballot: b(9, 'b') } as never); // misaddressed
    mallory.send('m', { type: 'LogAccept', from: 'n', to: 'm', ballot: b(1, 'n'), slot: 0, value: { kind: 'noop' }, commit: 0 } as never);
    expect(() => scheduler.runFor(10)).not.toThrow();
    expect(errors).toHaveLength(5);
    expect(errors.every((e) => e instanceof InvalidMessageError)).toBe(true);
    expect(synod.promised).toBeNull();
    expect(multi.chosen(0)).toBeUndefined();
  });
});

describe('the Synod acceptor', () => {
  it('keeps its promise across a crash and restart, and refuses a lower ballot after it', () => {
    const cluster = new SynodCluster<string>({ size: 3, seed: 4, network: { latencyMs: 5 } });
    cluster.node('1').propose('blue');
    cluster.run(100);
    const promised = cluster.node('2').promised;
    expect(promised).toEqual({ round: 1, node: '1' });
    cluster.crash('2');
    cluster.restart('2');
    expect(cluster.node('2').promised).toEqual(promised);
    const sent: SynodMessage[] = [];
    cluster.network.on('send', (m) => sent.push(m));
    cluster.network.transport('3').send('2', { type: 'Accept', from: '3', to: '2', ballot: { round: 1, node: '0' }, value: 'green' });
    cluster.run(50);
    expect(sent.find((m) => m.from === '2')).toMatchObject({ type: 'Nack', to: '3', promised });
  });

  it('answers a late proposer with the chosen value, in one round trip', () => {
    const cluster = new SynodCluster<string>({ size: 5, seed: 8, network: { latencyMs: 10 } });
    cluster.node('1').propose('blue');
    cluster.runUntil(() => cluster.nodes.every((node) => node.learned !== null));
    cluster.crash('1');
    cluster.restart('1'); // has forgotten what it learned, not what it promised
    const start = cluster.now;
    cluster.node('1').propose('green');
    cluster.runUntil(() => cluster.node('1').learned !== null);
    expect(cluster.node('1').learned).toEqual({ value: 'blue' });
    expect(cluster.now - start).toBe(20);
  });

  it('lets duelling proposers without back-off pre-empt each other until latency jitter separates them', () => {
    const rounds = (backoff: 'none' | 'randomized'): number => {
      let total = 0;
      for (let seed = 0; seed < 30; seed++) {
        const cluster = new SynodCluster<string>({ size: 3, seed, network: { latencyMs: [4, 6] }, node: { backoff } });
        cluster.node('1').propose('a');
        cluster.node('2').propose('b');
        cluster.node('3').propose('c');
        expect(cluster.runUntil(() => cluster.chosen() !== undefined, { timeoutMs: 60_000 })).toBe(true);
        total += cluster.nodes.reduce((sum, node) => sum + node.rounds, 0);
      }
      return total;
    };
    expect(rounds('none')).toBeGreaterThan(rounds('randomized'));
  });
});

describe('a Multi-Paxos state machine that throws', () => {
  it('is reported on every node, the command counts as applied, and propose rethrows it', () => {
    const cluster = new MultiPaxosCluster<string, string>({
      size: 3,
      seed: 1,
      stateMachine: () => ({
        apply: (command: string) => {
          if (command === 'bad') throw new Error('bad command');
          return command.toUpperCase();
        },
      }),
    });
    const errors: string[] = [];
    for (const node of cluster.nodes) node.on('error', (e) => errors.push(e.message));
    expect(() => cluster.propose('bad')).toThrow('bad command');
    expect(cluster.propose('good').result).toBe('GOOD');
    cluster.run(100);
    expect(errors).toEqual(['bad command', 'bad command', 'bad command']);
    for (const node of cluster.nodes) expect(node.appliedSlot).toBe(2);
  });
});

describe('PaxosChecker', () => {
  it('refuses two values in one ballot, and names the seed', () => {
    const checker = new PaxosChecker({ acceptors: ['a', 'b', 'c'], seed: 'replay-me' });
    checker.accepted('a', 1, b(1), 'x');
    expect(() => checker.accepted('b', 1, b(1), 'y')).toThrow(PaxosSafetyViolation);
    try {
      checker.accepted('c', 1, b(1), 'z');
    } catch (error) {
      expect(error).toMatchObject({ property: 'One Value Per Ballot', slot: 1, seed: 'replay-me' });
      expect((error as Error).message).toContain('replay with seed "replay-me"');
      expect((error as PaxosSafetyViolation).events.at(-1)).toEqual({ kind: 'accept', node: 'c', slot: 1, ballot: '1.a', value: '"z"' });
    }
  });

  it('refuses a learn before anything is chosen, and a non-acceptor', () => {
    const checker = new PaxosChecker({ acceptors: ['a', 'b', 'c'] });
    expect(() => checker.learned('a', 0, 'x')).toThrow(/no value is chosen yet/);
    expect(() => checker.accepted('z', 0, b(1), 'x')).toThrow(RangeError);
    expect(checker.counts).toEqual({ acceptances: 0, learns: 1 });
  });
});

describe('options', () => {
  it('are checked', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork({ scheduler });
    const transport = network.transport('a');
    expect(() => new SynodNode({ id: 'a', peers: ['b', 'c'], transport })).toThrow(/include the node itself/);
    expect(() => new SynodNode({ id: 'a', peers: ['a'], transport, retryTimeoutMs: 0 })).toThrow(RangeError);
    expect(() => new SynodNode({ id: 'a', peers: ['a'], transport, backoffMs: [10, 5] })).toThrow(RangeError);
    expect(() => new MultiPaxosNode({ id: 'a', peers: ['a'], transport, heartbeatIntervalMs: 200 })).toThrow(RangeError);
    expect(() => new MultiPaxosCluster({ size: 0, seed: 1 })).toThrow(RangeError);
    expect(() => new SynodCluster({ ids: ['a', 'a'], seed: 1 })).toThrow(TypeError);
  });
});
