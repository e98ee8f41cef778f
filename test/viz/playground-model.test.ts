/**
 * The playground's headless model (src/viz/playground/model.ts) in Node: determinism (same seed
 * and actions, same trace), seeking (the past is the replay of the trace, and forward again
 * gives the same state), re-simulation after a seek (equal to the first run up to the view, the
 * future discarded), dropping a message in flight, lessons run to their end through the model,
 * and the errors for bad options and actions.
 */
import { describe, expect, it } from 'vitest';
import { PlaygroundError, PlaygroundModel, lessons, parsePlaygroundAttributes, type PlaygroundState } from '../../src/viz/index.js';
import type { MessageEvent, TraceEvent } from '../../src/index.js';

const upTo = (trace: readonly TraceEvent[], ms: number) => JSON.stringify(trace.filter((e) => e.time <= ms));
/** Whether `trace` begins with every event of `original` up to `ms` (then an action of that moment may follow). */
const sameUpTo = (trace: readonly TraceEvent[], original: readonly TraceEvent[], ms: number) => {
  const before = original.filter((e) => e.time <= ms);
  return before.length > 0 && JSON.stringify(trace.slice(0, before.length)) === JSON.stringify(before);
};
const codeOf = async (work: () => unknown): Promise<string | undefined> => {
  try {
    await work();
  } catch (error) {
    if (error instanceof PlaygroundError) return error.code;
    throw error;
  }
  return undefined;
};
/** What the picture shows, without the list of actions (which seeking does not change). */
const shown = (state: PlaygroundState) => JSON.stringify({ ...state, actions: undefined });

/** A run with every kind of action: crash the leader, propose, partition, heal, restart. */
async function eventful(seed = 1): Promise<PlaygroundModel> {
  const model = new PlaygroundModel({ seed, size: 5 });
  await model.advance(6000);
  const leader = model.state.leader as string;
  await model.propose({ set: 'x', to: 1 });
  await model.advance(1500);
  await model.crash(leader);
  await model.advance(6000);
  await model.partition([['1', '2'], ['3', '4', '5']]);
  await model.advance(4000);
  await model.heal();
  await model.restart(leader);
  await model.timeout(model.state.nodes.find((n) => n.role !== 'leader' && n.status === 'up')?.id as string);
  await model.advance(4000);
  return model;
}

