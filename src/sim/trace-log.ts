/**
 * The store behind a Cluster's trace: the last `limit` events in a ring of numbers. The frequent
 * events (AppendEntries and the answers that accept them, commits, applies, proposals, and appends
 * of one term) are kept as numbers and made into event objects only when read or followed, so
 * recording them allocates nothing and a long run keeps no garbage alive. Other events are kept
 * as the objects they were made as.
 */
import type { AppendEntries, AppendEntriesResponse, Message } from '../raft/messages.js';
import type { LogEntry, NodeId } from '../raft/types.js';
import type { NetworkObserver } from '../transport/memory.js';
import { answerSummary, appendSummary, summarize } from './summary.js';
import type { MessageEvent, TraceEvent } from './trace.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** A record's code: 0 for an event object; else its kind, shape and whether it is a duplicate's. */
const OBJECT = 0;
const KINDS = [undefined, 'send', 'deliver', 'drop'] as const;
const APPEND = 4; // an AppendEntries: columns prevIndex, prevTerm, entry count, commit
const ACCEPTED = 8; // an AppendEntriesResponse with success: column index
const DUPLICATE = 16;
/**
 * A run of commit, apply or propose events (code ENTRY + the kind's place in ENTRY_KINDS): one
 * node's, at one instant, in one term, at consecutive indexes (and, proposals, consecutive
 * operation ids), as a node applies a batch. Numbers: first index, term, first op, count;
 * reference: the node.
 */
const ENTRY = 32;
const ENTRY_KINDS = ['commit', 'apply', 'propose'] as const;
/** Entries of one term written to a node's log (an `append` event). Numbers: time, from, to, term; reference: the node. */
const APPENDED = 64;
const FIRST_CAPACITY = 256;

/**
 * Each record's numbers, at `slot * NUMBERS`: its code, time, message id and term, and four
 * fields of its message (an AppendEntries: prevIndex, prevTerm, entry count, commit; an
 * answer: index). Its references, at `slot * REFS`: from, to, and an event object (code 0) or a
 * drop's reason. One array of each keeps a record's writes together.
 */
const NUMBERS = 8;
const REFS = 3;

/** Internal to the simulator: `Cluster.trace()`, `traceDocument()` and `onTrace` read it. */
export class TraceLog {
  /** Records made (a record holds one event, or a run of entry events). */
  private total = 0;
  /** Events recorded. */
  private events = 0;
  /** The slot the next record goes to (once the ring is full, the oldest record's). */
  private next = 0;
  private capacity = 0;
  private numbers: Float64Array<ArrayBuffer> = new Float64Array(0);
  private readonly refs: unknown[] = [];
  private listeners: Array<(event: TraceEvent) => void> = [];
  /** The newest record's slot while it is a run of entry events (else -1), and what it holds. */
  private run = -1;
  private runCode = 0;
  private runTime = 0;
  private runTerm = 0;
  private runIndex = 0;
  private runOp = 0;
  private runNode: NodeId = '';

  /**
   * `clock` gives the time of the records made here (events pushed as objects carry their own),
   * and runs a listener's error as an event of its own: thrown where a listener is called, it
   * would break the step being traced (turn an apply into a failed command, say).
   */
  constructor(
    readonly limit: number,
    private readonly clock: { now(): number; defer(callback: () => void): void },
  ) {}

  get enabled(): boolean {
    return this.limit > 0;
  }


  /** How many events were dropped to keep within the limit. */
  get dropped(): number {
    return Math.max(0, this.events - this.limit);
  }

  push(event: TraceEvent): void {
    if (this.limit === 0) return;
    const i = this.slot();
    this.numbers[i * NUMBERS] = OBJECT;
    const r = i * REFS;
    this.refs[r] = undefined;
    this.refs[r + 1] = undefined;
    this.refs[r + 2] = event;
    if (this.listeners.length > 0) this.tell(event);
  }

