/** Unit tests of the pure core: timers, elections, replication details and the Ready contract. */
import { describe, expect, it } from 'vitest';
import { RaftCore } from '../../src/raft/core.js';
import { NotLeaderError } from '../../src/raft/errors.js';
import type { AppendEntries } from '../../src/raft/messages.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { CoreHarness, logOf } from '../support/core-harness.js';

const core = (id = '1', peers = ['1', '2', '3']) => new RaftCore({ id, peers, random: new SeededRandom(id) });

describe('timers', () => {
  it('a follower campaigns once its randomized election timeout passes, not before', () => {
    const c = new RaftCore({ id: '1', peers: ['1', '2', '3'], random: new SeededRandom('1'), preVote: false });
    const timeout = c.msUntilTimeout;
    expect(timeout).toBeGreaterThanOrEqual(150);
    expect(timeout).toBeLessThanOrEqual(300);
    c.elapse(timeout - 1);
    expect(c.role).toBe('follower');
    c.elapse(1);
    expect(c.role).toBe('candidate');
    expect(c.term).toBe(1);
    const ready = c.ready();
    expect(ready.hardState).toEqual({ term: 1, votedFor: '1' });
    expect(ready.messages.map((m) => `${m.type}>${m.to}`)).toEqual(['RequestVote>2', 'RequestVote>3']);
  });

  it('with pre-vote (the default) the timeout starts a poll that changes no durable state', () => {
    const c = core();
    c.elapse(c.msUntilTimeout);
    expect(c.role).toBe('precandidate');
    expect(c.term).toBe(0);
    const ready = c.ready();
    expect(ready.hardState).toBeNull();
    expect(ready.messages).toEqual([
      { type: 'PreVote', from: '1', to: '2', term: 1, lastLogIndex: 0, lastLogTerm: 0 },
      { type: 'PreVote', from: '1', to: '3', term: 1, lastLogIndex: 0, lastLogTerm: 0 },
    ]);
    c.step({ type: 'PreVoteResponse', from: '2', to: '1', term: 1, voteGranted: true });
    expect(c.role).toBe('candidate'); // a majority would vote: now the real election
    expect(c.term).toBe(1);
    expect(c.ready().messages.map((m) => m.type)).toEqual(['RequestVote', 'RequestVote']);
  });

  it('draws timeouts from the injected random: the same seed gives the same timeouts', () => {
    expect(core('x').msUntilTimeout).toBe(core('x').msUntilTimeout);
  });

  it('rejects bad timing options with clear errors', () => {
    const random = new SeededRandom(1);
    expect(() => new RaftCore({ id: '1', peers: [], random, electionTimeoutMs: [300, 150] })).toThrow(/electionTimeoutMs/);
    expect(() => new RaftCore({ id: '1', peers: [], random, heartbeatIntervalMs: 200 })).toThrow(/heartbeatIntervalMs/);
    expect(() => core().elapse(-1)).toThrow(RangeError);
  });

  it('a leader sends heartbeats every interval', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    expect(h.core('1').role).toBe('leader');
    // The no-op's commit index has no entry to ride on: it goes out 1 ms later, on its own.
    expect(h.core('1').msUntilTimeout).toBe(1);
    h.core('1').elapse(1);
    expect(h.core('1').ready().messages.filter((m) => m.type === 'AppendEntries').map((m) => m.leaderCommit)).toEqual([1, 1]);
    expect(h.core('1').msUntilTimeout).toBe(49);
    h.core('1').elapse(49);
    const sent = h.core('1').ready().messages;
    expect(sent.filter((m) => m.type === 'AppendEntries').map((m) => m.to)).toEqual(['2', '3']);
  });
});

