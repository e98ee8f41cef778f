/**
 * A running 3-node cluster takes hostile raw input straight into a node's transport handler:
 * garbage, malformed messages from real peers, and well-formed messages from the node itself or
 * for other nodes. (Well-formed messages from servers outside the membership are heard, as Raft
 * requires for membership changes: authenticating peers is the transport's job.) Nothing may throw into the transport, every one must be reported as an
 * InvalidMessageError, and the node's Raft state must not move. Afterwards the cluster still
 * commits and re-elects as usual.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { RaftNode } from '../../src/node/raft-node.js';
import { InvalidMessageError } from '../../src/raft/errors.js';
import type { Message } from '../../src/raft/messages.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import { propertyParams } from '../support/runs.js';
import { capturing, drain, Sim, track } from './harness.js';

/** A state machine that records what it applied. */
function recorder(): StateMachine<unknown, string> & { applied: unknown[] } {
  const applied: unknown[] = [];
  return { applied, apply: (command) => (applied.push(command), `ok:${String(command)}`) };
}

async function setUp(seed = 7) {
  const injectors = new Map<string, (raw: unknown) => void>();
  const machines = new Map<string, ReturnType<typeof recorder>>();
  const sim = new Sim({
    seed,
    wrapTransport: (id, transport) => {
      const c = capturing(transport);
      injectors.set(id, c.inject);
      return c.transport;
    },
    stateMachine: (id) => {
      const m = recorder();
      machines.set(id, m);
      return m;
    },
  });
  await sim.startAll();
  const leader = sim.elect('1');
  for (const c of ['a', 'b', 'c']) leader.submit(c);
  expect(sim.settle(leader.entries().length)).toBe(true);
  return { sim, injectors, machines };
}

const HIGH = 99; // a term far ahead: if any hostile message got through, the term would jump

/** Hostile inputs for node `self`, whose real peers include `peer`; `other` is a third member. */
function hostileInputs(self: string, peer: string, other: string): Array<[string, unknown]> {
  const rv = { type: 'RequestVote', from: peer, to: self, term: HIGH, lastLogIndex: 1_000, lastLogTerm: HIGH };
  const ae = (over: Record<string, unknown>) => ({
    type: 'AppendEntries',
    from: peer,
    to: self,
    term: HIGH,
    prevLogIndex: 0,
    prevLogTerm: 0,
    entries: [{ index: 1, term: HIGH, kind: 'command', command: 'evil' }],
    leaderCommit: 1,
    ...over,
  });
  const { proxy: revoked, revoke } = Proxy.revocable({}, {});
  revoke();
  const throwingGetter = Object.defineProperty({ ...rv }, 'term', {
    enumerable: true,
    get() {
      throw new Error('hostile getter');
    },
  });
  return [
    // not messages at all
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['a string', 'RequestVote'],
    ['the JSON text of a message', JSON.stringify(rv)],
    ['a boolean', true],
    ['a function', () => rv],
    ['an empty object', {}],
    ['an array holding a message', [rv]],
    ['fields hidden behind a JSON __proto__ key', JSON.parse(`{"__proto__":${JSON.stringify(rv)}}`)],
    ['a revoked Proxy', revoked],
    ['an object whose getter throws', throwingGetter],
    // malformed, from a real peer
    ['negative term', { ...rv, term: -1 }],
    ['NaN term', { ...rv, term: NaN }],
    ['fractional term', { ...rv, term: 1.5 }],
    ['term above MAX_SAFE_INTEGER', { ...rv, term: Number.MAX_SAFE_INTEGER + 1 }],
    ['string term', { ...rv, term: String(HIGH) }],
    ['lastLogTerm after term', { ...rv, lastLogTerm: HIGH + 1 }],
    ['missing lastLogIndex', { ...rv, lastLogIndex: undefined }],
    ['unknown type', { ...rv, type: 'InstallSnapshot' }],
    ['vote response with a string vote', { type: 'RequestVoteResponse', from: peer, to: self, term: HIGH, voteGranted: 'yes' }],
    ['append response with a negative index', { type: 'AppendEntriesResponse', from: peer, to: self, term: HIGH, success: true, index: -1, conflictIndex: 0, conflictTerm: 0 }],
    ['append response with a string success', { type: 'AppendEntriesResponse', from: peer, to: self, term: HIGH, success: 'true', index: 1, conflictIndex: 0, conflictTerm: 0 }],
    ['entries not consecutive', ae({ entries: [{ index: 2, term: HIGH, kind: 'command', command: 'evil' }] })],
    ['entries overlapping the log, with a gap', ae({ prevLogIndex: 1, prevLogTerm: 1, entries: [{ index: 2, term: HIGH, kind: 'noop' }, { index: 4, term: HIGH, kind: 'noop' }] })],
    ['entry term above the message term', ae({ entries: [{ index: 1, term: HIGH + 1, kind: 'noop' }] })],
    ['decreasing entry terms', ae({ entries: [{ index: 1, term: 5, kind: 'noop' }, { index: 2, term: 4, kind: 'noop' }] })],
    ['bad entry kind', ae({ entries: [{ index: 1, term: HIGH, kind: 'snapshot' }] })],
    ['entry that is null', ae({ entries: [null] })],
    ['entries that are not an array', ae({ entries: 'evil' })],
    ['missing leaderCommit', ae({ leaderCommit: undefined })],
    [
      'an enormous entries array (over the 65,536 accepted)',
      ae({ entries: Array.from({ length: 65_537 }, (_, i) => ({ index: i + 1, term: HIGH, kind: 'command', command: i })) }),
    ],
    // well formed, but not for this node
    ['a message from the node itself', { ...rv, from: self }],
    ['a vote request addressed to another member', { ...rv, to: other }],
    ['an AppendEntries addressed to another member', ae({ to: other })],
    ['a message addressed to a non-member', { ...rv, to: 'nobody' }],
    ['empty sender', { ...rv, from: '' }],
  ];
}