describe('PlaygroundModel', () => {
  it('elects a leader on seed 1 (the one the browser test expects), with the timer arcs running', async () => {
    const model = new PlaygroundModel({ seed: 1, size: 5 });
    expect(model.state.leader).toBeUndefined();
    await model.advance(1000);
    expect(model.state.nodes.every((n) => n.timer !== null && n.timer > 0 && n.timer < 1)).toBe(true);
    await model.advance(5000);
    expect(model.state.leader).toBe('1');
    expect(model.state.time).toBe(6000);
    expect(model.state.nodes.find((n) => n.id === '1')?.timer).toBeNull();
  });

  it('is deterministic: the same seed and actions give the same trace, byte for byte', async () => {
    const a = await eventful();
    const b = await eventful();
    expect(JSON.stringify(b.trace())).toBe(JSON.stringify(a.trace()));
    expect(b.actions).toEqual(a.actions);
    expect(a.actions.map((x) => x.action.kind)).toEqual(['propose', 'crash', 'partition', 'heal', 'restart', 'timeout']);
    expect(a.trace().some((e) => e.kind === 'crash')).toBe(true);
    const other = await eventful(2);
    expect(JSON.stringify(other.trace())).not.toBe(JSON.stringify(a.trace()));
  });

  it('seeks backward to the replayed past and forward again to the same state', async () => {
    const model = await eventful();
    const end = model.head;
    const before = shown(model.state);
    const trace = JSON.stringify(model.trace());
    await model.seek(1500);
    expect(model.state.time).toBe(1500);
    expect(model.state.leader).toBeUndefined(); // no election yet at 1.5 s
    expect(model.state.actions.length).toBe(6); // looking does not discard
    await model.seek(end + 1000); // clamped to what has run
    expect(model.time).toBe(end);
    expect(shown(model.state)).toBe(before);
    expect(JSON.stringify(model.trace())).toBe(trace);
  });

  it('re-simulates from the seed after a seek: equal to the first run up to the view, the future discarded', async () => {
    const first = await eventful();
    const original = first.trace().slice();
    const crashAt = first.actions[1]?.time as number;
    const view = crashAt + 2000; // after the crash, before the partition
    await first.seek(view);
    await first.heal();
    expect(first.actions.map((a) => a.action.kind)).toEqual(['propose', 'crash', 'heal']);
    expect(first.actions.every((a) => a.time <= first.head)).toBe(true);
    expect(sameUpTo(first.trace(), original, view)).toBe(true);
    expect(first.trace().some((e) => e.kind === 'partition')).toBe(false);
    expect(first.head).toBeLessThan(view + 5 + 1e-9);
    // Playing on from the past without acting discards the later actions too.
    const second = await eventful();
    await second.seek(view);
    await second.advance(100);
    expect(second.actions.map((a) => a.action.kind)).toEqual(['propose', 'crash']);
    expect(sameUpTo(second.trace(), original, view)).toBe(true);
    // And a run rebuilt by hand from the same actions is the same run.
    const again = new PlaygroundModel({ seed: 1, size: 5 });
    await again.advance(6000);
    await again.propose({ set: 'x', to: 1 });
    await again.advance(1500);
    await again.crash(first.actions[1]?.action.kind === 'crash' ? first.actions[1].action.node : '');
    await again.advance(view + 100 - again.time);
    expect(JSON.stringify(again.trace())).toBe(JSON.stringify(second.trace()));
  });

  it('drops a message in flight by id: lost when it arrives, nothing before changed, deterministic', async () => {
    const drop = async () => {
      const model = new PlaygroundModel({ seed: 1, size: 5 });
      await model.advance(9000);
      const message = model.state.messages.find((m) => m.type === 'AppendEntries' && !m.duplicate);
      expect(message).toBeDefined();
      const id = message?.id as number;
      const before = model.trace().slice();
      await model.dropMessage(id);
      expect(model.state.messages.find((m) => m.id === id)?.doomed).toBe(true);
      await model.advance(1000);
      const outcomes = model.trace().filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && e.id === id);
      expect(outcomes.map((e) => [e.kind, e.kind === 'drop' ? e.reason : ''])).toEqual([['drop', 'cut']]);
      expect(upTo(model.trace(), 9000)).toBe(upTo(before, 9000));
      expect(model.state.cuts).toEqual([]); // restored at once
      return JSON.stringify(model.trace());
    };
    expect(await drop()).toBe(await drop());
    const model = new PlaygroundModel({ seed: 1, size: 5 });
    expect(await codeOf(() => model.dropMessage(12345))).toBe('NOT_IN_FLIGHT');
  });

  it('leaves the model unchanged when it refuses an action from the past', async () => {
    const model = new PlaygroundModel({ seed: 1, size: 5 });
    await model.advance(6000);
    await model.propose('x = 1');
    await model.crash('2');
    await model.advance(3000);
    const head = model.head;
    const actions = JSON.stringify(model.actions);
    const trace = JSON.stringify(model.trace());
    const unchanged = () => {
      expect(model.head).toBe(head);
      expect(JSON.stringify(model.actions)).toBe(actions);
      expect(JSON.stringify(model.trace())).toBe(trace);
    };
    await model.seek(1000); // no leader yet, node 2 running
    expect(await codeOf(() => model.propose('y = 2'))).toBe('NO_LEADER');
    unchanged();
    expect(await codeOf(() => model.restart('2'))).toBe('BAD_ACTION');
    unchanged();
    expect(await codeOf(() => model.dropMessage(12345))).toBe('NOT_IN_FLIGHT');
    unchanged();
    expect(model.time).toBe(1000);
    // Acted on, the past is checked as it was: node 2 was running then.
    await model.crash('2');
    expect(model.actions.map((a) => a.action.kind)).toEqual(['crash']);
  });

  it('steps through the recorded past without discarding the actions after it', async () => {
    const model = await eventful();
    const head = model.head;
    const trace = JSON.stringify(model.trace());
    const view = (model.actions[1]?.time as number) - 500; // before the crash
    await model.seek(view);
    for (let i = 0; i < 3; i++) {
      const next = model.trace().find((e) => e.time > model.time)?.time;
      await model.step();
      expect(model.time).toBe(next);
    }
    expect(model.actions.length).toBe(6);
    expect(model.head).toBe(head);
    expect(JSON.stringify(model.trace())).toBe(trace);
    // At the head, a step runs the simulation on to the next event.
    await model.seek(head);
    await model.step();
    expect(model.time).toBeGreaterThan(head);
    expect(model.actions.length).toBe(6);
  });

  it('drops what is in flight at the time shown, not at the end of its slice', async () => {
    const model = new PlaygroundModel({ seed: 1, size: 5 });
    await model.advance(9000);
    await model.propose('x = 1');
    await model.advance(1000);
    const midSlice = (t: number) => t % 5 > 0.5 && t % 5 < 4.5;
    const isMessage = (e: TraceEvent): e is MessageEvent => e.kind === 'send' || e.kind === 'deliver' || e.kind === 'drop';
    const actions = JSON.stringify(model.actions);
    const head = model.head;
    // Sent just after the view (within the same slice): not in flight at the view.
    const send = model.trace().filter(isMessage).find((e) => e.kind === 'send' && e.time > 7000 && midSlice(e.time));
    expect(send).toBeDefined();
    await model.seek((send?.time as number) - 0.25);
    expect(model.state.messages.some((m) => m.id === send?.id)).toBe(false);
    expect(await codeOf(() => model.dropMessage(send?.id as number))).toBe('NOT_IN_FLIGHT');
    expect(JSON.stringify(model.actions)).toBe(actions);
    expect(model.head).toBe(head);
    // In flight at the view but delivered before the slice ends, where an action takes effect.
    const deliver = model.trace().filter(isMessage).find((e) => e.kind === 'deliver' && e.duplicate !== true && e.time > 7000 && midSlice(e.time));
    expect(deliver).toBeDefined();
    await model.seek((deliver?.time as number) - 0.25);
    expect(model.state.messages.some((m) => m.id === deliver?.id && !m.duplicate)).toBe(true);
    expect(await codeOf(() => model.dropMessage(deliver?.id as number))).toBe('BAD_ACTION');
    expect(JSON.stringify(model.actions)).toBe(actions);
    expect(model.head).toBe(head);
    // In flight at the view and arriving later: dropped.
    const view = (deliver?.time as number) - 0.25;
    const later = model.state.messages.find((m) => !m.duplicate && (model.trace().filter(isMessage).find((e) => e.kind === 'deliver' && e.id === m.id && e.duplicate !== true)?.time ?? 0) > view + 5);
    expect(later).toBeDefined();
    await model.dropMessage(later?.id as number);
    expect(model.actions.at(-1)?.action).toMatchObject({ kind: 'drop', message: later?.id });
    await model.advance(1000);
    expect(model.trace().filter(isMessage).filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && e.id === later?.id && e.duplicate !== true).map((e) => e.kind)).toEqual(['drop']);
  });

  it('runs every lesson to its end, stepping through its holds, with the captions in order', async () => {
    for (const lesson of lessons) {
      const model = new PlaygroundModel({ lesson: lesson.id });
      const captions = [model.state.lesson?.caption];
      for (let i = 0; i < 2000 && model.state.lesson?.done !== true; i++) {
        if (model.holding) await model.nextStep();
        await model.advance(500);
        const caption = model.state.lesson?.caption;
        if (caption !== captions[captions.length - 1]) captions.push(caption);
      }
      expect(model.state.error, lesson.id).toBeNull();
      expect(model.state.lesson?.done, lesson.id).toBe(true);
      expect(captions.length, lesson.id).toBeGreaterThanOrEqual(Math.min(2, lesson.steps.length));
    }
  });

  it('keeps a proposed command as text, hostile markup included', async () => {
    const model = new PlaygroundModel({ seed: 1, size: 3 });
    expect(await codeOf(() => model.propose('too early'))).toBe('NO_LEADER');
    await model.advance(6000);
    const hostile = '<img src=x onerror=alert(1)>';
    await model.propose(hostile);
    await model.advance(2000);
    expect(Object.values(model.state.entries)).toContain(hostile);
    const leader = model.state.nodes.find((n) => n.id === model.state.leader);
    expect(leader?.commitIndex).toBeGreaterThanOrEqual(2);
  });

  it('refuses bad options and actions with a PlaygroundError and its code', async () => {
    expect(await codeOf(() => new PlaygroundModel({ size: 9 }))).toBe('BAD_SIZE');
    expect(await codeOf(() => new PlaygroundModel({ size: 2 }))).toBe('BAD_SIZE');
    expect(await codeOf(() => new PlaygroundModel({ seed: 'x' as unknown as number }))).toBe('BAD_SEED');
    expect(await codeOf(() => new PlaygroundModel({ seed: 1.5 }))).toBe('BAD_SEED');
    expect(await codeOf(() => new PlaygroundModel({ lesson: 'nope' }))).toBe('UNKNOWN_LESSON');
    expect(await codeOf(() => new PlaygroundModel(null as unknown as object))).toBe('BAD_OPTION');
    expect(await codeOf(() => new PlaygroundModel({ latencyMs: [5, 1] }))).toBe('BAD_OPTION');
    expect(await codeOf(() => new PlaygroundModel({ electionTimeoutMs: [-1, 3] }))).toBe('BAD_OPTION');
    expect(await codeOf(() => new PlaygroundModel({ heartbeatIntervalMs: 0 }))).toBe('BAD_OPTION');
    expect(await codeOf(() => new PlaygroundModel({ heartbeatIntervalMs: Number.NaN }))).toBe('BAD_OPTION');
    const model = new PlaygroundModel({ size: 3 });
    expect(await codeOf(() => model.crash('9'))).toBe('UNKNOWN_NODE');
    expect(await codeOf(() => model.restart('1'))).toBe('BAD_ACTION');
    expect(await codeOf(() => model.partition([['1'], ['1', '2']]))).toBe('BAD_ACTION');
    expect(await codeOf(() => model.nextStep())).toBe('NO_LESSON');
    expect(await codeOf(() => model.advance(-1))).toBe('BAD_ACTION');
    expect(await codeOf(() => model.advance(Number.POSITIVE_INFINITY))).toBe('BAD_ACTION');
    expect(await codeOf(() => model.seek(Number.NaN))).toBe('BAD_ACTION');
    expect(await codeOf(() => model.seek('5' as unknown as number))).toBe('BAD_ACTION');
    await model.crash('1');
    expect(await codeOf(() => model.crash('1'))).toBe('BAD_ACTION');
    expect(model.actions.length).toBe(1); // refused actions are not recorded
  });

  it('reads attributes leniently: a size outside 3–7 is clamped and a bad seed replaced, each with a message', () => {
    const read = (attributes: Record<string, string>) => parsePlaygroundAttributes((name) => attributes[name] ?? null);
    expect(read({}).options).toEqual({ seed: 1, size: 5, preVote: true, checkQuorum: true });
    expect(read({}).problems).toEqual([]);
    const bad = read({ size: '9', seed: 'x', speed: '50', lesson: 'nope' });
    expect(bad.options).toMatchObject({ seed: 1, size: 7 });
    expect(bad.speed).toBe(10);
    expect(bad.problems).toEqual([
      'seed "x" is not a whole number from 0 to 4294967295: using 1',
      'size 9 is outside 3–7: using 7',
      'no lesson "nope": playing freely',
      'speed 50 is outside 0.1–10: using 10',
    ]);
    expect(read({ size: '2' }).options.size).toBe(3);
    expect(read({ lesson: 'figure-8' })).toMatchObject({ options: { lesson: 'figure-8' }, speed: 1 });
    expect(read({ 'pre-vote': 'false', 'check-quorum': '' }).options).toMatchObject({ preVote: false, checkQuorum: true });
  });
});

