import type { Lesson } from '../types.js';

/** A membership change, one server at a time (thesis §4.1): add a node, remove one. */
export const membership: Lesson = {
  id: 'membership',
  title: 'Adding and removing a server',
  summary: 'A new server joins as a learner, catches up, and is promoted to voter; then a server is removed. One server at a time, any two majorities of the old and the new membership overlap, so there are never two leaders.',
  cluster: { size: 3, seed: 7, electionTimeoutMs: [1_500, 3_000], heartbeatIntervalMs: 500, latencyMs: [100, 300] },
  steps: [
    {
      caption: 'Three servers elect a leader.',
      until: { leader: true },
    },
    {
      caption: 'Server {leader} leads term {term}, and commits entry {a} on all three servers.',
      actions: [{ do: 'propose', command: { set: 'x', to: 1 }, as: 'a' }],
      until: { applied: '$a', on: 'all' },
    },
    {
      caption: 'Server 4 starts empty, knowing no membership. The leader will add it as a learner: a learner receives the whole log but does not vote, so a newcomer still catching up cannot hold up commits.',
      forMs: 2_000,
    },
    {
      // add-node runs the simulation until the change is done: the caption shows once it is.
      caption: 'Server 4 has caught up, and the leader promoted it to voter: with four voters, a majority is three.',
      actions: [{ do: 'add-node', node: '4' }],
      until: { member: '4', voter: true },
      forMs: 2_000,
    },
    {
      caption: 'Server 4 now votes and counts towards commits: entry {b} needs three of the four.',
      actions: [{ do: 'propose', command: { set: 'x', to: 2 }, as: 'b' }],
      until: { applied: '$b', on: 'all' },
      forMs: 1_000,
    },
    {
      caption: 'Now server {gone} is to be removed. A change is an entry in the log: the leader uses it as soon as it is appended, and stops replicating to server {gone}.',
      actions: [{ do: 'remember', node: 'follower', as: 'gone' }],
      forMs: 2_000,
    },
    {
      caption: 'Server {gone} is removed: the change is committed, and server {gone} is shut down for good.',
      actions: [{ do: 'remove-node', node: '$gone' }],
      until: { member: '$gone', voter: false },
      forMs: 2_000,
    },
    {
      caption: 'With three voters left, a majority is two again: the others commit entry {c} without server {gone}.',
      actions: [{ do: 'propose', command: { set: 'x', to: 3 }, as: 'c' }],
      until: { applied: '$c', on: 'all' },
    },
    {
      caption: 'Only one change may be in progress at a time: the next must wait until this one is committed.',
      forMs: 3_000,
    },
  ],
};
