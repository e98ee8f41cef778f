/**
 * Replay and seek: the state of every node, of the messages in flight and of the network at any
 * point of a trace, forward and backward. The events run through the machine of
 * replay-state.ts once, as they arrive; every `checkpointEvery` events the state is copied, so a
 * seek costs at most `checkpointEvery` event applications from the nearest checkpoint. A live
 * replay can {@link TraceReplay.forget} its oldest events and checkpoints to bound its memory;
 * positions stay counted from the trace's first event.
 */
import type { NodeId } from '../raft/types.js';
import { TRACE_VERSION, type MessageEvent, type TraceDocument, type TraceEvent } from '../sim/trace.js';
import { ReplayError } from './replay-error.js';
import { applyEvent, cloneState, copyKey, copyOf, freeze, initialState, type MachineState, type ReplayState } from './replay-state.js';

/**
 * What {@link TraceReplay} replays: a whole `Cluster.traceDocument()` (or that document read
 * back from JSON), or the nodes the cluster started with and its events, oldest first.
 *
 * @example
 * ```ts
 * import type { ReplayableTrace } from 'raftkit/viz';
 * const trace: ReplayableTrace = { nodes: ['1', '2', '3'], events: [{ time: 0, kind: 'crash', node: '2' }] };
 * ```
 */
export type ReplayableTrace =
  | TraceDocument
  | {
      /** The nodes the run started with, as followers in term 0 with empty logs. */
      readonly nodes: readonly NodeId[];
      /** The events, oldest first, from the run's start. */
      readonly events: readonly TraceEvent[];
    };

/**
 * Options of a {@link TraceReplay}.
 *
 * @example
 * ```ts
 * import type { TraceReplayOptions } from 'raftkit/viz';
 * const options: TraceReplayOptions = { checkpointEvery: 64 }; // faster seeks, more memory
 * ```
 */
export interface TraceReplayOptions {
  /**
   * How many events apart the checkpoints are (default 256): a seek applies at most this many
   * events, and the checkpoints take memory for one state every this many events. A whole
   * number ≥ 1: anything else makes the {@link TraceReplay} constructor throw a `RangeError` (a
   * bad option, not a bad trace, so not a {@link ReplayError}).
   */
  readonly checkpointEvery?: number;
}

const DEFAULT_CHECKPOINT_EVERY = 256;

/**
 * Replays a trace: the visible state of every node (role, term, vote, log with its terms and
 * snapshot, commit and applied index, votes received, up, crashed or paused), the message copies
 * in flight, and the partition, cuts and disconnections in force, after any number of its
 * events. Seeking backward costs what seeking forward does. Events can be pushed as a live trace
 * grows (`Cluster.onTrace`). Pure: reads no clock, same trace, same states.
 *
 * A trace that lost its start (`dropped` > 0), that does not say which nodes it started with,
 * or whose events contradict each other (a delivery of a message never sent, an append into what
 * a node's snapshot covers) is refused with a {@link ReplayError} naming the event at fault. A
 * `checkpointEvery` that is not a whole number ≥ 1 throws a `RangeError`.
 *
 * A replay following a long live run can drop its oldest events with {@link forget}: positions
 * stay absolute (counted from the trace's first event), {@link start} is the first one it still
 * holds, and seeks before it are clamped to it.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { TraceReplay } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = await cluster.waitForLeader();
 * cluster.crash(leader);
 * await cluster.waitForLeader();
 * const replay = new TraceReplay(cluster.traceDocument());
 * const before = replay.stateAtTime(cluster.now - 1000);
 * const now = replay.stateAt(replay.length);
 * console.log(before.leader, now.leader, now.nodes.find((n) => n.id === leader)?.status); // 2 … crashed
 * ```
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { TraceReplay } from 'raftkit/viz';
 * // Following a run live: push each event as it is recorded.
 * const cluster = new Cluster({ size: 3, seed: 2 });
 * const replay = new TraceReplay({ nodes: cluster.ids, events: [] });
 * cluster.onTrace((event) => replay.push(event));
 * await cluster.waitForLeader();
 * console.log(replay.stateAt(replay.length).leader === cluster.leader()); // true
 * ```
 */
