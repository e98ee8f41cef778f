/**
 * The search of Wing & Gong, with Lowe's memoization, as in Porcupine's `checkSingle`.
 *
 * Calls and returns sit in a doubly-linked list sorted by time. The search walks the list from
 * the front: at a call, it tries to linearize that operation now (the model accepts its output
 * from the current state); linearizing lifts the call and its return out of the list and starts
 * again from the front. Reaching a return means every pending call was tried and that operation
 * could not take effect before it completed: the search backtracks. A cache of (linearized set,
 * state) pairs prunes configurations already explored, which makes the search polynomial on
 * histories of bounded concurrency.
 */
import type { Model, Unknown } from './model.js';

/** An operation as the search sees it (fail operations never get here: they did not happen). */
export interface Entry<I, O> {
  /** The operation's position in the checked history, for reports. */
  readonly index: number;
  readonly input: I;
  /** The output the model checks; UNKNOWN for info operations. */
  readonly output: O | Unknown;
  readonly info: boolean;
  readonly invoke: number;
  /** Infinity for info operations: they may take effect any time after their invocation. */
  readonly complete: number;
}

/** One linearized operation on the search's stack; frames are shared, never changed. */
export interface Frame<S> {
  /** The entry linearized. */
  readonly id: number;
  readonly before: S;
  readonly after: S;
  readonly prev: Frame<S> | null;
  readonly depth: number;
}

export type SearchResult<S> =
  | { readonly kind: 'linearizable'; readonly ends: readonly S[] }
  | {
      readonly kind: 'illegal';
      /** The top of the longest partial linearization found (null: none got anywhere). */
      readonly deepest: Frame<S> | null;
      /** The entry whose completion stopped that linearization. */
      readonly blocked: number;
      /** The latest completion time at which any branch of the search got stuck. */
      readonly stuckAt: number;
    }
  | { readonly kind: 'unknown'; readonly reason: 'steps' | 'deadline' };

/** Counts search steps and watches an optional deadline (checked every 1,024 steps). */
export class Budget {
  private used = 0;
  /** Why the budget ran out, once it has. */
  exhausted: 'steps' | 'deadline' | undefined;
  constructor(
    private readonly maxSteps: number,
    private readonly now?: () => number,
    private readonly deadline?: number,
  ) {}

  /** Takes one step; false once the budget is exhausted. */
  spend(): boolean {
    if (++this.used > this.maxSteps) this.exhausted = 'steps';
    else if (this.deadline !== undefined && (this.used & 1023) === 0 && this.now!() >= this.deadline) this.exhausted = 'deadline';
    return this.exhausted === undefined;
  }
}

interface Event {
  readonly id: number;
  readonly call: boolean;
  readonly time: number;
  match: Event | null; // a call's return
  prev: Event | null;
  next: Event | null;
}

/**
 * Searches for a linearization of `entries` from `start`. With `all`, it does not stop at the
 * first one but returns every state a complete linearization ends in (entries must then have no
 * info operation, since an info operation may be left out).
 */
export function search<I, O, S>(entries: readonly Entry<I, O>[], model: Model<I, O, S>, start: S, budget: Budget, all = false): SearchResult<S> {
  if (all && entries.some((e) => e.info)) throw new Error('invariant: an exhaustive search runs on ok operations only');
  let okLeft = entries.reduce((n, e) => (e.info ? n : n + 1), 0);
  if (okLeft === 0) return { kind: 'linearizable', ends: [start] }; // info operations may all never have happened

  const head = eventList(entries);
  const memo = new Memo(entries.length, model);
  const ends: S[] = [];
  let state = start;
  let frame = null as Frame<S> | null; // (a cast: the closure below assigns it, which narrowing does not see)
  let deepest: Frame<S> | null = null;
  let deepestDepth = -1;
  let blocked = -1;
  let stuckAt = -Infinity;
  const calls = new Array<Event>(entries.length);
  for (let e = head.next; e !== null; e = e.next) if (e.call) calls[e.id] = e;

  // Undoes the top linearization; returns where the walk goes on, or undefined when nothing is left to undo.
  const backtrack = (): Event | null | undefined => {
    if (frame === null) return undefined;
    const call = calls[frame.id]!;
    state = frame.before;
    memo.flip(frame.id);
    unlift(call);
    if (!entries[frame.id]!.info) okLeft++;
    frame = frame.prev;
    return call.next;
  };

  let event: Event | null | undefined = head.next;
  for (;;) {
    if (!budget.spend()) return { kind: 'unknown', reason: budget.exhausted! };
    if (event === null || event === undefined) throw new Error('invariant: a call is always followed by its return');
    if (event.call) {
      const entry = entries[event.id]!;
      const after = model.step(state, entry.input, entry.output);
      if (after !== undefined) {
        memo.flip(event.id);
        if (memo.add(after)) {
          frame = { id: event.id, before: state, after, prev: frame, depth: (frame?.depth ?? 0) + 1 };
          state = after;
          lift(event);
          if (!entry.info && --okLeft === 0) {
            if (!all) return { kind: 'linearizable', ends: [state] };
            ends.push(state); // the cache makes each end state new
            event = backtrack();
          } else {
            event = head.next;
          }
          continue;
        }
        memo.flip(event.id);
      }
      event = event.next;
    } else {
      if (event.time > stuckAt) stuckAt = event.time;
      const depth = frame?.depth ?? 0;
      if (depth > deepestDepth) {
        deepest = frame;
        deepestDepth = depth;
        blocked = event.id;
      }
      event = backtrack();
    }
    if (event === undefined) {
      if (ends.length > 0) return { kind: 'linearizable', ends };
      return { kind: 'illegal', deepest, blocked, stuckAt };
    }
  }
}

