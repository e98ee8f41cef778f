/**
 * The typed error of trace replay: a document or an event that cannot be replayed, with the
 * index of the event at fault.
 */

/**
 * Why a trace cannot be replayed:
 * - `VERSION`: the document's schema version is not one this replay reads;
 * - `DROPPED_START`: the document's `dropped` is above 0, so its first events are lost;
 * - `NO_NODES`: the document does not say which nodes the cluster started with;
 * - `BAD_EVENT`: an event is not an object with a `kind` and a finite `time`, or a field it
 *   needs is missing or malformed (a message without an `id`, an append without `terms`);
 * - `TIME_ORDER`: an event is older than the one before it;
 * - `DUPLICATE_ID`: a send reuses an earlier send's message id;
 * - `UNKNOWN_MESSAGE`: a delivery or drop names a message that is not in flight (never sent,
 *   or already delivered or dropped);
 * - `UNKNOWN_NODE`: an event names a node the cluster does not have (never there, or removed);
 * - `DUPLICATE_NODE`: a `join` names a node the cluster already has, or the document's `nodes`
 *   lists a node twice (`index` null);
 * - `LOG_GAP`: an append into what the node's snapshot covers, or a truncation past the end of
 *   its log.
 *
 * @example
 * ```ts
 * import type { ReplayErrorCode } from 'raftkit/viz';
 * const fatal: ReplayErrorCode[] = ['VERSION', 'DROPPED_START', 'NO_NODES'];
 * ```
 */
export type ReplayErrorCode =
  | 'VERSION'
  | 'DROPPED_START'
  | 'NO_NODES'
  | 'BAD_EVENT'
  | 'TIME_ORDER'
  | 'DUPLICATE_ID'
  | 'UNKNOWN_MESSAGE'
  | 'UNKNOWN_NODE'
  | 'DUPLICATE_NODE'
  | 'LOG_GAP';

/**
 * A trace that `TraceReplay` refuses: `code` says why, `index` names the event at fault (its
 * position in the trace's events), or is null when the document itself is at fault. Events
 * before the faulty one stay replayable.
 *
 * @example
 * ```ts
 * import { ReplayError, TraceReplay } from 'raftkit/viz';
 * try {
 *   new TraceReplay({ nodes: ['1', '2'], events: [{ time: 3, kind: 'deliver', id: 9, from: '1', to: '2', type: 'AppendEntries', term: 1, summary: '' }] });
 * } catch (error) {
 *   if (error instanceof ReplayError) console.log(error.code, error.index); // UNKNOWN_MESSAGE 0
 * }
 * ```
 */
export class ReplayError extends Error {
  /** A stable, machine-readable code. */
  readonly code: ReplayErrorCode;
  /** The index of the event at fault in the trace's events, or null for the document itself. */
  readonly index: number | null;
  constructor(code: ReplayErrorCode, index: number | null, message: string) {
    super(index === null ? message : `event ${index}: ${message}`);
    this.name = 'ReplayError';
    this.code = code;
    this.index = index;
  }
}