export class TraceReplay {
  /** The events held: `#events[i]` is event number `#start + i`. */
  #events: TraceEvent[] = [];
  /** The position of the first event held: a multiple of `#every` (0 until {@link forget}). */
  #start = 0;
  readonly #every: number;
  /** `#checkpoints[k]`: the state after `#start + k × every` events. */
  #checkpoints: MachineState[];
  /** The state after every event known. */
  readonly #head: MachineState;
  /** The position of each message id's send (the sends held: older ones are forgotten). */
  readonly #sendAt = new Map<number, number>();
  /** The ids of the sends the network made a second copy of (known from that copy's outcome). */
  readonly #duplicated = new Set<number>();
  #headState: ReplayState | null = null;
  #last: ReplayState | null = null;

  constructor(trace: ReplayableTrace, options: TraceReplayOptions = {}) {
    const every = options.checkpointEvery ?? DEFAULT_CHECKPOINT_EVERY;
    if (!Number.isSafeInteger(every) || every < 1) throw new RangeError(`TraceReplay: checkpointEvery must be an integer ≥ 1, got ${String(every)}`);
    this.#every = every;
    if (typeof trace !== 'object' || trace === null) throw new ReplayError('BAD_EVENT', null, 'the trace must be a trace document or { nodes, events }');
    const document = trace as Partial<TraceDocument>;
    if (document.version !== undefined && document.version !== TRACE_VERSION) {
      throw new ReplayError('VERSION', null, `trace schema version ${String(document.version)}, but this replay reads version ${TRACE_VERSION}`);
    }
    if (document.dropped !== undefined && document.dropped > 0) {
      throw new ReplayError('DROPPED_START', null, `the trace dropped its ${document.dropped} oldest events (raise the cluster's traceLimit): it cannot be replayed from its start`);
    }
    const nodes = trace.nodes;
    if (!Array.isArray(nodes) || nodes.length === 0) throw new ReplayError('NO_NODES', null, 'the trace does not list the nodes the cluster started with');
    if (!nodes.every((id) => typeof id === 'string')) throw new ReplayError('NO_NODES', null, 'the trace\'s nodes must be string ids');
    if (new Set(nodes).size !== nodes.length) throw new ReplayError('DUPLICATE_NODE', null, 'the trace lists a node twice');
    if (!Array.isArray(trace.events)) throw new ReplayError('BAD_EVENT', null, 'the trace has no events array');
    const start = initialState(nodes);
    this.#checkpoints = [cloneState(start)];
    this.#head = start;
    for (const event of trace.events) this.#pushOne(event); // (not push(...events): a long trace would overflow the stack)
  }

  /** How many events the replay has taken, forgotten ones included: the position after the last. */
  get length(): number {
    return this.#start + this.#events.length;
  }

  /**
   * The first position the replay can still show: 0, or where {@link forget} left it (a
   * multiple of `checkpointEvery`). The events held are those from `start` to {@link length}.
   */
  get start(): number {
    return this.#start;
  }

  /** The events the replay holds, oldest first: `events[i]` is event number {@link start} + i (do not mutate). */
  get events(): readonly TraceEvent[] {
    return this.#events;
  }

  /** The virtual time of the first event held (0 without events; the head's time if all were forgotten). */
  get startTime(): number {
    return this.#events[0]?.time ?? this.#head.time;
  }

  /** The virtual time of the last event (0 without events). */
  get endTime(): number {
    return this.#events[this.#events.length - 1]?.time ?? this.#head.time;
  }

  /**
   * Appends events as a live trace grows; positions and states already taken stay valid. Throws
   * a {@link ReplayError} at the first event it refuses: the events before it are kept.
   */
  push(...events: readonly TraceEvent[]): void {
    for (const event of events) this.#pushOne(event);
  }

