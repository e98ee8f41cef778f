/**
 * Causal consistency of a key-value history, and the session guarantees, from what clients saw.
 */
import { HistoryError } from './errors.js';
import { validateHistory, type Operation } from './history.js';
import { kvModel, type KvInput } from './kv.js';
import { UNKNOWN } from './model.js';

/**
 * Which guarantee a read broke: `read-your-writes` (it missed its own session's write),
 * `monotonic-reads` (it saw an older version than an earlier read of its session), or `causal`
 * (it missed a write its causal past holds through other sessions, returned a value no put
 * wrote, or read from its own causal future).
 *
 * @example
 * ```ts
 * import type { CausalGuarantee } from 'raftkit/testing';
 * const broken: CausalGuarantee = 'read-your-writes';
 * ```
 */
export type CausalGuarantee = 'read-your-writes' | 'monotonic-reads' | 'causal';

/**
 * One read that causal consistency forbids: the history index of the read, of the write it
 * returned (undefined: the initial absent value, or no put wrote what it returned), of a write
 * in its causal past that supersedes that one, and the guarantee broken, in words too.
 *
 * @example
 * ```ts
 * import type { CausalViolation } from 'raftkit/testing';
 * const violation: CausalViolation = { guarantee: 'read-your-writes', read: 1, returned: undefined, overwrittenBy: 0, message: '…' };
 * ```
 */
export interface CausalViolation {
  /** The guarantee broken. */
  readonly guarantee: CausalGuarantee;
  /** The read's index in the history. */
  readonly read: number;
  /** The index of the write it read from (undefined: the initial value, or an unknown value). */
  readonly returned: number | undefined;
  /** The index of a write in the read's causal past that supersedes what it returned. */
  readonly overwrittenBy: number | undefined;
  /** All of the above in words. */
  readonly message: string;
}

/**
 * The verdict of {@link checkCausal}.
 *
 * @example
 * ```ts
 * import { checkCausal, type CausalResult } from 'raftkit/testing';
 * const verdict: CausalResult = checkCausal([]);
 * console.log(verdict.consistent, verdict.message); // true causally consistent: 0 reads in 0 sessions
 * ```
 */
export interface CausalResult {
  /** No read broke causal consistency. */
  readonly consistent: boolean;
  /** The first violations found (at most `maxViolations`), in history order of the reads. */
  readonly violations: readonly CausalViolation[];
  /** The verdict in words. */
  readonly message: string;
}

/** The initial value of every key: absent, before every write. */
const INITIAL = -1;

interface Node {
  readonly index: number;
  readonly operation: Operation<KvInput>;
  /** The chain it is on: its session's (ok operations) or its own (an info write). */
  readonly chain: string;
  readonly position: number;
  readonly preds: number[];
  /** For each chain, the furthest position of it in this operation's causal past (itself excluded). */
  past: Map<string, number> | null;
}

/**
 * Checks that a key-value history is causally consistent, session by session: no read returns
 * a version that its causal past had already superseded. The causal order is built from the
 * history alone: each client (its `client` field) is a session whose operations are ordered by
 * invocation, a write precedes the reads that returned its value, and the order is transitive.
 * A read of key `k` then breaks causality when a write of `k` in its causal past comes
 * causally after the write it returned (or it returned the initial absent value although its
 * past holds a put of `k`). This covers read-your-writes, monotonic reads, monotonic writes and
 * writes-follow-reads, and "no replica exposes a write before one it depends on", as far as
 * clients observed it. Concurrent writes may be read in any order: last-writer-wins is allowed.
 *
 * What it needs: puts of a key write distinct values (so a read names the write it saw); gets,
 * puts and deletes only. `ok` gets and `ok` or `info` writes count (an `info` write may be read,
 * but orders nothing after it in its session); `fail` operations are ignored. A read of absent
 * may have read the initial value or any delete. Throws a {@link HistoryError} for a malformed
 * history, a `cas`, or two puts of one value to one key.
 *
 * @param options `maxViolations`: stop after this many (default 10).
 *
 * @example
 * ```ts
 * import { checkCausal, type KvInput, type Operation } from 'raftkit/testing';
 * const history: Operation<KvInput>[] = [
 *   { client: 'alice', input: { op: 'put', key: 'photo', value: 'p1' }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 'alice', input: { op: 'put', key: 'album', value: ['p1'] }, invoke: 2, complete: 3, status: 'ok' },
 *   { client: 'bob', input: { op: 'get', key: 'album' }, invoke: 4, complete: 5, status: 'ok', output: ['p1'] },
 *   { client: 'bob', input: { op: 'get', key: 'photo' }, invoke: 6, complete: 7, status: 'ok', output: undefined }, // too early
 *   { client: 'alice', input: { op: 'get', key: 'photo' }, invoke: 8, complete: 9, status: 'ok', output: undefined },
 * ];
 * const verdict = checkCausal(history);
 * console.log(verdict.violations.map((v) => `#${v.read} ${v.guarantee}`)); // [ '#3 causal', '#4 read-your-writes' ]
 * ```
 */