describe('PlaygroundModel keeps a bounded window of the past (historyMs)', () => {
  it('holds a bounded number of events, slice times, outcomes and entry texts over hours of free play', async () => {
    const historyMs = 20_000;
    const model = new PlaygroundModel({ seed: 4, size: 5, historyMs });
    const most = { events: 0, ticks: 0, outcomes: 0, entries: 0 };
    let forgotten = 0;
    await model.advance(6000);
    for (let hour = 0; hour < 3 * 60; hour++) {
      // A minute a step (in frames, as the element advances), an action now and then.
      for (let frame = 0; frame < 6; frame++) await model.advance(10_000);
      if (hour % 7 === 0 && model.state.leader !== undefined) await model.propose(`x = ${hour}`);
      const held = model.held;
      for (const key of Object.keys(most) as (keyof typeof most)[]) most[key] = Math.max(most[key], held[key]);
      if (model.replay.start > 0) forgotten = model.replay.start;
    }
    expect(model.head).toBeGreaterThanOrEqual(3 * 3600_000);
    expect(forgotten).toBeGreaterThan(100_000); // (some 32 events a second: the whole run would be over 300 000)
    // The bound: about 32 events a virtual second over at most 1.25 × historyMs, plus a checkpoint's worth.
    expect(most.events).toBeLessThan(((historyMs * 1.25) / 1000) * 40 + 256);
    expect(most.ticks).toBe(0); // free play stores no slice times
    expect(most.outcomes).toBeLessThan(((historyMs * 1.25) / 1000) * 20);
    expect(most.entries).toBeLessThan(200); // the texts of the entries the logs hold
    expect(Object.keys(model.state.entries).length).toBe(model.held.entries);
    expect(model.earliest).toBeGreaterThanOrEqual(model.head - historyMs * 1.25 - 1000);
    expect(model.earliest).toBeLessThanOrEqual(model.head - historyMs);
    expect(model.state.earliest).toBe(model.earliest);
    expect(model.state.error).toBeNull();
  }, 120_000);

  it('seeks inside the window to what a model that forgets nothing shows, and clamps a seek before it to its start', async () => {
    const historyMs = 10_000;
    const play = async (model: PlaygroundModel) => {
      await model.advance(6000);
      await model.propose('a');
      const live = new Map<number, string>();
      for (let i = 0; i < 120; i++) {
        await model.advance(500);
        live.set(model.time, JSON.stringify(model.replay.stateAt(model.replay.length)));
        if (i === 40) await model.crash(model.state.leader as string);
        if (i === 100) await model.restart(model.actions[1]?.action.kind === 'crash' ? model.actions[1].action.node : '1');
      }
      return live;
    };
    const model = new PlaygroundModel({ seed: 1, size: 5, historyMs });
    const twin = new PlaygroundModel({ seed: 1, size: 5 });
    const live = await play(model);
    await play(twin);
    expect(model.actions).toEqual(twin.actions);
    const head = model.head;
    const earliest = model.earliest;
    expect(earliest).toBeGreaterThan(0);
    expect(twin.earliest).toBe(0);
    expect(head - earliest).toBeGreaterThanOrEqual(historyMs);
    expect(model.replay.start).toBeGreaterThan(0);
    // Every moment the window holds shows what the twin shows there, and the replay what the run was live.
    const without = (state: PlaygroundState) => shown({ ...state, earliest: 0 });
    let checked = 0;
    for (let time = earliest; time <= head; time += 97.5) {
      await model.seek(time);
      await twin.seek(time);
      expect(without(model.state), `at ${time} ms`).toBe(without(twin.state));
      checked++;
    }
    for (const [time, state] of live) if (time >= earliest && !model.actions.some((a) => a.time === time)) expect(JSON.stringify(model.replay.stateAt(model.replay.positionAt(time))), `at ${time} ms`).toBe(state);
    expect(checked).toBeGreaterThanOrEqual(historyMs / 100);
    // Before the window: the window's start, the run kept.
    await model.seek(0);
    expect(model.time).toBe(earliest);
    expect(model.state.time).toBe(earliest);
    expect(model.head).toBe(head);
    expect(model.actions.length).toBe(3);
    // Acting there re-simulates from the seed, with the actions up to it: the twin's run, as it was up to then.
    await model.heal();
    await twin.seek(earliest);
    await twin.heal();
    expect(model.actions).toEqual(twin.actions);
    expect(without(model.state)).toBe(without(twin.state));
  }, 60_000);

  it('refuses a historyMs that is not a finite number ≥ 1 (BAD_OPTION), and defaults to 10 minutes', async () => {
    for (const historyMs of [0, 0.5, -1, Number.NaN, Number.POSITIVE_INFINITY, '5' as unknown as number]) {
      expect(await codeOf(() => new PlaygroundModel({ historyMs })), String(historyMs)).toBe('BAD_OPTION');
    }
    expect(new PlaygroundModel().config.historyMs).toBe(600_000);
    expect(new PlaygroundModel({ lesson: 'leader-election', historyMs: 5000 }).config.historyMs).toBe(5000);
  });
});