  /** The state after the first `position` events (clamped to {@link start} … length: 0 … length until {@link forget}). */
  stateAt(position: number): ReplayState {
    const length = this.length;
    const start = this.#start;
    const p = position >= length ? length : position > start ? Math.floor(position) : start;
    if (p === length) return (this.#headState ??= freeze(this.#head));
    if (this.#last !== null && this.#last.position === p) return this.#last;
    const k = Math.floor((p - start) / this.#every);
    const state = cloneState(this.#checkpoints[k] as MachineState);
    const context = { duplicated: this.#duplicated };
    for (let i = start + k * this.#every; i < p; i++) applyEvent(state, this.#events[i - start] as TraceEvent, i, context);
    return (this.#last = freeze(state));
  }

  /**
   * The number of events with `time` ≤ `ms` (a binary search), at least {@link start}: the
   * events before it are forgotten, so an earlier time counts as `start`.
   */
  positionAt(ms: number): number {
    const events = this.#events;
    let low = 0;
    let high = events.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((events[mid] as TraceEvent).time <= ms) low = mid + 1;
      else high = mid;
    }
    return this.#start + low;
  }

  /**
   * The state at virtual time `ms`: {@link stateAt}({@link positionAt}(ms)), with `time` = ms.
   * After {@link forget}, a time before the state at {@link start} is clamped to it: that
   * state is returned with its own time.
   */
  stateAtTime(ms: number): ReplayState {
    const state = this.stateAt(this.positionAt(ms));
    if (this.#start > 0 && state.position === this.#start && ms < state.time) return state;
    return state.time === ms ? state : Object.freeze({ ...state, time: ms });
  }

  /**
   * Forgets the oldest events and checkpoints, to bound the memory of a replay that follows a
   * long live run: everything before the last checkpoint at or below `position` (clamped to
   * {@link start} … length) goes, and {@link start} moves there, so the replay forgets less
   * than asked, by up to `checkpointEvery − 1` events. Positions stay absolute: `length`,
   * `positionAt` and the states' `position` still count from the trace's first event. Every
   * state from the new `start` on is what it was; seeks before it are clamped to it (see
   * {@link stateAt}, {@link stateAtTime}). The ids of forgotten sends are forgotten too: a later
   * send reusing one is not refused, and a duplicate copy's outcome is replayed only if its send
   * is held or its original copy is still in flight at `start` (otherwise `push` refuses it with
   * UNKNOWN_MESSAGE): forget a network latency or more behind the head.
   *
   * @example
   * ```ts
   * import { Cluster } from 'raftkit';
   * import { TraceReplay } from 'raftkit/viz';
   * const cluster = new Cluster({ size: 3, seed: 2 });
   * const replay = new TraceReplay({ nodes: cluster.ids, events: [] }, { checkpointEvery: 16 });
   * cluster.onTrace((event) => replay.push(event));
   * await cluster.run(5000);
   * const later = replay.stateAt(replay.length - 10);
   * replay.forget(replay.length - 20); // keeps the last 20 to 35 events
   * console.log(replay.start % 16, replay.length - replay.start < 36); // 0 true
   * console.log(JSON.stringify(replay.stateAt(later.position)) === JSON.stringify(later)); // true
   * console.log(replay.stateAt(0).position === replay.start); // true (clamped)
   * ```
   */
  forget(position: number): void {
    const start = this.#start;
    const p = Math.min(this.length, Math.max(start, Math.floor(position)));
    const drop = Math.floor((p - start) / this.#every);
    if (!(drop > 0)) return;
    const next = start + drop * this.#every;
    this.#events = this.#events.slice(next - start);
    this.#checkpoints = this.#checkpoints.slice(drop);
    this.#start = next;
    // The sends forgotten (the map is in send order), and what is known of their duplicates.
    for (const [id, at] of this.#sendAt) {
      if (at >= next) break;
      this.#sendAt.delete(id);
      this.#duplicated.delete(id);
    }
    if (this.#last !== null && this.#last.position < next) this.#last = null;
  }

  /**
   * Remakes the checkpoints past position `at` (a send the network turned out to duplicate), so
   * seeks stay within `checkpointEvery` events. It costs the events from there to now: the
   * duplicate's outcome comes one network latency after its send.
   */
  #remakeCheckpointsAfter(at: number): void {
    const start = this.#start;
    const every = this.#every;
    const first = Math.max(0, Math.floor((at - start) / every));
    const last = this.#checkpoints.length - 1;
    if (last <= first) return;
    const state = cloneState(this.#checkpoints[first] as MachineState);
    const context = { duplicated: this.#duplicated };
    for (let i = start + first * every; i < start + last * every; i++) {
      applyEvent(state, this.#events[i - start] as TraceEvent, i, context);
      if ((i + 1 - start) % every === 0) this.#checkpoints[(i + 1 - start) / every] = cloneState(state);
    }
  }

  #pushOne(e: TraceEvent): void {
    const start = this.#start;
    const index = start + this.#events.length;
    if (typeof e !== 'object' || e === null || typeof (e as { kind?: unknown }).kind !== 'string' || typeof e.time !== 'number' || !Number.isFinite(e.time)) {
      throw new ReplayError('BAD_EVENT', index, 'an event must be an object with a kind and a finite time');
    }
    const previous = index > 0 ? this.#head.time : undefined; // (the time of the last event, held or forgotten)
    if (previous !== undefined && e.time < previous) throw new ReplayError('TIME_ORDER', index, `time ${e.time} is before the previous event's ${previous}`);
    let duplicateFound: { id: number; send: MessageEvent; at: number } | undefined;
    if (e.kind === 'send' || e.kind === 'deliver' || e.kind === 'drop') {
      const id = e.id;
      if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) throw new ReplayError('BAD_EVENT', index, `${e.kind} without a message id (a trace older than version 1?)`);
      if (e.kind === 'send' && this.#sendAt.has(id)) throw new ReplayError('DUPLICATE_ID', index, `send of message ${id}, which event ${String(this.#sendAt.get(id))} sent`);
      if (e.kind !== 'send' && e.duplicate === true && !this.#duplicated.has(id)) {
        const at = this.#sendAt.get(id);
        if (at !== undefined) duplicateFound = { id, send: this.#events[at - start] as MessageEvent, at };
        else {
          // A send forgotten: known still if its original copy was in flight where the replay starts.
          const send = (this.#checkpoints[0] as MachineState).inFlight.get(copyKey(id, false))?.send;
          if (send === undefined || start === 0) throw new ReplayError('UNKNOWN_MESSAGE', index, `${e.kind} of a duplicate of message ${id}, which was never sent${start > 0 ? ' (or whose send is forgotten)' : ''}`);
          duplicateFound = { id, send, at: start - 1 };
        }
      }
    }
    const head = this.#head;
    if (duplicateFound !== undefined) {
      // The copy existed from its send on: the head gets it now, states past the send are remade.
      const { id, send, at } = duplicateFound;
      head.inFlight.set(copyKey(id, true), copyOf(send, true));
      try {
        applyEvent(head, e, index, { duplicated: this.#duplicated });
      } catch (error) {
        head.inFlight.delete(copyKey(id, true));
        throw error;
      }
      this.#duplicated.add(id);
      if (at < start) (this.#checkpoints[0] as MachineState).inFlight.set(copyKey(id, true), copyOf(send, true)); // (in flight there already)
      this.#remakeCheckpointsAfter(at);
      this.#last = null;
    } else applyEvent(head, e, index, { duplicated: this.#duplicated });
    this.#events.push(e);
    if (e.kind === 'send') this.#sendAt.set(e.id as number, index);
    this.#headState = null;
    if ((index + 1 - start) % this.#every === 0) this.#checkpoints[(index + 1 - start) / this.#every] = cloneState(head);
  }
}

export type { ReplayState, ReplayedNode, InFlightMessage } from './replay-state.js';
