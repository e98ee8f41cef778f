import type { Lesson } from '../types.js';

/** A snapshot sent to a lagging follower (§7), after the leader compacted its log. */
export const snapshot: Lesson = {
  id: 'snapshot',
  title: 'A snapshot for a lagging follower',
  summary: 'A follower is away while the others commit entries and compact their logs into a snapshot. When it returns, the entries it misses are gone, so the leader sends it the snapshot (InstallSnapshot), then the entries that followed.',
  cluster: { size: 3, seed: 6, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300], snapshotThreshold: 5 },
  steps: [
    {
      caption: 'Three servers elect a leader. Each takes a snapshot of its state machine every 5 applied entries.',
      until: { leader: true },
    },
    {
      caption: 'Server {leader} leads term {term}. Server {away} is cut off from the others.',
      actions: [{ do: 'disconnect', node: 'follower', as: 'away' }],
      forMs: 500,
    },
    {
      caption: 'The leader commits six commands with the one follower it reaches, up to entry {last}.',
      actions: [{ do: 'propose', command: { add: 1 }, repeat: 6, as: 'last' }],
      until: { committed: '$last', on: 'leader' },
    },
    {
      caption: 'A log cannot grow for ever: having applied 5 entries, a server replaces its log up to there with a snapshot of its state machine, and drops those entries.',
      until: { compacted: 'leader' },
      forMs: 3_000,
    },
    {
      caption: 'Server {away} is back. The leader probes it and finds that its log ends long before the snapshot: the entries it needs are gone. So the leader sends it the snapshot itself (InstallSnapshot).',
      actions: [{ do: 'reconnect', node: '$away' }],
      until: { snapshotInstalled: '$away' },
      timeoutMs: 30_000,
    },
    {
      caption: 'Server {away} replaces its log with the snapshot and restores its state machine from it. The leader then goes on from just after the snapshot.',
      actions: [{ do: 'propose', command: { add: 1 }, as: 'more' }],
      until: { all: [{ applied: '$more', on: 'all' }, { converged: true }] },
      timeoutMs: 30_000,
    },
    {
      caption: 'Server {away} holds the same state as the others, and entry {more} after it.',
      forMs: 3_000,
    },
  ],
};
