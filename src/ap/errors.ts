/**
 * Typed errors of the AP store.
 */
import type { VectorTimestamp } from '../clocks/vector.js';

/**
 * What went wrong, as a stable machine-readable code:
 * - `INVALID_ARGUMENT`: an option or argument is malformed (an id, a peer list, a limit, a session);
 * - `INVALID_KEY`: a key is not a string, or longer than the replica's `maxKeyLength`;
 * - `INVALID_VALUE`: a value has no JSON form (`undefined`, a function, a cycle);
 * - `VALUE_TOO_LARGE`: a value's JSON text is longer than the replica's `maxValueBytes`;
 * - `INVALID_MESSAGE`: a message from the transport is malformed (reported with the `error` event, never thrown);
 * - `SESSION_BEHIND`: the replica has not yet applied writes the session has seen ({@link SessionBehindError});
 * - `TIMEOUT`: {@link ApReplica.waitFor} gave up;
 * - `STOPPED`: the replica was stopped.
 *
 * @example
 * ```ts
 * import { ApError, ApReplica, InMemoryNetwork, VirtualScheduler, type ApErrorCode } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler });
 * const replica = new ApReplica({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler });
 * let code: ApErrorCode | undefined;
 * try { replica.put('x', undefined); } catch (error) { if (error instanceof ApError) code = error.code; }
 * console.log(code); // INVALID_VALUE
 * ```
 */
export type ApErrorCode = 'INVALID_ARGUMENT' | 'INVALID_KEY' | 'INVALID_VALUE' | 'VALUE_TOO_LARGE' | 'INVALID_MESSAGE' | 'SESSION_BEHIND' | 'TIMEOUT' | 'STOPPED';

/**
 * The base class of every error the AP store raises. An operation that throws changes nothing.
 *
 * @example
 * ```ts
 * import { ApError, ApReplica, InMemoryNetwork, VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler });
 * const replica = new ApReplica({ id: 'a', peers: ['a'], transport: network.transport('a'), scheduler });
 * try { replica.get(42 as unknown as string); } catch (error) {
 *   if (error instanceof ApError) console.log(error.code); // INVALID_KEY
 * }
 * ```
 */
export class ApError extends Error {
  /** A stable, machine-readable code. */
  readonly code: ApErrorCode;
  constructor(code: ApErrorCode, message: string) {
    super(message);
    this.name = 'ApError';
    this.code = code;
  }
}

/**
 * Raised when a replica is asked to serve a session that has seen writes the replica has not
 * applied yet: answering would break read-your-writes or monotonic reads. The replica refuses
 * rather than waits; `missing` says which writes it lacks (per origin replica, the highest
 * sequence number the session has seen). Retry at another replica, later, or after
 * {@link ApReplica.waitFor}.
 *
 * @example
 * ```ts
 * import { ApReplica, ApSession, InMemoryNetwork, SessionBehindError, VirtualScheduler } from 'raftkit';
 * const scheduler = new VirtualScheduler();
 * const network = new InMemoryNetwork({ scheduler, latencyMs: 5 });
 * const ids = ['a', 'b'];
 * const [a, b] = ids.map((id) => new ApReplica({ id, peers: ids, transport: network.transport(id), scheduler }));
 * const session = new ApSession();
 * a!.put('x', 1, { session });
 * try { b!.get('x', { session }); } catch (error) {
 *   if (error instanceof SessionBehindError) console.log(error.missing); // { a: 1 }: b has not seen a's write yet
 * }
 * ```
 */
export class SessionBehindError extends ApError {
  /** The entries of the session's floor that the replica's vector does not cover. */
  readonly missing: VectorTimestamp;
  constructor(replica: string, missing: VectorTimestamp) {
    super('SESSION_BEHIND', `replica ${replica} has not applied every write the session has seen (it lacks ${JSON.stringify(missing)})`);
    this.name = 'SessionBehindError';
    this.missing = missing;
  }
}