interface Observed {
  errors: Error[];
  receives: Message[];
  sends: Message[];
}

function observe(node: RaftNode): Observed {
  const o: Observed = { errors: [], receives: [], sends: [] };
  node.on('error', (e) => o.errors.push(e));
  node.on('receive', (m) => o.receives.push(m));
  node.on('send', (m) => o.sends.push(m));
  return o;
}

describe('hostile messages injected into a running node', () => {
  it.each([
    ['the leader', '1', '2', '3'],
    ['a follower', '2', '1', '3'],
  ])('%s: no throw, one InvalidMessageError each, state unchanged', async (_who, self, peer, other) => {
    const { sim, injectors, machines } = await setUp();
    const node = sim.node(self);
    const inject = injectors.get(self)!;
    const seen = observe(node);
    const status = node.status();
    const entries = node.entries();
    const applied = machines.get(self)!.applied.slice();
    expect(status.term).toBe(1);
    expect(entries.length).toBe(4);

    for (const [name, raw] of hostileInputs(self, peer, other)) {
      const errorsBefore = seen.errors.length;
      expect(() => inject(raw), name).not.toThrow();
      expect(seen.errors.length, `${name}: one error event`).toBe(errorsBefore + 1);
      const error = seen.errors[seen.errors.length - 1];
      expect(error, name).toBeInstanceOf(InvalidMessageError);
      expect((error as InvalidMessageError).code).toBe('INVALID_MESSAGE');
      expect((error as InvalidMessageError).reason.length, name).toBeGreaterThan(0);
      expect(node.status(), name).toEqual(status);
    }
    expect(node.status()).toEqual(status);
    expect(node.entries()).toEqual(entries);
    expect(node.role).toBe(status.role);
    expect(node.term).toBe(status.term);
    expect(node.commitIndex).toBe(status.commitIndex);
    expect(node.running).toBe(true);
    expect(seen.receives).toEqual([]);
    expect(seen.sends).toEqual([]);
    // Let any deferred work run: still nothing applied that was not proposed.
    sim.run(0);
    expect(machines.get(self)!.applied).toEqual(applied);
  });

  it('after a flood on every node, the cluster still commits and re-elects', async () => {
    const { sim, injectors, machines } = await setUp(11);
    const errors = new Map(sim.ids.map((id) => [id, observe(sim.node(id)).errors] as const));
    const inputs = new Map(sim.ids.map((id) => [id, hostileInputs(id, id === '1' ? '2' : '1', id === '3' ? '2' : '3')] as const));
    // Interleave the flood with normal traffic.
    for (let round = 0; round < 5; round++) {
      for (const id of sim.ids) for (const [, raw] of inputs.get(id)!) expect(() => injectors.get(id)!(raw)).not.toThrow();
      sim.run(37);
    }
    for (const id of sim.ids) {
      expect(errors.get(id)!.length).toBe(5 * inputs.get(id)!.length);
      expect(errors.get(id)!.every((e) => e instanceof InvalidMessageError)).toBe(true);
    }
    expect(sim.all.map((n) => n.term)).toEqual([1, 1, 1]);
    expect(sim.leader()?.id).toBe('1');

    const first = track(sim.node('1').propose('after-flood'));
    expect(sim.settle(5)).toBe(true);
    await drain();
    expect(first.state).toBe('fulfilled');
    expect(first.value).toMatchObject({ index: 5, term: 1, result: 'ok:after-flood' });

    await sim.node('1').stop();
    expect(sim.runUntil(() => sim.leader() !== undefined && sim.leader()!.id !== '1', 3_000)).toBe(true);
    const leader = sim.leader()!;
    const second = track(leader.propose('new-leader'));
    expect(sim.settle(leader.entries().length, 3_000)).toBe(true);
    await drain();
    expect(second.state).toBe('fulfilled');
    expect((second.value as { result: unknown }).result).toBe('ok:new-leader');
    for (const id of ['2', '3']) {
      expect(machines.get(id)!.applied).toEqual(['a', 'b', 'c', 'after-flood', 'new-leader']);
    }
  });

  it('property: arbitrary garbage never throws into the transport and never changes a node', async () => {
    const { sim, injectors } = await setUp(5);
    const nodes = sim.all;
    const seen = nodes.map(observe);
    const before = nodes.map((n) => ({ status: n.status(), entries: n.entries() }));
    let injected = 0;
    fc.assert(
      fc.property(
        fc.nat(2),
        fc.oneof(fc.anything({ withNullPrototype: true, withBoxedValues: true, withSparseArray: true }), fc.jsonValue()),
        (which, raw) => {
          const node = nodes[which]!;
          expect(() => injectors.get(node.id)!(raw)).not.toThrow();
          injected++;
          expect(node.status()).toEqual(before[which]!.status);
        },
      ),
      propertyParams(300, 10_000),
    );
    expect(seen.reduce((sum, s) => sum + s.errors.length, 0)).toBe(injected);
    expect(seen.every((s) => s.errors.every((e) => e instanceof InvalidMessageError))).toBe(true);
    nodes.forEach((n, i) => expect(n.entries()).toEqual(before[i]!.entries));
  });
});
