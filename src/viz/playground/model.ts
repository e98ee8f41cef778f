/**
 * The playground's headless controller: the real simulator (a Cluster, or a lesson's), the
 * user's actions with the moment each happened, a replay of the trace for every moment of the
 * past, and re-simulation.
 *
 * Time moves in fixed slices (TICK_MS of virtual time, whatever the frame rate or speed), and an
 * action happens between two slices. So a run is its seed, its lesson and its list of
 * (slice, action): replaying that list on a fresh cluster gives the same run, byte for byte.
 * Looking at the past is a replay of the trace (TraceReplay); acting or playing on from the past
 * rebuilds the run from the seed with the actions up to then, and the future is discarded.
 *
 * What is older than `historyMs` is forgotten as the run goes on (the replay's events, the
 * slices' times, the outcomes and texts): memory stays bounded however long a page plays. The
 * actions are all kept: re-simulating from the seed needs them.
 */
import { Cluster } from '../../sim/cluster.js';
import type { TraceEvent } from '../../sim/trace.js';
import type { NodeId } from '../../raft/types.js';
import { LessonRun } from '../lessons/run.js';
import { TraceReplay, type InFlightMessage, type ReplayState } from '../replay.js';
import { PlaygroundError } from './errors.js';
import { resolveConfig, type PlaygroundConfig, type PlaygroundOptions } from './options.js';
import { messageOf, nodeOf, type Derivation, type PlaygroundAction, type PlaygroundState, type RecordedAction } from './state.js';

/** The slice of virtual time the simulation advances by (ms). */
const TICK_MS = 5;
/** Microtask turns given to what an action or a slice started (a stopped node's promises). */
const HOPS = 8;
/** How long before a dropped message's arrival its link is cut (ms). */
const DROP_LEAD_MS = 1e-6;
/** How far ahead a drop looks for the message's arrival (virtual ms). */
const DROP_HORIZON_MS = 60_000;

/**
 * The virtual time after each slice, by slice number from the run's start, the oldest forgotten.
 * In free play slice k ends at k × TICK_MS, so nothing is stored; a lesson's slices can end
 * short (at a hold), so their times are.
 */
class Ticks {
  readonly #times: number[] | null;
  /** The number of the oldest slice kept (`#times[0]`'s). */
  #first = 0;
  #last = 0;
  constructor(stored: boolean, start: number) {
    this.#times = stored ? [start] : null;
  }
  /** How many slices have run: the number of the last. */
  get last(): number {
    return this.#last;
  }
  /** How many slice times are stored (none in free play). */
  get stored(): number {
    return this.#times?.length ?? 0;
  }
  /** The time after slice `k` (first … last). */
  at(k: number): number {
    return this.#times === null ? k * TICK_MS : (this.#times[k - this.#first] as number);
  }
  push(time: number): void {
    this.#last++;
    this.#times?.push(time);
  }
  /** The first slice kept that ends at or after `ms` (the last if none does). */
  firstAtOrAfter(ms: number): number {
    let low = this.#first;
    let high = this.#last;
    if (this.#times === null) {
      // (k × TICK_MS exactly, so the division is exact on a slice's end)
      const k = Math.ceil(ms / TICK_MS);
      return Math.max(low, Math.min(high, k));
    }
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (this.at(mid) < ms) low = mid + 1;
      else high = mid;
    }
    return low;
  }
  /** Forgets the slices that end before `ms` (the last is kept). */
  forget(ms: number): void {
    const first = this.firstAtOrAfter(ms);
    if (first <= this.#first) return;
    this.#times?.splice(0, first - this.#first);
    this.#first = first;
  }
}