  /**
   * The network's observer: it records each AppendEntries and each answer accepting one itself,
   * in columns, and hands every other message, and every outcome of a duplicated one, to `other`
   * (which records them with {@link sent} and {@link settled}).
   */
  observer(other: NetworkObserver<Message>): NetworkObserver<Message> {
    return (event, m, from, to, seq, copies, reason) => {
      const shape = shapeOf(m);
      if (shape === 0 || copies !== 1) return other(event, m, from, to, seq, copies, reason);
      this.message(kindCode(event) | shape, seq, m as AppendEntries | AppendEntriesResponse, from, to, reason);
    };
  }

  /**
   * A send the observer handed on (not an AppendEntries or an accepting answer: those it records
   * itself): `refusal` is a vote answer's, derived by the caller from the voter's state.
   */
  sent(id: number, m: Message, from: NodeId, to: NodeId, refusal?: string): void {
    this.push(sendEvent(this.clock.now(), id, m, from, to, refusal));
  }

  /** A message delivered or dropped (`duplicate`: the outcome of the copy the network made). */
  settled(kind: 'deliver' | 'drop', id: number, m: Message, from: NodeId, to: NodeId, duplicate: boolean, reason: string | undefined): void {
    const shape = shapeOf(m);
    if (shape !== 0) return this.message(kindCode(kind) | shape | (duplicate ? DUPLICATE : 0), id, m as AppendEntries | AppendEntriesResponse, from, to, reason);
    const e: Mutable<MessageEvent> = { time: this.clock.now(), kind, id, from, to, type: m.type, term: m.term, summary: summarize(m) };
    if (reason !== undefined) e.reason = reason;
    if (duplicate) e.duplicate = true;
    this.push(e);
  }

  /** A node's commit, apply or client proposal (`op`: the proposal's operation id). */
  entry(kind: 'commit' | 'apply' | 'propose', node: NodeId, index: number, term: number, op = 0): void {
    if (this.limit === 0) return;
    const time = this.clock.now();
    const code = ENTRY + (kind === 'commit' ? 0 : kind === 'apply' ? 1 : 2);
    const run = this.run;
    if (index === this.runIndex && node === this.runNode && time === this.runTime && run >= 0 && code === this.runCode && term === this.runTerm && op === this.runOp) {
      const at = run * NUMBERS + 5;
      this.numbers[at] = (this.numbers[at] as number) + 1; // the run goes on
      this.events++;
    } else {
      const i = this.slot();
      const numbers = this.numbers;
      const n = i * NUMBERS;
      numbers[n] = code;
      numbers[n + 1] = time;
      numbers[n + 2] = index;
      numbers[n + 3] = term;
      numbers[n + 4] = op;
      numbers[n + 5] = 1;
      const r = i * REFS;
      this.refs[r] = node;
      this.refs[r + 1] = undefined;
      this.refs[r + 2] = undefined;
      this.run = i;
      this.runCode = code;
      this.runTime = time;
      this.runTerm = term;
      this.runNode = node;
    }
    // What would go on this run: the next index and (proposals) the next operation.
    this.runIndex = index + 1;
    this.runOp = code === ENTRY + 2 ? op + 1 : 0;
    if (this.listeners.length > 0) this.tell(kind === 'propose' ? { time, kind, node, index, term, op } : { time, kind, node, index, term });
  }

  /** Entries written to a node's log: kept as numbers when they are all of one term (as a leader's batch is). */
  appended(node: NodeId, entries: readonly LogEntry[]): void {
    const count = entries.length;
    const from = (entries[0] as LogEntry).index;
    const term = (entries[0] as LogEntry).term;
    let mixed = false;
    for (let i = 1; i < count; i++) if ((entries[i] as LogEntry).term !== term) mixed = true;
    const time = this.clock.now();
    if (mixed) return this.push({ time, kind: 'append', node, from, to: from + count - 1, terms: entries.map((e) => e.term) });
    const i = this.slot();
    const numbers = this.numbers;
    const n = i * NUMBERS;
    numbers[n] = APPENDED;
    numbers[n + 1] = time;
    numbers[n + 2] = from;
    numbers[n + 3] = from + count - 1;
    numbers[n + 4] = term;
    const r = i * REFS;
    this.refs[r] = node;
    this.refs[r + 1] = undefined;
    this.refs[r + 2] = undefined;
    if (this.listeners.length > 0) this.tell(this.event(i));
  }

