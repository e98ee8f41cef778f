/**
 * The playground's configuration: what the headless model accepts (strictly: a bad value is a
 * PlaygroundError), and how the element reads its attributes (leniently: a bad value is
 * clamped or replaced by the default, with a message the element shows).
 */
import type { NodeId } from '../../raft/types.js';
import { lessonById } from '../lessons/catalogue.js';
import type { Lesson } from '../lessons/types.js';
import { PlaygroundError } from './errors.js';

/**
 * What a {@link PlaygroundModel} runs. Free play (no `lesson`) runs a cluster of `size` nodes on
 * `seed` with slowed-down timings, so that at 1× (virtual time = real time) an election timer
 * visibly runs down and a message visibly flies: election timeouts of 1.5 to 3 s, heartbeats
 * every 0.5 s, latencies of 200 to 400 ms. A lesson runs on its own cluster, seed and timings.
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundOptions } from 'raftkit/viz';
 * const options: PlaygroundOptions = { seed: 7, size: 3, preVote: false, checkQuorum: true };
 * console.log(new PlaygroundModel(options).config.ids); // [ '1', '2', '3' ]
 * ```
 */
export interface PlaygroundOptions {
  /** The seed of free play: a whole number from 0 to 2³²−1 (default 1). */
  readonly seed?: number;
  /** How many nodes free play runs: 3 to 7 (default 5). */
  readonly size?: number;
  /** Pre-vote on every node in free play (default true). */
  readonly preVote?: boolean;
  /** Check-quorum on every node in free play (default true). */
  readonly checkQuorum?: boolean;
  /** A built-in lesson's id: the model runs that lesson instead of free play. */
  readonly lesson?: string;
  /** Free play's election timeout range in ms (default [1500, 3000]). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Free play's heartbeat interval in ms (default 500). */
  readonly heartbeatIntervalMs?: number;
  /** Free play's one-way network latency range in ms (default [200, 400]). */
  readonly latencyMs?: readonly [number, number];
  /**
   * How much of the past, in virtual ms, stays replayable (default 600 000: 10 minutes), in free
   * play and lessons alike: the model forgets what is older (its trace events, the times of its
   * slices, the message outcomes and the texts of entries no log holds any more), so a page left
   * playing for hours keeps a bounded amount. It forgets in batches, once it holds a quarter more
   * than this, so it keeps from `historyMs` to about 1.25 × `historyMs`. The timeline and
   * {@link PlaygroundModel.seek} start at {@link PlaygroundState.earliest}. A finite number ≥ 1.
   */
  readonly historyMs?: number;
}

/**
 * The configuration a {@link PlaygroundModel} runs, every default filled in: for a lesson, the
 * lesson's own cluster.
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundConfig } from 'raftkit/viz';
 * const config: PlaygroundConfig = new PlaygroundModel({ lesson: 'leader-election' }).config;
 * console.log(config.lesson?.title, config.size, config.electionTimeoutMs); // Leader election 5 [ 1500, 3000 ]
 * ```
 */
export interface PlaygroundConfig {
  /** The seed the run uses (a lesson's own). */
  readonly seed: number | string;
  /** How many nodes the run starts with. */
  readonly size: number;
  /** The ids of those nodes, '1'..'N'. */
  readonly ids: readonly NodeId[];
  /** Pre-vote on (for a lesson: its cluster's setting). */
  readonly preVote: boolean;
  /** Check-quorum on (for a lesson: its cluster's setting). */
  readonly checkQuorum: boolean;
  /** The election timeout range the nodes use (for the timer arcs). */
  readonly electionTimeoutMs: readonly [number, number];
  /** Per-node election timeout ranges that differ from `electionTimeoutMs` (a lesson's). */
  readonly nodeElectionTimeoutMs: Readonly<Record<NodeId, readonly [number, number]>>;
  /** The heartbeat interval. */
  readonly heartbeatIntervalMs: number;
  /** The network latency range (estimates of when a message in flight arrives). */
  readonly latencyMs: readonly [number, number];
  /** The lesson run, or null for free play. */
  readonly lesson: Lesson | null;
  /** How much of the past, in virtual ms, stays replayable. */
  readonly historyMs: number;
}