/** The calls and returns of `entries`, sorted by time, after a sentinel head. */
function eventList<I, O>(entries: readonly Entry<I, O>[]): Event {
  const events: Event[] = [];
  entries.forEach((e, id) => {
    const call: Event = { id, call: true, time: e.invoke, match: null, prev: null, next: null };
    const ret: Event = { id, call: false, time: e.complete, match: null, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  // At equal times a call goes before a return, so operations that touch at an instant are concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.id - b.id);
  const head: Event = { id: -1, call: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

/** Takes a call and its return out of the list. */
function lift(call: Event): void {
  const ret = call.match!;
  call.prev!.next = call.next;
  call.next!.prev = call.prev;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Undoes {@link lift} (in reverse order, so the neighbours are the ones saved). */
function unlift(call: Event): void {
  const ret = call.match!;
  ret.prev!.next = ret;
  if (ret.next !== null) ret.next.prev = ret;
  call.prev!.next = call;
  call.next!.prev = call;
}

/**
 * The explored configurations: the set of linearized entries (a bitset, hashed incrementally
 * with a fixed pseudo-random 52-bit word per entry, Zobrist style) and the model state. The
 * hashes only choose a bucket; the bitset and the state are compared exactly, since a false hit
 * would make the search skip a configuration it never explored.
 */
class Memo<I, O, S> {
  private readonly bits: Uint32Array;
  private readonly low: Uint32Array;
  private readonly high: Uint32Array;
  private hashLow = 0;
  private hashHigh = 0;
  private readonly buckets = new Map<number, { bits: Uint32Array; key: string | number; state: S }[]>();
  private readonly stateKey: (state: S) => string | number;
  private readonly equals: ((a: S, b: S) => boolean) | undefined;

  constructor(size: number, model: Model<I, O, S>) {
    this.bits = new Uint32Array(Math.ceil(size / 32));
    this.low = new Uint32Array(size);
    this.high = new Uint32Array(size);
    for (let id = 0; id < size; id++) {
      this.low[id] = mix(2 * id + 1);
      this.high[id] = mix(2 * id + 2) & 0xfffff;
    }
    this.stateKey = model.hash ? (state) => model.hash!(state) : (state) => JSON.stringify(state);
    this.equals = model.equals?.bind(model);
  }

  /** Adds entry `id` to the linearized set, or takes it out. */
  flip(id: number): void {
    this.bits[id >>> 5]! ^= 1 << (id & 31);
    this.hashLow = (this.hashLow ^ this.low[id]!) >>> 0;
    this.hashHigh ^= this.high[id]!;
  }

  /** Records the current set with `state`; false when that configuration was seen already. */
  add(state: S): boolean {
    const key = this.stateKey(state);
    const hash = this.hashHigh * 0x1_0000_0000 + this.hashLow;
    const bucket = this.buckets.get(hash);
    if (bucket === undefined) {
      this.buckets.set(hash, [{ bits: this.bits.slice(), key, state }]);
      return true;
    }
    for (const seen of bucket) {
      if (seen.key === key && sameBits(seen.bits, this.bits) && (this.equals === undefined || this.equals(seen.state, state))) return false;
    }
    bucket.push({ bits: this.bits.slice(), key, state });
    return true;
  }
}

function sameBits(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A 32-bit integer hash (the "lowbias32" finalizer): well-spread words from 1, 2, 3, … */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
