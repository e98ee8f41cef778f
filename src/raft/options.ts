/**
 * The pure core's options, their defaults, and the checks they must pass.
 */
import type { Random } from '../runtime/random.js';
import type { PersistedState } from './storage.js';
import type { NodeId } from './types.js';

/**
 * Options of the pure core. Times are milliseconds of whatever clock drives {@link RaftCore.elapse}.
 *
 * @example
 * ```ts
 * import { RaftCore, SeededRandom } from 'raftkit';
 * const core = new RaftCore({ id: '1', peers: ['2', '3'], random: new SeededRandom(1) });
 * ```
 */
export interface RaftCoreOptions {
  /** This node's id. */
  readonly id: NodeId;
  /**
   * The peers of a new cluster: the other voters (`id` itself is one; listing it too is
   * harmless). Ignored once the log or a snapshot holds a membership: that one is in force.
   */
  readonly peers: readonly NodeId[];
  /**
   * This node is joining a running cluster: it starts with no membership, never campaigns, and
   * learns the membership from the leader (which added it with a membership change). Default false.
   */
  readonly join?: boolean;
  /** The most characters of snapshot data sent in one InstallSnapshot. Default 65,536. */
  readonly snapshotChunkSize?: number;
  /** Source of the randomized election timeouts. */
  readonly random: Random;
  /** Election timeout range; each timeout is drawn uniformly from it. Default [150, 300]. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** How often a leader sends heartbeats. Default 50. Must be below the minimum election timeout. */
  readonly heartbeatIntervalMs?: number;
  /** State loaded from storage after a restart. */
  readonly initialState?: PersistedState;
  /** The most entries sent in one AppendEntries. Default 1024. */
  readonly maxEntriesPerMessage?: number;
  /**
   * The most bytes of entries in one AppendEntries, measured as their JSON text (one entry is
   * always sent, however large). Default: no limit. Set it below what the transport carries in
   * one message (`TcpTransport`'s `maxFrameBytes`), or a follower far behind on large entries is
   * sent batches that never arrive.
   */
  readonly maxBytesPerMessage?: number;
  /** The most unacknowledged AppendEntries in flight to one follower. Default 64. */
  readonly maxInflightMessages?: number;
  /**
   * Poll with a pre-vote before a timeout-driven election (thesis §9.6), so a node that cannot
   * win never raises the cluster's term. Default true.
   */
  readonly preVote?: boolean;
  /**
   * A leader that has not heard from a majority for a minimum election timeout steps down
   * (thesis §6.2), and followers that hear from a leader ignore timeout-driven vote requests
   * (§4.2.3). Default true.
   */
  readonly checkQuorum?: boolean;
  /**
   * For lease reads: the most the clocks of two nodes may drift apart, as a fraction of elapsed
   * time (default 0.1). A leader trusts its lease for a minimum election timeout × (1 − this).
   */
  readonly maxClockDrift?: number;
  /**
   * The time (ms) when the core starts, on the clock whose passing {@link RaftCore.elapse}
   * reports (default 0). A leader stamps session entries with it plus the time elapsed since:
   * the log time by which client sessions expire.
   */
  readonly now?: number;
}

/** The default election timeout range (ms). */
export const DEFAULT_ELECTION_TIMEOUT: readonly [number, number] = [150, 300];

/** The options with every default filled in and every value checked. */
export interface Settings {
  readonly snapshotChunkSize: number;
  readonly random: Random;
  readonly electionTimeoutMs: readonly [number, number];
  readonly heartbeatIntervalMs: number;
  readonly maxEntriesPerMessage: number;
  readonly maxBytesPerMessage: number;
  readonly maxInflightMessages: number;
  readonly preVote: boolean;
  readonly checkQuorum: boolean;
  /** How long (ms) a leader trusts its lease after a quorum answered: a minimum election timeout, less the clock drift allowed. */
  readonly leaseMs: number;
}

/** Fills in the defaults; throws a RangeError for a value that cannot work. */
export function settingsOf(options: RaftCoreOptions): Settings {
  const snapshotChunkSize = options.snapshotChunkSize ?? 65_536;
  if (!(Number.isSafeInteger(snapshotChunkSize) && snapshotChunkSize > 0)) throw new RangeError(`snapshotChunkSize must be a positive integer, got ${snapshotChunkSize}`);
  const electionTimeoutMs = options.electionTimeoutMs ?? DEFAULT_ELECTION_TIMEOUT;
  const heartbeatIntervalMs = options.heartbeatIntervalMs ?? 50;
  validateTimings(electionTimeoutMs, heartbeatIntervalMs);
  const maxBytesPerMessage = options.maxBytesPerMessage ?? Infinity;
  if (!(maxBytesPerMessage > 0)) throw new RangeError(`maxBytesPerMessage must be a positive number, got ${String(options.maxBytesPerMessage)}`);
  const drift = options.maxClockDrift ?? 0.1;
  if (!(drift >= 0 && drift < 1)) throw new RangeError(`maxClockDrift must be in [0, 1), got ${drift}`);
  return {
    snapshotChunkSize,
    random: options.random,
    electionTimeoutMs,
    heartbeatIntervalMs,
    maxEntriesPerMessage: options.maxEntriesPerMessage ?? 1024,
    maxBytesPerMessage,
    maxInflightMessages: options.maxInflightMessages ?? 64,
    preVote: options.preVote ?? true,
    checkQuorum: options.checkQuorum ?? true,
    leaseMs: electionTimeoutMs[0] * (1 - drift),
  };
}

/** Throws a RangeError unless the timings can work: whole ms, heartbeats well inside the election timeout. */
export function validateTimings(election: readonly [number, number] = DEFAULT_ELECTION_TIMEOUT, heartbeat = 50): void {
  const [min, max] = Array.isArray(election) ? election : [NaN, NaN];
  if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min > 0 && max >= min)) {
    throw new RangeError(`electionTimeoutMs must be [min, max], whole ms, 0 < min ≤ max; got ${JSON.stringify(election)}`);
  }
  if (!(Number.isFinite(heartbeat) && heartbeat > 0 && heartbeat < min)) {
    throw new RangeError(`heartbeatIntervalMs must be > 0 and below the minimum election timeout (${min}), got ${heartbeat}`);
  }
}
