/** The Forwarder on its own, with a stand-in node: what it settles, and when. */
import { describe, expect, it } from 'vitest';
import { Forwarder, type ForwardingHost } from '../../src/node/forwarding.js';
import type { RaftCore } from '../../src/raft/core.js';
import { SessionExpiredError } from '../../src/raft/errors.js';
import { SessionTable } from '../../src/raft/sessions.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { drain, track } from './harness.js';

function standIn() {
  const scheduler = new VirtualScheduler();
  const sent: unknown[] = [];
  const core = { leaderId: '1', role: 'follower', lastApplied: 0, forward: (...args: unknown[]) => sent.push(args), forwardOpenSession: () => undefined };
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
  return { forwarder: new Forwarder(host), sent, scheduler };
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
});
