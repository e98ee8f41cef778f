/**
 * A linearizability checker for Jepsen-style client histories of a key-value store (tests only).
 *
 * The search is Wing & Gong's, with Lowe's memoization, as in Porcupine's `checkSingle`: events
 * (calls and returns) in a doubly-linked list sorted by time; linearizing an op lifts its call and
 * return out of the list; a stack undoes that on backtracking; a cache of (linearized set, state)
 * pairs skips configurations already explored. Keys are independent registers, so the history is
 * split by key and each key checked alone (P-compositionality).
 */

/** An operation on the store. Values are JSON values, compared by their JSON text; undefined: absent. */
export type KvOp =
  | { readonly f: 'get'; readonly key: string }
  | { readonly f: 'put'; readonly key: string; readonly value: unknown }
  | { readonly f: 'delete'; readonly key: string }
  | { readonly f: 'cas'; readonly key: string; readonly expected: unknown; readonly value: unknown };

/**
 * One client operation. `ok`: it happened once, between `invoke` and `complete`, with `output`
 * (get: the value read; cas: a boolean, whether it swapped; ignored for put and delete).
 * `fail`: it did not happen. `info`: unknown; it may have happened at any time after `invoke`, or
 * never, and its `complete` and `output` are ignored. A precedes B only if A.complete < B.invoke.
 */
export interface Operation {
  readonly client: string | number;
  readonly invoke: number;
  readonly complete: number | undefined;
  readonly status: 'ok' | 'fail' | 'info';
  readonly op: KvOp;
  readonly output?: unknown;
}

/**
 * The verdict. On failure: the key, its operations (fail ones included, as context) and a reason
 * naming the longest linearizable prefix found and the op that could not follow it; `#n` in the
 * reason is the op's index in `ops`, as printed by {@link describeHistory}.
 */
export type CheckResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly key: string; readonly reason: string; readonly ops: Operation[] }
  | { readonly ok: 'unknown' };

export interface CheckOptions {
  /** Search steps allowed for each key before giving up with `{ ok: 'unknown' }` (default 5,000,000). */
  readonly maxSteps?: number;
}

/** Checks that `history` is linearizable with respect to a map of independent registers. */
export function checkKvHistory(history: readonly Operation[], options: CheckOptions = {}): CheckResult {
  const maxSteps = options.maxSteps ?? 5_000_000;
  const byKey = new Map<string, Operation[]>();
  for (const operation of history) {
    validate(operation);
    const ops = byKey.get(operation.op.key);
    if (ops === undefined) byKey.set(operation.op.key, [operation]);
    else ops.push(operation);
  }
  // A definite failure on any key decides the whole history, even if another key ran out of steps.
  let unknown = false;
  for (const [key, ops] of byKey) {
    const verdict = checkKey(key, ops, maxSteps);
    if (verdict.ok === false) return verdict;
    if (verdict.ok === 'unknown') unknown = true;
  }
  return unknown ? { ok: 'unknown' } : { ok: true };
}

/** One line per operation: index, client, [invoke, complete], status, op and output. */
export function describeHistory(ops: readonly Operation[]): string {
  return ops
    .map((o, i) => {
      const complete = o.status === 'info' && o.complete === undefined ? '?' : String(o.complete);
      return `#${i} client ${String(o.client)} [${o.invoke}, ${complete}] ${o.status} ${describeOp(o.op)} -> ${show(o.output)}`;
    })
    .join('\n');
}

function describeOp(op: KvOp): string {
  switch (op.f) {
    case 'get':
    case 'delete':
      return `${op.f}(${op.key})`;
    case 'put':
      return `put(${op.key}, ${show(op.value)})`;
    case 'cas':
      return `cas(${op.key}, ${show(op.expected)} -> ${show(op.value)})`;
  }
}

function show(value: unknown): string {
  return value === undefined ? 'undefined' : (JSON.stringify(value) ?? String(value));
}

/** Refuses malformed operations: a bad history would otherwise be silently misjudged. */
function validate(o: Operation): void {
  const where = `operation ${JSON.stringify(o)}`;
  if (typeof o.op.key !== 'string') throw new TypeError(`${where}: key must be a string`);
  if (!['get', 'put', 'delete', 'cas'].includes(o.op.f)) throw new TypeError(`${where}: unknown f`);
  if (!['ok', 'fail', 'info'].includes(o.status)) throw new TypeError(`${where}: unknown status`);
  if (!Number.isFinite(o.invoke)) throw new TypeError(`${where}: invoke must be a finite number`);
  if (o.status !== 'info') {
    if (o.complete === undefined || Number.isNaN(o.complete) || o.complete < o.invoke) {
      throw new TypeError(`${where}: an ${o.status} operation needs complete >= invoke`);
    }
  }
  if (o.status === 'ok' && o.op.f === 'cas' && typeof o.output !== 'boolean') {
    throw new TypeError(`${where}: an ok cas needs a boolean output`);
  }
}

/** A register's state: the JSON text of its value, undefined when absent. */
type State = string | undefined;

/** An op as the search sees it: values already turned into JSON text. */
interface Entry {
  readonly index: number; // in the key's ops, for the report
  readonly status: 'ok' | 'info';
  readonly f: KvOp['f'];
  readonly value: State; // put, cas: the new value
  readonly expected: State; // cas
  readonly output: State | boolean; // ok get: the value read; ok cas: whether it swapped
}

