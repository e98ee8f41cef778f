/**
 * The lessons of raftkit/viz: each built-in lesson runs to its end, tells the truth (its claim
 * is asserted on the cluster's state and trace, for its own seed and for nearby ones), replays
 * byte for byte, and does not depend on how time is sliced; bad lessons give typed errors.
 */
import { describe, expect, it } from 'vitest';
import { LessonError, LessonRun, lessonById, lessons, validateLesson, type Lesson } from '../../src/viz/index.js';
import type { TraceEvent } from '../../src/sim/trace.js';

const IDS = ['leader-election', 'log-replication', 'leader-crash', 'figure-8', 'partition', 'pre-vote', 'snapshot', 'membership'];

function lesson(id: string): Lesson {
  const found = lessonById(id);
  if (found === undefined) throw new Error(`no lesson ${id}`);
  return found;
}

/** A small seeded generator for slice sizes (the test's own randomness, not the run's). */
function slices(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x = (Math.imul(x, 1_103_515_245) + 12_345) >>> 0;
    return 16 * (0.25 + (x / 2 ** 32) * 4); // one animation frame at 0.25× to 4.25× speed
  };
}

/** Everything a run ends with: its trace, captions and each node's state. */
function endState(run: LessonRun): string {
  const c = run.cluster;
  const nodes = c.ids.map((id) => ({ id, status: c.node(id).status(), log: c.node(id).running ? c.node(id).entries() : null, applied: c.applied(id) }));
  return JSON.stringify({ now: c.now, trace: c.traceDocument(), captions: run.captions, nodes, names: run.names });
}

/** The trace event types whose kind may be K (several kinds share a type). */
type EventOf<K extends TraceEvent['kind']> = TraceEvent extends infer E ? (E extends TraceEvent ? (K extends E['kind'] ? E : never) : never) : never;
const of = <K extends TraceEvent['kind']>(trace: readonly TraceEvent[], kind: K): EventOf<K>[] => trace.filter((e) => e.kind === kind) as EventOf<K>[];

/** Election Safety over the whole trace: at most one node becomes leader in each term. */
function oneLeaderPerTerm(trace: readonly TraceEvent[]): void {
  const leaders = new Map<number, string>();
  for (const e of of(trace, 'role')) {
    if (e.role !== 'leader') continue;
    const other = leaders.get(e.term);
    expect(other === undefined || other === e.node, `two leaders in term ${e.term}: ${other} and ${e.node}`).toBe(true);
    leaders.set(e.term, e.node);
  }
}

/** Every running member ends with the same log, commit index and applied commands. */
function converged(run: LessonRun): void {
  const c = run.cluster;
  const live = c.liveIds;
  const first = live[0] as string;
  for (const id of live) {
    expect(c.node(id).entries().map((e) => [e.index, e.term]), `log of ${id}`).toEqual(c.node(first).entries().map((e) => [e.index, e.term]));
    expect(c.node(id).commitIndex, `commit of ${id}`).toBe(c.node(first).commitIndex);
    expect(c.node(id).lastApplied, `applied of ${id}`).toBe(c.node(first).lastApplied);
  }
}

/** A node's term, per the trace, at a time (its last term event before it). */
function termAt(trace: readonly TraceEvent[], node: string, time: number): number {
  let term = 0;
  for (const e of of(trace, 'term')) if (e.node === node && e.time <= time) term = e.term;
  return term;
}

/** The time of the first event of a kind (and node) in the trace. */
function timeOf(trace: readonly TraceEvent[], kind: TraceEvent['kind'], node?: string): number {
  const found = trace.find((e) => e.kind === kind && (node === undefined || ('node' in e && e.node === node)));
  if (found === undefined) throw new Error(`no ${kind} event${node === undefined ? '' : ` of ${node}`}`);
  return found.time;
}

/**
 * What each lesson claims, checked on its finished run. Some claims need a look during the
 * run: `during` is called after every slice with the run (the runs are driven in 5 ms slices).
 */