/** One run: a cluster (or a lesson run on one), its replay, and what the view needs to know. */
interface Sim {
  readonly cluster: Cluster<unknown, unknown>;
  readonly run: LessonRun | null;
  readonly replay: TraceReplay;
  /** The slices run. */
  readonly ticks: Ticks;
  /** When each message copy arrived or was dropped, by key (id, `+` for a duplicate), in arrival order. */
  readonly outcomes: Map<string, number>;
  /** What each entry holds, by "index:term", and when that was learnt. */
  readonly entries: Map<string, { readonly text: string; readonly at: number }>;
  /** Bumped when `entries` changes. */
  entriesVersion: number;
  /** `entries` as the state shows it, made once per version. */
  entriesShown: { readonly version: number; readonly record: Readonly<Record<string, string>> } | null;
  /** Messages the user dropped: the link to restore once each has been lost. */
  readonly dropping: Map<number, () => void>;
  /** The earliest time still replayable (0 until the run outgrows historyMs). */
  earliest: number;
  failure: string | null;
}

/** The actions as a state shows them (a frozen copy), and the ids of the messages dropped. */
interface ShownActions {
  readonly actions: readonly RecordedAction[];
  readonly length: number;
  readonly dropped: ReadonlySet<number>;
  readonly copy: readonly RecordedAction[];
}

/** A run and the actions it was built with (not yet the model's until adopted). */
interface Built {
  readonly sim: Sim;
  readonly actions: RecordedAction[];
}

const keyOf = (id: number, duplicate: boolean | undefined): string => (duplicate === true ? `${id}+` : String(id));
/** The model forgets once it holds this much more than historyMs (in batches: forgetting copies what is kept). */
const FORGET_SLACK = 0.25;
const flush = async (): Promise<void> => {
  for (let hop = 0; hop < HOPS; hop++) await Promise.resolve();
};

/**
 * The playground without a page: runs free play (a {@link Cluster} of 3 to 7 nodes on a seed,
 * with pre-vote and check-quorum toggles and slowed-down timings) or a built-in lesson (a
 * {@link LessonRun}), records every user action with the virtual time it happened at, shows any
 * moment of the past ({@link seek}: a {@link TraceReplay} of the trace), and re-simulates when
 * the user acts or plays on from the past: from the seed, with the actions up to that moment,
 * discarding the rest. Same options and same actions ⇒ same run, byte for byte.
 *
 * Every method that changes the run is async and queued: each starts when the one before has
 * settled. Bad options and actions throw {@link PlaygroundError}.
 *
 * @example
 * ```ts
 * import { PlaygroundModel } from 'raftkit/viz';
 * const model = new PlaygroundModel({ seed: 1, size: 5 });
 * await model.advance(6000);
 * const leader = model.state.leader!;
 * console.log(`node ${leader} leads at ${model.time} ms`); // node … leads at 6000 ms
 * await model.crash(leader);
 * await model.advance(6000);
 * console.log(model.state.leader !== leader); // true
 * await model.seek(3000); // the past, replayed
 * console.log(model.state.leader === leader); // true
 * ```
 * @example
 * ```ts
 * import { PlaygroundModel } from 'raftkit/viz';
 * // Determinism: the same seed and actions give the same trace.
 * const play = async () => {
 *   const model = new PlaygroundModel({ seed: 3, size: 3 });
 *   await model.advance(5000);
 *   await model.propose('x = 1');
 *   await model.partition([['1'], ['2', '3']]);
 *   await model.advance(5000);
 *   return JSON.stringify(model.trace());
 * };
 * console.log((await play()) === (await play())); // true
 * ```
 */
export class PlaygroundModel {
  /** What the model runs, every default filled in. */
  readonly config: PlaygroundConfig;
  #sim: Sim;
  #actions: RecordedAction[] = [];
  #view = 0;
  #queue: Promise<unknown> = Promise.resolve();
  #state: PlaygroundState | null = null;
  /** The ids of the messages the user dropped, and a frozen copy of the actions (made once per change of `#actions`). */
  #actionsShown: ShownActions | null = null;

  constructor(options: PlaygroundOptions = {}) {
    this.config = resolveConfig(options);
    this.#sim = this.#fresh();
  }

