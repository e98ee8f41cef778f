// The leader's per-follower progress: its named transitions keep the invariants progress.ts states,
// over random sequences of sends, acknowledgements, rejections, stalls and snapshots.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { acknowledge, becomeProbe, becomeReplicate, becomeSnapshot, isPaused, newProgress, pipelineStalled, sentAppend, type Progress } from '../../src/raft/progress.js';
import { countVoters, quorumSize, quorumValue } from '../../src/raft/quorum.js';

const snapshot = { index: 10, term: 1, membership: { voters: ['1', '2'], learners: [] }, data: 'x' };

/** The invariants of progress.ts, as a list of what is broken. */
function broken(pr: Progress): string[] {
  const out: string[] = [];
  if (pr.state !== 'snapshot' && !(pr.match < pr.next)) out.push(`match ${pr.match} ≥ next ${pr.next}`);
  if (pr.state !== 'replicate' && pr.inflight.length > 0) out.push(`inflight in ${pr.state} state`);
  if (pr.state === 'replicate' && pr.inflight.some((last, i) => last >= pr.next || (i > 0 && last <= (pr.inflight[i - 1] as number)))) {
    out.push(`inflight ${pr.inflight.join(',')} not ascending below next ${pr.next}`);
  }
  if ((pr.snapshot !== null) !== (pr.state === 'snapshot')) out.push(`snapshot ${pr.snapshot === null ? 'unset' : 'set'} in ${pr.state} state`);
  return out;
}

type Step = { op: 'send'; n: number } | { op: 'ack'; back: number } | { op: 'reject'; to: number } | { op: 'stall' } | { op: 'snapshot' } | { op: 'installed' };

const stepArb: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ op: fc.constant('send' as const), n: fc.integer({ min: 1, max: 5 }) }),
  fc.record({ op: fc.constant('ack' as const), back: fc.integer({ min: 0, max: 6 }) }),
  fc.record({ op: fc.constant('reject' as const), to: fc.integer({ min: 0, max: 30 }) }),
  fc.constant({ op: 'stall' as const }),
  fc.constant({ op: 'snapshot' as const }),
  fc.constant({ op: 'installed' as const }),
);

/** Drives one follower's progress the way the core does, with a log of `last` entries. */
function drive(steps: readonly Step[]): Progress {
  const pr = newProgress(1, true);
  let last = 0;
  for (const step of steps) {
    switch (step.op) {
      case 'send': // the core sends from next when flow control allows
        last += step.n;
        if (pr.state !== 'snapshot' && !isPaused(pr, 4) && pr.next <= last) sentAppend(pr, Math.min(last, pr.next + 2));
        break;
      case 'ack': {
        // The follower answers success for what it was sent (up to next - 1), never more.
        const index = Math.max(0, pr.next - 1 - step.back);
        if (pr.state === 'snapshot') break;
        if (index > pr.match) pr.match = index;
        if (pr.state === 'probe') becomeReplicate(pr);
        else acknowledge(pr, index);
        break;
      }
      case 'reject':
        if (pr.state !== 'snapshot') becomeProbe(pr, step.to);
        break;
      case 'stall':
        if (pipelineStalled(pr)) becomeProbe(pr, pr.match + 1);
        break;
      case 'snapshot':
        becomeSnapshot(pr, snapshot);
        break;
      case 'installed':
        if (pr.state === 'snapshot') {
          pr.match = Math.max(pr.match, snapshot.index);
          becomeProbe(pr, snapshot.index + 1);
        }
    }
    const problems = broken(pr);
    if (problems.length > 0) throw new Error(`after ${JSON.stringify(step)}: ${problems.join('; ')} in ${JSON.stringify(pr)}`);
  }
  return pr;
}

describe('progress', () => {
  it('keeps its invariants under any sequence of transitions — property', () => {
    fc.assert(fc.property(fc.array(stepArb, { maxLength: 60 }), (steps) => void drive(steps)), { numRuns: 500 });
  });

  it('probes one message at a time, and pipelines up to the window once replicating', () => {
    const pr = newProgress(1, true);
    sentAppend(pr, 3);
    expect(isPaused(pr, 2)).toBe(true); // probe: wait for the answer
    pr.match = 3;
    becomeReplicate(pr);
    expect(pr.next).toBe(4);
    sentAppend(pr, 5);
    sentAppend(pr, 7);
    expect(isPaused(pr, 2)).toBe(true); // the window of 2 is full
    acknowledge(pr, 5);
    expect(pr.inflight).toEqual([7]);
    expect(isPaused(pr, 2)).toBe(false);
  });

  it('never probes at or below what the follower is known to hold', () => {
    const pr = newProgress(1, true);
    pr.match = 8;
    becomeProbe(pr, 3); // e.g. a stale rejection's hint
    expect(pr.next).toBe(9);
  });

  it('notices a pipeline that stood still for a whole heartbeat interval, once', () => {
    const pr = newProgress(1, true);
    becomeReplicate(pr);
    sentAppend(pr, 4);
    expect(pipelineStalled(pr)).toBe(false); // first sight of 4
    expect(pipelineStalled(pr)).toBe(true); // still 4 an interval later
    becomeProbe(pr, pr.match + 1);
    becomeReplicate(pr);
    sentAppend(pr, 4);
    expect(pipelineStalled(pr)).toBe(false); // a fresh send of the same index is not a stall
  });
});

describe('quorum', () => {
  it('is a majority of the voters', () => {
    expect([1, 2, 3, 4, 5, 6].map(quorumSize)).toEqual([1, 2, 2, 3, 3, 4]);
  });

  it('finds the highest value a majority has reached — property', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(100), { minLength: 1, maxLength: 9 }), (values) => {
        const quorum = quorumSize(values.length);
        const got = quorumValue([...values], values.length, quorum);
        // At least a quorum have reached it, and fewer than a quorum have reached anything higher.
        expect(values.filter((v) => v >= got).length).toBeGreaterThanOrEqual(quorum);
        expect(values.filter((v) => v > got).length).toBeLessThan(quorum);
      }),
    );
  });

  it('is 0 while fewer than a quorum are counted, and counts only voters', () => {
    expect(quorumValue([5, 5], 2, 3)).toBe(0);
    expect(countVoters(['1', '2', 'x'], new Set(['1', '2', '3']))).toBe(2);
  });
});