  /** Calls `listener` with each event from now on; returns a function that stops it. */
  follow(listener: (event: TraceEvent) => void): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /** The retained events, oldest first. */
  toArray(): TraceEvent[] {
    return this.tail(this.limit);
  }

  /** The last `count` retained events, oldest first. */
  tail(count: number): TraceEvent[] {
    const want = Math.max(0, Math.min(count, this.limit, this.events));
    // Back from the newest record until the records hold `want` events.
    let held = 0;
    let records = 0;
    let i = this.next;
    const oldest = Math.min(this.total, this.capacity);
    while (held < want && records < oldest) {
      if (--i < 0) i = this.capacity - 1;
      held += this.countAt(i);
      records++;
    }
    const events: TraceEvent[] = [];
    let skip = held - want; // the oldest record's events before the last `want`
    for (let k = 0; k < records; k++) {
      const count = this.countAt(i);
      if (count === 1) events.push(this.event(i));
      else for (let j = 0; j < count; j++) if (skip-- <= 0) events.push(this.entryEvent(i, j));
      if (++i === this.capacity) i = 0;
    }
    return events;
  }

  /** How many events the record in slot `i` holds. */
  private countAt(i: number): number {
    const n = i * NUMBERS;
    const code = this.numbers[n] as number;
    return code >= ENTRY && code < APPENDED ? (this.numbers[n + 5] as number) : 1;
  }

  /** The `j`-th event of the run of entry events in slot `i`. */
  private entryEvent(i: number, j: number): TraceEvent {
    const numbers = this.numbers;
    const n = i * NUMBERS;
    const kind = ENTRY_KINDS[(numbers[n] as number) - ENTRY] as (typeof ENTRY_KINDS)[number];
    const time = numbers[n + 1] as number;
    const index = (numbers[n + 2] as number) + j;
    const term = numbers[n + 3] as number;
    const node = this.refs[i * REFS] as NodeId;
    return kind === 'propose' ? { time, kind, node, index, term, op: (numbers[n + 4] as number) + j } : { time, kind, node, index, term };
  }

