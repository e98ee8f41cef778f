/**
 * The messages of the Synod (single-decree Paxos) and of Multi-Paxos: plain, immutable JSON
 * objects with a `type`, validated on receipt like Raft's.
 */
import type { NodeId } from '../raft/types.js';
import type { Ballot } from './ballot.js';

/**
 * A value an acceptor accepted, and in which ballot.
 *
 * @example
 * ```ts
 * import type { AcceptedValue } from 'raftkit';
 * const a: AcceptedValue<string> = { ballot: { round: 2, node: 'b' }, value: 'blue' };
 * ```
 */
export interface AcceptedValue<V = unknown> {
  /** The ballot it was accepted in. */
  readonly ballot: Ballot;
  /** The value. */
  readonly value: V;
}

/**
 * Phase 1a: a proposer asks the acceptors to promise to ignore ballots below `ballot`.
 *
 * @example
 * ```ts
 * import type { SynodPrepare } from 'raftkit';
 * const m: SynodPrepare = { type: 'Prepare', from: 'a', to: 'b', ballot: { round: 1, node: 'a' } };
 * ```
 */
export interface SynodPrepare {
  /** Discriminates the message kind. */
  readonly type: 'Prepare';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot to promise. */
  readonly ballot: Ballot;
}

/**
 * Phase 1b: an acceptor promises `ballot`, and reports the value it accepted last, if any (the
 * proposer must propose the one of highest ballot among a majority's reports).
 *
 * @example
 * ```ts
 * import type { SynodPromise } from 'raftkit';
 * const m: SynodPromise<string> = { type: 'Promise', from: 'b', to: 'a', ballot: { round: 2, node: 'a' }, accepted: null };
 * ```
 */
export interface SynodPromise<V = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'Promise';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot promised. */
  readonly ballot: Ballot;
  /** The value this acceptor accepted last, or null when it accepted none. */
  readonly accepted: AcceptedValue<V> | null;
}

/**
 * Phase 2a: a proposer that holds a majority of promises asks the acceptors to accept `value`.
 *
 * @example
 * ```ts
 * import type { SynodAccept } from 'raftkit';
 * const m: SynodAccept<string> = { type: 'Accept', from: 'a', to: 'b', ballot: { round: 2, node: 'a' }, value: 'blue' };
 * ```
 */
export interface SynodAccept<V = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'Accept';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The proposer's ballot. */
  readonly ballot: Ballot;
  /** The value to accept. */
  readonly value: V;
}

/**
 * Phase 2b: an acceptor accepted `value` in `ballot`; it tells every learner. A learner that
 * hears this from a majority for the same ballot has learned the chosen value.
 *
 * @example
 * ```ts
 * import type { SynodAccepted } from 'raftkit';
 * const m: SynodAccepted<string> = { type: 'Accepted', from: 'b', to: 'c', ballot: { round: 2, node: 'a' }, value: 'blue' };
 * ```
 */
export interface SynodAccepted<V = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'Accepted';
  /** The sender (the acceptor). */
  readonly from: NodeId;
  /** The receiver (a learner). */
  readonly to: NodeId;
  /** The ballot the value was accepted in. */
  readonly ballot: Ballot;
  /** The value accepted. */
  readonly value: V;
}

/**
 * An acceptor refuses `ballot` because it promised `promised`, a higher one. Not needed for
 * safety (silence would do); it lets a proposer give up on a lost round at once.
 *
 * @example
 * ```ts
 * import type { SynodNack } from 'raftkit';
 * const m: SynodNack = { type: 'Nack', from: 'b', to: 'a', ballot: { round: 1, node: 'a' }, promised: { round: 2, node: 'c' } };
 * ```
 */
export interface SynodNack {
  /** Discriminates the message kind. */
  readonly type: 'Nack';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot refused. */
  readonly ballot: Ballot;
  /** The higher ballot the acceptor promised. */
  readonly promised: Ballot;
}

/**
 * A node that has learned the chosen value answers a proposer with it, so a late proposer learns
 * in one round trip ("a learner can find out what value has been chosen by having a proposer
 * issue a proposal").
 *
 * @example
 * ```ts
 * import type { SynodChosen } from 'raftkit';
 * const m: SynodChosen<string> = { type: 'Chosen', from: 'c', to: 'a', value: 'blue' };
 * ```
 */
export interface SynodChosen<V = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'Chosen';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The chosen value. */
  readonly value: V;
}

/**
 * Every message of the Synod.
 *
 * @example
 * ```ts
 * import type { SynodMessage } from 'raftkit';
 * const describe = (m: SynodMessage): string => `${m.type} ${m.from}→${m.to}`;
 * ```
 */
export type SynodMessage<V = unknown> = SynodPrepare | SynodPromise<V> | SynodAccept<V> | SynodAccepted<V> | SynodNack | SynodChosen<V>;

