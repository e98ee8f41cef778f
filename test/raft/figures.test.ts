/** The Raft paper's Figures 7 and 8, and the election restriction, on hand-driven cores. */
import { describe, expect, it } from 'vitest';
import { CoreHarness, logOf, type Route } from '../support/core-harness.js';

describe('Figure 7: a new leader repairs every kind of divergent follower log', () => {
  // Terms of the entries of each log, from the paper.
  const leader = [1, 1, 1, 4, 4, 5, 5, 6, 6, 6];
  const followers: Record<string, number[]> = {
    a: [1, 1, 1, 4, 4, 5, 5, 6, 6],
    b: [1, 1, 1, 4],
    c: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    d: [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    e: [1, 1, 1, 4, 4, 4, 4],
    f: [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
  };

  it('wins with the votes of a, b, e, f (c and d have more up-to-date logs) and makes every log equal to its own', () => {
    const leaderLog = logOf(leader);
    // Shared prefixes hold the very same entries; divergent suffixes are other leaders' entries.
    const build = (terms: number[], tag: string) =>
      terms.map((t, i) => (leader[i] === t && i < leader.length && terms.slice(0, i + 1).every((x, j) => x === leader[j]) ? leaderLog[i]! : logOf(terms, tag)[i]!));
    const h = new CoreHarness([
      { id: 'L', term: 7, log: leaderLog },
      ...Object.entries(followers).map(([id, terms]) => ({ id, term: 7, log: build(terms, `${id}:`) })),
    ]);
    const votes: string[] = [];
    h.elect('L', (m) => {
      if (m.type === 'RequestVoteResponse' && m.voteGranted) votes.push(m.from);
      return true;
    });
    expect(h.core('L').role).toBe('leader');
    expect(h.core('L').term).toBe(8);
    expect(votes.sort()).toEqual(['a', 'b', 'e', 'f']);

    const { index } = h.core('L').propose('x');
    h.deliverAll();
    h.heartbeat('L');
    const expected = h.core('L').entries();
    expect(expected.map((e) => e.term)).toEqual([...leader, 8, 8]);
    expect(index).toBe(12);
    for (const id of Object.keys(followers)) {
      expect(h.core(id).entries(), `follower ${id}`).toEqual(expected);
      expect(h.core(id).commitIndex, `follower ${id}`).toBe(12);
      // What reached storage is what the log holds.
      expect(h.storages.get(id)!.load().entries).toEqual(expected);
    }
  });
});

describe('Figure 8: a leader never commits an entry from an earlier term by counting replicas', () => {
  // State at Figure 8 (c): S1 (term 2 entry at index 2, also on S2) is about to lead term 4;
  // S5 (crashed) holds a different entry at index 2 from term 3.
  const base = logOf([1]);
  const s1Entry2 = { index: 2, term: 2, kind: 'command' as const, command: 'from S1 in term 2' };
  const s5Entry2 = { index: 2, term: 3, kind: 'command' as const, command: 'from S5 in term 3' };
  const withoutS4: Route = (m) => m.to !== 'S4' && m.from !== 'S4';
  // S3 receives S1's entry 2, but never S1's term-4 no-op at index 3 (as if those messages were lost).
  const withholdIndex3FromS3: Route = (m) => {
    if (!withoutS4(m)) return false;
    if (m.type !== 'AppendEntries' || m.to !== 'S3') return true;
    return { ...m, entries: m.entries.filter((e) => e.index < 3) };
  };
  const setup = (route: Route) => {
    const h = new CoreHarness(
      [
        { id: 'S1', term: 3, log: [...base, s1Entry2] },
        { id: 'S2', term: 3, log: [...base, s1Entry2] },
        { id: 'S3', term: 3, votedFor: 'S5', log: base },
        { id: 'S4', term: 3, votedFor: 'S5', log: base },
        { id: 'S5', term: 3, votedFor: 'S5', log: [...base, s5Entry2] },
      ],
      { maxEntriesPerMessage: 1 },
    );
    h.crash('S5');
    // S1 leads term 4 with votes from S2 and S3 (S4 is unreachable for now).
    h.core('S1').campaign();
    h.deliverAll(route);
    expect(h.core('S1').role).toBe('leader');
    expect(h.core('S1').term).toBe(4);
    return h;
  };

  it('(c) replicating index 2 (term 2) to a majority does not commit it', () => {
    const h = setup(withholdIndex3FromS3);
    for (let i = 0; i < 5; i++) h.heartbeat('S1', withholdIndex3FromS3);
    expect(h.core('S3').entries().map((e) => e.term)).toEqual([1, 2]);
    expect(h.core('S2').entries().map((e) => e.term)).toEqual([1, 2, 4]);
    // Index 2 is on S1, S2, S3 — a majority — yet it is from term 2, so it is not committed.
    expect(h.core('S1').status().followers?.['S3']?.matchIndex).toBe(2);
    expect(h.core('S1').commitIndex).toBeLessThan(2);

    // (d) S1 crashes; S5 restarts and wins term 5 with S2, S3 and S4 (its last term 3 beats their 2 and 1).
    h.crash('S1');
    h.boot('S5');
    h.elect('S5'); // term 4: S2 and S3 already voted for S1 in term 4
    expect(h.core('S5').role).toBe('candidate');
    h.elect('S5'); // term 5
    expect(h.core('S5').role).toBe('leader');
    expect(h.core('S5').term).toBe(5);
    h.heartbeat('S5');
    // S5 overwrites index 2 everywhere: allowed, because it was never committed.
    for (const id of ['S2', 'S3', 'S4', 'S5']) {
      expect(h.core(id).entry(2)?.command, id).toBe('from S5 in term 3');
      expect(h.core(id).commitIndex, id).toBe(3);
    }
  });

  it('(e) once an entry of its own term is on a majority, both it and index 2 commit, and S5 cannot win', () => {
    const h = setup(withoutS4);
    h.heartbeat('S1', withoutS4);
    h.heartbeat('S1', withoutS4);
    expect(h.core('S1').commitIndex).toBe(3);
    h.crash('S1');
    h.boot('S5');
    h.elect('S5');
    h.elect('S5');
    h.elect('S5');
    expect(h.core('S5').role).not.toBe('leader');
    expect(h.core('S2').entry(2)?.command).toBe('from S1 in term 2');
    expect(h.core('S3').entry(2)?.command).toBe('from S1 in term 2');
  });
});

describe('Election restriction (§5.4.1)', () => {
  it('a candidate whose log is shorter, or whose last term is older, gets no vote', () => {
    const h = new CoreHarness([
      { id: 'A', term: 3, log: logOf([1, 1, 2]) },
      { id: 'B', term: 3, log: logOf([1, 1]) },
      { id: 'C', term: 3, log: logOf([1, 1, 1, 1, 1]) },
    ]);
    const granted: string[] = [];
    const record = (m: { type: string; voteGranted?: boolean; from: string; to: string }) => {
      if (m.type === 'RequestVoteResponse' && m.voteGranted) granted.push(`${m.from}→${m.to}`);
      return true;
    };
    h.elect('B', record); // shorter log than A and C's... A has a newer last term
    expect(granted.filter((g) => g.endsWith('B'))).toEqual([]);
    expect(h.core('B').role).not.toBe('leader');
    h.elect('C', record); // longest log, but last term 1 < A's 2: only B may vote for it
    expect(granted.filter((g) => g.endsWith('C'))).toEqual(['B→C']);
    expect(h.core('C').role).toBe('leader'); // B's vote plus its own is a majority of 3
    // C won legitimately (A's term-2 entry was never committed); but A alone would refuse C.
    expect(granted).not.toContain('A→C');
  });

  it('a node that votes in a term and restarts does not vote again in that term', () => {
    const h = new CoreHarness([
      { id: 'A', term: 1, log: logOf([1]) },
      { id: 'B', term: 1, log: logOf([1]) },
      { id: 'C', term: 1, log: logOf([1]) },
    ]);
    h.core('A').campaign();
    h.deliverAll((m) => m.to !== 'C' && (m.type !== 'RequestVoteResponse' || m.to !== 'A'));
    expect(h.core('B').votedFor).toBe('A');
    expect(h.core('B').term).toBe(2);
    h.crash('B');
    h.boot('B');
    expect(h.core('B').votedFor).toBe('A');
    // C campaigns in the same term 2 (its term was 1): B must refuse, A already voted for itself.
    h.core('C').elapse(0);
    const c = h.core('C');
    // Force C into term 2 exactly: one campaign from term 1.
    c.campaign();
    expect(c.term).toBe(2);
    const votes: boolean[] = [];
    h.deliverAll((m) => {
      if (m.type === 'RequestVoteResponse' && m.to === 'C') votes.push(m.voteGranted);
      return m.to !== 'A' || m.type !== 'RequestVote' ? true : true;
    });
    expect(votes.every((v) => !v)).toBe(true);
    expect(c.role).not.toBe('leader');
  });
});
