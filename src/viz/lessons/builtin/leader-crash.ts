import type { Lesson } from '../types.js';

/** A leader crash: a new election, the committed entries survive, the old leader rejoins as a follower. */
export const leaderCrash: Lesson = {
  id: 'leader-crash',
  title: 'A leader crashes',
  summary: 'The leader crashes after committing an entry. The others elect a new leader, which holds every committed entry, and the old leader rejoins as its follower.',
  cluster: { size: 5, seed: 3, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300] },
  steps: [
    {
      caption: 'Five servers elect a leader.',
      until: { leader: true },
    },
    {
      caption: 'Server {leader} leads term {term}. It commits a command, entry {a}, on every server.',
      actions: [{ do: 'propose', command: { set: 'x', to: 1 }, as: 'a' }],
      until: { applied: '$a', on: 'all' },
    },
    {
      caption: 'The leader, server {old}, crashes. The followers stop hearing its heartbeats: the first whose election timeout runs out stands for a new term.',
      actions: [{ do: 'crash', node: 'leader', as: 'old' }],
      until: { leader: true, except: ['$old'] },
      timeoutMs: 30_000,
    },
    {
      caption: 'Server {leader} wins term {term}: it needs three votes of five, and four servers are up. A voter refuses a candidate whose log is behind its own, so the winner holds entry {a}: committed entries survive.',
      forMs: 3_000,
    },
    {
      caption: 'Clients now go to server {leader}. It commits a new entry, {b}, with the three other servers up.',
      actions: [{ do: 'propose', command: { set: 'x', to: 2 }, as: 'b' }],
      until: { committed: '$b', on: 'leader' },
    },
    {
      caption: 'Server {old} restarts from what it saved on disk: its log, its term, its vote. It starts as a follower and knows nothing of term {term} yet.',
      actions: [{ do: 'restart', node: '$old' }],
      until: { all: [{ role: 'follower', node: '$old' }, { converged: true }] },
      timeoutMs: 30_000,
    },
    {
      caption: 'The first heartbeat of server {leader} brings server {old} into term {term}, and it catches up with entry {b}. The five logs are the same again.',
      forMs: 3_000,
    },
  ],
};
