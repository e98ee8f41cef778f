/**
 * Running a lesson on a real simulated Cluster, one slice of virtual time at a time.
 *
 * Slicing never changes the run: a step's condition is checked after every event of the
 * simulation (not after each slice), its `forMs` and `timeoutMs` are events scheduled when it
 * begins, and actions run only when a step begins. So a step ends, and the next one acts, at
 * the same virtual moment whether the run is driven 16 ms per animation frame or to the end at
 * once: same lesson, same trace, byte for byte.
 */
import { Cluster } from '../../sim/cluster.js';
import type { Message } from '../../raft/messages.js';
import type { NodeId } from '../../raft/types.js';
import type { Cancel } from '../../runtime/scheduler.js';
import { holds, type Scope } from './conditions.js';
import { LessonError } from './errors.js';
import { clusterOptions } from './state.js';
import type { Lesson, LessonAction, LessonIndex, LessonStep, LessonTarget } from './types.js';
import { validateLesson } from './validate.js';

/**
 * Options of a {@link LessonRun}.
 *
 * @example
 * ```ts
 * import { LessonRun, lessonById, type LessonRunOptions } from 'raftkit/viz';
 * const options: LessonRunOptions = { seed: 7, holdAtStepEnd: true };
 * const run = new LessonRun(lessonById('leader-election')!, options);
 * console.log(run.cluster.seed); // 7
 * ```
 */
export interface LessonRunOptions {
  /** Run on this seed instead of the lesson's (to see that its story holds on others too). */
  readonly seed?: number | string;
  /**
   * Stop at the end of each step until {@link LessonRun.next} is called (a "Next" button):
   * virtual time does not pass meanwhile. {@link LessonRun.runToEnd} does not stop. Default false.
   */
  readonly holdAtStepEnd?: boolean;
  /** How many trace events the cluster keeps (default 100,000: a whole lesson). */
  readonly traceLimit?: number;
}

/** How long a step with `until` may take by default (virtual ms): several slowed-down elections. */
const DEFAULT_STEP_TIMEOUT = 30_000;
/** The slice `runToEnd` advances by; any would do (slicing does not change the run). */
const RUN_SLICE = 1_000;
/** Microtask turns given to what an action started, when it is done. */
const HOPS = 8;

/** A rule of a `drop` action, in force until its count is used up or the drops are lifted. */
interface DropRule {
  readonly type: string | undefined;
  readonly from: NodeId | undefined;
  readonly to: NodeId | undefined;
  readonly carrying: number | undefined;
  left: number;
}

/**
 * Runs a {@link Lesson} on a {@link Cluster} it builds from the lesson's cluster (tracing on),
 * one slice of virtual time at a time, so that an animation can drive it frame by frame with
 * {@link advance}, or headless to the end with {@link runToEnd}.
 *
 * Targets (`'leader'`, `'follower'`, `'$name'`) resolve when the action runs, conditions are
 * checked after every event, and captions are filled in when their step begins: the run, its
 * trace and its captions depend on the lesson and its seed only, not on how time is sliced.
 *
 * Throws {@link LessonError} `INVALID_LESSON` for malformed lesson data; a run that goes wrong
 * rejects with a {@link LessonError} naming the lesson and the step (`STEP_TIMEOUT`,
 * `NO_TARGET`, `ACTION_FAILED`), and a safety violation of the cluster with its
 * `InvariantViolation`. After a failure every call rejects with the same error.
 *
 * @example
 * ```ts
 * import { LessonRun, lessonById } from 'raftkit/viz';
 * const run = new LessonRun(lessonById('leader-election')!);
 * console.log(run.step, run.caption); // 0 Five servers, all followers. …
 * // An animation calls this once per frame: 16 ms of virtual time, times the speed.
 * while (!run.done) for (const caption of await run.advance(16 * 4)) console.log(`${run.cluster.now.toFixed(0)} ms: ${caption}`);
 * ```
 *
 * @example
 * ```ts
 * import { LessonRun, lessonById } from 'raftkit/viz';
 * import { toMermaid } from 'raftkit/viz';
 * const run = new LessonRun(lessonById('log-replication')!);
 * await run.runToEnd();
 * console.log(run.done, run.captions.length === run.lesson.steps.length); // true true
 * console.log(toMermaid(run.cluster.trace()).startsWith('sequenceDiagram')); // true
 * ```
 */