/**
 * What a Multi-Paxos slot holds: a client's command, or a no-op that a new leader proposes to
 * fill a slot nobody is known to have accepted anything in.
 *
 * @example
 * ```ts
 * import type { LogValue } from 'raftkit';
 * const put: LogValue<string> = { kind: 'command', command: 'x=1' };
 * const gap: LogValue<string> = { kind: 'noop' };
 * ```
 */
export type LogValue<C = unknown> =
  | {
      /** A client's command. */
      readonly kind: 'command';
      /** The command. */
      readonly command: C;
    }
  | {
      /** A gap filler: applies nothing. */
      readonly kind: 'noop';
    };

/**
 * A value an acceptor accepted in one slot: what a Multi-Paxos promise reports, and what an
 * acceptor stores (the Synod uses slot 0).
 *
 * @example
 * ```ts
 * import type { AcceptedSlot, LogValue } from 'raftkit';
 * const a: AcceptedSlot<LogValue<string>> = { slot: 4, ballot: { round: 1, node: 'a' }, value: { kind: 'noop' } };
 * ```
 */
export interface AcceptedSlot<V = unknown> extends AcceptedValue<V> {
  /** The slot (from 1 in Multi-Paxos; 0 for the Synod's one value). */
  readonly slot: number;
}

/**
 * Multi-Paxos phase 1a, once for all slots from `fromSlot` on: a would-be leader asks for
 * promises (the slots before `fromSlot` it knows to be chosen).
 *
 * @example
 * ```ts
 * import type { LogPrepare } from 'raftkit';
 * const m: LogPrepare = { type: 'LogPrepare', from: 'a', to: 'b', ballot: { round: 1, node: 'a' }, fromSlot: 1 };
 * ```
 */
export interface LogPrepare {
  /** Discriminates the message kind. */
  readonly type: 'LogPrepare';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot to promise, for every slot. */
  readonly ballot: Ballot;
  /** The first slot the sender does not know to be chosen. */
  readonly fromSlot: number;
}

/**
 * Multi-Paxos phase 1b: a promise for every slot, with everything accepted from `fromSlot` on.
 *
 * @example
 * ```ts
 * import type { LogPromise } from 'raftkit';
 * const m: LogPromise<string> = { type: 'LogPromise', from: 'b', to: 'a', ballot: { round: 1, node: 'a' }, accepted: [] };
 * ```
 */
export interface LogPromise<C = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'LogPromise';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot promised. */
  readonly ballot: Ballot;
  /** What the sender accepted in slots from the prepare's `fromSlot` on, in slot order. */
  readonly accepted: readonly AcceptedSlot<LogValue<C>>[];
}

/**
 * Multi-Paxos phase 2a for one slot. `commit` piggybacks how far the leader knows the log to be
 * chosen (every slot up to it), as Raft's `leaderCommit` does.
 *
 * @example
 * ```ts
 * import type { LogAccept } from 'raftkit';
 * const m: LogAccept<string> = {
 *   type: 'LogAccept', from: 'a', to: 'b', ballot: { round: 1, node: 'a' }, slot: 3, value: { kind: 'command', command: 'x=1' }, commit: 2,
 * };
 * ```
 */
export interface LogAccept<C = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'LogAccept';
  /** The sender (the leader). */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The leader's ballot. */
  readonly ballot: Ballot;
  /** The slot. */
  readonly slot: number;
  /** The value to accept there. */
  readonly value: LogValue<C>;
  /** Every slot up to this one is chosen. */
  readonly commit: number;
}

/**
 * Multi-Paxos phase 2b: the sender accepted the leader's value in `slot`.
 *
 * @example
 * ```ts
 * import type { LogAccepted } from 'raftkit';
 * const m: LogAccepted = { type: 'LogAccepted', from: 'b', to: 'a', ballot: { round: 1, node: 'a' }, slot: 3 };
 * ```
 */
export interface LogAccepted {
  /** Discriminates the message kind. */
  readonly type: 'LogAccepted';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver (the leader). */
  readonly to: NodeId;
  /** The ballot accepted in. */
  readonly ballot: Ballot;
  /** The slot. */
  readonly slot: number;
}

/**
 * Multi-Paxos: a prepare or accept in `ballot` refused, because the sender promised a higher one
 * (or, for a prepare, because it still hears from a live leader: a stable leader is not deposed
 * by a node that merely lost touch with it).
 *
 * @example
 * ```ts
 * import type { LogNack } from 'raftkit';
 * const m: LogNack = { type: 'LogNack', from: 'b', to: 'c', ballot: { round: 2, node: 'c' }, promised: { round: 1, node: 'a' } };
 * ```
 */
