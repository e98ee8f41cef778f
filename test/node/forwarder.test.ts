/** The Forwarder on its own, with a stand-in node: what it settles, and when. */
import { describe, expect, it } from 'vitest';
import { Forwarder, type ForwardingHost } from '../../src/node/forwarding.js';
import type { RaftCore } from '../../src/raft/core.js';
import { NotLeaderError, SessionExpiredError } from '../../src/raft/errors.js';
import { SessionTable } from '../../src/raft/sessions.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { drain, track } from './harness.js';

function standIn() {
  const scheduler = new VirtualScheduler();
  const sent: unknown[] = [];
  const appended: unknown[] = [];
  const core = { leaderId: '1', role: 'follower', lastApplied: 0, forward: (...args: unknown[]) => sent.push(args), forwardOpenSession: () => undefined, propose: (...args: unknown[]) => appended.push(args) };
  let seq = 0;
  const host: ForwardingHost = {
    id: '2',
    core: () => core as unknown as RaftCore,
    requestId: () => ++seq,
    sessions: () => new SessionTable(),
    flush: () => undefined,
    guard: (_what, timeoutMs, _signal, fail) => scheduler.schedule(timeoutMs ?? 600, () => fail(new Error('timeout'))),
    schedule: (delayMs, callback) => scheduler.schedule(delayMs, callback),
    now: () => scheduler.now(),
    retryMs: 50,
    resendMs: 300,
  };
  return { forwarder: new Forwarder(host), sent, appended, scheduler, core };
}

describe('Forwarder', () => {
  it('a snapshot that ends before the caller\'s session opened says nothing of it; one that covers it and lacks it means expired', async () => {
    const { forwarder, sent } = standIn();
    const proposal = track(forwarder.propose('x', { id: 500, seq: 1, ack: 1 }, undefined, 10_000));
    expect(sent).toHaveLength(1);
    forwarder.restored(400); // this node lags: session 500 is not applied here yet
    await drain();
    expect(proposal.state).toBe('pending');
    forwarder.restored(600); // the table holds everything through 600, and no session 500
    await drain();
    expect(proposal.state).toBe('rejected');
    expect(proposal.error).toBeInstanceOf(SessionExpiredError);
  });

  it('resends what is not applied every maximum election timeout, and stops once settled', async () => {
    const { forwarder, sent, scheduler } = standIn();
    const proposal = track(forwarder.propose('x', { id: 7, seq: 1, ack: 1 }, undefined, 1_000));
    scheduler.runFor(650);
    expect(sent).toHaveLength(3); // at 0, 300 and 600
    forwarder.commandApplied({ id: 7, seq: 1, ack: 1 }, { index: 9, term: 1 }, 'done', undefined);
    await drain();
    expect(proposal).toMatchObject({ state: 'fulfilled', value: { index: 9, term: 1, result: 'done' } });
    scheduler.runFor(1_000);
    expect(sent).toHaveLength(3);
  });

  it('a copy it appended while it led itself is never taken back by refusals of the copies it forwarded (regression: NotLeaderError for a command that may commit)', async () => {
    const { forwarder, sent, appended, scheduler, core } = standIn();
    const proposal = track(forwarder.propose('x', { id: 7, seq: 1, ack: 1 }, undefined, 5_000));
    expect(sent).toHaveLength(1); // forwarded to leader 1 (request id 1)
    Object.assign(core, { role: 'leader', leaderId: '2' });
    forwarder.leaderChanged(); // this node leads: it appends a copy of its own
    expect(appended).toHaveLength(1);
    Object.assign(core, { role: 'follower', leaderId: '3' });
    forwarder.leaderChanged(); // a new leader: forwarded again (request id 2)
    expect(sent).toHaveLength(2);
    forwarder.answered({ id: 1, outcome: 'refused' } as never);
    forwarder.answered({ id: 2, outcome: 'refused' } as never);
    await drain();
    // Both forwarded copies were refused, but the copy appended here may still commit: not "not applied".
    expect(proposal.state).toBe('pending');
    scheduler.runFor(6_000);
    await drain();
    expect(proposal.error).not.toBeInstanceOf(NotLeaderError);
  });
});
