/**
 * A leader's memory of the proposals its followers forwarded in its term. Transports duplicate
 * messages, so a repeat gets the first answer (where its entry landed), not a second entry.
 * Bounded per follower: the oldest ids are forgotten first.
 */
import type { Propose, ProposeOutcome, ProposeResponse } from './messages.js';
import type { SessionTag } from './sessions.js';
import type { LogPosition, NodeId, Role } from './types.js';

/** How many forwarded proposal ids a leader remembers per follower. */
export const FORWARD_MEMORY = 1024;

/** Per follower: a forwarded proposal's id → the index its entry landed at. */
export type ForwardedIds = Map<NodeId, Map<number, number>>;

/** What answering a forwarded proposal needs of the core: its public face. */
interface Appender {
  readonly id: NodeId;
  readonly role: Role;
  readonly term: number;
  readonly votedFor: NodeId | null;
  readonly transferTarget: NodeId | null;
  propose(command: unknown, session?: SessionTag): LogPosition;
  openSession(timeoutMs: number): LogPosition;
}

/**
 * How node `core` answers the proposal `m` a follower forwarded in its current term: appended
 * (once, however many copies arrive), refused, or unknown.
 *
 * Every copy of one Propose carries the term it was sent in, and only the leader of exactly
 * that term appends it (the core answers every other term as stale). A node leads a term at
 * most once, so its memory of this leadership covers every copy it ever appended.
 */
export function answerForwarded(core: Appender, ids: ForwardedIds, m: Propose): ProposeResponse {
  // Not leading this term: if it never campaigned in it, it never led it, so no copy was ever
  // appended (or will be). Otherwise it may have led it before stepping down (or restarting).
  if (core.role !== 'leader') return proposeResponse(core.id, core.term, m, 0, core.votedFor === core.id ? 'unknown' : 'refused');
  let index = ids.get(m.from)?.get(m.id);
  if (index === undefined) {
    // Handing over: not now, but a copy that arrives after the transfer gives up is appended.
    if (core.transferTarget !== null) return proposeResponse(core.id, core.term, m, 0, 'unknown');
    index = m.kind === 'session' ? core.openSession(m.timeoutMs as number).index : core.propose(m.command, m.session).index;
    remember(ids, m.from, m.id, index);
  }
  return proposeResponse(core.id, core.term, m, index, 'appended');
}

/** The answer from node `from` in `term` to the forwarded proposal `m`. */
export function proposeResponse(from: NodeId, term: number, m: Propose, index: number, outcome: ProposeOutcome): ProposeResponse {
  return { type: 'ProposeResponse', from, to: m.from, term, id: m.id, index, outcome };
}

/** Remembers that the proposal `id` that `from` forwarded landed at `index`. */
function remember(ids: ForwardedIds, from: NodeId, id: number, index: number): void {
  let seen = ids.get(from);
  if (seen === undefined) ids.set(from, (seen = new Map()));
  seen.set(id, index);
  if (seen.size > FORWARD_MEMORY) seen.delete(seen.keys().next().value as number);
}
