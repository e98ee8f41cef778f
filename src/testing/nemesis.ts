/**
 * A nemesis for a simulated `Cluster`: composable faults (partitions, kills, pauses, message
 * faults, clock faults) applied on the cluster's virtual time from a seeded random source, each
 * logged with the time it happened.
 */
import type { Message } from '../raft/messages.js';
import type { NodeId } from '../raft/types.js';
import { SeededRandom, type Random } from '../runtime/random.js';
import type { Cancel } from '../runtime/scheduler.js';
import type { Cluster } from '../sim/cluster.js';
import { pick } from './pick.js';
import type { Latency, MessageFilter, NetworkConditions } from '../transport/memory.js';

/**
 * What a {@link Fault} acts on: the cluster, the nemesis' random source, and the means to undo
 * and to schedule.
 *
 * @example
 * ```ts
 * import type { Fault, NemesisContext } from 'raftkit/testing';
 * // Isolates the node with the highest id.
 * const isolateLast: Fault = ({ cluster }: NemesisContext) => {
 *   const last = cluster.ids[cluster.ids.length - 1]!;
 *   cluster.partition([last]);
 *   return `isolate ${last}`;
 * };
 * ```
 */
export interface NemesisContext {
  /** The cluster under test. */
  readonly cluster: Cluster;
  /** The nemesis' seeded random source: draw every choice from it. */
  readonly random: Random;
  /** Installs a network filter that the `heal` fault and {@link Nemesis.heal} remove. */
  filter(filter: MessageFilter<Message>): void;
  /** Applies `fault` after `delayMs` of virtual time (logged then, unless it returns undefined). */
  later(delayMs: number, fault: Fault): void;
  /** Heals the network and removes the filters installed with {@link NemesisContext.filter}. */
  healNetwork(): void;
}

/**
 * One fault: it acts on the cluster now and says what it did, for the log, or returns undefined
 * when it found nothing to do (e.g. no node left to kill). See {@link faults} for the standard
 * ones and the ways to combine them.
 *
 * @example
 * ```ts
 * import { faults, type Fault } from 'raftkit/testing';
 * const crashTwo: Fault = faults.all(faults.kill(), faults.kill());
 * ```
 */
export type Fault = (context: NemesisContext) => string | undefined;

/**
 * One logged fault: what it did and the virtual time it did it at.
 *
 * @example
 * ```ts
 * import type { FaultRecord } from 'raftkit/testing';
 * const record: FaultRecord = { time: 812.5, fault: 'partition 2 | 1,3' };
 * ```
 */
export interface FaultRecord {
  /** Virtual ms. */
  readonly time: number;
  /** What was done. */
  readonly fault: string;
}

/**
 * Options of a {@link Nemesis}.
 *
 * @example
 * ```ts
 * import { faults, type NemesisOptions } from 'raftkit/testing';
 * const options: NemesisOptions = { fault: faults.mix([3, faults.randomHalves()], [1, faults.heal()]), intervalMs: [100, 500] };
 * ```
 */
export interface NemesisOptions {
  /** What to do at each step (default {@link Faults.standard}). */
  readonly fault?: Fault;
  /** Virtual ms between steps, drawn for each (default [20, 250]). */
  readonly intervalMs?: readonly [number, number];
  /** Draws every choice (default: seeded by the cluster's seed). */
  readonly random?: Random;
  /**
   * The network conditions {@link Nemesis.heal} restores (default: no loss, duplication or
   * reordering, latency [1, 10] ms, as a Cluster starts).
   */
  readonly network?: NetworkConditions;
}

/**
 * Applies a {@link Fault} to a cluster every so often, on the cluster's virtual time, and logs
 * what each step did. Everything is drawn from one seeded random source, so the same seed
 * gives the same faults at the same times.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { Nemesis, faults } from 'raftkit/testing';
 * const cluster = new Cluster({ size: 5, seed: 3 });
 * await cluster.waitForLeader();
 * const nemesis = new Nemesis(cluster, { fault: faults.mix(faults.randomHalves(), faults.pause(), faults.clock({ maxDrift: 0.5 })), intervalMs: [200, 400] });
 * nemesis.start();
 * await cluster.run(2_000);
 * nemesis.heal(); // stop, heal the network, restart and resume every node
 * for (const { time, fault } of nemesis.log) console.log(`${time.toFixed(1)} ms: ${fault}`);
 * await cluster.waitForLeader();
 * ```
 */