  /** The virtual time shown. */
  get time(): number {
    return this.#view;
  }

  /** How far the run has gone: the end of the timeline. */
  get head(): number {
    return this.#sim.cluster.now;
  }

  /** The earliest time the view can show: the start of the timeline (0 until the run outgrows `historyMs`). */
  get earliest(): number {
    return this.#sim.earliest;
  }

  /**
   * What the model holds of the past, counted: the replay's events, the slice times stored
   * (none in free play, where slice k ends at k × 5 ms), the message outcomes and the entry
   * texts. Each stays bounded by `historyMs` (and the logs' lengths), however long the run.
   */
  get held(): {
    /** Trace events the replay holds. */
    readonly events: number;
    /** Slice times stored. */
    readonly ticks: number;
    /** Message outcomes remembered. */
    readonly outcomes: number;
    /** Entry texts remembered. */
    readonly entries: number;
  } {
    const sim = this.#sim;
    return { events: sim.replay.events.length, ticks: sim.ticks.stored, outcomes: sim.outcomes.size, entries: sim.entries.size };
  }

  /** The user's actions, in order, with when each happened. */
  get actions(): readonly RecordedAction[] {
    return this.#actions;
  }

  /** The cluster of the current run, to read (rebuilt by a re-simulation: do not keep it; changes made on it directly are not recorded, so a re-simulation loses them). */
  get cluster(): Cluster<unknown, unknown> {
    return this.#sim.cluster;
  }

  /** The replay of the current run's trace. */
  get replay(): TraceReplay {
    return this.#sim.replay;
  }

  /** The trace events of the current run still held (from {@link earliest} on, as `replay.events`), oldest first. */
  trace(): readonly TraceEvent[] {
    return this.#sim.replay.events;
  }

  /** Whether the lesson (if any) waits at the end of a step for {@link nextStep}. */
  get holding(): boolean {
    return this.#sim.run?.holding === true && !this.#sim.run.done;
  }

