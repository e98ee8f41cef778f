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
 *
 * Info operations, which may take effect at any time or never, are handled apart (see `search`,
 * `twins` and `Memo`): they are tried last, identical ones in turn, and a configuration is pruned
 * when one with fewer of them taken was explored.
 */
import { hashOf, type Model, type Unknown } from './model.js';

/** An operation as the search sees it (fail operations never get here: they did not happen). */
export interface Entry<I, O> {
  /** The operation's position in the checked history, for reports. */
  readonly index: number;
  readonly input: I;
  /** The output the model checks; UNKNOWN for info operations. */
  readonly output: O | Unknown;
  readonly info: boolean;
  readonly invoke: number;
  /** Infinity for info operations: they may take effect any time after their invocation (the search never reads it for them). */
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

/** Where a complete linearization ended: the state, and the info entries it linearized. */
export interface End<S> {
  readonly state: S;
  readonly infos: readonly number[];
}

export type SearchResult<S> =
  | { readonly kind: 'linearizable'; readonly ends: readonly End<S>[] }
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

/** A call or a return in a list; an info entry has only a call, in a list of its own. */
interface Event {
  readonly id: number;
  readonly call: boolean;
  readonly time: number;
  match: Event | null; // an ok call's return
  prev: Event | null;
  next: Event | null;
}

/**
 * Searches for a linearization of `entries` from `start`. With `all`, it does not stop at the
 * first one but returns every way a complete linearization of the ok entries ends (its state and
 * the info entries it took), up to configurations that another end subsumes.
 *
 * Info entries never complete, so they have no return: their calls sit in a list of their own
 * and are tried only once no pending ok call can go next (up to the first return, as ok calls).
 * Tried first, they would be linearized early on every branch for no reason, and those that
 * change nothing would be tried again at every step.
 */
export function search<I, O, S>(entries: readonly Entry<I, O>[], model: Model<I, O, S>, start: S, budget: Budget, all = false): SearchResult<S> {
  let okLeft = entries.reduce((n, e) => (e.info ? n : n + 1), 0);
  if (okLeft === 0) return { kind: 'linearizable', ends: [{ state: start, infos: [] }] }; // info operations may all never have happened

  const { head, infoHead, calls } = eventLists(entries);
  const twin = twins(entries, infoHead);
  const linearized = new Uint8Array(entries.length);
  const memo = new Memo(entries, model);
  const ends: End<S>[] = [];
  let state = start;
  let frame = null as Frame<S> | null; // (cast: backtrack() assigns it, which narrowing does not follow)
  let deepest: Frame<S> | null = null;
  let deepestDepth = -1;
  let blocked = -1;
  let stuckAt = -Infinity;
  // The walk: through the ok list up to its first return (`bound`), then through the info list
  // while calls are no later than that return.
  let cursor: Event | null = head.next;
  let inInfo = false;
  let bound: Event = head;

  for (;;) {
    if (!budget.spend()) return { kind: 'unknown', reason: budget.exhausted! };
    let event = cursor;
    if (!inInfo && event !== null && !event.call) {
      bound = event;
      inInfo = true;
      event = infoHead.next;
    }
    if (inInfo && (event === null || event.time > bound.time)) {
      // Every call that could go next was tried: the op of `bound` cannot take effect before it completes.
      if (bound.time > stuckAt) stuckAt = bound.time;
      const depth = frame?.depth ?? 0;
      if (depth > deepestDepth) [deepest, deepestDepth, blocked] = [frame, depth, bound.id];
      if (frame === null) return ends.length > 0 ? { kind: 'linearizable', ends } : { kind: 'illegal', deepest, blocked, stuckAt };
      ({ cursor, inInfo } = backtrack());
      continue;
    }
    if (event === null) throw new Error('invariant: while an ok entry is left, its return ends the ok list');
    if (inInfo && twin[event.id]! >= 0 && linearized[twin[event.id]!] === 0) {
      cursor = event.next; // its earlier twin is still there to be taken instead
      continue;
    }

    const entry = entries[event.id]!;
    const after = model.step(state, entry.input, entry.output);
    if (after !== undefined) {
      memo.flip(event.id);
      if (memo.add(after)) {
        frame = { id: event.id, before: state, after, prev: frame, depth: (frame?.depth ?? 0) + 1 };
        state = after;
        lift(event);
        linearized[event.id] = 1;
        if (!entry.info && --okLeft === 0) {
          ends.push({ state, infos: infosOf(frame, entries) });
          if (!all) return { kind: 'linearizable', ends };
          ({ cursor, inInfo } = backtrack());
        } else {
          cursor = head.next;
          inInfo = false;
        }
        continue;
      }
      memo.flip(event.id);
    }
    cursor = event.next;
  }

  // Undoes the top linearization; the walk goes on after its call, in that call's list.
  function backtrack(): { cursor: Event | null; inInfo: boolean } {
    const top = frame!;
    const call = calls[top.id]!;
    state = top.before;
    memo.flip(top.id);
    unlift(call);
    linearized[top.id] = 0;
    const info = entries[top.id]!.info;
    if (!info) okLeft++;
    frame = top.prev;
    if (info) bound = firstReturn(head);
    return { cursor: call.next, inInfo: info };
  }
}

/**
 * For each info entry, the info entry invoked just before it with the same input, or -1 (for
 * an ok entry too). Such twins are interchangeable once both are invoked: a linearization that
 * takes the later one and not the earlier one can take the earlier one instead. So the search
 * takes a twin only after the one before it, which cuts the ways of taking n identical pending
 * operations from 2^n to n + 1. Inputs count as identical when they are equal plain JSON values.
 */
function twins<I, O>(entries: readonly Entry<I, O>[], infoHead: Event): Int32Array {
  const twin = new Int32Array(entries.length).fill(-1);
  const last = new Map<string, number>();
  for (let e = infoHead.next; e !== null; e = e.next) {
    const key = plainJson(entries[e.id]!.input);
    if (key === undefined) continue;
    twin[e.id] = last.get(key) ?? -1;
    last.set(key, e.id);
  }
  return twin;
}

/** The JSON text of `value` if it is plain JSON (which JSON text then determines), else undefined. */
function plainJson(value: unknown): string | undefined {
  const plain = (v: unknown): boolean => {
    if (v === null || typeof v === 'string' || typeof v === 'boolean') return true;
    if (typeof v === 'number') return Number.isFinite(v) && !Object.is(v, -0);
    if (Array.isArray(v)) return v.every(plain);
    if (typeof v !== 'object' || Object.getPrototypeOf(v) !== Object.prototype) return false;
    return Object.values(v).every(plain);
  };
  return plain(value) ? JSON.stringify(value) : undefined;
}

/** The info entries linearized on the stack ending at `top`. */
function infosOf<I, O, S>(top: Frame<S> | null, entries: readonly Entry<I, O>[]): number[] {
  const infos: number[] = [];
  for (let f = top; f !== null; f = f.prev) if (entries[f.id]!.info) infos.push(f.id);
  return infos;
}

function firstReturn(head: Event): Event {
  let e = head.next;
  while (e !== null && e.call) e = e.next;
  if (e === null) throw new Error('invariant: an info entry was linearized while an ok entry was left');
  return e;
}

/** The ok entries' calls and returns sorted by time, and the info entries' calls sorted by time, each after a sentinel head. */
function eventLists<I, O>(entries: readonly Entry<I, O>[]): { head: Event; infoHead: Event; calls: Event[] } {
  const ok: Event[] = [];
  const info: Event[] = [];
  const calls: Event[] = [];
  entries.forEach((e, id) => {
    const call: Event = { id, call: true, time: e.invoke, match: null, prev: null, next: null };
    calls.push(call);
    if (e.info) {
      info.push(call);
      return;
    }
    const ret: Event = { id, call: false, time: e.complete, match: null, prev: null, next: null };
    call.match = ret;
    ok.push(call, ret);
  });
  // At equal times a call goes before a return, so operations that touch at an instant are concurrent.
  const order = (a: Event, b: Event): number => a.time - b.time || Number(b.call) - Number(a.call) || a.id - b.id;
  return { head: link(ok.sort(order)), infoHead: link(info.sort(order)), calls };
}

function link(events: readonly Event[]): Event {
  const head: Event = { id: -1, call: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }
  return head;
}

/** Takes a call (and its return, if it has one) out of its list. */
function lift(call: Event): void {
  call.prev!.next = call.next;
  if (call.next !== null) call.next.prev = call.prev;
  const ret = call.match;
  if (ret === null) return;
  ret.prev!.next = ret.next;
  if (ret.next !== null) ret.next.prev = ret.prev;
}

/** Undoes {@link lift} (in reverse order, so the neighbours are the ones saved). */
function unlift(call: Event): void {
  const ret = call.match;
  if (ret !== null) {
    ret.prev!.next = ret;
    if (ret.next !== null) ret.next.prev = ret;
  }
  call.prev!.next = call;
  if (call.next !== null) call.next.prev = call;
}

/**
 * The explored configurations: which ok entries are linearized (hashed incrementally with a
 * fixed pseudo-random 52-bit word per entry, Zobrist style), which info entries are, and the
 * model state. The hash only chooses a bucket; sets and states are compared exactly, since a
 * false hit would make the search skip a configuration it never explored.
 *
 * The ok set is stored as the number of leading ok entries linearized (`first`: entries are in
 * invocation order, and a linearization takes them roughly in that order) and the few linearized
 * beyond them, so a configuration costs memory for the concurrency, not for the history's length.
 *
 * A configuration is also skipped when one with the same ok entries and state, but a subset of
 * its info entries, was seen: an info entry may never take effect, so whatever linearization
 * completes the larger set completes the smaller one too. Without this, the info entries of a
 * failing history make the search try every subset of them before it can give up.
 */
class Memo<I, O, S> {
  private readonly ok: Uint32Array;
  private readonly info: Uint32Array;
  private first = 0; // every ok slot below it is linearized, and it is not
  private count = 0; // ok slots linearized
  /** Per entry: whether it is info, its slot among the ok or the info entries, and its hash words (0 for info entries). */
  private readonly isInfo: readonly boolean[];
  private readonly slot: Int32Array;
  private readonly low: Uint32Array;
  private readonly high: Uint32Array;
  private hashLow = 0;
  private hashHigh = 0;
  private readonly buckets = new Map<number, { first: number; beyond: Int32Array; key: string | number; state: S; infos: Uint32Array[] }[]>();
  private readonly stateKey: (state: S) => string | number;
  private readonly equals: ((a: S, b: S) => boolean) | undefined;