export class Nemesis {
  readonly #cluster: Cluster;
  readonly #fault: Fault;
  readonly #interval: readonly [number, number];
  readonly #random: Random;
  readonly #network: NetworkConditions;
  readonly #log: FaultRecord[] = [];
  readonly #removeFilters: Array<() => void> = [];
  readonly #pending = new Set<Cancel>();
  #next: Cancel | null = null;
  readonly #context: NemesisContext;

  /**
   * A nemesis for `cluster` (see {@link NemesisOptions}); it does nothing until {@link start} or {@link apply}.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis, faults } from 'raftkit/testing';
   * const nemesis = new Nemesis(new Cluster({ size: 3, seed: 1 }), { fault: faults.kill() });
   * ```
   */
  constructor(cluster: Cluster, options: NemesisOptions = {}) {
    const [min, max] = options.intervalMs ?? [20, 250];
    if (!(Number.isFinite(min) && Number.isFinite(max) && min > 0 && max >= min)) throw new RangeError(`Nemesis: intervalMs must be [min, max] with 0 < min ≤ max, got [${String(min)}, ${String(max)}]`);
    this.#cluster = cluster;
    this.#fault = options.fault ?? faults.standard();
    this.#interval = [min, max];
    this.#random = options.random ?? new SeededRandom(cluster.seed).fork('nemesis');
    this.#network = { dropRate: 0, duplicateRate: 0, reorder: false, latencyMs: [1, 10], ...options.network };
    this.#context = {
      cluster,
      random: this.#random,
      filter: (filter) => void this.#removeFilters.push(cluster.network.filter(filter)),
      later: (delayMs, fault) => {
        const cancel = cluster.schedule(delayMs, () => {
          this.#pending.delete(cancel);
          this.apply(fault);
        });
        this.#pending.add(cancel);
      },
      healNetwork: () => {
        cluster.heal();
        for (const remove of this.#removeFilters.splice(0)) remove();
      },
    };
  }

  /**
   * Every fault applied so far, in order, with its virtual time.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis, faults } from 'raftkit/testing';
   * const nemesis = new Nemesis(new Cluster({ size: 3, seed: 1 }));
   * nemesis.apply(faults.bridge());
   * console.log(nemesis.log); // [ { time: 0, fault: 'bridge through 1: 2 | 3' } ]
   * ```
   */
  get log(): FaultRecord[] {
    return this.#log.slice();
  }

  /**
   * Applies the fault every `intervalMs` of virtual time from now on, until {@link stop} or {@link heal}.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis } from 'raftkit/testing';
   * const cluster = new Cluster({ size: 3, seed: 1 });
   * new Nemesis(cluster).start();
   * await cluster.run(1_000);
   * ```
   */
  start(): void {
    if (this.#next !== null) return;
    const step = (): void => {
      this.#next = this.#cluster.schedule(this.#random.int(this.#interval[0], this.#interval[1]), () => {
        this.apply(this.#fault);
        step();
      });
    };
    step();
  }