export interface LogNack {
  /** Discriminates the message kind. */
  readonly type: 'LogNack';
  /** The sender. */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The ballot refused. */
  readonly ballot: Ballot;
  /** The ballot the sender promised (it may be lower than `ballot` for a refused prepare). */
  readonly promised: Ballot | null;
}

/**
 * Multi-Paxos: the leader is alive, and every slot up to `commit` is chosen.
 *
 * @example
 * ```ts
 * import type { LogHeartbeat } from 'raftkit';
 * const m: LogHeartbeat = { type: 'LogHeartbeat', from: 'a', to: 'b', ballot: { round: 1, node: 'a' }, commit: 7 };
 * ```
 */
export interface LogHeartbeat {
  /** Discriminates the message kind. */
  readonly type: 'LogHeartbeat';
  /** The sender (the leader). */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The leader's ballot. */
  readonly ballot: Ballot;
  /** Every slot up to this one is chosen. */
  readonly commit: number;
}

/**
 * Multi-Paxos: a learner that cannot tell what was chosen in some slots up to the leader's
 * commit (it missed or never accepted the leader's values) asks for them from `fromSlot` on.
 *
 * @example
 * ```ts
 * import type { LogCatchUp } from 'raftkit';
 * const m: LogCatchUp = { type: 'LogCatchUp', from: 'c', to: 'a', ballot: { round: 1, node: 'a' }, fromSlot: 5 };
 * ```
 */
export interface LogCatchUp {
  /** Discriminates the message kind. */
  readonly type: 'LogCatchUp';
  /** The sender (a learner). */
  readonly from: NodeId;
  /** The receiver (the leader). */
  readonly to: NodeId;
  /** The leader's ballot, as the learner knows it. */
  readonly ballot: Ballot;
  /** The first slot the learner has not learned. */
  readonly fromSlot: number;
}

/**
 * Multi-Paxos: chosen values, sent by the leader to a learner that asked with {@link LogCatchUp}.
 *
 * @example
 * ```ts
 * import type { LogChosen } from 'raftkit';
 * const m: LogChosen<string> = {
 *   type: 'LogChosen', from: 'a', to: 'c', ballot: { round: 1, node: 'a' }, entries: [{ slot: 5, value: { kind: 'noop' } }], commit: 5,
 * };
 * ```
 */
export interface LogChosen<C = unknown> {
  /** Discriminates the message kind. */
  readonly type: 'LogChosen';
  /** The sender (the leader). */
  readonly from: NodeId;
  /** The receiver. */
  readonly to: NodeId;
  /** The leader's ballot. */
  readonly ballot: Ballot;
  /** Chosen values, in slot order. */
  readonly entries: ReadonlyArray<{
    /** The slot. */
    readonly slot: number;
    /** What was chosen there. */
    readonly value: LogValue<C>;
  }>;
  /** Every slot up to this one is chosen. */
  readonly commit: number;
}

/**
 * Every message of Multi-Paxos.
 *
 * @example
 * ```ts
 * import type { MultiPaxosMessage } from 'raftkit';
 * const isPhase2 = (m: MultiPaxosMessage): boolean => m.type === 'LogAccept' || m.type === 'LogAccepted';
 * ```
 */
export type MultiPaxosMessage<C = unknown> =
  | LogPrepare
  | LogPromise<C>
  | LogAccept<C>
  | LogAccepted
  | LogNack
  | LogHeartbeat
  | LogCatchUp
  | LogChosen<C>;

/** The most slots one LogPromise or LogChosen may carry. */
export const MAX_SLOTS_PER_MESSAGE = 65_536;

const hasOwn = Object.prototype.hasOwnProperty;
const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const hostile = (o: object): boolean => hasOwn.call(o, '__proto__') || hasOwn.call(o, 'constructor') || hasOwn.call(o, 'prototype');
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
const isSlot = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 1;
const isCommit = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isBallot = (v: unknown): v is Ballot => isRecord(v) && !hostile(v) && isSlot(v.round) && isId(v.node);
/** A value is any JSON: present as an own property, not inspected (as Raft commands are not). */
const hasValue = (m: Record<string, unknown>): boolean => hasOwn.call(m, 'value');

function isLogValue(v: unknown): boolean {
  if (!isRecord(v) || hostile(v)) return false;
  return v.kind === 'noop' || (v.kind === 'command' && hasOwn.call(v, 'command'));
}

/** A list of at most MAX_SLOTS_PER_MESSAGE slots, strictly ascending, each passing `item`. */
function isSlotList(v: unknown, item: (entry: Record<string, unknown>) => boolean): boolean {
  if (!Array.isArray(v) || v.length > MAX_SLOTS_PER_MESSAGE) return false;
  let last = 0;
  for (const entry of v as unknown[]) {
    if (!isRecord(entry) || hostile(entry) || !isSlot(entry.slot) || entry.slot <= last || !isLogValue(entry.value) || !item(entry)) return false;
    last = entry.slot;
  }
  return true;
}