  /** The picture at the view's time (a frozen snapshot). */
  get state(): PlaygroundState {
    return (this.#state ??= this.#derive());
  }

  // ── Time ─────────────────────────────────────────────────────────────────────────────────

  /**
   * Moves the view `ms` of virtual time forward, running the simulation as far as needed (from
   * the past: first discarding the actions after the view and rebuilding the run up to it). A
   * lesson waiting at a step's end stops the view there. Rejects with a {@link PlaygroundError}
   * (BAD_ACTION) unless `ms` is a finite number ≥ 0.
   */
  advance(ms: number): Promise<void> {
    if (!(ms >= 0) || !Number.isFinite(ms)) return Promise.reject(new PlaygroundError('BAD_ACTION', `advance: ms must be a finite number ≥ 0, got ${String(ms)}`));
    return this.#serial(async () => {
      await this.#resume();
      const target = this.#view + ms;
      while (this.head < target) if (!(await this.#tick(this.#sim))) break;
      this.#view = Math.min(target, this.head);
    });
  }

  /**
   * Moves the view to the next moment something happens: in the recorded past, the next event of
   * the replay (the run and its actions are kept); at the head, running the simulation to it.
   */
  step(): Promise<void> {
    return this.#serial(async () => {
      // An event already recorded after the view: just show it (the run and its actions are kept).
      const replay = this.#sim.replay;
      const recorded = replay.events[replay.positionAt(this.#view) - replay.start]?.time;
      if (recorded !== undefined) {
        this.#view = recorded;
        return;
      }
      await this.#resume();
      const sim = this.#sim;
      const next = (): number | undefined => sim.replay.events[sim.replay.positionAt(this.#view) - sim.replay.start]?.time;
      let at = next();
      for (let k = 0; at === undefined && k < 10_000; k++) {
        if (!(await this.#tick(sim))) break;
        at = next();
      }
      this.#view = at ?? this.head;
    });
  }

  /**
   * Shows the moment `ms` (clamped to {@link earliest} … {@link head}: a time older than the
   * `historyMs` kept shows the earliest), replayed; the run is kept. Rejects with a
   * {@link PlaygroundError} (BAD_ACTION) unless `ms` is a number.
   */
  seek(ms: number): Promise<void> {
    if (typeof ms !== 'number' || Number.isNaN(ms)) return Promise.reject(new PlaygroundError('BAD_ACTION', `seek: ms must be a number, got ${String(ms)}`));
    return this.#serial(async () => {
      this.#view = Math.max(this.earliest, Math.min(ms, this.head));
    });
  }

  // ── Actions ──────────────────────────────────────────────────────────────────────────────

  /** Crashes node `id` (it loses what it had not saved). */
  crash(id: NodeId): Promise<void> {
    return this.#act((cluster) => {
      this.#live(cluster, id, true);
      return { kind: 'crash', node: id };
    });
  }

  /** Restarts crashed node `id` from what it saved. */
  restart(id: NodeId): Promise<void> {
    return this.#act((cluster) => {
      this.#live(cluster, id, false);
      return { kind: 'restart', node: id };
    });
  }

  /** Makes node `id`'s election timer run out now: it campaigns (`node.campaign()`). */
  timeout(id: NodeId): Promise<void> {
    return this.#act((cluster) => {
      this.#live(cluster, id, true);
      if (cluster.node(id).role === 'leader') throw new PlaygroundError('BAD_ACTION', `node ${id} leads: it has no election timer to run out`);
      return { kind: 'timeout', node: id };
    });
  }

  /** Cuts node `id` off from all the others (a partition of it alone). */
  isolate(id: NodeId): Promise<void> {
    return this.partition([[id], this.#sim.cluster.ids.filter((other) => other !== id)]);
  }

  /** Splits the network into `groups` that cannot talk to each other (unnamed nodes form one more). */
  partition(groups: readonly (readonly NodeId[])[]): Promise<void> {
    return this.#act((cluster) => {
      if (!Array.isArray(groups) || groups.length === 0 || !groups.every((g) => Array.isArray(g))) throw new PlaygroundError('BAD_ACTION', 'a partition is a list of groups of node ids');
      const seen = new Set<NodeId>();
      for (const group of groups) {
        for (const id of group) {
          this.#known(cluster, id);
          if (seen.has(id)) throw new PlaygroundError('BAD_ACTION', `a partition names node ${id} twice`);
          seen.add(id);
        }
      }
      return { kind: 'partition', groups: groups.map((g) => [...g]) };
    });
  }

  /** Removes every partition and cut. */
  heal(): Promise<void> {
    return this.#act(() => ({ kind: 'heal' }));
  }

  /** Proposes `command` (any JSON value) to the leader of the moment; NO_LEADER without one. */
  propose(command: unknown): Promise<void> {
    return this.#act((cluster) => {
      const leader = cluster.leader() ?? cluster.liveIds.find((id) => cluster.node(id).role === 'leader');
      if (leader === undefined) throw new PlaygroundError('NO_LEADER', 'no leader can take a command now: wait for an election');
      return { kind: 'propose', node: leader, command };
    });
  }

  /**
   * Drops message `id` (its trace id, as {@link PlaygroundState.messages} has it), in flight at
   * the time shown: it is lost when it arrives. (The simulation looks ahead for that moment, then
   * cuts the link just before it and restores it at once: a message arriving on the same link at
   * that very instant is lost too.) Like every action it takes effect at the end of the slice
   * shown: a message that arrives before then is refused (BAD_ACTION), and a refused drop leaves
   * the model unchanged.
   */
  dropMessage(id: number): Promise<void> {
    return this.#serial(async () => {
      const view = this.#view;
      const message = this.#sim.replay.stateAtTime(view).inFlight.find((m) => m.id === id && !m.duplicate);
      if (message === undefined) throw new PlaygroundError('NOT_IN_FLIGHT', `message ${String(id)} is not in flight at ${view.toFixed(0)} ms`);
      // Nothing is the model's until every check has passed: a refused drop leaves it unchanged.
      const base = await this.#atView();
      if (base.sim.dropping.has(id)) throw new PlaygroundError('BAD_ACTION', `message ${id} is already dropped`);
      const tick = base.sim.ticks.last;
      const at = base.sim.cluster.now;
      // Look ahead for when the message arrives, on a run of its own (the model's is not run on).
      const probe = base.sim === this.#sim ? await this.#build(base.actions, tick) : base;
      const sim = probe.sim;
      const key = keyOf(id, false);
      const early = sim.outcomes.get(key);
      if (early !== undefined) throw new PlaygroundError('BAD_ACTION', `message ${id} arrives at ${early.toFixed(0)} ms, before the next slice (${at.toFixed(0)} ms), where an action takes effect`);
      await sim.cluster.runUntil(() => sim.outcomes.has(key) || sim.failure !== null, { timeoutMs: DROP_HORIZON_MS });
      const deliverAt = sim.outcomes.get(key);
      const lost = sim.replay.events.find((e) => e.kind === 'drop' && e.id === id && e.duplicate !== true);
      if (deliverAt === undefined) throw new PlaygroundError('BAD_ACTION', `message ${id} does not arrive within ${DROP_HORIZON_MS} ms`);
      if (lost !== undefined) throw new PlaygroundError('BAD_ACTION', `message ${id} is lost anyway${lost.kind === 'drop' && lost.reason !== undefined ? ` (${lost.reason})` : ''}`);
      this.#adopt(probe === base ? await this.#build(base.actions, tick) : base);
      await this.#record({ kind: 'drop', message: id, from: message.from, to: message.to, deliverAt });
    });
  }

  /** Ends a lesson's hold at a step's end: playing on begins the next step. NO_LESSON in free play. */
  nextStep(): Promise<void> {
    return this.#act(() => {
      if (this.config.lesson === null) throw new PlaygroundError('NO_LESSON', 'no lesson runs');
      return { kind: 'next-step' };
    });
  }

  // ── Internals ────────────────────────────────────────────────────────────────────────────

  #serial<T>(work: () => Promise<T>): Promise<T> {
    const result = this.#queue.then(work);
    this.#queue = result.catch(() => undefined);
    return result.finally(() => {
      this.#state = null;
    });
  }

  /**
   * An action: checked on the run as it is at the view (rebuilt up to it if the view is in the
   * past), and only then done and recorded; a refused action leaves the model unchanged.
   */
  #act(check: (cluster: Cluster<unknown, unknown>) => PlaygroundAction): Promise<void> {
    return this.#serial(async () => {
      const built = await this.#atView();
      const action = check(built.sim.cluster);
      this.#adopt(built);
      await this.#record(action);
    });
  }

  async #record(action: PlaygroundAction): Promise<void> {
    const sim = this.#sim;
    const tick = sim.ticks.last;
    this.#apply(sim, action);
    await flush();
    this.#actions.push({ tick, time: sim.cluster.now, action });
    this.#actionsShown = null;
    this.#view = this.head;
  }

  /** Playing on from the view: the actions after it are discarded (and the run rebuilt without them). */
  async #resume(): Promise<void> {
    // (The actions are in time order: the last tells.)
    if ((this.#actions[this.#actions.length - 1]?.time ?? -1) > this.#view) this.#adopt(await this.#atView());
  }

  /**
   * The run ending at the first slice at or after the view, with the actions up to the view: the
   * model's own when it already does, otherwise a new one rebuilt from the seed (which becomes the
   * model's only by {@link #adopt}).
   */
  async #atView(): Promise<Built> {
    const ticks = this.#sim.ticks;
    const last = ticks.last;
    const k = ticks.firstAtOrAfter(this.#view);
    const keep = this.#actions.filter((a) => a.time <= this.#view);
    if (k === last && keep.length === this.#actions.length) return { sim: this.#sim, actions: this.#actions };
    return this.#build(keep, k);
  }

  /** Makes `built` the model's run. */
  #adopt(built: Built): void {
    this.#sim = built.sim;
    this.#actions = built.actions;
    this.#actionsShown = null;
    this.#view = Math.max(this.earliest, Math.min(this.#view, this.head));
  }

  /** A fresh run from the seed, with each of `actions` at its slice, to slice `to` (not adopted). */
  async #build(actions: readonly RecordedAction[], to: number): Promise<Built> {
    const sim = this.#fresh();
    let next = 0;
    for (let k = 0; ; k++) {
      while (next < actions.length && (actions[next] as RecordedAction).tick === k) {
        this.#apply(sim, (actions[next] as RecordedAction).action);
        await flush();
        next++;
      }
      if (k >= to) break;
      if (sim.run === null) {
        // Free play: nothing between two events waits on a promise, so one run to the next
        // action is the same as its slices (the tests compare them), and much faster.
        const until = Math.min(next < actions.length ? (actions[next] as RecordedAction).tick : to, to);
        if (!(await this.#runTo(sim, until))) break;
        k = until - 1;
      } else if (!(await this.#tick(sim))) break;
    }
    return { sim, actions: actions.slice(0, next) };
  }

  /** A fresh run: the cluster (or lesson) from the seed, its trace followed by a replay. */
  #fresh(): Sim {
    const c = this.config;
    let run: LessonRun | null = null;
    let cluster: Cluster<unknown, unknown>;
    if (c.lesson !== null) {
      run = new LessonRun(c.lesson, { holdAtStepEnd: true, traceLimit: 1000 });
      cluster = run.cluster as Cluster<unknown, unknown>;
    } else {
      const { preVote, checkQuorum } = c;
      cluster = new Cluster({
        size: c.size,
        seed: c.seed,
        electionTimeoutMs: c.electionTimeoutMs,
        heartbeatIntervalMs: c.heartbeatIntervalMs,
        network: { latencyMs: c.latencyMs, countBytes: false },
        nodeOptions: () => ({ preVote, checkQuorum }),
        // Listeners see every event; the replay keeps them all, so the cluster need not.
        traceLimit: 1000,
      });
    }
    const replay = new TraceReplay(cluster.traceDocument());
    const sim: Sim = {
      cluster,
      run,
      replay,
      ticks: new Ticks(run !== null, cluster.now),
      outcomes: new Map(),
      entries: new Map(),
      entriesVersion: 0,
      entriesShown: null,
      dropping: new Map(),
      earliest: 0,
      failure: null,
    };
    cluster.onTrace((event) => {
      try {
        replay.push(event);
      } catch (error) {
        sim.failure ??= error instanceof Error ? error.message : String(error);
      }
      if (event.kind === 'deliver' || event.kind === 'drop') {
        const id = event.id ?? 0;
        const key = keyOf(id, event.duplicate);
        if (!sim.outcomes.has(key)) sim.outcomes.set(key, event.time);
        if (event.duplicate !== true) sim.dropping.get(id)?.();
      }
    });
    cluster.onNode('apply', (_id, entry) => {
      const key = `${entry.index}:${entry.term}`;
      if (!sim.entries.has(key)) {
        sim.entries.set(key, { text: entry.kind === 'command' ? textOf(entry.command) : entry.kind, at: cluster.now });
        sim.entriesVersion++;
      }
    });
    return sim;
  }

  /** One slice of virtual time; false when none passed (a lesson holding, or the run failed). */
  async #tick(sim: Sim): Promise<boolean> {
    if (sim.failure !== null) return false;
    try {
      const run = sim.run;
      if (run !== null && !run.done) {
        if (run.holding) return false;
        await run.advance(TICK_MS);
      } else await sim.cluster.run(TICK_MS);
    } catch (error) {
      sim.failure = error instanceof Error ? error.message : String(error);
      return false;
    }
    await flush();
    const passed = sim.cluster.now > sim.ticks.at(sim.ticks.last);
    if (passed) {
      sim.ticks.push(sim.cluster.now);
      this.#forgetOld(sim);
    }
    return passed;
  }

  /**
   * Free play only: runs to the end of slice `tick` at once (its slices are TICK_MS each), in
   * stretches of a quarter of historyMs, forgetting the old past between them.
   */
  async #runTo(sim: Sim, tick: number): Promise<boolean> {
    const stretch = Math.max(1, Math.floor((this.config.historyMs * FORGET_SLACK) / TICK_MS));
    while (sim.ticks.last < tick) {
      const to = Math.min(tick, sim.ticks.last + stretch);
      try {
        await sim.cluster.run(to * TICK_MS - sim.cluster.now);
      } catch (error) {
        sim.failure = error instanceof Error ? error.message : String(error);
        return false;
      }
      await flush();
      while (sim.ticks.last < to) sim.ticks.push((sim.ticks.last + 1) * TICK_MS);
      this.#forgetOld(sim);
    }
    return true;
  }

  /**
   * Once `sim` holds more than historyMs × (1 + FORGET_SLACK) of the past, forgets what is older
   * than historyMs: the replay's events before it (to a checkpoint), then the slices, outcomes
   * and entry texts before the replay's new start.
   */
  #forgetOld(sim: Sim): void {
    const keep = this.config.historyMs;
    const now = sim.cluster.now;
    if (now - sim.earliest <= keep * (1 + FORGET_SLACK)) return;
    const replay = sim.replay;
    const start = replay.start;
    replay.forget(replay.positionAt(now - keep));
    if (replay.start === start) return; // (less than a checkpoint's worth: nothing forgotten yet)
    const first = replay.stateAt(replay.start);
    const earliest = (sim.earliest = first.time);
    sim.ticks.forget(earliest);
    // Outcomes come in time order: those before the window are of messages no view shows in flight.
    for (const [key, at] of sim.outcomes) {
      if (at >= earliest) break;
      sim.outcomes.delete(key);
    }
    // The texts of entries no log holds at either end of the window, learnt before it, are of
    // entries gone (overwritten): an index and term name one entry for ever.
    const inLogs = new Set<string>();
    for (const state of [first, replay.stateAt(replay.length)]) {
      for (const n of state.nodes) n.log.forEach((term, i) => inLogs.add(`${n.snapshotIndex + 1 + i}:${term}`));
    }
    for (const [key, entry] of sim.entries) {
      if (entry.at < earliest && !inLogs.has(key)) {
        sim.entries.delete(key);
        sim.entriesVersion++;
      }
    }
  }

  /** Does `action` on `sim`'s cluster (checked before, when it was first done). */
  #apply(sim: Sim, action: PlaygroundAction): void {
    const cluster = sim.cluster;
    try {
      switch (action.kind) {
        case 'crash':
          cluster.crash(action.node);
          return;
        case 'restart':
          cluster.restart(action.node);
          return;
        case 'timeout':
          cluster.node(action.node).campaign();
          return;
        case 'partition':
          cluster.partition(...action.groups.map((g) => [...g]));
          return;
        case 'heal':
          cluster.heal();
          return;
        case 'propose': {
          const { index, term } = cluster.node(action.node).submit(action.command);
          sim.entries.set(`${index}:${term}`, { text: textOf(action.command), at: cluster.now });
          sim.entriesVersion++;
          return;
        }
        case 'drop': {
          const { message, from, to, deliverAt } = action;
          cluster.schedule(Math.max(0, deliverAt - cluster.now - DROP_LEAD_MS), () => cluster.network.cut(from, to));
          sim.dropping.set(message, () => {
            sim.dropping.set(message, () => undefined);
            cluster.network.restore(from, to);
          });
          return;
        }
        case 'next-step':
          sim.run?.next();
          return;
      }
    } catch (error) {
      throw new PlaygroundError('BAD_ACTION', `${action.kind}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }

  /** Throws unless `id` is a node of the cluster. */
  #known(cluster: Cluster<unknown, unknown>, id: NodeId): void {
    if (typeof id !== 'string' || !cluster.ids.includes(id)) throw new PlaygroundError('UNKNOWN_NODE', `no node ${JSON.stringify(id)}`);
  }

  /** Throws unless node `id` is up (`up`) or down (`!up`). */
  #live(cluster: Cluster<unknown, unknown>, id: NodeId, up: boolean): void {
    this.#known(cluster, id);
    const running = cluster.liveIds.includes(id);
    if (running !== up) throw new PlaygroundError('BAD_ACTION', `node ${id} is ${running ? 'running' : 'down'}`);
  }

  /** The actions as the state shows them, and the messages dropped: made again only when the actions change. */
  #shownActions(): ShownActions {
    const actions = this.#actions;
    const shown = this.#actionsShown;
    if (shown !== null && shown.actions === actions && shown.length === actions.length) return shown;
    const dropped = new Set<number>();
    for (const a of actions) if (a.action.kind === 'drop') dropped.add(a.action.message);
    return (this.#actionsShown = { actions, length: actions.length, dropped, copy: deepFreeze([...actions]) });
  }

  /** The entry texts as the state shows them: a frozen record made again only when they change. */
  #shownEntries(sim: Sim): Readonly<Record<string, string>> {
    const shown = sim.entriesShown;
    if (shown !== null && shown.version === sim.entriesVersion) return shown.record;
    const record: Record<string, string> = {};
    for (const [key, entry] of sim.entries) record[key] = entry.text;
    sim.entriesShown = { version: sim.entriesVersion, record: Object.freeze(record) };
    return sim.entriesShown.record;
  }

  #derive(): PlaygroundState {
    const sim = this.#sim;
    const c = this.config;
    const view = this.#view;
    const replayed: ReplayState = sim.replay.stateAtTime(view);
    const actions = this.#shownActions();
    const d: Derivation = {
      view,
      head: this.head,
      latencyMs: c.latencyMs,
      timeoutOf: (id) => c.nodeElectionTimeoutMs[id] ?? c.electionTimeoutMs,
      outcomeOf: (m: InFlightMessage) => sim.outcomes.get(keyOf(m.id, m.duplicate)),
      doomed: (m: InFlightMessage) => !m.duplicate && actions.dropped.has(m.id),
    };
    const run = sim.run;
    const lesson =
      run === null || c.lesson === null
        ? null
        : Object.freeze({ id: c.lesson.id, title: c.lesson.title, step: run.step, steps: c.lesson.steps.length, caption: run.caption, done: run.done, holding: run.holding && !run.done });
    return deepFreeze({
      time: view,
      head: this.head,
      earliest: sim.earliest,
      position: replayed.position,
      seed: c.seed,
      nodes: replayed.nodes.map((n) => nodeOf(n, d)),
      leader: replayed.leader,
      inFlight: replayed.inFlight.length,
      messages: replayed.inFlight.map((m) => messageOf(m, d)),
      partition: replayed.partition,
      cuts: replayed.cuts,
      disconnected: replayed.disconnected,
      entries: this.#shownEntries(sim),
      actions: actions.copy,
      lesson,
      error: sim.failure,
    });
  }
}

/** A command as text: its JSON (a string as itself). */
function textOf(command: unknown): string {
  if (typeof command === 'string') return command;
  try {
    return JSON.stringify(command) ?? String(command);
  } catch {
    return String(command);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
