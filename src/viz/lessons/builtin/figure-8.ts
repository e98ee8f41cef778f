import type { Lesson } from '../types.js';

/**
 * Figure 8 of the Raft paper (§5.4.2): why a leader never commits an entry of an earlier term
 * by counting its replicas. As test/raft/figures.test.ts reproduces it on hand-driven cores,
 * here on a Cluster: elections only when the lesson says (long election timeouts, `timeout`
 * actions), messages lost on purpose (`drop`), and one entry per AppendEntries so that entry 2
 * can reach S3 without entry 3. A new leader's first entry is its no-op, so the paper's
 * entries are those no-ops: entry 2 of term 2 (S1's), entry 2 of term 3 (S5's).
 */
export const figure8: Lesson = {
  id: 'figure-8',
  title: 'Figure 8: committing entries from earlier terms',
  summary: 'An entry of an earlier term can sit on a majority of servers and still be overwritten by a later leader. So a leader commits by counting replicas only for an entry of its own term; earlier entries commit with it.',
  cluster: { size: 5, seed: 8, electionTimeoutMs: [200_000, 200_000], heartbeatIntervalMs: 500, latencyMs: [100, 200], maxEntriesPerMessage: 1 },
  steps: [
    {
      caption: 'Five servers, S1 to S5 (here 1 to 5). In this lesson nobody times out by itself: every election is one we start. First S2 is elected, in term 1.',
      actions: [{ do: 'timeout', node: '2' }],
      until: { all: [{ leaderIs: '2' }, { applied: 1, on: 'all' }] },
      forMs: 2_000,
    },
    {
      caption: '(a) S2\'s first entry is committed everywhere. Now S1 times out and wins term 2; its entry for term 2, at index 2, reaches S2 only: its messages to S3, S4 and S5 are lost.',
      actions: [
        { do: 'drop', type: 'AppendEntries', from: '1', to: '3' },
        { do: 'drop', type: 'AppendEntries', from: '1', to: '4' },
        { do: 'drop', type: 'AppendEntries', from: '1', to: '5' },
        { do: 'timeout', node: '1' },
      ],
      until: { all: [{ leaderIs: '1' }, { termAbove: 1, node: '1' }, { entry: 2, term: 2, on: ['1', '2'] }] },
      forMs: 2_000,
    },
    {
      caption: '(b) S1 crashes. S5 stands for term 3 and wins with the votes of S3, S4 and its own (S2 refuses: its log is ahead). S5 appends its own entry at index 2, from term 3, but its messages are lost too.',
      actions: [{ do: 'crash', node: '1' }, { do: 'stop-dropping' }, { do: 'drop', type: 'AppendEntries', from: '5' }, { do: 'timeout', node: '5' }],
      until: { all: [{ role: 'leader', node: '5' }, { entry: 2, term: 3, on: '5' }] },
      forMs: 2_000,
    },
    {
      caption: 'S5 crashes, and S1 restarts. S1 stands for term 3: S3 and S4 already voted in term 3 (for S5), so they refuse, and S1 loses.',
      actions: [{ do: 'crash', node: '5' }, { do: 'stop-dropping' }, { do: 'restart', node: '1' }, { do: 'timeout', node: '1' }],
      forMs: 2_000,
    },
    {
      caption: '(c) S1 tries again, in term 4, and wins with S2, S3 and S4. It sends its entry 2 on to S3 (but its new entry 3, from term 4, reaches only S2).',
      actions: [
        { do: 'drop', type: 'AppendEntries', from: '1', to: '3', carrying: 3 },
        { do: 'drop', type: 'AppendEntries', from: '1', to: '4' },
        { do: 'timeout', node: '1' },
      ],
      until: { all: [{ leaderIs: '1' }, { entry: 2, term: 2, on: ['1', '2', '3'] }] },
    },
    {
      caption: 'Entry 2, from term 2, is now on S1, S2 and S3: a majority. Is it committed? No: S1 leads term 4, and a leader counts replicas only for entries of its own term. Entry 2 stays uncommitted.',
      forMs: 5_000,
    },
    {
      caption: '(d) Here is why. S1 crashes; S5 restarts and stands for term 4, in which everyone has voted already (for S1), and loses.',
      actions: [{ do: 'crash', node: '1' }, { do: 'heal' }, { do: 'restart', node: '5' }, { do: 'timeout', node: '5' }],
      forMs: 2_000,
    },
    {
      caption: 'S5 tries again in term 5. S3 and S4 vote for it: its last entry, from term 3, is newer than theirs. With its own vote, that is a majority.',
      actions: [{ do: 'timeout', node: '5' }],
      until: { leaderIs: '5' },
    },
    {
      caption: 'S5 leads term {term} and makes every log match its own: entry 2 of term 2 is overwritten on S2 and S3. It was on a majority, but it was never committed, so this is safe. Had S1 committed it in (c), a committed entry would now be lost.',
      until: { entry: 2, term: 3, on: 'all' },
      timeoutMs: 30_000,
    },
    {
      caption: '(e) The rule at work: S5 commits nothing until an entry of its own term, entry 3 (term 5), is on a majority. Then entry 3 is committed, and entry 2 of term 3 with it.',
      until: { committed: 3, on: 'leader' },
      timeoutMs: 30_000,
    },
    {
      caption: 'S1 restarts and follows S5: its entries 2 and 3 are replaced by the leader\'s. Every log is the same, and commit index {commit} is final.',
      actions: [{ do: 'restart', node: '1' }],
      until: { converged: true },
      forMs: 3_000,
      timeoutMs: 30_000,
    },
  ],
};
