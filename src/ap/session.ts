/**
 * Client sessions of the AP store: a version-vector floor that travels with the client.
 */
import { ClockError } from '../clocks/errors.js';
import { parseVectorTimestamp, type VectorTimestamp } from '../clocks/vector.js';
import { ApError } from './errors.js';

/**
 * A client's session with the AP store: the causal past of everything it wrote or read, as a
 * version vector (for each origin replica, how many of its writes that past includes). Pass it
 * to {@link ApReplica.get}, {@link ApReplica.put} and {@link ApReplica.delete}: a replica serves
 * the session only if it has applied the whole floor, and raises the floor with what the
 * session writes or reads. That gives, whichever replicas the client talks to:
 *
 * - read-your-writes: a read sees the session's own writes (or later ones);
 * - monotonic reads: a read never sees an older version than an earlier read did;
 * - monotonic writes and writes-follow-reads: a write is ordered after everything the session
 *   wrote or read before it, so no replica exposes it before those.
 *
 * A replica that is behind refuses with {@link SessionBehindError}; it does not wait (see
 * {@link ApReplica.waitFor} to wait). The floor is a plain vector, so a session can be carried
 * across processes (e.g. in a cookie) with `new ApSession(JSON.parse(text))`.
 *
 * @example
 * ```ts
 * import { ApReplica, ApSession, InMemoryNetwork, VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, latencyMs: 5 });
 * const ids = ['a', 'b'];
 * const [a, b] = ids.map((id) => new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler }));
 * const session = new ApSession();
 * a!.put('cart', ['book'], { session });
 * console.log(session.floor, b!.covers(session)); // { a: 1 } false
 * scheduler.runFor(10);                            // the write reaches b
 * console.log(b!.get('cart', { session }).value);  // [ 'book' ]
 * const saved = JSON.stringify(session.floor);
 * console.log(new ApSession(JSON.parse(saved)).floor); // { a: 1 }
 * ```
 */
export class ApSession {
  #floor: VectorTimestamp;

  /**
   * @param floor where to start (default empty): a floor saved from another session.
   * @throws {@link ApError} `INVALID_ARGUMENT` if `floor` is not a vector timestamp.
   */
  constructor(floor: VectorTimestamp = {}) {
    try {
      this.#floor = parseVectorTimestamp(floor);
    } catch (error) {
      if (error instanceof ClockError) throw new ApError('INVALID_ARGUMENT', `ApSession floor: ${error.message}`);
      throw error;
    }
  }

  /** The causal past of what the session wrote and read (frozen). */
  get floor(): VectorTimestamp {
    return this.#floor;
  }

  /** Raises the floor to cover `entries` (an origin → sequence list; the replica calls this). @internal */
  raise(entries: Iterable<readonly [string, number]>): void {
    let changed: Record<string, number> | undefined;
    for (const [origin, seq] of entries) {
      if ((this.#floor[origin] ?? 0) >= seq) continue;
      changed ??= { ...this.#floor };
      changed[origin] = seq;
    }
    if (changed !== undefined) this.#floor = Object.freeze(changed);
  }
}