/** The checks every message shares: an object, no hostile keys, ids, and a ballot where one is due. */
function envelope(raw: unknown, ballot: boolean): Record<string, unknown> | string {
  if (!isRecord(raw)) return 'message is not an object';
  if (hostile(raw)) return 'message has a __proto__, constructor or prototype key';
  if (!isId(raw.from) || !isId(raw.to)) return 'from/to must be non-empty strings';
  if (ballot && !isBallot(raw.ballot)) return `${String(raw.type)}: bad ballot`;
  return raw;
}

/** Runs `check`, turning anything thrown (proxies, getters) into a reason. */
function guarded<M>(check: () => M | string): M | string {
  try {
    return check();
  } catch {
    return 'message could not be read';
  }
}

/**
 * Checks that `raw` (untrusted: it came from a transport) is a well-formed {@link SynodMessage}.
 * Returns the message typed, or a string saying what is wrong. Never throws, never mutates;
 * values are not inspected.
 *
 * @example
 * ```ts
 * import { validateSynodMessage } from 'raftkit';
 * const result = validateSynodMessage({ type: 'Prepare', from: 'a', to: 'b', ballot: { round: 0, node: 'a' } });
 * if (typeof result === 'string') console.log('dropped:', result); // dropped: Prepare: bad ballot
 * ```
 */
export function validateSynodMessage<V = unknown>(raw: unknown): SynodMessage<V> | string {
  return guarded(() => {
    const type = isRecord(raw) ? raw.type : undefined;
    const m = envelope(raw, type !== 'Chosen');
    if (typeof m === 'string') return m;
    switch (type) {
      case 'Prepare':
        return m as unknown as SynodPrepare;
      case 'Promise': {
        const a = m.accepted;
        if (a !== null && !(isRecord(a) && !hostile(a) && isBallot(a.ballot) && hasOwn.call(a, 'value'))) return 'Promise: bad accepted';
        return m as unknown as SynodPromise<V>;
      }
      case 'Accept':
      case 'Accepted':
      case 'Chosen':
        return hasValue(m) ? (m as unknown as SynodMessage<V>) : `${type}: no value`;
      case 'Nack':
        return isBallot(m.promised) ? (m as unknown as SynodNack) : 'Nack: bad promised';
      default:
        return 'unknown message type';
    }
  });
}

/**
 * Checks that `raw` (untrusted) is a well-formed {@link MultiPaxosMessage}: ids, ballots, slots
 * (whole numbers from 1, ascending in lists of at most 65,536), log values. Returns the message
 * typed, or a string saying what is wrong. Never throws, never mutates; commands are not inspected.
 *
 * @example
 * ```ts
 * import { validateMultiPaxosMessage } from 'raftkit';
 * const result = validateMultiPaxosMessage({ type: 'LogAccepted', from: 'b', to: 'a', ballot: { round: 1, node: 'a' }, slot: -1 });
 * if (typeof result === 'string') console.log('dropped:', result); // dropped: LogAccepted: bad slot
 * ```
 */
export function validateMultiPaxosMessage<C = unknown>(raw: unknown): MultiPaxosMessage<C> | string {
  return guarded(() => {
    const m = envelope(raw, true);
    if (typeof m === 'string') return m;
    switch (m.type) {
      case 'LogPrepare':
      case 'LogCatchUp':
        return isSlot(m.fromSlot) ? (m as unknown as LogPrepare | LogCatchUp) : `${m.type}: bad fromSlot`;
      case 'LogPromise':
        return isSlotList(m.accepted, (e) => isBallot(e.ballot)) ? (m as unknown as LogPromise<C>) : 'LogPromise: bad accepted';
      case 'LogAccept':
        if (!isSlot(m.slot) || !isCommit(m.commit)) return 'LogAccept: bad slot or commit';
        return isLogValue(m.value) ? (m as unknown as LogAccept<C>) : 'LogAccept: bad value';
      case 'LogAccepted':
        return isSlot(m.slot) ? (m as unknown as LogAccepted) : 'LogAccepted: bad slot';
      case 'LogNack':
        return m.promised === null || isBallot(m.promised) ? (m as unknown as LogNack) : 'LogNack: bad promised';
      case 'LogHeartbeat':
        return isCommit(m.commit) ? (m as unknown as LogHeartbeat) : 'LogHeartbeat: bad commit';
      case 'LogChosen':
        if (!isCommit(m.commit)) return 'LogChosen: bad commit';
        return isSlotList(m.entries, () => true) ? (m as unknown as LogChosen<C>) : 'LogChosen: bad entries';
      default:
        return 'unknown message type';
    }
  });
}