export function checkCausal(history: readonly Operation<KvInput>[], options: { readonly maxViolations?: number } = {}): CausalResult {
  const maxViolations = options.maxViolations ?? 10;
  if (!Number.isSafeInteger(maxViolations) || maxViolations < 1) throw new RangeError(`maxViolations must be a positive integer, got ${maxViolations}`);
  validateHistory(history);

  // The operations that count, and the put that wrote each value.
  const writers = new Map<string, Map<string, number>>(); // key → value JSON → put index
  const counted: number[] = [];
  history.forEach((o, i) => {
    const input = o.input as KvInput | null;
    if (typeof input !== 'object' || input === null || !['get', 'put', 'delete'].includes(input.op) || typeof input.key !== 'string') {
      throw new HistoryError('INVALID_OPERATION', 'checkCausal handles gets, puts and deletes with string keys', i);
    }
    if (o.status === 'fail' || (input.op === 'get' && o.status !== 'ok')) return;
    counted.push(i);
    if (input.op !== 'put') return;
    const text = JSON.stringify(input.value);
    if (text === undefined) throw new HistoryError('INVALID_OPERATION', 'a put must write a JSON value', i);
    let values = writers.get(input.key);
    if (values === undefined) writers.set(input.key, (values = new Map()));
    if (values.has(text)) throw new HistoryError('INVALID_OPERATION', `two puts write ${text} to key ${JSON.stringify(input.key)}: reads could not tell them apart`, i);
    values.set(text, i);
  });

  // Sessions: chains of their ok operations, in invocation order; each info write on its own.
  const nodes = new Map<number, Node>();
  const sessions = new Map<string, number[]>();
  for (const i of counted) {
    const o = history[i]!;
    const session = `${typeof o.client}:${String(o.client)}`;
    const list = sessions.get(session);
    if (list === undefined) sessions.set(session, [i]);
    else list.push(i);
  }
  const sessionOf = new Map<number, string>();
  for (const [session, list] of sessions) {
    list.sort((a, b) => history[a]!.invoke - history[b]!.invoke || a - b);
    let position = 0;
    let last: number | undefined;
    for (const i of list) {
      const o = history[i]!;
      const info = o.status === 'info';
      nodes.set(i, { index: i, operation: o, chain: info ? `info:${i}` : session, position: info ? 1 : ++position, preds: last === undefined ? [] : [last], past: null });
      sessionOf.set(i, session);
      if (!info) last = i;
    }
  }

  // Reads-from: the put whose value a read returned.
  const violations: CausalViolation[] = [];
  let total = 0;
  const report = (violation: Omit<CausalViolation, 'message'>, message: string): void => {
    total++;
    if (violations.length < maxViolations) violations.push({ ...violation, message });
  };
  const name = (i: number): string => {
    if (i === INITIAL) return 'the initial (absent) value';
    const o = history[i]!;
    return `#${i} ${kvModel.describeOperation!(o.input, o.status === 'ok' ? o.output : UNKNOWN)} (client ${String(o.client)})`;
  };
  const source = new Map<number, number>(); // read → put it returned
  const unknown = new Set<number>();
  for (const [i, node] of nodes) {
    const { input, output } = node.operation;
    if (input.op !== 'get' || output === undefined) continue;
    const writer = writers.get(input.key)?.get(JSON.stringify(output) ?? '');
    if (writer === undefined) {
      unknown.add(i);
      continue;
    }
    source.set(i, writer);
    node.preds.push(writer);
  }

  // Causal pasts, in a topological order (Kahn); what is left over lies on a cycle.
  const succs = new Map<number, number[]>();
  const waiting = new Map<number, number>();
  for (const [i, node] of nodes) {
    waiting.set(i, node.preds.length);
    for (const p of node.preds) {
      const list = succs.get(p);
      if (list === undefined) succs.set(p, [i]);
      else list.push(i);
    }
  }
  const ready = [...nodes.keys()].filter((i) => waiting.get(i) === 0);
  while (ready.length > 0) {
    const i = ready.pop()!;
    const node = nodes.get(i)!;
    const past = new Map<string, number>();
    for (const p of node.preds) {
      const pred = nodes.get(p)!;
      for (const [chain, position] of pred.past!) if ((past.get(chain) ?? 0) < position) past.set(chain, position);
      if ((past.get(pred.chain) ?? 0) < pred.position) past.set(pred.chain, pred.position);
    }
    node.past = past;
    for (const s of succs.get(i) ?? []) {
      const left = waiting.get(s)! - 1;
      waiting.set(s, left);
      if (left === 0) ready.push(s);
    }
  }
  /** Whether `x` is in the causal past of `o` (both sorted). */
  const before = (x: number, o: number): boolean => {
    if (x === INITIAL) return true;
    const node = nodes.get(x)!;
    return (nodes.get(o)!.past!.get(node.chain) ?? 0) >= node.position;
  };

  // For each chain and key, its writes by position.
  const writesOn = new Map<string, { position: number; index: number }[]>();
  for (const node of nodes.values()) {
    if (node.operation.input.op === 'get') continue;
    const slot = `${node.chain}\u0000${node.operation.input.key}`;
    const list = writesOn.get(slot);
    if (list === undefined) writesOn.set(slot, [{ position: node.position, index: node.index }]);
    else list.push({ position: node.position, index: node.index });
  }
  for (const list of writesOn.values()) list.sort((a, b) => a.position - b.position);
  const deletes = new Map<string, number[]>();
  for (const node of nodes.values()) {
    const { input } = node.operation;
    if (input.op !== 'delete') continue;
    const list = deletes.get(input.key);
    if (list === undefined) deletes.set(input.key, [node.index]);
    else list.push(node.index);
  }

  const seen = new Map<string, number[]>(); // session + key → what its earlier reads returned
  let reads = 0;
  for (const i of [...nodes.keys()].sort((a, b) => a - b)) {
    const node = nodes.get(i)!;
    const { input } = node.operation;
    if (input.op !== 'get') continue;
    reads++;
    if (node.past === null) {
      report({ guarantee: 'causal', read: i, returned: source.get(i), overwrittenBy: undefined }, `${name(i)} is on or after a causal cycle: a read returned a write from its own causal future`);
      continue;
    }
    if (unknown.has(i)) {
      report({ guarantee: 'causal', read: i, returned: undefined, overwrittenBy: undefined }, `${name(i)} returned a value that no put wrote`);
      continue;
    }
    // The latest write of the key on each chain of the read's past.
    const latest: number[] = [];
    for (const [chain, position] of node.past) {
      const list = writesOn.get(`${chain}\u0000${input.key}`);
      if (list === undefined) continue;
      let found: number | undefined;
      for (const w of list) if (w.position <= position) found = w.index;
      if (found !== undefined) latest.push(found);
    }
    const returned = source.get(i);
    const candidates = returned !== undefined ? [returned] : [INITIAL, ...(deletes.get(input.key) ?? []).filter((d) => nodes.get(d)!.past !== null && !before(i, d))];
    const supersedes = (x: number): number | undefined => latest.find((l) => l !== x && before(x, l));
    const overwritten = candidates.map(supersedes);
    const slot = `${sessionOf.get(i)!}\u0000${input.key}`;
    const earlier = seen.get(slot) ?? [];
    if (overwritten.some((l) => l === undefined)) {
      earlier.push(returned ?? INITIAL);
      seen.set(slot, earlier);
      continue;
    }
    const x = candidates[0]!;
    const by = overwritten[0]!;
    const own = nodes.get(by)!.chain === node.chain;
    const monotonic = !own && earlier.some((y) => y !== x && y !== INITIAL && before(x, y));
    const guarantee: CausalGuarantee = own ? 'read-your-writes' : monotonic ? 'monotonic-reads' : 'causal';
    const why = own ? 'its own session wrote' : monotonic ? 'an earlier read of its session saw a newer version; its causal past holds' : 'its causal past holds';
    report({ guarantee, read: i, returned, overwrittenBy: by }, `${name(i)} read ${returned === undefined ? 'the initial (absent) value' : name(x)}, but ${why} ${name(by)}, which supersedes it (${guarantee})`);
    earlier.push(returned ?? INITIAL);
    seen.set(slot, earlier);
  }

  if (total === 0) return { consistent: true, violations, message: `causally consistent: ${reads} reads in ${sessions.size} sessions` };
  return { consistent: false, violations, message: `not causally consistent: ${total} read${total === 1 ? '' : 's'} in violation; the first: ${violations[0]!.message}` };
}
