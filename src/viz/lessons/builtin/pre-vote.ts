import type { Lesson } from '../types.js';

/** Pre-vote (thesis §9.6): a node partitioned away rejoins without disrupting the leader; without pre-vote, it does. */
export const preVote: Lesson = {
  id: 'pre-vote',
  title: 'Pre-vote',
  summary: 'A server cut off from the others keeps timing out. With pre-vote its term stays put and its return disturbs nobody; a server without pre-vote raises its term at every timeout and, on its return, forces the leader to step down.',
  cluster: { size: 5, seed: 5, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300], nodes: { '5': { preVote: false, checkQuorum: false } } },
  steps: [
    {
      // Node 1 stands first (a timeout now), so the leader is not node 5, which is cut off later.
      caption: 'Five servers. Servers 1 to 4 poll with a pre-vote before they campaign; server 5 does not. Server 1 times out first and is elected.',
      actions: [{ do: 'timeout', node: '1' }],
      until: { leaderIs: '1' },
    },
    {
      caption: 'Server {lead} leads term {term}. Server 3 is cut off from the others.',
      actions: [{ do: 'remember', node: 'leader', as: 'lead' }, { do: 'disconnect', node: '3' }],
      forMs: 500,
    },
    {
      caption: 'Server 3 hears no heartbeats, so its election timeout keeps running out. Each time it becomes a precandidate and asks whether the others would vote for it, without raising its term. Nobody answers; its term stays {term}.',
      actions: [{ do: 'propose', command: { set: 'x', to: 1 }, as: 'a' }],
      forMs: 10_000,
    },
    {
      caption: 'Server 3 reconnects. Its next poll is refused: the others hear from server {lead}, and its log is behind. The leader\'s heartbeat brings it up to date. The leader was never disturbed: still server {leader}, in term {term}.',
      actions: [{ do: 'reconnect', node: '3' }],
      until: { applied: '$a', on: '3' },
      forMs: 6_000,
      timeoutMs: 30_000,
    },
    {
      caption: 'Now server 5, which has no pre-vote, is cut off. At each timeout it starts a real election, alone, in a new term.',
      actions: [{ do: 'disconnect', node: '5' }, { do: 'propose', command: { set: 'x', to: 2 }, as: 'b' }],
      until: { termAbove: '$lead', node: '5' },
      timeoutMs: 30_000,
    },
    {
      caption: 'Server 5\'s term climbs, one election after another, while server {lead} goes on leading term {term}.',
      forMs: 8_000,
    },
    {
      caption: 'Server 5 reconnects. It answers the leader\'s heartbeat with its own, higher term: server {lead} must step down, and the cluster has no leader until a new election, in a term above 5\'s.',
      actions: [{ do: 'reconnect', node: '5' }],
      until: { leader: true, termAbove: '$lead' },
      timeoutMs: 30_000,
    },
    {
      caption: 'Server {leader} leads term {term}. Server 5 could not win (its log was behind), but it cost the cluster an election. Pre-vote prevents that.',
      until: { converged: true },
      forMs: 3_000,
      timeoutMs: 30_000,
    },
  ],
};
