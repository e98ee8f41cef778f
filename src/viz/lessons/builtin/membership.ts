import type { Lesson } from '../types.js';

/** A membership change, one server at a time (thesis §4.1): add a node, remove one. */
export const membership: Lesson = {
  id: 'membership',
  title: 'Adding and removing a server',
  summary: 'A new server joins as a learner, catches up, and is promoted to voter; then a server is removed. One server at a time, any two majorities of the old and the new membership overlap, so there are never two leaders.',
  cluster: { size: 3, seed: 7, latencyMs: [10, 30] },
  steps: [
    {
      caption: 'Three servers elect a leader.',
      until: { leader: true },
    },
    {
      caption: '{leader} leads term {term}, and commits entry {a} on all three servers.',
      actions: [{ do: 'propose', command: { set: 'x', to: 1 }, as: 'a' }],
      until: { applied: '$a', on: 'all' },
    },
    {
      caption: 'Server 4 starts empty, knowing no membership. The leader adds it as a learner: it receives the whole log but does not vote, so a newcomer still catching up cannot hold up commits. Once it has caught up, it is promoted to voter: with four voters, a majority is three.',
      actions: [{ do: 'add-node', node: '4' }],
      until: { member: '4', voter: true },
    },
    {
      caption: 'Server 4 now votes and counts towards commits: entry {b} needs three of the four.',
      actions: [{ do: 'propose', command: { set: 'x', to: 2 }, as: 'b' }],
      until: { applied: '$b', on: 'all' },
    },
    {
      caption: 'Now server {gone} is removed. A change is an entry in the log; the leader uses it as soon as it is appended, and stops replicating to {gone}.',
      actions: [{ do: 'remove-node', node: 'follower', as: 'gone' }],
      until: { member: '$gone', voter: false },
    },
    {
      caption: 'With three voters left, a majority is two again. {gone} is shut down for good; the others commit entry {c} without it.',
      actions: [{ do: 'propose', command: { set: 'x', to: 3 }, as: 'c' }],
      until: { applied: '$c', on: 'all' },
    },
    {
      caption: 'Only one change may be in progress at a time: the next must wait until this one is committed.',
      forMs: 300,
    },
  ],
};