const claims: Record<string, { during?: (run: LessonRun, seen: Record<string, unknown>) => void; after: (run: LessonRun, seen: Record<string, unknown>) => void }> = {
  'leader-election': {
    after(run) {
      const trace = run.cluster.trace();
      oneLeaderPerTerm(trace);
      const leader = run.cluster.leader() as string;
      expect(leader).toBeDefined();
      const term = run.cluster.node(leader).term;
      const won = of(trace, 'role').find((e) => e.node === leader && e.role === 'leader' && e.term === term) as { time: number };
      // It won with a majority: its own vote and at least two others, in its term.
      const votes = of(trace, 'vote').filter((v) => v.candidate === leader && v.term === term && v.granted && !v.preVote);
      expect(votes.length + 1).toBeGreaterThanOrEqual(3);
      // Its heartbeats kept everyone else from standing afterwards, and everyone follows it.
      expect(of(trace, 'timeout').filter((e) => e.time > won.time)).toEqual([]);
      for (const id of run.cluster.ids) if (id !== leader) expect(run.cluster.node(id).leaderId, `leader known to ${id}`).toBe(leader);
    },
  },
  'log-replication': {
    after(run) {
      const c = run.cluster;
      const commands = [{ set: 'x', to: 5 }, { set: 'y', to: 1 }, { set: 'y', to: 2 }, { set: 'z', to: 3 }];
      for (const id of c.ids) expect(c.applied(id).map((e) => e.command), `applied by ${id}`).toEqual(commands);
      // The leader commits entry x before any follower does (followers learn it from the leader).
      const x = run.names['x'] as number;
      const firstCommit = of(c.trace(), 'commit').find((e) => e.index >= x);
      const leader = c.leader() as string;
      expect(firstCommit?.node).toBe(leader);
      converged(run);
    },
  },
  'leader-crash': {
    after(run) {
      const c = run.cluster;
      const trace = c.trace();
      oneLeaderPerTerm(trace);
      const old = run.names['old'] as string;
      const leader = c.leader() as string;
      expect(leader).not.toBe(old);
      const crashedAt = timeOf(trace, 'crash', old);
      expect(c.node(leader).term).toBeGreaterThan(termAt(trace, old, crashedAt));
      // The committed entry survived the crash, and the old leader rejoined as a follower that applied everything.
      expect(c.node(leader).entries().map((e) => e.command)).toContainEqual({ set: 'x', to: 1 });
      expect(c.node(old).role).toBe('follower');
      expect(c.node(old).term).toBe(c.node(leader).term);
      expect(c.applied(old).map((e) => e.command)).toEqual([{ set: 'x', to: 1 }, { set: 'x', to: 2 }]);
      converged(run);
    },
  },
  'figure-8': {
    during(run, seen) {
      // Step 5: S1 leads term 4, entry 2 (term 2) is on S1, S2 and S3, and S1 has not committed it.
      if (run.step !== 5) return;
      const c = run.cluster;
      expect(c.node('1').role).toBe('leader');
      expect(c.node('1').term).toBe(4);
      for (const id of ['1', '2', '3']) expect(c.node(id).entries(2, 2)[0]?.term, `entry 2 on ${id}`).toBe(2);
      expect(c.node('1').commitIndex).toBeLessThan(2);
      seen['majorityButUncommitted'] = true;
    },
    after(run, seen) {
      const c = run.cluster;
      const trace = c.trace();
      expect(seen['majorityButUncommitted']).toBe(true);
      oneLeaderPerTerm(trace);
      // S1's entry 2 of term 2 was never committed anywhere...
      expect(of(trace, 'commit').filter((e) => e.index >= 2 && e.term === 2)).toEqual([]);
      // ...and nothing past index 1 was committed until an entry of the current leader's term:
      // the first such commit is entry 3 of term 5, and entry 2 (term 3) commits with it.
      const first = of(trace, 'commit').find((e) => e.index >= 2);
      expect(first).toMatchObject({ node: '5', index: 3, term: 5 });
      for (const id of c.ids) expect(c.node(id).entries().map((e) => `${e.index}@${e.term}`), `log of ${id}`).toEqual(['1@1', '2@3', '3@5']);
      converged(run);
    },
  },
  partition: {
    after(run) {
      const c = run.cluster;
      const trace = c.trace();
      oneLeaderPerTerm(trace);
      const cut = of(trace, 'partition')[0] as { time: number; groups: readonly (readonly string[])[] };
      const healed = timeOf(trace, 'heal');
      const minority = cut.groups[0] as readonly string[];
      expect(minority).toContain(run.names['old']);
      const lost = run.names['lost'] as number;
      // No commit on the minority side while it is cut off (a follower there may still learn that
      // entries from before the cut were committed); commits on the majority side.
      const during = of(trace, 'commit').filter((e) => e.time >= cut.time && e.time < healed);
      expect(during.filter((e) => minority.includes(e.node) && e.index >= lost)).toEqual([]);
      expect(during.filter((e) => !minority.includes(e.node)).length).toBeGreaterThan(0);
      // The minority leader's entry (of its term) is never committed, anywhere, ever.
      expect(of(trace, 'commit').filter((e) => e.index >= lost && e.term === termAt(trace, run.names['old'] as string, cut.time))).toEqual([]);
      // After the heal every log converges on the majority's, without the lost command.
      converged(run);
      for (const id of c.ids) {
        expect(c.applied(id).map((e) => e.command), `applied by ${id}`).toEqual([{ set: 'x', to: 1 }, { set: 'x', to: 2 }]);
        expect(c.node(id).entries().map((e) => e.command)).not.toContainEqual({ set: 'x', to: 'lost' });
      }
    },
  },
  'pre-vote': {
    after(run) {
      const c = run.cluster;
      const trace = c.trace();
      oneLeaderPerTerm(trace);
      const lead = run.names['lead'] as string;
      const away3 = of(trace, 'disconnect').find((e) => e.node === '3')?.time as number;
      const away5 = of(trace, 'disconnect').find((e) => e.node === '5')?.time as number;
      const back5 = of(trace, 'reconnect').find((e) => e.node === '5')?.time as number;
      const term = termAt(trace, lead, away3);
      // With pre-vote: node 3 timed out while away, yet no term changed anywhere, before or after it rejoined.
      expect(of(trace, 'role').filter((e) => e.node === '3' && e.role === 'precandidate' && e.time > away3 && e.time < away5).length).toBeGreaterThan(0);
      expect(of(trace, 'term').filter((e) => e.time > away3 && e.time < away5)).toEqual([]);
      expect(termAt(trace, lead, away5)).toBe(term);
      expect(of(trace, 'role').filter((e) => e.node === lead && e.time > away3 && e.time < away5)).toEqual([]);
      // Without pre-vote: node 5's term climbed alone, and its return made the leader's term change.
      expect(termAt(trace, '5', back5)).toBeGreaterThan(term + 1);
      const stepDown = of(trace, 'role').find((e) => e.node === lead && e.time >= back5);
      expect(stepDown?.role).toBe('follower');
      expect(stepDown?.term).toBeGreaterThan(term);
      const leader = c.leader() as string;
      expect(c.node(leader).term).toBeGreaterThan(termAt(trace, '5', back5));
      converged(run);
    },
  },
  snapshot: {
    after(run) {
      const c = run.cluster;
      const trace = c.trace();
      const away = run.names['away'] as string;
      const leader = c.leader() as string;
      // The leader compacted its log, and the lagging node got the snapshot by InstallSnapshot.
      expect(of(trace, 'snapshot').some((e) => e.node === leader && !e.installed)).toBe(true);
      expect(of(trace, 'snapshot').filter((e) => e.node === away && e.installed).length).toBeGreaterThan(0);
      expect(of(trace, 'send').some((e) => e.type === 'InstallSnapshot' && e.to === away)).toBe(true);
      expect(c.node(away).status().snapshotIndex).toBeGreaterThan(1);
      // It applied only what came after the snapshot itself, and caught up.
      expect(c.applied(away).map((e) => e.command)).toEqual([{ add: 1 }]);
      expect(c.node(away).lastApplied).toBe(c.node(leader).lastApplied);
      converged(run);
    },
  },
  membership: {
    after(run) {
      const c = run.cluster;
      const trace = c.trace();
      const gone = run.names['gone'] as string;
      const leader = c.leader() as string;
      // Node 4 joined, became a voter and applied everything; the removed node left and stopped.
      expect(of(trace, 'join').map((e) => e.node)).toEqual(['4']);
      expect(of(trace, 'leave').map((e) => e.node)).toEqual([gone]);
      expect(c.ids).toContain('4');
      expect(c.ids).not.toContain(gone);
      expect(c.node(gone).running).toBe(false);
      expect([...c.node(leader).membership.voters].sort()).toEqual(['1', '2', '3', '4'].filter((id) => id !== gone));
      expect(c.applied('4').map((e) => e.command)).toEqual([{ set: 'x', to: 1 }, { set: 'x', to: 2 }, { set: 'x', to: 3 }]);
      converged(run);
    },
  },
};