export class LessonRun {
  /** The lesson, as validated. */
  readonly lesson: Lesson;
  /** The cluster the lesson runs on. */
  readonly cluster: Cluster<unknown, number>;
  #step = -1;
  #caption = '';
  readonly #captions: string[] = [];
  readonly #holdAtStepEnd: boolean;
  #holding = false;
  /** The current step has ended: the next one begins when the run goes on. */
  #pendingEnter = false;
  /** Where the current slice ends, in virtual time (a membership change may run past it). */
  #target = 0;
  /** The current step's markers: its `forMs` passed, its `timeoutMs` passed. */
  #minPassed = true;
  #timedOut = false;
  #cancels: Cancel[] = [];
  #failure: unknown = undefined;
  #queue: Promise<unknown> = Promise.resolve();
  readonly #names = new Map<string, string | number>();
  /** The term each remembered node had when it was remembered. */
  readonly #terms = new Map<string, number>();
  readonly #installed = new Set<NodeId>();
  #drops: DropRule[] = [];
  readonly #scope: Scope;

  constructor(lesson: Lesson, options: LessonRunOptions = {}) {
    this.lesson = validateLesson(lesson);
    const seed = options.seed ?? lesson.cluster.seed;
    try {
      this.cluster = new Cluster(clusterOptions(lesson.cluster, seed, options.traceLimit ?? 100_000));
    } catch (error) {
      throw new LessonError('INVALID_LESSON', lesson.id, `cluster: ${error instanceof Error ? error.message : String(error)}`, { field: 'cluster', cause: error });
    }
    this.#holdAtStepEnd = options.holdAtStepEnd === true;
    this.cluster.onNode('snapshot', (id, snapshot) => {
      if (snapshot.installed) this.#installed.add(id);
    });
    this.cluster.network.filter((message, from, to) => (this.#drops.length > 0 && this.#dropped(message, from, to) ? 'drop' : 'deliver'));
    const find = (target: LessonTarget): NodeId | undefined => this.#find(target);
    this.#scope = {
      cluster: this.cluster,
      find,
      index: (value) => this.#index(value),
      term: (value) => (typeof value === 'number' ? value : (this.#terms.get(value.slice(1)) ?? 0)),
      installed: this.#installed,
    };
    this.#caption = this.#fill(lesson.steps[0]?.caption ?? '');
  }

  /** The index of the current step (0 before the run begins; the number of steps once done). */
  get step(): number {
    return Math.max(0, this.#step);
  }

  /** The caption of the current step, filled in (before the run starts, the first step's). */
  get caption(): string {
    return this.#caption;
  }

  /** Every caption entered so far, in order: one per step begun. */
  get captions(): readonly string[] {
    return this.#captions;
  }

  /** Whether the last step has ended. */
  get done(): boolean {
    return this.#step >= this.lesson.steps.length;
  }

  /** Whether the run waits at the end of a step for {@link next} (with `holdAtStepEnd`). */
  get holding(): boolean {
    return this.#holding;
  }

  /** What the actions remembered with `as`, by name: node ids, and indexes for `propose`. */
  get names(): Readonly<Record<string, string | number>> {
    return Object.fromEntries(this.#names);
  }

  /**
   * Advances virtual time by `ms` (e.g. one animation frame × speed), doing each step's actions
   * when it begins and moving on when its condition holds; resolves with the captions of the
   * steps entered meanwhile (often none). Calls are queued: each starts when the one before
   * has settled. A membership change (`add-node`, `remove-node`) runs the simulation by itself
   * until it is done, so the slice it begins in may pass more than `ms`.
   */
  advance(ms: number): Promise<readonly string[]> {
    if (!(ms >= 0) || !Number.isFinite(ms)) return Promise.reject(new RangeError(`LessonRun.advance: ms must be a finite number ≥ 0, got ${String(ms)}`));
    const result = this.#queue.then(() => this.#advance(ms, false));
    this.#queue = result.catch(() => undefined);
    return result;
  }

  /**
   * Runs to the end as fast as it can (tests, headless use), through every hold. Rejects with
   * a {@link LessonError} naming the lesson and the step if a step times out or an action fails.
   */
  async runToEnd(): Promise<void> {
    while (!this.done) {
      const result = this.#queue.then(() => this.#advance(RUN_SLICE, true));
      this.#queue = result.catch(() => undefined);
      await result;
    }
  }

  /** Ends a hold (with `holdAtStepEnd`): the next {@link advance} begins the next step. */
  next(): void {
    this.#holding = false;
  }

  async #advance(ms: number, throughHolds: boolean): Promise<readonly string[]> {
    if (this.#failure !== undefined) throw this.#failure;
    const entered: string[] = [];
    try {
      this.#target = Math.max(this.#target, this.cluster.now) + ms;
      if (this.#step < 0) await this.#enter(0, entered);
      while (!this.done) {
        if (this.#holding) {
          if (!throughHolds) {
            this.#target = this.cluster.now; // time stands still while the student reads
            break;
          }
          this.#holding = false;
        }
        if (this.#pendingEnter) {
          this.#pendingEnter = false;
          await this.#enter(this.#step + 1, entered);
          continue;
        }
        const step = this.lesson.steps[this.#step] as LessonStep;
        if (this.#ended(step)) {
          this.#finishStep();
          this.#pendingEnter = true;
          if (this.#holdAtStepEnd && this.#step + 1 < this.lesson.steps.length) this.#holding = true;
          continue;
        }
        if (this.#timedOut) {
          throw new LessonError('STEP_TIMEOUT', this.lesson.id, `"until" did not hold within ${step.timeoutMs ?? DEFAULT_STEP_TIMEOUT} ms (${JSON.stringify(step.until)}; at ${this.cluster.now.toFixed(1)} ms)`, { step: this.#step });
        }
        const remaining = this.#target - this.cluster.now;
        if (!(remaining > 0)) break;
        await this.cluster.runUntil(() => this.#ended(step) || this.#timedOut, { timeoutMs: remaining });
      }
      return entered;
    } catch (error) {
      this.#failure = error;
      throw error;
    }
  }

  /** Whether the current step's condition holds (and its `forMs` has passed). */
  #ended(step: LessonStep): boolean {
    if (!this.#minPassed) return false;
    return step.until === undefined || holds(step.until, this.#scope);
  }

  #finishStep(): void {
    for (const cancel of this.#cancels) cancel();
    this.#cancels = [];
  }

  /** Begins step `index`: its actions, its markers, its caption. */
  async #enter(index: number, entered: string[]): Promise<void> {
    this.#step = index;
    const step = this.lesson.steps[index];
    if (step === undefined) return; // done: the last caption stays
    for (const [i, action] of (step.actions ?? []).entries()) await this.#act(action, i);
    // Let what the actions started settle (a stopped node's promises) at this moment, however
    // time is sliced: nothing else of the simulation runs between two events.
    for (let hop = 0; hop < HOPS; hop++) await Promise.resolve();
    this.#minPassed = step.forMs === undefined || step.forMs === 0;
    this.#timedOut = false;
    if (!this.#minPassed) this.#cancels.push(this.cluster.schedule(step.forMs as number, () => void (this.#minPassed = true)));
    if (step.until !== undefined) this.#cancels.push(this.cluster.schedule(step.timeoutMs ?? DEFAULT_STEP_TIMEOUT, () => void (this.#timedOut = true)));
    this.#caption = this.#fill(step.caption);
    this.#captions.push(this.#caption);
    entered.push(this.#caption);
  }

  /** Fills in a caption's placeholders from the cluster as it is now and the names remembered. */
  #fill(template: string): string {
    const cluster = this.cluster;
    return template.replace(/\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (whole, name: string) => {
      const leader = cluster.leader();
      const live = cluster.liveIds.map((id) => cluster.node(id));
      switch (name) {
        case 'leader':
          return leader ?? 'nobody';
        case 'term':
          return String(leader !== undefined ? cluster.node(leader).term : Math.max(0, ...live.map((n) => n.term)));
        case 'commit':
          return String(leader !== undefined ? cluster.node(leader).commitIndex : Math.max(0, ...live.map((n) => n.commitIndex)));
        case 'time':
          return `${Math.round(cluster.now)} ms`;
        default: {
          const value = this.#names.get(name);
          return value === undefined ? whole : String(value);
        }
      }
    });
  }

  #find(target: LessonTarget): NodeId | undefined {
    const cluster = this.cluster;
    if (target === 'leader') return cluster.leader();
    if (target === 'follower') {
      const leader = cluster.leader();
      const live = cluster.liveIds.filter((id) => id !== leader);
      return live.find((id) => cluster.node(id).role === 'follower') ?? live[0];
    }
    if (target === 'candidate') return cluster.liveIds.find((id) => cluster.node(id).role === 'candidate' || cluster.node(id).role === 'precandidate');
    if (target.startsWith('$')) {
      const value = this.#names.get(target.slice(1));
      return typeof value === 'string' ? value : undefined;
    }
    return cluster.ids.includes(target) || this.#known(target) ? target : undefined;
  }

  /** A node that was a member once (a removed node can still be named). */
  #known(id: NodeId): boolean {
    try {
      this.cluster.node(id);
      return true;
    } catch {
      return false;
    }
  }

  #index(value: LessonIndex): number {
    if (typeof value === 'number') return value;
    const index = this.#names.get(value.slice(1));
    return typeof index === 'number' ? index : Infinity;
  }

  /** The node `target` names now; a `NO_TARGET` error when it names none. */
  #resolve(target: LessonTarget, field: string): NodeId {
    const id = this.#find(target);
    if (id === undefined) {
      const why = target === 'leader' ? 'there is no leader now' : target === 'follower' ? 'no follower is running' : target === 'candidate' ? 'no node is a candidate now' : `no node ${JSON.stringify(target)}`;
      throw new LessonError('NO_TARGET', this.lesson.id, `${field}: ${JSON.stringify(target)} names no node: ${why}`, { step: this.#step, field });
    }
    return id;
  }

  #remember(as: string | undefined, id: NodeId): void {
    if (as === undefined) return;
    this.#names.set(as, id);
    this.#terms.set(as, this.cluster.node(id).term);
  }

  async #act(action: LessonAction, i: number): Promise<void> {
    const field = `steps[${this.#step}].actions[${i}]`;
    const cluster = this.cluster;
    const failed = (error: unknown): never => {
      throw new LessonError('ACTION_FAILED', this.lesson.id, `${field} (${action.do}): ${error instanceof Error ? error.message : String(error)}`, { step: this.#step, field, cause: error });
    };
    switch (action.do) {
      case 'crash':
      case 'restart':
      case 'timeout':
      case 'disconnect':
      case 'reconnect':
      case 'compact':
      case 'remember': {
        const id = this.#resolve(action.node, `${field}.node`);
        this.#remember(action.as, id);
        try {
          if (action.do === 'crash') cluster.crash(id);
          else if (action.do === 'restart') cluster.restart(id);
          else if (action.do === 'timeout') cluster.node(id).campaign();
          else if (action.do === 'disconnect') cluster.disconnect(id);
          else if (action.do === 'reconnect') cluster.reconnect(id);
          else if (action.do === 'compact') cluster.node(id).compact();
        } catch (error) {
          failed(error);
        }
        return;
      }
      case 'partition': {
        if (action.groups === 'leader-minority') {
          const leader = this.#resolve('leader', `${field}.groups`);
          const others = cluster.ids.filter((id) => id !== leader);
          const minority = [leader, ...others.slice(0, Math.floor((cluster.ids.length - 1) / 2) - 1)].sort((a, b) => cluster.ids.indexOf(a) - cluster.ids.indexOf(b));
          const majority = cluster.ids.filter((id) => !minority.includes(id));
          this.#names.set('minority', listOf(minority));
          this.#names.set('majority', listOf(majority));
          this.#remember(action.as, leader);
          cluster.partition(minority, majority);
        } else {
          const groups = action.groups.map((group, g) => group.map((t, j) => this.#resolve(t, `${field}.groups[${g}][${j}]`)));
          cluster.partition(...groups);
        }
        return;
      }
      case 'heal':
        this.#drops = [];
        cluster.heal();
        return;
      case 'stop-dropping':
        this.#drops = [];
        return;
      case 'propose': {
        const id = this.#resolve(action.node ?? 'leader', `${field}.node`);
        let index = 0;
        try {
          // submit, not propose: nothing waits on a promise, so nothing depends on when promises run.
          for (let n = 0; n < (action.repeat ?? 1); n++) index = cluster.node(id).submit(action.command).index;
        } catch (error) {
          failed(error);
        }
        if (action.as !== undefined) this.#names.set(action.as, index);
        return;
      }
      case 'drop':
        this.#drops.push({
          type: action.type,
          from: action.from === undefined ? undefined : this.#resolve(action.from, `${field}.from`),
          to: action.to === undefined ? undefined : this.#resolve(action.to, `${field}.to`),
          carrying: action.carrying,
          left: action.count ?? Infinity,
        });
        return;
      case 'cut':
      case 'restore': {
        const from = this.#resolve(action.from, `${field}.from`);
        const to = this.#resolve(action.to, `${field}.to`);
        if (action.do === 'cut') cluster.network.cut(from, to);
        else cluster.network.restore(from, to);
        return;
      }
      case 'add-node':
        try {
          await cluster.addNode(action.node, { voter: action.voter ?? true, timeoutMs: this.lesson.steps[this.#step]?.timeoutMs ?? DEFAULT_STEP_TIMEOUT });
        } catch (error) {
          failed(error);
        }
        return;
      case 'remove-node': {
        const id = this.#resolve(action.node, `${field}.node`);
        this.#remember(action.as, id);
        try {
          await cluster.removeNode(id, { timeoutMs: this.lesson.steps[this.#step]?.timeoutMs ?? DEFAULT_STEP_TIMEOUT });
        } catch (error) {
          failed(error);
        }
        return;
      }
    }
  }

  /** Whether node `id` holds an entry at `index` of `term` now (or its snapshot covers it). */
  #holdsEntry(id: NodeId, index: number, term: number): boolean {
    const node = this.cluster.node(id);
    if (!node.running) return false;
    const status = node.status();
    if (index <= status.snapshotIndex) return true;
    return node.entries(index, index)[0]?.term === term;
  }

  /** Whether a drop rule takes this message (using up one of its count). */
  #dropped(message: Message, from: NodeId, to: NodeId): boolean {
    for (const rule of this.#drops) {
      if (rule.left <= 0) continue;
      if (rule.type !== undefined && message.type !== rule.type) continue;
      if (rule.from !== undefined && from !== rule.from) continue;
      if (rule.to !== undefined && to !== rule.to) continue;
      if (rule.carrying !== undefined) {
        if (message.type !== 'AppendEntries') continue;
        const first = message.prevLogIndex + 1;
        if (!(rule.carrying >= first && rule.carrying < first + message.entries.length)) continue;
        // Only one the receiver would take: a probe it refuses anyway brings it nothing.
        if (message.prevLogIndex > 0 && !this.#holdsEntry(to, message.prevLogIndex, message.prevLogTerm)) continue;
      }
      rule.left--;
      return true;
    }
    return false;
  }
}

/** "1", "1 and 2", "1, 2 and 3". */
function listOf(ids: readonly NodeId[]): string {
  if (ids.length <= 1) return ids.join('');
  return `${ids.slice(0, -1).join(', ')} and ${ids[ids.length - 1] as string}`;
}