  constructor(entries: readonly Entry<I, O>[], model: Model<I, O, S>) {
    const infos = entries.filter((e) => e.info).length;
    this.ok = new Uint32Array(Math.ceil((entries.length - infos) / 32) + 1); // + 1: `first` may stop one past the end
    this.info = new Uint32Array(Math.ceil(infos / 32));
    this.slot = new Int32Array(entries.length);
    this.low = new Uint32Array(entries.length);
    this.high = new Uint32Array(entries.length);
    this.isInfo = entries.map((e) => e.info);
    let okCount = 0;
    let infoCount = 0;
    entries.forEach((e, id) => {
      this.slot[id] = e.info ? infoCount++ : okCount++;
      if (e.info) return;
      this.low[id] = mix(2 * id + 1);
      this.high[id] = mix(2 * id + 2) & 0xfffff;
    });
    this.stateKey = hashOf(model);
    this.equals = model.equals?.bind(model);
  }

  /** Adds entry `id` to the linearized set, or takes it out. */
  flip(id: number): void {
    const slot = this.slot[id]!;
    if (this.isInfo[id]) {
      this.info[slot >>> 5]! ^= 1 << (slot & 31);
      return;
    }
    this.hashLow = (this.hashLow ^ this.low[id]!) >>> 0;
    this.hashHigh ^= this.high[id]!;
    if (this.has(slot)) {
      this.ok[slot >>> 5]! &= ~(1 << (slot & 31));
      this.count--;
      if (slot < this.first) this.first = slot;
    } else {
      this.ok[slot >>> 5]! |= 1 << (slot & 31);
      this.count++;
      while (this.has(this.first)) this.first++;
    }
  }