/** The past the model keeps replayable by default: 10 virtual minutes. */
export const DEFAULT_HISTORY_MS = 600_000;
/** Free play's slowed-down timings. */
const FREE_PLAY = { electionTimeoutMs: [1500, 3000] as const, heartbeatIntervalMs: 500, latencyMs: [200, 400] as const };
/** The defaults of a Cluster (and so of a lesson that does not set them). */
const RAFT_DEFAULTS = { electionTimeoutMs: [150, 300] as const, heartbeatIntervalMs: 50, latencyMs: [1, 10] as const };

/** The smallest and largest cluster and speed the playground runs. */
export const SIZE_RANGE = [3, 7] as const;
export const SPEED_RANGE = [0.1, 10] as const;
const MAX_SEED = 2 ** 32 - 1;

const isSeed = (seed: unknown): seed is number => typeof seed === 'number' && Number.isSafeInteger(seed) && seed >= 0 && seed <= MAX_SEED;
const isSize = (size: unknown): size is number => typeof size === 'number' && Number.isSafeInteger(size) && size >= SIZE_RANGE[0] && size <= SIZE_RANGE[1];
const isRange = (range: unknown): range is readonly [number, number] =>
  Array.isArray(range) && range.length === 2 && range.every((n) => typeof n === 'number' && Number.isFinite(n) && n >= 0) && (range[0] as number) <= (range[1] as number);

/** Checks `options` and fills in the defaults; throws {@link PlaygroundError} for a bad value. */
export function resolveConfig(options: PlaygroundOptions): PlaygroundConfig {
  if (typeof options !== 'object' || options === null) throw new PlaygroundError('BAD_OPTION', 'options must be an object');
  const seed = options.seed ?? 1;
  if (!isSeed(seed)) throw new PlaygroundError('BAD_SEED', `seed must be a whole number from 0 to ${MAX_SEED}, got ${describe(seed)}`);
  const size = options.size ?? 5;
  if (!isSize(size)) throw new PlaygroundError('BAD_SIZE', `size must be a whole number from ${SIZE_RANGE[0]} to ${SIZE_RANGE[1]}, got ${describe(size)}`);
  for (const key of ['electionTimeoutMs', 'latencyMs'] as const) {
    if (options[key] !== undefined && !isRange(options[key])) throw new PlaygroundError('BAD_OPTION', `${key} must be [min, max] with 0 ≤ min ≤ max, got ${describe(options[key])}`);
  }
  const heartbeat = options.heartbeatIntervalMs;
  if (heartbeat !== undefined && !(typeof heartbeat === 'number' && Number.isFinite(heartbeat) && heartbeat > 0)) {
    throw new PlaygroundError('BAD_OPTION', `heartbeatIntervalMs must be a finite number above 0, got ${describe(heartbeat)}`);
  }
  const historyMs = options.historyMs ?? DEFAULT_HISTORY_MS;
  if (!(typeof historyMs === 'number' && Number.isFinite(historyMs) && historyMs >= 1)) {
    throw new PlaygroundError('BAD_OPTION', `historyMs must be a finite number ≥ 1, got ${describe(historyMs)}`);
  }
  if (options.lesson !== undefined) {
    const lesson = typeof options.lesson === 'string' ? lessonById(options.lesson) : undefined;
    if (lesson === undefined) throw new PlaygroundError('UNKNOWN_LESSON', `no lesson ${describe(options.lesson)}`);
    const c = lesson.cluster;
    const perNode: Record<NodeId, readonly [number, number]> = {};
    for (const [id, o] of Object.entries(c.nodes ?? {})) if (o.electionTimeoutMs !== undefined) perNode[id] = o.electionTimeoutMs;
    return {
      seed: c.seed,
      size: c.size,
      ids: idsOf(c.size),
      preVote: c.preVote ?? true,
      checkQuorum: c.checkQuorum ?? true,
      electionTimeoutMs: c.electionTimeoutMs ?? RAFT_DEFAULTS.electionTimeoutMs,
      nodeElectionTimeoutMs: perNode,
      heartbeatIntervalMs: c.heartbeatIntervalMs ?? RAFT_DEFAULTS.heartbeatIntervalMs,
      latencyMs: c.latencyMs ?? RAFT_DEFAULTS.latencyMs,
      lesson,
      historyMs,
    };
  }
  return {
    seed,
    size,
    ids: idsOf(size),
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    electionTimeoutMs: options.electionTimeoutMs ?? FREE_PLAY.electionTimeoutMs,
    nodeElectionTimeoutMs: {},
    heartbeatIntervalMs: options.heartbeatIntervalMs ?? FREE_PLAY.heartbeatIntervalMs,
    latencyMs: options.latencyMs ?? FREE_PLAY.latencyMs,
    lesson: null,
    historyMs,
  };
}