  private tell(event: TraceEvent): void {
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) {
      try {
        (listeners[i] as (event: TraceEvent) => void)(event);
      } catch (error) {
        this.clock.defer(() => {
          throw error;
        });
      }
    }
  }

  /** An AppendEntries, or an answer accepting one, as numbers (`code`: its kind and shape). */
  private message(code: number, id: number, m: AppendEntries | AppendEntriesResponse, from: NodeId, to: NodeId, reason: string | undefined): void {
    const i = this.slot();
    const numbers = this.numbers;
    const n = i * NUMBERS;
    numbers[n + 1] = this.clock.now();
    numbers[n + 2] = id;
    numbers[n + 3] = m.term;
    numbers[n] = code;
    if (m.type === 'AppendEntries') {
      numbers[n + 4] = m.prevLogIndex;
      numbers[n + 5] = m.prevLogTerm;
      numbers[n + 6] = m.entries.length;
      numbers[n + 7] = m.leaderCommit;
    } else numbers[n + 4] = m.index;
    const refs = this.refs;
    const r = i * REFS;
    refs[r] = from;
    refs[r + 1] = to;
    refs[r + 2] = reason;
    if (this.listeners.length > 0) this.tell(this.event(i));
  }

  /** The slot for a new record: a free one while the ring grows, then the oldest record's. */
  private slot(): number {
    if (this.total === this.capacity && this.capacity < this.limit) this.grow();
    this.run = -1;
    const i = this.next;
    this.next = i + 1 === this.capacity ? 0 : i + 1;
    this.total++;
    this.events++;
    return i;
  }

  /** Doubles the ring (up to `limit`); only called while it has never wrapped. */
  private grow(): void {
    const capacity = Math.min(this.limit, Math.max(FIRST_CAPACITY, this.capacity * 2));
    const numbers = new Float64Array(capacity * NUMBERS);
    numbers.set(this.numbers);
    this.numbers = numbers;
    this.capacity = capacity;
    this.next = this.total;
  }

  /** The event in slot `i`, made from its columns (with its fields in the order a send's object has them). */
  private event(i: number): TraceEvent {
    const numbers = this.numbers;
    const n = i * NUMBERS;
    const refs = this.refs;
    const r = i * REFS;
    const code = numbers[n] as number;
    if (code === OBJECT) return refs[r + 2] as TraceEvent;
    if (code === APPENDED) {
      const [time, from, to, term] = [numbers[n + 1] as number, numbers[n + 2] as number, numbers[n + 3] as number, numbers[n + 4] as number];
      return { time, kind: 'append', node: refs[r] as NodeId, from, to, terms: new Array<number>(to - from + 1).fill(term) };
    }
    if (code >= ENTRY) return this.entryEvent(i, 0);
    const kind = KINDS[code & 3] as MessageEvent['kind'];
    const time = numbers[n + 1] as number;
    const id = numbers[n + 2] as number;
    const term = numbers[n + 3] as number;
    const from = refs[r] as NodeId;
    const to = refs[r + 1] as NodeId;
    let e: Mutable<MessageEvent>;
    if ((code & APPEND) !== 0) {
      const prevIndex = numbers[n + 4] as number;
      const prevTerm = numbers[n + 5] as number;
      const count = numbers[n + 6] as number;
      const commit = numbers[n + 7] as number;
      const summary = appendSummary(count, prevIndex, prevTerm, commit);
      const type = 'AppendEntries';
      if (kind !== 'send') e = { time, kind, id, from, to, type, term, summary };
      else if (count === 0) return { time, kind, id, from, to, type, term, summary, prevIndex, prevTerm, commit };
      else return { time, kind, id, from, to, type, term, summary, prevIndex, prevTerm, entries: [prevIndex + 1, prevIndex + count], commit };
    } else {
      const index = numbers[n + 4] as number;
      const type = 'AppendEntriesResponse';
      const summary = answerSummary(true, index);
      if (kind === 'send') return { time, kind, id, from, to, type, term, summary, success: true, index };
      e = { time, kind, id, from, to, type, term, summary };
    }
    const reason = refs[r + 2] as string | undefined;
    if (reason !== undefined) e.reason = reason;
    if ((code & DUPLICATE) !== 0) e.duplicate = true;
    return e;
  }
}

/** How a message is kept as numbers: APPEND, ACCEPTED, or 0 when it is kept as an object. */
function shapeOf(m: Message): number {
  if (m.type === 'AppendEntries') return APPEND;
  return m.type === 'AppendEntriesResponse' && m.success ? ACCEPTED : 0;
}

function kindCode(kind: MessageEvent['kind']): number {
  return kind === 'send' ? 1 : kind === 'deliver' ? 2 : 3;
}

/** A send's event, with the fields of its message's type (AppendEntries are kept as numbers). */
function sendEvent(time: number, id: number, m: Message, from: NodeId, to: NodeId, refusal: string | undefined): MessageEvent {
  const e: Mutable<MessageEvent> = { time, kind: 'send', id, from, to, type: m.type, term: m.term, summary: summarize(m) };
  switch (m.type) {
    case 'RequestVote':
    case 'PreVote':
      e.lastLogIndex = m.lastLogIndex;
      e.lastLogTerm = m.lastLogTerm;
      break;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      e.success = m.voteGranted;
      break;
    case 'AppendEntriesResponse':
      e.success = m.success;
      e.index = m.index;
      // The core refuses a stale leader with no place to retry from, a log mismatch with one.
      if (!m.success) e.refusal = m.conflictIndex === 0 ? 'stale-term' : 'log-mismatch';
      break;
    case 'InstallSnapshot':
    case 'InstallSnapshotResponse':
      e.index = m.index;
      break;
    case 'ReadIndexResponse':
      e.success = m.ok;
      e.index = m.index;
      break;
    case 'ProposeResponse':
      e.success = m.outcome === 'appended';
      break;
    default:
  }
  if (refusal !== undefined) e.refusal = refusal;
  return e;
}
