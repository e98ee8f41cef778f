import { ClockError } from './errors.js';
import { describeValue, increment, isPlainObject, isValidNodeId, ownValue, requireCount } from './validate.js';

/**
 * A vector timestamp: for each node id, how many events of that node are known. A missing entry
 * counts as 0. Timestamps made by raftkit are frozen plain objects, safe to keep, print and
 * `JSON.stringify`. Node ids are non-empty strings other than `prototype` and the names of
 * `Object.prototype` members (`__proto__`, `constructor`, `toString`, …), so `ts[id]` always
 * reads an entry, never an inherited member.
 *
 * @example
 * ```ts
 * import { type VectorTimestamp, parseVectorTimestamp } from 'raftkit';
 * const ts: VectorTimestamp = parseVectorTimestamp(JSON.parse('{"A":2,"B":1}'));
 * console.log(ts['A'] ?? 0, ts['C'] ?? 0); // 2 0
 * ```
 */
export type VectorTimestamp = Readonly<Record<string, number>>;

/**
 * How two vector timestamps relate: `'before'` (the first happened before the second),
 * `'after'`, `'equal'`, or `'concurrent'` (neither happened before the other).
 *
 * @example
 * ```ts
 * import { compareVectors, type VectorOrder } from 'raftkit';
 * const order: VectorOrder = compareVectors({ A: 1 }, { B: 1 });
 * console.log(order); // 'concurrent'
 * ```
 */
export type VectorOrder = 'before' | 'after' | 'equal' | 'concurrent';

/**
 * Validates an untrusted vector timestamp into a Map. Only own keys are read, and untrusted keys
 * only ever become Map keys, so nothing can reach a prototype.
 */
function readVector(value: unknown, what: string): Map<string, number> {
  if (!isPlainObject(value)) {
    throw new ClockError('INVALID_TIMESTAMP', `${what} must be a plain object of node id → counter, got ${describeValue(value)}`);
  }
  const entries = new Map<string, number>();
  // Reflect.ownKeys also sees symbols and non-enumerable keys, so nothing is silently skipped.
  for (const key of Reflect.ownKeys(value)) {
    if (!isValidNodeId(key)) {
      throw new ClockError('INVALID_TIMESTAMP', `${what} has an invalid node id ${describeValue(key)} (must be a non-empty string, not a reserved name such as __proto__, constructor or prototype)`);
    }
    const counter = ownValue(value, key, what, 'INVALID_TIMESTAMP');
    entries.set(key, requireCount(counter, `${what} entry ${describeValue(key)}`, 'INVALID_TIMESTAMP'));
  }
  return entries;
}

/** A frozen plain object from validated entries; `Object.fromEntries` defines properties (no setters run). */
function toTimestamp(entries: ReadonlyMap<string, number>): VectorTimestamp {
  return Object.freeze(Object.fromEntries(entries));
}

/** Raises every entry of `target` to at least the one in `source`. */
function maxInto(target: Map<string, number>, source: ReadonlyMap<string, number>): Map<string, number> {
  for (const [key, counter] of source) target.set(key, Math.max(target.get(key) ?? 0, counter));
  return target;
}

/**
 * Validates an untrusted value (for example `JSON.parse` output from the network) as a vector
 * timestamp and returns a frozen copy. It must be a plain object whose own keys are valid node
 * ids (see {@link VectorTimestamp}) and whose values are non-negative safe integers.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP`, naming the offending key or value.
 *
 * @example
 * ```ts
 * import { ClockError, parseVectorTimestamp } from 'raftkit';
 * console.log(parseVectorTimestamp(JSON.parse('{"A":3}'))); // { A: 3 }
 * try { parseVectorTimestamp(JSON.parse('{"__proto__":{"polluted":1}}')); } catch (error) {
 *   console.log(error instanceof ClockError && error.code); // INVALID_TIMESTAMP
 * }
 * ```
 */
export function parseVectorTimestamp(value: unknown): VectorTimestamp {
  return toTimestamp(readVector(value, 'vector timestamp'));
}

/**
 * Compares two vector timestamps entry by entry (a missing entry counts as 0). For timestamps
 * taken from {@link VectorClock}s, `'before'` holds exactly when the first event happened
 * before the second, and `'concurrent'` exactly when neither happened before the other.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP` if either argument is malformed.
 *
 * @example
 * ```ts
 * import { compareVectors } from 'raftkit';
 * compareVectors({ A: 1 }, { A: 2, B: 1 }); // 'before'
 * compareVectors({ A: 2 }, { A: 1, B: 1 }); // 'concurrent'
 * compareVectors({ A: 1, B: 0 }, { A: 1 }); // 'equal'
 * ```
 */
