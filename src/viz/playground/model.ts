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

/** One run: a cluster (or a lesson run on one), its replay, and what the view needs to know. */
interface Sim {
  readonly cluster: Cluster<unknown, unknown>;
  readonly run: LessonRun | null;
  readonly replay: TraceReplay;
  /** `ticks[k]`: the virtual time after k slices. */
  readonly ticks: number[];
  /** When each message copy arrived or was dropped, by key (id, `+` for a duplicate). */
  readonly outcomes: Map<string, number>;
  /** What each entry holds, by "index:term". */
  readonly entries: Map<string, string>;
  /** Messages the user dropped: the link to restore once each has been lost. */
  readonly dropping: Map<number, () => void>;
  failure: string | null;
}

/** A run and the actions it was built with (not yet the model's until adopted). */
interface Built {
  readonly sim: Sim;
  readonly actions: RecordedAction[];
}

const keyOf = (id: number, duplicate: boolean | undefined): string => (duplicate === true ? `${id}+` : String(id));
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

  /** The trace events of the current run, oldest first. */
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
      const recorded = replay.events[replay.positionAt(this.#view)]?.time;
      if (recorded !== undefined) {
        this.#view = recorded;
        return;
      }
      await this.#resume();
      const sim = this.#sim;
      const next = (): number | undefined => sim.replay.events[sim.replay.positionAt(this.#view)]?.time;
      let at = next();
      for (let k = 0; at === undefined && k < 10_000; k++) {
        if (!(await this.#tick(sim))) break;
        at = next();
      }
      this.#view = at ?? this.head;
    });
  }

  /** Shows the moment `ms` (clamped to 0 … {@link head}), replayed; the run is kept. Rejects with a {@link PlaygroundError} (BAD_ACTION) unless `ms` is a number. */
  seek(ms: number): Promise<void> {
    if (typeof ms !== 'number' || Number.isNaN(ms)) return Promise.reject(new PlaygroundError('BAD_ACTION', `seek: ms must be a number, got ${String(ms)}`));
    return this.#serial(async () => {
      this.#view = Math.max(0, Math.min(ms, this.head));
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
      const tick = base.sim.ticks.length - 1;
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
    const tick = sim.ticks.length - 1;
    this.#apply(sim, action);
    await flush();
    this.#actions.push({ tick, time: sim.cluster.now, action });
    this.#view = this.head;
  }

  /** Playing on from the view: the actions after it are discarded (and the run rebuilt without them). */
  async #resume(): Promise<void> {
    if (this.#actions.some((a) => a.time > this.#view)) this.#adopt(await this.#atView());
  }

  /**
   * The run ending at the first slice at or after the view, with the actions up to the view: the
   * model's own when it already does, otherwise a new one rebuilt from the seed (which becomes the
   * model's only by {@link #adopt}).
   */
  async #atView(): Promise<Built> {
    const ticks = this.#sim.ticks;
    const last = ticks.length - 1;
    let k = 0;
    while (k < last && (ticks[k] as number) < this.#view) k++;
    const keep = this.#actions.filter((a) => a.time <= this.#view);
    if (k === last && keep.length === this.#actions.length) return { sim: this.#sim, actions: this.#actions };
    return this.#build(keep, k);
  }

  /** Makes `built` the model's run. */
  #adopt(built: Built): void {
    this.#sim = built.sim;
    this.#actions = built.actions;
    this.#view = Math.min(this.#view, this.head);
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
    const sim: Sim = { cluster, run, replay, ticks: [cluster.now], outcomes: new Map(), entries: new Map(), dropping: new Map(), failure: null };
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
      if (!sim.entries.has(key)) sim.entries.set(key, entry.kind === 'command' ? textOf(entry.command) : entry.kind);
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
    const passed = sim.cluster.now > (sim.ticks[sim.ticks.length - 1] as number);
    if (passed) sim.ticks.push(sim.cluster.now);
    return passed;
  }

  /** Free play only: runs to the end of slice `tick` at once (its slices are TICK_MS each). */
  async #runTo(sim: Sim, tick: number): Promise<boolean> {
    const from = sim.ticks.length - 1;
    if (tick <= from) return true;
    try {
      await sim.cluster.run(tick * TICK_MS - sim.cluster.now);
    } catch (error) {
      sim.failure = error instanceof Error ? error.message : String(error);
      return false;
    }
    await flush();
    for (let k = from + 1; k <= tick; k++) sim.ticks.push(k * TICK_MS);
    return true;
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
          sim.entries.set(`${index}:${term}`, textOf(action.command));
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

  #derive(): PlaygroundState {
    const sim = this.#sim;
    const c = this.config;
    const view = this.#view;
    const replayed: ReplayState = sim.replay.stateAtTime(view);
    const d: Derivation = {
      view,
      head: this.head,
      latencyMs: c.latencyMs,
      timeoutOf: (id) => c.nodeElectionTimeoutMs[id] ?? c.electionTimeoutMs,
      outcomeOf: (m: InFlightMessage) => sim.outcomes.get(keyOf(m.id, m.duplicate)),
      doomed: (m: InFlightMessage) => !m.duplicate && this.#actions.some((a) => a.action.kind === 'drop' && a.action.message === m.id),
    };
    const run = sim.run;
    const lesson =
      run === null || c.lesson === null
        ? null
        : Object.freeze({ id: c.lesson.id, title: c.lesson.title, step: run.step, steps: c.lesson.steps.length, caption: run.caption, done: run.done, holding: run.holding && !run.done });
    return deepFreeze({
      time: view,
      head: this.head,
      position: replayed.position,
      seed: c.seed,
      nodes: replayed.nodes.map((n) => nodeOf(n, d)),
      leader: replayed.leader,
      inFlight: replayed.inFlight.length,
      messages: replayed.inFlight.map((m) => messageOf(m, d)),
      partition: replayed.partition,
      cuts: replayed.cuts,
      disconnected: replayed.disconnected,
      entries: Object.fromEntries(sim.entries),
      actions: [...this.#actions],
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
