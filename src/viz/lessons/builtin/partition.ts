import type { Lesson } from '../types.js';

/** A partition with the leader on the minority side: no split brain. */
export const partition: Lesson = {
  id: 'partition',
  title: 'A network partition',
  summary: 'The network splits with the leader on the minority side. That leader cannot commit; the majority elects a leader of its own and commits; when the partition heals, every log converges on the majority\'s.',
  // Node 3 times out before the others of the majority side: one election there, easy to follow.
  cluster: { size: 5, seed: 4, electionTimeoutMs: [2_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300], nodes: { '3': { electionTimeoutMs: [2_000, 2_100] } } },
  steps: [
    {
      caption: 'Five servers elect a leader.',
      until: { leader: true },
    },
    {
      caption: 'Server {leader} leads term {term} and commits entry {a} on all five servers.',
      actions: [{ do: 'propose', command: { set: 'x', to: 1 }, as: 'a' }],
      until: { applied: '$a', on: 'all' },
    },
    {
      caption: 'The network splits: servers {minority} on one side, {majority} on the other. Server {old} still leads, as far as it knows.',
      actions: [{ do: 'partition', groups: 'leader-minority', as: 'old' }],
      forMs: 300,
    },
    {
      caption: 'A client on its side reaches server {old}: its command becomes entry {lost}. It can replicate it only on its side ({minority}): two servers of five are no majority, so entry {lost} cannot be committed.',
      actions: [{ do: 'propose', node: '$old', command: { set: 'x', to: 'lost' }, as: 'lost' }],
      until: { leader: true, except: ['$old'] },
      timeoutMs: 30_000,
    },
    {
      caption: 'On the other side, server {leader} times out and wins term {term} with the three votes of its side: a majority. It commits a command there, entry {b}.',
      actions: [{ do: 'propose', command: { set: 'x', to: 2 }, as: 'b' }],
      until: { committed: '$b', on: 'leader' },
    },
    {
      caption: 'Only a leader that a majority hears can commit. Server {old} hears from no majority: after an election timeout it steps down (check-quorum), and its clients look elsewhere. Its entry {lost} stays uncommitted.',
      until: { not: { role: 'leader', node: '$old' } },
      forMs: 3_000,
      timeoutMs: 30_000,
    },
    {
      caption: 'The partition heals. Server {old} learns of term {term}; its entry {lost}, never committed, is replaced by the leader\'s entries.',
      actions: [{ do: 'heal' }],
      until: { converged: true },
      timeoutMs: 30_000,
    },
    {
      caption: 'Every log is the same again, with entry {b} and without the lost command. Never were two leaders able to commit.',
      forMs: 3_000,
    },
  ],
};