export function compareVectors(a: VectorTimestamp, b: VectorTimestamp): VectorOrder {
  const x = readVector(a, 'first vector timestamp');
  const y = readVector(b, 'second vector timestamp');
  let less = false;
  let greater = false;
  for (const [key, p] of x) {
    const q = y.get(key) ?? 0;
    if (p < q) less = true;
    else if (p > q) greater = true;
  }
  for (const [key, q] of y) if (q > 0 && !x.has(key)) less = true; // missing in x counts as 0
  if (less) return greater ? 'concurrent' : 'before';
  return greater ? 'after' : 'equal';
}

/**
 * The element-wise maximum of two vector timestamps: the smallest timestamp that is not before
 * either. Commutative, associative and idempotent. Returns a new frozen object; the arguments
 * are not modified.
 *
 * @throws {@link ClockError} `INVALID_TIMESTAMP` if either argument is malformed.
 *
 * @example
 * ```ts
 * import { mergeVectors } from 'raftkit';
 * console.log(mergeVectors({ A: 2, B: 1 }, { B: 3, C: 1 })); // { A: 2, B: 3, C: 1 }
 * ```
 */
export function mergeVectors(a: VectorTimestamp, b: VectorTimestamp): VectorTimestamp {
  const merged = readVector(a, 'first vector timestamp');
  return toTimestamp(maxInto(merged, readVector(b, 'second vector timestamp')));
}

/**
 * A vector clock (Fidge/Mattern): one counter per node. `compareVectors` on its timestamps
 * decides causality exactly: `a` happened before `b` iff `V(a) < V(b)`. The price is size: a
 * timestamp has an entry for every node that has influenced it.
 *
 * Every method returns the new timestamp, a frozen copy that is safe to keep, serialise and
 * send. A method that throws a {@link ClockError} leaves the clock unchanged.
 *
 * @example
 * ```ts
 * import { VectorClock, compareVectors } from 'raftkit';
 * const a = new VectorClock('A');
 * const b = new VectorClock('B');
 * const message = a.send();                 // { A: 1 }
 * const local = b.tick();                   // { B: 1 }
 * const received = b.receive(JSON.parse(JSON.stringify(message))); // { B: 2, A: 1 }
 * compareVectors(message, received);        // 'before'
 * compareVectors(message, local);           // 'concurrent'
 * ```
 */
export class VectorClock {
  readonly #nodeId: string;
  #entries: ReadonlyMap<string, number>;
  #timestamp: VectorTimestamp;

  /**
   * @param nodeId this node's id: a non-empty string, not a reserved name (see {@link VectorTimestamp}).
   * @param initial the starting timestamp (default empty), e.g. restored from disk; validated and copied.
   * @throws {@link ClockError} `INVALID_ARGUMENT` for a bad node id, `INVALID_TIMESTAMP` for a bad `initial`.
   */
  constructor(nodeId: string, initial?: VectorTimestamp) {
    if (!isValidNodeId(nodeId)) {
      throw new ClockError('INVALID_ARGUMENT', `VectorClock node id must be a non-empty string, not a reserved name such as __proto__, constructor or prototype, got ${describeValue(nodeId)}`);
    }
    this.#nodeId = nodeId;
    this.#entries = readVector(initial ?? {}, 'initial vector timestamp');
    this.#timestamp = toTimestamp(this.#entries);
  }

  /** This node's id: the entry that {@link VectorClock.tick} increments. */
  get nodeId(): string {
    return this.#nodeId;
  }

  /** The current timestamp: frozen, so it can be kept or sent as is. */
  get timestamp(): VectorTimestamp {
    return this.#timestamp;
  }

  /**
   * Records a local event: increments this node's entry.
   * @returns the new timestamp.
   * @throws {@link ClockError} `OVERFLOW` if this node's entry is already `Number.MAX_SAFE_INTEGER`.
   */
  tick(): VectorTimestamp {
    return this.#advance(new Map(this.#entries));
  }

  /**
   * Records a send event (same as {@link VectorClock.tick}).
   * @returns the new timestamp, to attach to the outgoing message.
   */
  send(): VectorTimestamp {
    return this.tick();
  }

  /**
   * Records the receipt of a message stamped `remote`: takes the element-wise maximum, then
   * increments this node's entry. `remote` is validated first (it may come straight from
   * `JSON.parse`) and is never modified.
   * @returns the new timestamp.
   * @throws {@link ClockError} `INVALID_TIMESTAMP` if `remote` is malformed (see
   *   {@link parseVectorTimestamp}), `OVERFLOW` if this node's entry would pass `Number.MAX_SAFE_INTEGER`.
   */
  receive(remote: VectorTimestamp): VectorTimestamp {
    const incoming = readVector(remote, 'received vector timestamp');
    return this.#advance(maxInto(new Map(this.#entries), incoming));
  }

  /** Increments our entry in `next` (a fresh copy) and installs it; throws before any change. */
  #advance(next: Map<string, number>): VectorTimestamp {
    next.set(this.#nodeId, increment(next.get(this.#nodeId) ?? 0, `vector clock entry ${describeValue(this.#nodeId)}`));
    this.#entries = next;
    this.#timestamp = toTimestamp(next);
    return this.#timestamp;
  }
}