  /**
   * Stops applying faults (those already done stay; see {@link heal}).
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis } from 'raftkit/testing';
   * const nemesis = new Nemesis(new Cluster({ size: 3, seed: 1 }));
   * nemesis.start();
   * nemesis.stop();
   * ```
   */
  stop(): void {
    this.#next?.();
    this.#next = null;
    for (const cancel of this.#pending) cancel();
    this.#pending.clear();
  }

  /**
   * Applies `fault` once, now, and logs what it did. Returns that, or undefined if it did nothing.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis, faults } from 'raftkit/testing';
   * const cluster = new Cluster({ size: 5, seed: 2 });
   * await cluster.waitForLeader();
   * console.log(new Nemesis(cluster).apply(faults.majorityRing())); // e.g. "majority ring 4-1-5-3-2"
   * ```
   */
  apply(fault: Fault): string | undefined {
    const done = fault(this.#context);
    if (done !== undefined) this.#log.push({ time: this.#cluster.now, fault: done });
    return done;
  }

  /**
   * Stops, and undoes every fault but the clocks': heals the network, removes the filters,
   * restores the network conditions, restarts every crashed node and resumes every paused one.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { Nemesis, faults } from 'raftkit/testing';
   * const cluster = new Cluster({ size: 3, seed: 4 });
   * const nemesis = new Nemesis(cluster);
   * nemesis.apply(faults.kill());
   * nemesis.heal();
   * console.log(cluster.liveIds.length); // 3
   * ```
   */
  heal(): void {
    this.stop();
    const cluster = this.#cluster;
    this.#context.healNetwork();
    cluster.network.configure(this.#network);
    for (const id of cluster.ids) {
      if (!cluster.liveIds.includes(id)) cluster.restart(id);
      else cluster.resume(id);
    }
    this.#log.push({ time: cluster.now, fault: 'heal everything' });
  }
}

/**
 * The standard faults and the ways to combine them: each function makes a {@link Fault}. Node
 * faults (`kill`, `pause`) leave a majority of the nodes running and unpaused.
 *
 * @example
 * ```ts
 * import type { Faults } from 'raftkit/testing';
 * const partitions = (f: Faults) => f.mix(f.randomHalves(), f.majorityRing(), f.bridge());
 * ```
 */
export interface Faults {
  /** Splits the nodes in two at random: a minority (1 to ⌊n/2⌋ nodes, the leader maybe among them) and the rest. */
  randomHalves(): Fault;
  /**
   * Puts the nodes in a random ring where each sees a majority (itself and its nearest
   * neighbours) and no two see the same one; with 3 nodes, a line (a bridge).
   */
  majorityRing(): Fault;
  /** Two halves that cannot talk to each other, both linked to one node in the middle. */
  bridge(): Fault;
  /** Cuts one random link in one direction. */
  oneWayCut(): Fault;
  /**
   * Crashes a random running node, if a majority stays up; with `restartAfterMs`, it restarts
   * after that long ([0, 0]: at once, with messages to its old incarnation in flight).
   */
  kill(options?: { readonly restartAfterMs?: readonly [number, number] }): Fault;
  /** Restarts every crashed node. */
  restart(): Fault;
  /** Pauses a random running node, if a majority stays unpaused; with `resumeAfterMs`, it resumes after that long. */
  pause(options?: { readonly resumeAfterMs?: readonly [number, number] }): Fault;
  /** Resumes every paused node. */
  resume(): Fault;
  /**
   * Changes the network's message loss, duplication and reordering, each drawn from the choices
   * given (defaults: drop 0, 5% or 20%; duplicate 0, 20% or 50%; reorder or not).
   */
  messages(options?: { readonly dropRate?: readonly number[]; readonly duplicateRate?: readonly number[]; readonly reorder?: readonly boolean[] }): Fault;
  /** Changes the network's latency to one of `latencyMs` (default [1, 8], [5, 60], [1, 200], [10, 400] and [10, 800] ms). */
  delay(options?: { readonly latencyMs?: readonly Latency[] }): Fault;
  /** Delays every message to one random node, each by its own delay up to a bound drawn from `maxDelayMs` (default [50, 400]). */
  slowNode(options?: { readonly maxDelayMs?: readonly [number, number] }): Fault;
  /**
   * Changes one random node's clock (every node's, each its own way, with `everyNode`): its
   * drift to a value in [−maxDrift, maxDrift], and, with `maxStepMs`, steps it by up to that
   * much either way. Lease reads tolerate drifts up to half the nodes' `maxClockDrift` each (two
   * clocks then differ by less than the bound) and no steps.
   */
  clock(options: { readonly maxDrift: number; readonly maxStepMs?: number; readonly everyNode?: boolean }): Fault;
  /** Heals the network (partitions, cuts) and removes the slow-node filters. */
  heal(): Fault;
  /** Picks one of `choices` at random, each a fault or a `[weight, fault]` pair (weight 1 by default). */
  mix(...choices: ReadonlyArray<Fault | readonly [weight: number, fault: Fault]>): Fault;
  /** Applies every one of `faults` in turn (logged as one step). */
  all(...faults: readonly Fault[]): Fault;
  /**
   * A mix of all of the above, weighted as raftkit's own tests use it, with clock drift up to
   * half of `maxClockDrift` (default 0.1, the nodes' default) and no clock steps: what a
   * correct cluster must stay linearizable under, with lease reads too.
   */
  standard(options?: { readonly maxClockDrift?: number }): Fault;
}

/** The ids shuffled by `random` (Fisher–Yates). */
function shuffled(random: Random, ids: readonly NodeId[]): NodeId[] {
  const out = [...ids];
  for (let i = out.length - 1; i > 0; i--) {
    const j = random.int(0, i);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Nodes crashed or paused. */
function down(cluster: Cluster): NodeId[] {
  return cluster.ids.filter((id) => !cluster.liveIds.includes(id) || cluster.paused(id));
}

/** Whether one more node may go down with a majority still up. */
function mayTakeDown(cluster: Cluster): boolean {
  return down(cluster).length < Math.floor((cluster.ids.length - 1) / 2);
}

/** Cuts every link between `a` and `b`, both ways. */
function separate(cluster: Cluster, a: readonly NodeId[], b: readonly NodeId[]): void {
  for (const x of a) {
    for (const y of b) {
      cluster.network.cut(x, y);
      cluster.network.cut(y, x);
    }
  }
}

/**
 * Kills or pauses a random running node, if a majority stays up; after `backAfterMs` (when
 * given), restarts or resumes it ([0, 0]: at once).
 */
function takeDown(how: 'kill' | 'pause', backAfterMs: readonly [number, number] | undefined): Fault {
  const back = how === 'kill' ? 'restart' : 'resume';
  const isDown = (c: Cluster, id: NodeId): boolean => (how === 'kill' ? !c.liveIds.includes(id) : c.paused(id));
  const bringBack = (c: Cluster, id: NodeId): void => (how === 'kill' ? c.restart(id) : c.resume(id));
  return ({ cluster, random, later }) => {
    const running = cluster.liveIds.filter((id) => !cluster.paused(id));
    if (!mayTakeDown(cluster) || running.length === 0) return undefined;
    const victim = pick(random, running);
    if (how === 'kill') cluster.crash(victim);
    else cluster.pause(victim);
    if (backAfterMs === undefined) return `${how} ${victim}`;
    const delayMs = between(random, backAfterMs);
    if (delayMs === 0) {
      bringBack(cluster, victim);
      return `${how} and ${back} ${victim}`;
    }
    later(delayMs, ({ cluster: c }) => {
      if (!isDown(c, victim)) return undefined;
      bringBack(c, victim);
      return `${back} ${victim}`;
    });
    return `${how} ${victim} (${back} in ${delayMs.toFixed(0)} ms)`;
  };
}

const between = (random: Random, [min, max]: readonly [number, number]): number => min + random.next() * (max - min);
const signed = (n: number, digits: number): string => `${n >= 0 ? '+' : ''}${n.toFixed(digits)}`;

/**
 * The standard faults; see {@link Faults} for each.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { Nemesis, faults } from 'raftkit/testing';
 * const cluster = new Cluster({ size: 5, seed: 9 });
 * await cluster.waitForLeader();
 * const nemesis = new Nemesis(cluster, {
 *   fault: faults.mix(
 *     [2, faults.randomHalves()],
 *     [1, faults.all(faults.bridge(), faults.messages({ dropRate: [0.1] }))],
 *     [1, faults.kill({ restartAfterMs: [100, 500] })],
 *     [1, faults.clock({ maxDrift: 0.05 })],
 *     [2, faults.heal()],
 *   ),
 * });
 * nemesis.start();
 * await cluster.run(3_000);
 * nemesis.heal();
 * console.log(nemesis.log.length > 0); // true
 * ```
 */
export const faults: Faults = {
  randomHalves: () => ({ cluster, random }) => {
    const ids = shuffled(random, cluster.ids);
    const minority = ids.slice(0, random.int(1, Math.max(1, Math.floor(ids.length / 2))));
    const rest = ids.filter((id) => !minority.includes(id));
    cluster.partition(minority, rest);
    return `partition ${minority.join(',')} | ${rest.join(',')}`;
  },

  majorityRing: () => (context) => {
    const { cluster, random } = context;
    const ring = shuffled(random, cluster.ids);
    const n = ring.length;
    if (n < 4) return faults.bridge()(context);
    // Each node keeps links to its `reach` nearest on either side: itself and 2 × reach others make a majority.
    const reach = Math.ceil(Math.floor(n / 2) / 2);
    for (let i = 0; i < n; i++) {
      for (let j = i + 1; j < n; j++) {
        const distance = Math.min(j - i, n - (j - i));
        if (distance > reach) separate(cluster, [ring[i]!], [ring[j]!]);
      }
    }
    return `majority ring ${ring.join('-')}`;
  },

  bridge: () => ({ cluster, random }) => {
    const [middle, ...rest] = shuffled(random, cluster.ids);
    if (rest.length < 2) return undefined;
    const half = rest.slice(0, Math.floor(rest.length / 2));
    const other = rest.slice(half.length);
    separate(cluster, half, other);
    return `bridge through ${middle}: ${half.join(',')} | ${other.join(',')}`;
  },

  oneWayCut: () => ({ cluster, random }) => {
    const [from, to] = shuffled(random, cluster.ids);
    if (to === undefined) return undefined;
    cluster.network.cut(from!, to);
    return `cut ${from} → ${to}`;
  },

  kill: (options = {}) => takeDown('kill', options.restartAfterMs),

  restart: () => ({ cluster }) => {
    const crashed = cluster.ids.filter((id) => !cluster.liveIds.includes(id));
    if (crashed.length === 0) return undefined;
    for (const id of crashed) cluster.restart(id);
    return `restart ${crashed.join(',')}`;
  },

  pause: (options = {}) => takeDown('pause', options.resumeAfterMs),

  resume: () => ({ cluster }) => {
    const paused = cluster.ids.filter((id) => cluster.paused(id));
    if (paused.length === 0) return undefined;
    for (const id of paused) cluster.resume(id);
    return `resume ${paused.join(',')}`;
  },

  messages: (options = {}) => ({ cluster, random }) => {
    const conditions = {
      dropRate: pick(random, options.dropRate ?? [0, 0.05, 0.2]),
      duplicateRate: pick(random, options.duplicateRate ?? [0, 0.2, 0.5]),
      reorder: pick(random, options.reorder ?? [false, true]),
    };
    cluster.network.configure(conditions);
    return `messages: drop ${conditions.dropRate}, duplicate ${conditions.duplicateRate}${conditions.reorder ? ', reorder' : ''}`;
  },

  delay: (options = {}) => ({ cluster, random }) => {
    const latencyMs = pick(random, options.latencyMs ?? ([[1, 8], [5, 60], [1, 200], [10, 400], [10, 800]] as const));
    cluster.network.configure({ latencyMs });
    return `latency ${typeof latencyMs === 'number' ? latencyMs : latencyMs.join('–')} ms`;
  },

  slowNode: (options = {}) => ({ cluster, random, filter }) => {
    const victim = pick(random, cluster.ids);
    const maxDelayMs = between(random, options.maxDelayMs ?? [50, 400]);
    filter((_message, _from, to) => (to === victim ? { delayMs: random.next() * maxDelayMs } : 'deliver'));
    return `slow ${victim} (up to ${maxDelayMs.toFixed(0)} ms)`;
  },

  clock: ({ maxDrift, maxStepMs = 0, everyNode = false }) => {
    if (!(maxDrift >= 0 && maxDrift < 1)) throw new RangeError(`faults.clock: maxDrift must be in [0, 1), got ${String(maxDrift)}`);
    if (!(maxStepMs >= 0 && Number.isFinite(maxStepMs))) throw new RangeError(`faults.clock: maxStepMs must be a finite number ≥ 0, got ${String(maxStepMs)}`);
    return ({ cluster, random }) => {
      const changes = (everyNode ? cluster.ids : [pick(random, cluster.ids)]).map((id) => {
        const drift = between(random, [-maxDrift, maxDrift]);
        const step = maxStepMs === 0 ? 0 : between(random, [-maxStepMs, maxStepMs]);
        cluster.setClock(id, step === 0 ? { drift } : { drift, offsetMs: cluster.clock(id).offsetMs + step });
        return `${id} drift ${signed(drift, 4)}${step === 0 ? '' : ` step ${signed(step, 1)} ms`}`;
      });
      return `clock ${changes.join(', ')}`;
    };
  },

  heal: () => ({ healNetwork }) => {
    healNetwork();
    return 'heal the network';
  },

  mix: (...choices) => {
    const weighted = choices.map((choice): readonly [number, Fault] => (typeof choice === 'function' ? [1, choice] : choice));
    if (weighted.length === 0 || !weighted.every(([w, f]) => w > 0 && Number.isFinite(w) && typeof f === 'function')) {
      throw new RangeError('faults.mix: give at least one fault, each with a finite weight > 0');
    }
    const total = weighted.reduce((sum, [w]) => sum + w, 0);
    return (context) => {
      let roll = context.random.next() * total;
      for (const [weight, fault] of weighted) if ((roll -= weight) < 0) return fault(context);
      return weighted[weighted.length - 1]![1](context);
    };
  },

  all: (...list) => (context) => {
    const done = list.map((fault) => fault(context)).filter((d): d is string => d !== undefined);
    return done.length === 0 ? undefined : done.join('; ');
  },

  standard: ({ maxClockDrift = 0.1 } = {}) =>
    faults.mix(
      [2, faults.randomHalves()],
      [1, faults.majorityRing()],
      [1, faults.bridge()],
      [1, faults.oneWayCut()],
      [2, faults.kill()],
      [1, faults.kill({ restartAfterMs: [0, 0] })],
      [1, faults.restart()],
      [2, faults.pause({ resumeAfterMs: [50, 1_000] })],
      [1, faults.resume()],
      [2, faults.messages()],
      [1, faults.delay()],
      [1, faults.slowNode()],
      [2, faults.clock({ maxDrift: maxClockDrift / 2 })],
      [3, faults.heal()],
    ),
};
