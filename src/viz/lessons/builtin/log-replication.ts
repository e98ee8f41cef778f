import type { Lesson } from '../types.js';

/** Log replication (§5.3): append, replicate to a majority, commit, apply. */
export const logReplication: Lesson = {
  id: 'log-replication',
  title: 'Log replication',
  summary: 'A client\'s command becomes an entry in the leader\'s log, travels to the followers in AppendEntries, is committed once a majority holds it, and is then applied by every server.',
  cluster: { size: 5, seed: 2, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300] },
  steps: [
    {
      caption: 'Five servers elect a leader first.',
      until: { leader: true },
    },
    {
      caption: 'Server {leader} leads term {term}. A client sends it a command, "set x to 5". The leader appends it to its log as entry {x}, not committed yet, and sends it to every follower in its next AppendEntries. Each follower appends it and answers.',
      actions: [{ do: 'propose', command: { set: 'x', to: 5 }, as: 'x' }],
      until: { committed: '$x', on: 'leader' },
    },
    {
      caption: 'A majority (the leader and two followers) holds entry {x}: the leader commits it, applies it to its state machine and answers the client.',
      until: { applied: '$x', on: 'all' },
    },
    {
      caption: 'The next AppendEntries tell the followers that entry {x} is committed, and they apply it too. Every server has now applied the same commands in the same order.',
      forMs: 2_000,
    },
    {
      caption: 'Three more commands arrive. The leader sends them together, and they are committed together, up to entry {z}.',
      actions: [{ do: 'propose', command: { set: 'y', to: 1 } }, { do: 'propose', command: { set: 'y', to: 2 } }, { do: 'propose', command: { set: 'z', to: 3 }, as: 'z' }],
      until: { applied: '$z', on: 'all' },
    },
    {
      caption: 'Entries {x} to {z} are on every log and applied everywhere.',
      forMs: 2_000,
    },
  ],
};
