import type { Lesson } from '../types.js';

/** Leader election (§5.2): timeouts, a candidate, votes, a leader, heartbeats. */
export const leaderElection: Lesson = {
  id: 'leader-election',
  title: 'Leader election',
  summary: 'Five followers hear from no leader; the first whose election timeout runs out becomes a candidate, wins a majority of votes and leads, and its heartbeats keep the others from standing.',
  cluster: { size: 5, seed: 1, preVote: false, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [10, 100] },
  steps: [
    {
      caption: 'Five servers, all followers, in term 0. Each waits a random election timeout (here 1.5 to 3 s, slowed down to watch) to hear from a leader.',
      until: { someone: 'candidate' },
    },
    {
      caption: 'Nobody leads, so the first timer to run out is server {c}\'s: it becomes a candidate for term {term}, votes for itself and asks the others for their votes (RequestVote).',
      actions: [{ do: 'remember', node: 'candidate', as: 'c' }],
      until: { leader: true },
    },
    {
      caption: 'A server votes once per term, for the first candidate that asks whose log is at least as up to date as its own. With votes from a majority (3 of 5), server {leader} is leader of term {term}.',
      forMs: 3_000,
    },
    {
      caption: 'The leader sends heartbeats (empty AppendEntries) every half second. Each one resets a follower\'s election timer, so no one else stands while server {leader} leads.',
      forMs: 5_000,
    },
  ],
};