  /** Records the current configuration with `state`; false when it was seen already, or one that subsumes it. */
  add(state: S): boolean {
    const key = this.stateKey(state);
    const hash = this.hashHigh * 0x1_0000_0000 + this.hashLow;
    let bucket = this.buckets.get(hash);
    if (bucket === undefined) this.buckets.set(hash, (bucket = []));
    for (const seen of bucket) {
      if (seen.key !== key || !this.sameOk(seen.first, seen.beyond) || (this.equals !== undefined && !this.equals(seen.state, state))) continue;
      for (const fewer of seen.infos) if (isSubset(fewer, this.info)) return false;
      seen.infos.push(this.info.slice());
      return true;
    }
    bucket.push({ first: this.first, beyond: this.beyond(), key, state, infos: [this.info.slice()] });
    return true;
  }

  private has(slot: number): boolean {
    return (this.ok[slot >>> 5]! & (1 << (slot & 31))) !== 0;
  }

  /** The linearized ok slots after `first`. */
  private beyond(): Int32Array {
    const slots = new Int32Array(this.count - this.first);
    for (let slot = this.first + 1, found = 0; found < slots.length; slot++) if (this.has(slot)) slots[found++] = slot;
    return slots;
  }

  private sameOk(first: number, beyond: Int32Array): boolean {
    if (first !== this.first || beyond.length !== this.count - this.first) return false;
    for (const slot of beyond) if (!this.has(slot)) return false;
    return true;
  }
}

function isSubset(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if ((a[i]! & ~b[i]!) !== 0) return false;
  return true;
}

/** A 32-bit integer hash (the "lowbias32" finalizer): well-spread words from 1, 2, 3, … */
function mix(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x7feb352d);
  x = Math.imul(x ^ (x >>> 15), 0x846ca68b);
  return (x ^ (x >>> 16)) >>> 0;
}