describe('elections', () => {
  it('a single-node cluster elects itself and commits on its own', () => {
    const c = core('solo', ['solo']);
    c.campaign();
    expect(c.role).toBe('leader');
    const { index } = c.propose('x');
    let ready = c.ready();
    expect(ready.messages).toEqual([]);
    c.advance(ready); // persisted: now its own copy counts
    ready = c.ready();
    expect(ready.committed.map((e) => e.index)).toEqual([1, index]);
  });

  it('propose on a non-leader throws NotLeaderError naming the leader it knows', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    expect(() => h.core('2').propose('x')).toThrow(NotLeaderError);
    h.elect('1');
    try {
      h.core('2').propose('x');
      expect.unreachable();
    } catch (error) {
      expect((error as NotLeaderError).leaderId).toBe('1');
    }
  });

  it('steps down on any message with a higher term, and answers stale messages with its term', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').step({ type: 'RequestVoteResponse', from: '2', to: '1', term: 9, voteGranted: false });
    expect(h.core('1').role).toBe('follower');
    expect(h.core('1').term).toBe(9);
    h.core('2').step({ type: 'AppendEntries', from: '3', to: '2', term: 0, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 });
    const reply = h.core('2').ready().messages.at(-1);
    expect(reply).toMatchObject({ type: 'AppendEntriesResponse', success: false, term: 1 });
  });

  it('a denied vote in a higher term does not restart a follower’s election timer (Figure 2)', () => {
    const h = new CoreHarness([{ id: '1', term: 1, log: logOf([1, 1]) }, { id: '2', term: 1, log: logOf([1, 1]) }, { id: '3', term: 1 }]);
    const follower = h.core('1');
    const timeout = follower.msUntilTimeout;
    follower.elapse(timeout - 10);
    // Node 3's log is behind: the vote is denied, the term moves on, the timer keeps running.
    follower.step({ type: 'RequestVote', from: '3', to: '1', term: 7, lastLogIndex: 0, lastLogTerm: 0 });
    expect(follower.term).toBe(7);
    expect(follower.votedFor).toBeNull();
    expect(follower.msUntilTimeout).toBe(10);
    follower.elapse(10);
    expect(follower.role).toBe('precandidate');
  });

  it('a granted vote does restart the election timer', () => {
    const follower = core();
    follower.elapse(follower.msUntilTimeout - 10);
    follower.step({ type: 'RequestVote', from: '2', to: '1', term: 1, lastLogIndex: 0, lastLogTerm: 0 });
    expect(follower.votedFor).toBe('2');
    expect(follower.msUntilTimeout).toBeGreaterThanOrEqual(150);
  });

  it('a precandidate can still grant a vote in its unchanged term', () => {
    const c = new RaftCore({ id: '1', peers: ['1', '2', '3'], random: new SeededRandom('1'), checkQuorum: false });
    c.step({ type: 'AppendEntries', from: '2', to: '1', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0 });
    c.elapse(1_000); // the leader went quiet: poll
    expect(c.role).toBe('precandidate');
    c.step({ type: 'RequestVote', from: '3', to: '1', term: 2, lastLogIndex: 0, lastLogTerm: 0 });
    expect(c.votedFor).toBe('3');
    expect(c.role).toBe('follower');
  });

  it('no lease reads once a TimeoutNow went out in this term, even after the transfer gave up', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.heartbeat('1'); // a majority answered a heartbeat round: lease valid
    const leader = h.core('1');
    leader.read(1, { lease: true });
    expect(leader.ready().reads).toEqual([{ id: 1, index: 1, ok: true }]);
    leader.transferLeadership('2'); // up to date: TimeoutNow goes out at once
    h.flush();
    h.queue = []; // ... and is lost (it might yet arrive late)
    leader.elapse(300); // the transfer gives up
    expect(leader.transferTarget).toBeNull();
    h.queue = [];
    leader.read(2, { lease: true });
    expect(leader.ready().reads).toEqual([]); // falls back to a heartbeat round
  });

  it('ignores messages from non-members and messages addressed to others', () => {
    const c = core();
    c.step({ type: 'RequestVote', from: 'stranger', to: '1', term: 5, lastLogIndex: 0, lastLogTerm: 0 });
    c.step({ type: 'RequestVote', from: '2', to: '9', term: 5, lastLogIndex: 0, lastLogTerm: 0 });
    expect(c.term).toBe(0);
    expect(c.hasReady()).toBe(false);
  });
});

