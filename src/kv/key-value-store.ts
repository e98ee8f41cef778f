import type { StateMachine } from '../raft/state-machine.js';

/**
 * The commands a {@link KeyValueStore} understands. Values are any JSON value.
 *
 * @example
 * ```ts
 * import type { KeyValueCommand } from 'raftkit';
 * const commands: KeyValueCommand[] = [
 *   { op: 'put', key: 'x', value: 1 },
 *   { op: 'cas', key: 'x', expected: 1, value: 2 },
 *   { op: 'delete', key: 'x' },
 * ];
 * ```
 */
export type KeyValueCommand =
  | {
      /** Sets `key` to `value`. */
      readonly op: 'put';
      /** The key. */
      readonly key: string;
      /** The new value (any JSON value). */
      readonly value: unknown;
    }
  | {
      /** Removes `key`. */
      readonly op: 'delete';
      /** The key. */
      readonly key: string;
    }
  | {
      /** Sets `key` to `value` only if it now holds `expected` (compared as JSON; undefined: absent). */
      readonly op: 'cas';
      /** The key. */
      readonly key: string;
      /** The value `key` must hold for the swap. */
      readonly expected: unknown;
      /** The new value. */
      readonly value: unknown;
    }
  | {
      /** Reads `key` through the log (for a read without a log write, see `RaftNode.read`). */
      readonly op: 'get';
      /** The key. */
      readonly key: string;
    };

/**
 * What applying a {@link KeyValueCommand} returns: the value before the command (`previous`,
 * undefined when absent) and, for compare-and-set, whether it swapped.
 *
 * @example
 * ```ts
 * import type { KeyValueResult } from 'raftkit';
 * const r: KeyValueResult = { previous: 1, ok: true };
 * ```
 */
export interface KeyValueResult {
  /** The key's value before the command (for `get`: its value). */
  readonly previous: unknown;
  /** False only for a compare-and-set whose expectation did not hold. */
  readonly ok: boolean;
}

/**
 * A replicated key-value map: a deterministic {@link StateMachine} for examples, tests and small
 * services. Keys are strings; values are JSON values, compared by their JSON text for
 * compare-and-set. Reading it directly shows this replica's applied state. Its results are JSON
 * too, so a command retried in a client session (`RaftNode.openSession`) is answered with exactly
 * its first result.
 *
 * @example
 * ```ts
 * import { Cluster, KeyValueStore, type KeyValueCommand, type KeyValueResult } from 'raftkit';
 * const stores = new Map<string, KeyValueStore>();
 * const cluster = new Cluster<KeyValueCommand, KeyValueResult>({
 *   size: 3,
 *   seed: 1,
 *   stateMachine: (id) => { const s = new KeyValueStore(); stores.set(id, s); return s; },
 * });
 * await cluster.propose({ op: 'put', key: 'x', value: 1 });
 * const { result } = await cluster.propose({ op: 'cas', key: 'x', expected: 1, value: 2 });
 * console.log(result.ok, stores.get(cluster.leader()!)!.get('x')); // true 2
 * ```
 */
export class KeyValueStore implements StateMachine<KeyValueCommand, KeyValueResult> {
  /**
   * Each value as JSON text: a replica rebuilt from a snapshot then holds exactly what one that
   * replayed the log holds, and no caller shares an object with the store (or with another replica).
   */
  private readonly data = new Map<string, string>();

  /**
   * Applies one committed command (called by the node, in log order). Throws a `TypeError` for a
   * malformed command (not an object, a key that is not a string, an unknown op, or a value with
   * no JSON form such as `undefined`), which the node reports as an `ApplyError`; the store is
   * left unchanged.
   */
  apply(command: KeyValueCommand): KeyValueResult {
    if (typeof command !== 'object' || command === null || typeof command.key !== 'string') {
      throw new TypeError(`KeyValueStore: a command must be an object with a string key, got ${describe(command)}`);
    }
    const before = this.data.get(command.key);
    const previous = before === undefined ? undefined : JSON.parse(before);
    switch (command.op) {
      case 'get':
        return { previous, ok: true };
      case 'put':
        this.data.set(command.key, json(command.value));
        return { previous, ok: true };
      case 'delete':
        this.data.delete(command.key);
        return { previous, ok: true };
      case 'cas': {
        const value = json(command.value);
        const ok = before === JSON.stringify(command.expected); // (an absent key matches expected: undefined)
        if (ok) this.data.set(command.key, value);
        return { previous, ok };
      }
      default:
        throw new TypeError(`KeyValueStore: unknown op ${JSON.stringify((command as { op?: unknown }).op)}`);
    }
  }

  /** This replica's value for `key` (undefined when absent). */
  get(key: string): unknown {
    const text = this.data.get(key);
    return text === undefined ? undefined : JSON.parse(text); // a copy: changing it changes nothing here
  }

  /** How many keys this replica holds. */
  get size(): number {
    return this.data.size;
  }

  /** A JSON snapshot of every key and value, in key order: what the node stores when it compacts its log. */
  snapshot(): string {
    const entries = [...this.data.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `[${entries.map(([key, text]) => `[${JSON.stringify(key)},${text}]`).join(',')}]`;
  }

  /** Replaces this replica's state with what {@link KeyValueStore.snapshot} returned. */
  restore(snapshot: string): void {
    const parsed: unknown = JSON.parse(snapshot);
    if (!Array.isArray(parsed) || !parsed.every((e) => Array.isArray(e) && e.length === 2 && typeof e[0] === 'string')) {
      throw new TypeError('KeyValueStore: not a snapshot');
    }
    this.data.clear();
    for (const [key, value] of parsed as [string, unknown][]) this.data.set(key, JSON.stringify(value));
  }
}

/** The JSON text of a value to store; a value with none (`undefined`, a function) is refused. */
function json(value: unknown): string {
  const text = JSON.stringify(value) as string | undefined;
  if (text === undefined) throw new TypeError(`KeyValueStore: a value must have a JSON form (use delete to remove a key), got ${describe(value)}`);
  return text;
}

function describe(value: unknown): string {
  return typeof value === 'object' && value !== null ? 'an object' : String(value);
}