interface Event {
  readonly id: number; // into the entries
  readonly call: boolean;
  readonly time: number;
  match: Event | null; // a call's return
  prev: Event | null;
  next: Event | null;
}

/** Applies `e` to `state`: whether that agrees with what the client saw, and the state after. */
function step(state: State, e: Entry): [boolean, State] {
  const known = e.status === 'ok'; // an info op's output is unknown: nothing to check
  switch (e.f) {
    case 'get':
      return [!known || e.output === state, state];
    case 'put':
      return [true, e.value];
    case 'delete':
      return [true, undefined];
    case 'cas': {
      const swaps = e.expected === state;
      return [!known || e.output === swaps, swaps ? e.value : state];
    }
  }
}

function checkKey(key: string, ops: readonly Operation[], maxSteps: number): CheckResult {
  const entries: Entry[] = [];
  ops.forEach((o, index) => {
    if (o.status === 'fail') return; // it did not happen
    const op = o.op;
    entries.push({
      index,
      status: o.status,
      f: op.f,
      value: op.f === 'put' || op.f === 'cas' ? JSON.stringify(op.value) : undefined,
      expected: op.f === 'cas' ? JSON.stringify(op.expected) : undefined,
      output: o.status !== 'ok' ? undefined : op.f === 'cas' ? o.output === true : op.f === 'get' ? JSON.stringify(o.output) : undefined,
    });
  });
  const okCount = entries.filter((e) => e.status === 'ok').length;
  if (okCount === 0) return { ok: true }; // info ops may all never have happened

  // An info op may take effect any time after its call: its return goes after everything.
  const events: Event[] = [];
  entries.forEach((e, id) => {
    const o = ops[e.index]!;
    const call: Event = { id, call: true, time: o.invoke, match: null, prev: null, next: null };
    const ret: Event = { id, call: false, time: e.status === 'info' ? Infinity : o.complete!, match: null, prev: null, next: null };
    call.match = ret;
    events.push(call, ret);
  });
  // At equal times a call goes before a return, so ops that touch at an instant are concurrent.
  events.sort((a, b) => a.time - b.time || Number(b.call) - Number(a.call) || a.id - b.id);
  const head: Event = { id: -1, call: false, time: -Infinity, match: null, prev: null, next: null };
  let last = head;
  for (const event of events) {
    last.next = event;
    event.prev = last;
    last = event;
  }

  const linearized = new Uint32Array(Math.ceil(entries.length / 32));
  const flip = (id: number): void => {
    linearized[id >>> 5]! ^= 1 << (id & 31);
  };
  const cache = new Set<string>();
  const stack: { call: Event; before: State }[] = [];
  let state: State = undefined;
  let okLinearized = 0;
  // The deepest point reached, for the report.
  let best: { prefix: number[]; state: State; blocked: number } | undefined;

  let event = head.next;
  for (let steps = 0; ; steps++) {
    if (steps >= maxSteps) return { ok: 'unknown' };
    if (event === null) throw new Error('unreachable: a call is always followed by its return');
    const entry = entries[event.id]!;
    if (event.call) {
      const [valid, after] = step(state, entry);
      if (valid) {
        flip(event.id);
        const seen = `${linearized.join(',')}|${after === undefined ? '-' : after}`;
        if (!cache.has(seen)) {
          cache.add(seen);
          stack.push({ call: event, before: state });
          state = after;
          lift(event);
          if (entry.status === 'ok' && ++okLinearized === okCount) return { ok: true }; // left-over info ops never happened
          event = head.next;
          continue;
        }
        flip(event.id);
      }
      event = event.next;
    } else {
      // Every call before this return was tried: this op cannot take effect in time; backtrack.
      // (Only an ok op's return can be reached: info returns come after all ok ones.)
      if (best === undefined || stack.length > best.prefix.length) {
        best = { prefix: stack.map((s) => s.call.id), state, blocked: event.id };
      }
      const top = stack.pop();
      if (top === undefined) return refuse(key, ops, entries, best);
      state = top.before;
      flip(top.call.id);
      unlift(top.call);
      if (entries[top.call.id]!.status === 'ok') okLinearized--;
      event = top.call.next;
    }
  }
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

function refuse(
  key: string,
  ops: readonly Operation[],
  entries: readonly Entry[],
  best: { prefix: number[]; state: State; blocked: number },
): CheckResult {
  const name = (id: number): string => {
    const index = entries[id]!.index;
    const o = ops[index]!;
    return `#${index} ${describeOp(o.op)}${o.status === 'ok' && (o.op.f === 'get' || o.op.f === 'cas') ? ` -> ${show(o.output)}` : ''}${o.status === 'info' ? ' (info)' : ''}`;
  };
  const blocked = ops[entries[best.blocked]!.index]!;
  // A long prefix is shown by its end only: the ops just before the failure are the useful ones.
  const shown = best.prefix.slice(-10).map(name).join(', ');
  const prefix = best.prefix.length <= 10 ? `[${shown}]` : `of ${best.prefix.length} ops, ending [..., ${shown}]`;
  const reason =
    `key ${JSON.stringify(key)} is not linearizable: longest linearizable prefix found ${prefix}, ` +
    `leaving ${best.state === undefined ? 'the key absent' : `the value ${best.state}`}; ` +
    `then ${name(best.blocked)} (client ${String(blocked.client)}, [${blocked.invoke}, ${String(blocked.complete)}]) ` +
    `could not be placed before it completed`;
  return { ok: false, key, reason, ops: [...ops] };
}