/** Runs a lesson in 5 ms slices, checking its `during` claim after each one. */
async function runChecked(l: Lesson, seed?: number | string): Promise<LessonRun> {
  const run = new LessonRun(l, seed === undefined ? {} : { seed });
  const claim = claims[l.id];
  if (claim === undefined) throw new Error(`no claim for ${l.id}`);
  const seen: Record<string, unknown> = {};
  while (!run.done) {
    await run.advance(5);
    claim.during?.(run, seen);
  }
  claim.after(run, seen);
  return run;
}

describe('the built-in lessons', () => {
  it('are the eight of the course, in order, each valid data', () => {
    expect(lessons.map((l) => l.id)).toEqual(IDS);
    for (const l of lessons) expect(validateLesson(JSON.parse(JSON.stringify(l)))).toEqual(l);
    expect(lessonById('figure-8')?.title).toMatch(/Figure 8/);
    expect(lessonById('nope')).toBeUndefined();
  });

  it('cannot be changed by a page that edits them', () => {
    const l = lesson('leader-election');
    expect(() => ((l.steps[0] as { caption: string }).caption = 'changed')).toThrow(TypeError);
    expect(() => (lessons as Lesson[]).push(l)).toThrow(TypeError);
  });

  it.each(IDS)('%s runs to its end on its seed, one caption per step, filled in', async (id) => {
    const run = new LessonRun(lesson(id));
    expect(run.step).toBe(0);
    expect(run.caption).not.toBe('');
    await run.runToEnd();
    expect(run.done).toBe(true);
    expect(run.step).toBe(run.lesson.steps.length);
    expect(run.captions.length).toBe(run.lesson.steps.length);
    for (const caption of run.captions) expect(caption).not.toMatch(/[{}]/);
    expect(run.caption).toBe(run.captions.at(-1));
    run.cluster.checkInvariants();
  });

  it.each(IDS)('%s: its claim holds in its run', async (id) => {
    await runChecked(lesson(id));
  });

  it.each(IDS)('%s: the same lesson twice gives the same trace, byte for byte', async (id) => {
    const a = new LessonRun(lesson(id));
    const b = new LessonRun(lesson(id));
    await a.runToEnd();
    await b.runToEnd();
    expect(JSON.stringify(b.cluster.traceDocument())).toBe(JSON.stringify(a.cluster.traceDocument()));
    expect(b.captions).toEqual(a.captions);
  });

  it.each(IDS)('%s: advancing in random frame-sized slices ends as runToEnd does, with the same captions', async (id) => {
    const whole = new LessonRun(lesson(id));
    await whole.runToEnd();
    for (const seed of [1, 2]) {
      const next = slices(seed);
      const run = new LessonRun(lesson(id));
      const entered: string[] = [];
      while (!run.done) entered.push(...(await run.advance(next())));
      expect(entered).toEqual(whole.captions);
      expect(endState(run)).toBe(endState(whole));
    }
  });

  // Each lesson tells its story on other seeds too: the seed changes the timings (latencies,
  // election timeouts), not the outcome. None pins its seed.
  it.each(IDS)('%s: its claim holds for nearby seeds', async (id) => {
    const own = lesson(id).cluster.seed as number;
    for (const seed of [own + 1, own + 2, own + 3, own + 100, `${id}-seed`]) {
      try {
        await runChecked(lesson(id), seed);
      } catch (error) {
        throw new Error(`seed ${seed}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
      }
    }
  });
});

describe('LessonRun', () => {
  const tiny: Lesson = {
    id: 'tiny',
    title: 'Tiny',
    summary: 'An election and a command.',
    cluster: { size: 3, seed: 1 },
    steps: [
      { caption: 'Waiting for a leader.', until: { leader: true } },
      { caption: '{leader} leads term {term}; entry {x} proposed.', actions: [{ do: 'propose', command: 'a', as: 'x' }], until: { applied: '$x', on: 'all' } },
      { caption: 'Done at commit {commit}.', forMs: 100 },
    ],
  };

  it('holds at the end of each step with holdAtStepEnd, passing no time, until next()', async () => {
    const run = new LessonRun(tiny, { holdAtStepEnd: true });
    const entered: string[] = [];
    let holds = 0;
    while (!run.done) {
      entered.push(...(await run.advance(16)));
      if (run.holding) {
        holds++;
        const now = run.cluster.now;
        const step = run.step;
        expect(await run.advance(500)).toEqual([]);
        expect(run.cluster.now).toBe(now);
        expect(run.step).toBe(step);
        run.next();
      }
    }
    expect(holds).toBe(2); // after steps 0 and 1 (the last step ends the lesson)
    const plain = new LessonRun(tiny);
    await plain.runToEnd();
    expect(entered).toEqual(plain.captions);
    expect(JSON.stringify(run.cluster.trace())).toBe(JSON.stringify(plain.cluster.trace()));
  });

  it('runToEnd goes through holds', async () => {
    const run = new LessonRun(tiny, { holdAtStepEnd: true });
    await run.runToEnd();
    expect(run.captions).toEqual(['Waiting for a leader.', expect.stringMatching(/^\d leads term 1; entry 2 proposed\.$/), 'Done at commit 2.']);
  });

  it('queues overlapping advance calls, and refuses a bad slice', async () => {
    const run = new LessonRun(tiny);
    const calls = [run.advance(100), run.advance(100), run.advance(100)];
    await Promise.all(calls);
    expect(run.cluster.now).toBe(300);
    await expect(run.advance(-1)).rejects.toThrow(RangeError);
    await expect(run.advance(Number.NaN)).rejects.toThrow(RangeError);
  });

  it('fails a step that does not reach its condition in time, naming the lesson and the step, and stays failed', async () => {
    const stuck: Lesson = { ...tiny, id: 'stuck', steps: [{ caption: 'Wait.', until: { leader: true } }, { caption: 'Never.', until: { leaderIs: '9' }, timeoutMs: 500 }] };
    expect(() => new LessonRun(stuck)).toThrow(/no node "9"/);
    const later: Lesson = { ...tiny, id: 'stuck', steps: [{ caption: 'Wait.', until: { leader: true } }, { caption: 'Never.', until: { snapshotInstalled: '1' }, timeoutMs: 500 }] };
    const run = new LessonRun(later);
    const error = await run.runToEnd().then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(LessonError);
    expect(error).toMatchObject({ code: 'STEP_TIMEOUT', lesson: 'stuck', step: 1 });
    expect((error as Error).message).toMatch(/^lesson "stuck" step 1: "until" did not hold within 500 ms/);
    const at = run.cluster.now;
    expect(at).toBeGreaterThanOrEqual(500);
    await expect(run.advance(10)).rejects.toBe(error);
    expect(run.cluster.now).toBe(at);
  });

  it('fails an action with no target (no leader yet) or one the cluster refuses, naming the step and the field', async () => {
    const early: Lesson = { ...tiny, id: 'early', steps: [{ caption: 'Crash the leader at once.', actions: [{ do: 'crash', node: 'leader' }] }] };
    await expect(new LessonRun(early).runToEnd()).rejects.toMatchObject({ code: 'NO_TARGET', lesson: 'early', step: 0, field: 'steps[0].actions[0].node' });
    const refused: Lesson = {
      ...tiny,
      id: 'refused',
      steps: [{ caption: 'Wait.', until: { leader: true }, forMs: 200 }, { caption: 'Propose to a follower.', actions: [{ do: 'propose', node: 'follower', command: 'x' }] }],
    };
    const error = await new LessonRun(refused).runToEnd().then(() => undefined, (e: unknown) => e);
    expect(error).toMatchObject({ code: 'ACTION_FAILED', lesson: 'refused', step: 1, field: 'steps[1].actions[0]' });
    expect((error as Error).cause).toMatchObject({ name: 'NotLeaderError' });
  });

  it('does every kind of action a teacher may write, as the trace shows', async () => {
    const all: Lesson = {
      id: 'every-action',
      title: 'Every action',
      summary: 'Each action once.',
      cluster: { size: 3, seed: 2, snapshotThreshold: 0 },
      steps: [
        { caption: 'Wait.', until: { leader: true }, forMs: 100 },
        {
          caption: '{l} and {f}.',
          actions: [
            { do: 'remember', node: 'leader', as: 'l' },
            { do: 'remember', node: 'follower', as: 'f' },
            { do: 'drop', type: 'AppendEntries', from: '$l', to: '$f', count: 2 },
            { do: 'propose', command: 'a', as: 'a' },
          ],
          until: { applied: '$a', on: 'all' },
        },
        { caption: 'Cut.', actions: [{ do: 'cut', from: '$l', to: '$f' }], forMs: 120 },
        { caption: 'Restore, compact.', actions: [{ do: 'restore', from: '$l', to: '$f' }, { do: 'compact', node: '$l' }], until: { compacted: '$l' } },
        { caption: 'Alone.', actions: [{ do: 'partition', groups: [['$f']] }], forMs: 100 },
        { caption: 'Healed.', actions: [{ do: 'heal' }], until: { converged: true }, timeoutMs: 5_000 },
        { caption: 'A learner.', actions: [{ do: 'add-node', node: '4', voter: false }], until: { all: [{ member: '4', voter: false }, { applied: '$a', on: '4' }] } },
        { caption: 'Gone.', actions: [{ do: 'remove-node', node: '4' }], forMs: 100 },
        { caption: 'Disconnect {f}.', actions: [{ do: 'disconnect', node: '$f' }, { do: 'drop', type: 'RequestVote' }, { do: 'stop-dropping' }, { do: 'reconnect', node: '$f' }], forMs: 100 },
      ],
    };
    const run = new LessonRun(all);
    await run.runToEnd();
    const trace = run.cluster.trace();
    const { l, f } = run.names as { l: string; f: string };
    expect(of(trace, 'drop').filter((e) => e.reason === 'filter').map((e) => [e.type, e.from, e.to])).toEqual([['AppendEntries', l, f], ['AppendEntries', l, f]]);
    expect(of(trace, 'cut').map((e) => [e.from, e.to])).toEqual([[l, f]]);
    expect(of(trace, 'restore').map((e) => [e.from, e.to])).toEqual([[l, f]]);
    expect(of(trace, 'snapshot').filter((e) => e.node === l && !e.installed).length).toBe(1);
    expect(of(trace, 'partition').map((e) => e.groups)).toEqual([[[f]]]);
    expect(of(trace, 'heal').length).toBe(1);
    expect(of(trace, 'join').map((e) => e.node)).toEqual(['4']);
    expect(of(trace, 'leave').map((e) => e.node)).toEqual(['4']);
    expect(of(trace, 'disconnect').map((e) => e.node)).toEqual([f]);
    expect(of(trace, 'reconnect').map((e) => e.node)).toEqual([f]);
    expect(run.captions[1]).toBe(`${l} and ${f}.`);
  });

  it('runs a lesson read from JSON, with a seed of its own', async () => {
    const run = new LessonRun(JSON.parse(JSON.stringify(tiny)) as Lesson, { seed: 'other' });
    await run.runToEnd();
    expect(run.cluster.seed).toBe('other');
    expect(run.names['x']).toBe(2);
  });
});

describe('validateLesson', () => {
  const good = { id: 'mine', title: 'Mine', summary: 'S.', cluster: { size: 3, seed: 1 }, steps: [{ caption: 'Go.', until: { leader: true } }] };
  const withStep = (step: unknown) => ({ ...good, steps: [good.steps[0], step] });

  it.each([
    ['not an object', 42, undefined, 'lesson'],
    ['no id', { ...good, id: '' }, undefined, 'id'],
    ['a typo in a field', { ...good, titel: 'x' }, undefined, 'titel'],
    ['a cluster too big', { ...good, cluster: { size: 12, seed: 1 } }, undefined, 'cluster.size'],
    ['a bad seed', { ...good, cluster: { size: 3, seed: null } }, undefined, 'cluster.seed'],
    ['a bad timeout range', { ...good, cluster: { size: 3, seed: 1, electionTimeoutMs: [300, 100] } }, undefined, 'cluster.electionTimeoutMs'],
    ['options for a node that does not exist', { ...good, cluster: { size: 3, seed: 1, nodes: { '7': { preVote: false } } } }, undefined, 'cluster.nodes["7"]'],
    ['a typo in node options', { ...good, cluster: { size: 3, seed: 1, nodes: { '1': { prevote: false } } } }, undefined, 'cluster.nodes["1"].prevote'],
    ['no steps', { ...good, steps: [] }, undefined, 'steps'],
    ['a step without a caption', withStep({ forMs: 10 }), 1, 'steps[1].caption'],
    ['an unknown action', withStep({ caption: 'x', actions: [{ do: 'explode' }] }), 1, 'steps[1].actions[0].do'],
    ['a node that does not exist', withStep({ caption: 'x', actions: [{ do: 'crash', node: '4' }] }), 1, 'steps[1].actions[0].node'],
    ['a name never remembered', withStep({ caption: 'x', actions: [{ do: 'restart', node: '$old' }] }), 1, 'steps[1].actions[0].node'],
    ['a name used before it is remembered', { ...good, steps: [{ caption: 'x', until: { role: 'leader', node: '$a' } }, { caption: 'y', actions: [{ do: 'remember', node: 'leader', as: 'a' }] }] }, 0, 'steps[0].until.node'],
    ['an index used as a node', withStep({ caption: 'x', actions: [{ do: 'propose', command: 1, as: 'i' }, { do: 'crash', node: '$i' }] }), 1, 'steps[1].actions[1].node'],
    ['a caption with an unknown placeholder', withStep({ caption: '{leeder} leads' }), 1, 'steps[1].caption'],
    ['a propose without a command', withStep({ caption: 'x', actions: [{ do: 'propose' }] }), 1, 'steps[1].actions[0].command'],
    ['an unknown message type', withStep({ caption: 'x', actions: [{ do: 'drop', type: 'Heartbeat' }] }), 1, 'steps[1].actions[0].type'],
    ['an unknown condition', withStep({ caption: 'x', until: { leaderElected: true } }), 1, 'steps[1].until'],
    ['a nested bad condition', withStep({ caption: 'x', until: { all: [{ leader: true }, { not: { role: 'boss', node: '1' } }] } }), 1, 'steps[1].until.all[1].not.role'],
    ['a negative forMs', withStep({ caption: 'x', forMs: -5 }), 1, 'steps[1].forMs'],
    ['a zero timeout', withStep({ caption: 'x', until: { leader: true }, timeoutMs: 0 }), 1, 'steps[1].timeoutMs'],
    ['a remembered name that hides {leader}', withStep({ caption: 'x', actions: [{ do: 'remember', node: '1', as: 'leader' }] }), 1, 'steps[1].actions[0].as'],
  ])('refuses %s, naming the field', (_, value, step, field) => {
    let error: unknown;
    try {
      validateLesson(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LessonError);
    expect(error).toMatchObject({ code: 'INVALID_LESSON', step, field });
    expect((error as Error).message).toContain(field);
    expect(() => new LessonRun(value as Lesson)).toThrow(LessonError);
  });

  it('accepts a lesson that uses what it remembered, an added node, and every kind of condition', () => {
    const lesson = {
      ...good,
      cluster: { size: 3, seed: 1, nodes: { '4': { snapshotThreshold: 3 } } },
      steps: [
        { caption: 'Go.', until: { leader: true } },
        {
          caption: '{old} crashed at {time}; entry {i}; {minority} | {majority}',
          actions: [{ do: 'crash', node: 'leader', as: 'old' }, { do: 'partition', groups: 'leader-minority' }, { do: 'propose', command: null, as: 'i' }, { do: 'add-node', node: '4', voter: false }],
          until: {
            any: [
              { leader: true, except: ['$old'], termAbove: '$old' },
              { committed: '$i', on: ['1', '4'] },
              { applied: 3, on: 'majority' },
              { entry: '$i', term: 2, on: 'all' },
              { someone: 'candidate' },
              { termAbove: 2, node: '$old' },
              { snapshotInstalled: '4' },
              { compacted: 'leader' },
              { member: '4', voter: true },
              { converged: true },
            ],
          },
        },
      ],
    };
    expect(validateLesson(lesson)).toBe(lesson);
  });

  it('reports the lesson the cluster cannot be built for as INVALID_LESSON', () => {
    const bad = { ...good, cluster: { size: 3, seed: 1, electionTimeoutMs: [100, 200], heartbeatIntervalMs: 150 } };
    expect(() => new LessonRun(bad as unknown as Lesson)).toThrow(expect.objectContaining({ code: 'INVALID_LESSON', field: 'cluster' }) as Error);
  });
});
