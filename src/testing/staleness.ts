/**
 * How stale the reads of a key-value history were: how long, and by how many versions, the
 * value a read returned had already been superseded when the read began.
 */
import { validateHistory, type Operation } from './history.js';
import type { KvInput } from './kv.js';

/**
 * Staleness figures of a history (times in the history's unit, e.g. ms).
 *
 * @example
 * ```ts
 * import type { Staleness } from 'raftkit/testing';
 * const fresh: Staleness = { reads: 10, stale: 0, maxAge: 0, meanAge: 0, maxVersions: 0 };
 * ```
 */
export interface Staleness {
  /** Reads that returned (`ok` gets). */
  readonly reads: number;
  /** Of those, reads that returned a superseded value. */
  readonly stale: number;
  /** The longest time the value a stale read returned had been superseded (0 with none). */
  readonly maxAge: number;
  /** The mean of that time over the stale reads (0 with none). */
  readonly meanAge: number;
  /** The most writes a read was behind. */
  readonly maxVersions: number;
}

/**
 * Measures staleness from real time alone. A read of key `k` that returned the value of write
 * `W` (or absent: the initial value or a delete) is stale when some `ok` write `W'` of `k`
 * completed before the read was invoked and was invoked after `W` completed: `W'` certainly
 * superseded `W` before the read began. Its age is the time since the first such `W'`
 * completed; it is behind by the number of such writes. A linearizable history has no stale
 * reads. Puts should write distinct values per key (a read is matched to the last put of its
 * value otherwise); other inputs are skipped.
 *
 * @example
 * ```ts
 * import { measureStaleness, type KvInput, type Operation } from 'raftkit/testing';
 * const history: Operation<KvInput>[] = [
 *   { client: 1, input: { op: 'put', key: 'x', value: 1 }, invoke: 0, complete: 10, status: 'ok' },
 *   { client: 1, input: { op: 'put', key: 'x', value: 2 }, invoke: 20, complete: 30, status: 'ok' },
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 100, complete: 101, status: 'ok', output: 1 }, // 70 ms stale
 *   { client: 2, input: { op: 'get', key: 'x' }, invoke: 110, complete: 111, status: 'ok', output: 2 },
 * ];
 * console.log(measureStaleness(history)); // { reads: 2, stale: 1, maxAge: 70, meanAge: 70, maxVersions: 1 }
 * ```
 */
export function measureStaleness(history: readonly Operation<KvInput>[]): Staleness {
  validateHistory(history);
  const writes = new Map<string, Operation<KvInput>[]>(); // key → its ok and info writes
  for (const o of history) {
    const input = o.input as KvInput | null;
    if (typeof input !== 'object' || input === null || (input.op !== 'put' && input.op !== 'delete') || o.status === 'fail') continue;
    const list = writes.get(input.key);
    if (list === undefined) writes.set(input.key, [o]);
    else list.push(o);
  }
  let reads = 0;
  let stale = 0;
  let maxAge = 0;
  let totalAge = 0;
  let maxVersions = 0;
  for (const read of history) {
    const input = read.input as KvInput | null;
    if (typeof input !== 'object' || input === null || input.op !== 'get' || read.status !== 'ok') continue;
    reads++;
    const candidates = writes.get(input.key) ?? [];
    const text = JSON.stringify(read.output);
    // What it may have read: the put of its value, or, for absent, the initial value or any delete.
    const sources: (Operation<KvInput> | null)[] =
      text === undefined ? [null, ...candidates.filter((w) => w.input.op === 'delete')] : candidates.filter((w) => w.input.op === 'put' && JSON.stringify(w.input.value) === text).slice(-1);
    let best: { age: number; versions: number } | undefined;
    for (const source of sources) {
      const after = source === null ? -Infinity : (source.complete ?? Infinity);
      const newer = candidates.filter((w) => w.status === 'ok' && w.complete! < read.invoke && w.invoke > after);
      const age = newer.length === 0 ? 0 : read.invoke - Math.min(...newer.map((w) => w.complete!));
      if (best === undefined || newer.length < best.versions || (newer.length === best.versions && age < best.age)) best = { age, versions: newer.length };
    }
    if (best === undefined || best.versions === 0) continue; // fresh, or a value no put wrote (not staleness)
    stale++;
    totalAge += best.age;
    maxAge = Math.max(maxAge, best.age);
    maxVersions = Math.max(maxVersions, best.versions);
  }
  return { reads, stale, maxAge, meanAge: stale === 0 ? 0 : totalAge / stale, maxVersions };
}