describe('replication', () => {
  const appendTo = (to: string, prevLogIndex: number, prevLogTerm: number, entries: ReturnType<typeof logOf>, leaderCommit = 0): AppendEntries => ({
    type: 'AppendEntries',
    from: '1',
    to,
    term: 3,
    prevLogIndex,
    prevLogTerm,
    entries,
    leaderCommit,
  });

  it('a stale or duplicated AppendEntries never truncates matching entries', () => {
    const log = logOf([1, 2, 3, 3, 3]);
    const h = new CoreHarness([{ id: '1', term: 3 }, { id: '2', term: 3, log }, { id: '3' }]);
    const follower = h.core('2');
    // An old message carrying only entries 2..3 arrives after entries 4..5.
    follower.step(appendTo('2', 1, 1, log.slice(1, 3)));
    follower.step(appendTo('2', 0, 0, log.slice(0, 2)));
    follower.step(appendTo('2', 3, 3, []));
    expect(follower.entries()).toEqual(log);
    const replies = follower.ready().messages;
    expect(replies.map((m) => m.type === 'AppendEntriesResponse' && m.success && m.index)).toEqual([3, 2, 3]);
  });

  it('truncates exactly at the first conflict and appends the rest', () => {
    const h = new CoreHarness([{ id: '1', term: 3 }, { id: '2', term: 3, log: logOf([1, 1, 2, 2]) }, { id: '3' }]);
    const incoming = logOf([1, 1, 3], 'new');
    h.core('2').step(appendTo('2', 2, 1, incoming.slice(2)));
    expect(h.core('2').entries().map((e) => e.term)).toEqual([1, 1, 3]);
    const ready = h.core('2').ready();
    // Storage is told to replace from index 3 on.
    expect(ready.entries.map((e) => e.index)).toEqual([3]);
  });

  it('never truncates a committed entry, even when told to by a (faulty) leader', () => {
    const log = logOf([1, 1, 1]);
    const h = new CoreHarness([{ id: '1', term: 3 }, { id: '2', term: 3, log }, { id: '3' }]);
    h.core('2').step(appendTo('2', 3, 1, [], 3)); // commit through 3
    expect(h.core('2').commitIndex).toBe(3);
    h.core('2').step(appendTo('2', 1, 1, logOf([1, 2, 2]).slice(1)));
    expect(h.core('2').entries()).toEqual(log);
  });

  it('rejects with a hint that lets the leader skip a whole conflicting term', () => {
    const h = new CoreHarness([{ id: '1', term: 3 }, { id: '2', term: 3, log: logOf([1, 2, 2, 2, 2]) }, { id: '3' }]);
    h.core('2').step(appendTo('2', 5, 3, []));
    const reply = h.core('2').ready().messages[0];
    expect(reply).toMatchObject({ success: false, index: 5, conflictTerm: 2, conflictIndex: 2 });
    h.core('2').step(appendTo('2', 9, 3, []));
    expect(h.core('2').ready().messages[0]).toMatchObject({ success: false, index: 9, conflictTerm: 0, conflictIndex: 6 });
  });

  it('pipelines: sends new batches before earlier ones are acknowledged, within the in-flight window', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }], { maxInflightMessages: 4, maxEntriesPerMessage: 10 });
    h.elect('1');
    const leader = h.core('1');
    for (let i = 0; i < 100; i++) leader.propose(`p${i}`);
    h.flush();
    const toFollower = h.queue.filter((m) => m.type === 'AppendEntries' && m.to === '2') as AppendEntries[];
    expect(toFollower.length).toBe(4); // the window, not one at a time and not all 10 batches
    expect(toFollower.map((m) => m.entries.length)).toEqual([10, 10, 10, 10]);
    h.deliverAll();
    expect(h.core('2').entries().length).toBe(101);
    expect(leader.commitIndex).toBe(101);
  });

  it('recovers from lost messages in the pipeline through heartbeats', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }], { maxEntriesPerMessage: 5 });
    h.elect('1');
    for (let i = 0; i < 20; i++) h.core('1').propose(`p${i}`);
    // Lose the last batch: no later message reveals the gap, only the heartbeat can.
    let dropped = 0;
    h.deliverAll((m) => !(m.type === 'AppendEntries' && m.to === '2' && m.entries.some((e) => e.index === 21) && dropped++ < 1));
    expect(dropped).toBe(1);
    expect(h.core('2').entries().length).toBe(16);
    for (let i = 0; i < 4; i++) h.heartbeat('1');
    expect(h.core('2').entries()).toEqual(h.core('1').entries());
    expect(h.core('2').commitIndex).toBe(21);
  });

  it('tells a follower the new commit index 1 ms after it can use it (or with the next entries), not a heartbeat later', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').propose('x');
    // Deliver everything, but hold node 3's acknowledgement until the commit went out.
    h.flush();
    const held: typeof h.queue = [];
    h.deliverAll((m) => {
      if (m.type === 'AppendEntriesResponse' && m.from === '3' && held.length === 0 && m.index === 2) {
        held.push(m);
        return false;
      }
      return true;
    });
    expect(h.core('1').commitIndex).toBe(2);
    h.queue.push(...held);
    h.deliverAll(); // the late acknowledgement: node 3 can now use commit index 2
    expect(h.core('1').msUntilTimeout).toBe(1); // no heartbeat needed: an update is due in 1 ms
    h.core('1').elapse(1);
    h.deliverAll();
    expect(h.core('3').commitIndex).toBe(2);
  });

  it('a new commit index rides on the next entries when they come within 1 ms (one message per follower, not two)', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    h.core('1').elapse(1);
    h.deliverAll();
    h.core('1').propose('a');
    h.deliverAll(); // 'a' commits on the leader; the followers have not been told yet
    expect(h.core('1').commitIndex).toBe(2);
    expect(h.core('2').commitIndex).toBe(1);
    h.core('1').propose('b');
    h.flush();
    const appends = h.queue.filter((m) => m.type === 'AppendEntries');
    expect(appends.map((m) => [m.to, m.type === 'AppendEntries' && m.entries.length, m.type === 'AppendEntries' && m.leaderCommit])).toEqual([
      ['2', 1, 2],
      ['3', 1, 2],
    ]);
  });

  it('the leader counts its own copy only once persisted (advance), and sends only after the Ready is taken', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    const leader = h.core('1');
    leader.propose('x');
    expect(leader.hasReady()).toBe(true);
    const ready = leader.ready();
    expect(ready.entries.map((e) => e.command)).toEqual(['x']);
    expect(ready.messages.filter((m) => m.type === 'AppendEntries').length).toBe(2);
    // Both followers acknowledge before the leader's own write completed: 2 of 3 is a majority.
    for (const id of ['2', '3']) {
      leader.step({ type: 'AppendEntriesResponse', from: id, to: '1', term: 1, success: true, index: 2, conflictIndex: 0, conflictTerm: 0 });
    }
    expect(leader.commitIndex).toBe(2);
    leader.advance(ready);
  });
});

describe('ReadIndex on the leader', () => {
  it('answers the request as it was sent, even if the message object changes during the round', () => {
    const h = new CoreHarness([{ id: '1' }, { id: '2' }, { id: '3' }]);
    h.elect('1');
    const leader = h.core('1');
    expect(leader.role).toBe('leader');
    const request = { type: 'ReadIndex' as const, from: '3', to: '1', term: leader.term, id: 7 };
    leader.step(request);
    Object.assign(request, { from: '2', id: 99 }); // the sender reuses its object
    const answers: Array<{ to: string; id: number; ok: boolean }> = [];
    h.deliverAll((m) => {
      if (m.type === 'ReadIndexResponse') answers.push({ to: m.to, id: m.id, ok: m.ok });
      return m.type !== 'ReadIndexResponse';
    });
    expect(answers).toEqual([{ to: '3', id: 7, ok: true }]);
  });
});