/**
 * What the element's attributes ask for, read leniently: the options to run, the speed, and a
 * message for each attribute that could not be used as given (the element shows them). A size
 * outside 3–7 is clamped to the nearest bound; a size, seed or speed that is not a number, and an
 * unknown lesson, fall back to the default.
 *
 * @example
 * ```ts
 * import { parsePlaygroundAttributes } from 'raftkit/viz';
 * const attributes: Record<string, string> = { seed: 'x', size: '9', 'pre-vote': 'false' };
 * const { options, problems } = parsePlaygroundAttributes((name) => attributes[name] ?? null);
 * console.log(options.seed, options.size, options.preVote); // 1 7 false
 * console.log(problems); // [ 'seed "x" is not a whole number from 0 to 4294967295: using 1', 'size 9 is outside 3–7: using 7' ]
 * ```
 */
export function parsePlaygroundAttributes(attribute: (name: string) => string | null): PlaygroundAttributes {
  const problems: string[] = [];
  const seedText = attribute('seed');
  let seed = 1;
  if (seedText !== null && seedText.trim() !== '') {
    const n = Number(seedText);
    if (isSeed(n)) seed = n;
    else problems.push(`seed ${JSON.stringify(seedText)} is not a whole number from 0 to ${MAX_SEED}: using 1`);
  }
  const sizeText = attribute('size');
  let size = 5;
  if (sizeText !== null && sizeText.trim() !== '') {
    const n = Number(sizeText);
    if (!Number.isFinite(n)) problems.push(`size ${JSON.stringify(sizeText)} is not a number: using 5`);
    else {
      size = Math.min(SIZE_RANGE[1], Math.max(SIZE_RANGE[0], Math.round(n)));
      if (size !== n) problems.push(`size ${sizeText.trim()} is outside ${SIZE_RANGE[0]}–${SIZE_RANGE[1]}: using ${size}`);
    }
  }
  const lessonText = attribute('lesson');
  let lesson: string | undefined;
  if (lessonText !== null && lessonText !== '') {
    if (lessonById(lessonText) !== undefined) lesson = lessonText;
    else problems.push(`no lesson ${JSON.stringify(lessonText)}: playing freely`);
  }
  const speedText = attribute('speed');
  // (The lessons run slowed-down timings as free play does, so 1× suits both.)
  let speed = 1;
  if (speedText !== null && speedText.trim() !== '') {
    const n = Number(speedText);
    if (!Number.isFinite(n) || n <= 0) problems.push(`speed ${JSON.stringify(speedText)} is not a positive number: using ${speed}`);
    else {
      speed = clampSpeed(n);
      if (speed !== n) problems.push(`speed ${speedText.trim()} is outside ${SPEED_RANGE[0]}–${SPEED_RANGE[1]}: using ${speed}`);
    }
  }
  const flag = (name: string): boolean => {
    const value = attribute(name);
    return value === null || value.trim().toLowerCase() !== 'false';
  };
  return {
    options: { seed, size, preVote: flag('pre-vote'), checkQuorum: flag('check-quorum'), ...(lesson !== undefined && { lesson }) },
    speed,
    autoplay: attribute('autoplay') !== null,
    problems,
  };
}

/**
 * What {@link parsePlaygroundAttributes} read.
 *
 * @example
 * ```ts
 * import { parsePlaygroundAttributes, type PlaygroundAttributes } from 'raftkit/viz';
 * const read: PlaygroundAttributes = parsePlaygroundAttributes((name) => (name === 'autoplay' ? '' : null));
 * console.log(read.autoplay, read.speed, read.problems.length); // true 1 0
 * ```
 */
export interface PlaygroundAttributes {
  /** The options for the model. */
  readonly options: PlaygroundOptions;
  /** The playback speed (virtual ms per real ms). */
  readonly speed: number;
  /** Whether the element starts playing by itself. */
  readonly autoplay: boolean;
  /** What could not be used as given, one sentence each. */
  readonly problems: readonly string[];
}

/** `speed` clamped to 0.1–10. */
export function clampSpeed(speed: number): number {
  return Math.min(SPEED_RANGE[1], Math.max(SPEED_RANGE[0], speed));
}

function idsOf(size: number): NodeId[] {
  return Array.from({ length: size }, (_, i) => String(i + 1));
}

function describe(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? `[${value.map(String).join(', ')}]` : String(value);
}
