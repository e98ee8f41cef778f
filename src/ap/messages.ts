/**
 * What AP replicas send each other: writes, digests (version vectors) and deltas (the writes a
 * peer lacks), plain JSON, validated on arrival.
 */
import { ClockError } from '../clocks/errors.js';
import { parseHlc, type HlcTimestamp } from '../clocks/hlc.js';
import { parseVectorTimestamp, type VectorTimestamp } from '../clocks/vector.js';
import { isPlainObject, isValidNodeId } from '../clocks/validate.js';
import type { Envelope } from '../transport/transport.js';
import { ApError } from './errors.js';

/**
 * One write, as replicas exchange it. `origin` and `seq` name it (the `seq`-th write accepted
 * by replica `origin`); `deps` is its causal past, the version vector of its origin when it was
 * accepted (so `deps[origin] === seq - 1`); `hlc` orders it against concurrent writes of the
 * same key (last writer wins, ties broken by node id). `json` is the value's JSON text, absent
 * for a delete.
 *
 * @example
 * ```ts
 * import type { ApWrite } from 'raftkit';
 * const write: ApWrite = {
 *   key: 'x', json: '1', origin: 'a', seq: 2,
 *   hlc: { wallTime: 1_000, logical: 0, nodeId: 'a' },
 *   deps: { a: 1, b: 3 },
 * };
 * ```
 */
export interface ApWrite {
  /** The key written. */
  readonly key: string;
  /** The value's JSON text; absent for a delete. */
  readonly json?: string;
  /** The replica that accepted the write. */
  readonly origin: string;
  /** Its position among that replica's writes, from 1. */
  readonly seq: number;
  /** Its hybrid logical clock timestamp (with `nodeId === origin`). */
  readonly hlc: HlcTimestamp;
  /** The writes it causally depends on: its origin's version vector before it. */
  readonly deps: VectorTimestamp;
}

/**
 * Anti-entropy, first step: "this is what I have" (the sender's version vector). The receiver
 * answers with an {@link ApDelta} of the writes the sender lacks.
 *
 * @example
 * ```ts
 * import type { ApDigest } from 'raftkit';
 * const digest: ApDigest = { type: 'ApDigest', from: 'a', to: 'b', vector: { a: 4, b: 2 } };
 * ```
 */
export interface ApDigest extends Envelope {
  /** The message kind. */
  readonly type: 'ApDigest';
  /** The sender's version vector. */
  readonly vector: VectorTimestamp;
}

/**
 * Writes the receiver lacks, in an order that respects causality, at most
 * `maxWritesPerMessage` of them and about `maxBytesPerMessage` (`more` says whether the sender
 * has further ones). Sent in answer to a digest (`reply: true`: the receiver then pushes back
 * what the sender lacks, judged from `vector`), after it (`reply: false`), and eagerly for each
 * new write.
 *
 * @example
 * ```ts
 * import type { ApDelta } from 'raftkit';
 * const delta: ApDelta = { type: 'ApDelta', from: 'b', to: 'a', vector: { b: 1 }, writes: [], more: false, reply: true };
 * ```
 */
export interface ApDelta extends Envelope {
  /** The message kind. */
  readonly type: 'ApDelta';
  /** The sender's version vector when it sent this. */
  readonly vector: VectorTimestamp;
  /** The writes, each after every one it depends on. */
  readonly writes: readonly ApWrite[];
  /** True when the sender had more writes for the receiver than fitted. */
  readonly more: boolean;
  /** True when this answers a digest: the receiver should push back what the sender lacks. */
  readonly reply: boolean;
}

/**
 * Every message of the AP store.
 *
 * @example
 * ```ts
 * import type { ApMessage } from 'raftkit';
 * const describe = (m: ApMessage): string => (m.type === 'ApDigest' ? 'digest' : `${m.writes.length} writes`);
 * ```
 */
export type ApMessage = ApDigest | ApDelta;

/** Refuses an untrusted message with `INVALID_MESSAGE`. */
function invalid(why: string): never {
  throw new ApError('INVALID_MESSAGE', `invalid AP message: ${why}`);
}

/** A validated vector, or INVALID_MESSAGE. */
function vectorOf(value: unknown, what: string): VectorTimestamp {
  try {
    return parseVectorTimestamp(value);
  } catch (error) {
    if (error instanceof ClockError) invalid(`${what}: ${error.message}`);
    throw error;
  }
}

/** Reads an own data property of a plain object (nothing inherited, no getters). */
function field(object: object, key: string): unknown {
  const descriptor = Object.getOwnPropertyDescriptor(object, key);
  if (descriptor !== undefined && !('value' in descriptor)) invalid(`${key} must be a data property`);
  return descriptor?.value;
}

/** Validates one untrusted write into a frozen copy of its known fields. */
export function readWrite(value: unknown, maxKeyLength: number): ApWrite {
  if (!isPlainObject(value)) invalid('a write must be an object');
  const key = field(value, 'key');
  const json = field(value, 'json');
  const origin = field(value, 'origin');
  const seq = field(value, 'seq');
  if (typeof key !== 'string' || key.length > maxKeyLength) invalid(`a write's key must be a string of at most ${maxKeyLength} characters`);
  if (!isValidNodeId(origin)) invalid("a write's origin must be a valid node id");
  if (typeof seq !== 'number' || !Number.isSafeInteger(seq) || seq < 1) invalid("a write's seq must be a positive integer");
  if (json !== undefined) {
    if (typeof json !== 'string') invalid("a write's json must be a string");
    try {
      JSON.parse(json);
    } catch {
      invalid("a write's json is not JSON");
    }
  }
  let hlc: HlcTimestamp;
  try {
    hlc = parseHlc(field(value, 'hlc'));
  } catch (error) {
    if (error instanceof ClockError) invalid(`a write's hlc: ${error.message}`);
    throw error;
  }
  if (hlc.nodeId !== origin) invalid("a write's hlc must carry its origin as nodeId");
  const deps = vectorOf(field(value, 'deps'), "a write's deps");
  if ((deps[origin] ?? 0) !== seq - 1) invalid(`a write's deps must hold seq - 1 for its origin`);
  return Object.freeze(json === undefined ? { key, origin, seq, hlc, deps } : { key, json, origin, seq, hlc, deps });
}

/**
 * Validates an untrusted message (for example `JSON.parse` output) as an {@link ApMessage} and
 * returns a frozen copy of its known fields. A replica runs every inbound message through it.
 *
 * @param maxKeyLength the longest key accepted (default 1,024).
 * @throws {@link ApError} `INVALID_MESSAGE`, saying what is wrong.
 *
 * @example
 * ```ts
 * import { ApError, validateApMessage } from 'raftkit';
 * console.log(validateApMessage(JSON.parse('{"type":"ApDigest","from":"a","to":"b","vector":{"a":3}}')).type); // ApDigest
 * try { validateApMessage({ type: 'ApDigest', from: 'a', to: 'b', vector: { a: -1 } }); } catch (error) {
 *   if (error instanceof ApError) console.log(error.code); // INVALID_MESSAGE
 * }
 * ```
 */
export function validateApMessage(value: unknown, maxKeyLength = 1024): ApMessage {
  if (!isPlainObject(value)) invalid('a message must be an object');
  const type = field(value, 'type');
  const from = field(value, 'from');
  const to = field(value, 'to');
  if (!isValidNodeId(from) || !isValidNodeId(to)) invalid('from and to must be valid node ids');
  const vector = vectorOf(field(value, 'vector'), 'vector');
  if (type === 'ApDigest') return Object.freeze({ type, from, to, vector });
  if (type !== 'ApDelta') invalid(`unknown type ${JSON.stringify(type)}`);
  const writes = field(value, 'writes');
  const more = field(value, 'more');
  const reply = field(value, 'reply');
  if (!Array.isArray(writes)) invalid('writes must be an array');
  if (typeof more !== 'boolean' || typeof reply !== 'boolean') invalid('more and reply must be booleans');
  return Object.freeze({ type, from, to, vector, writes: Object.freeze(writes.map((w: unknown) => readWrite(w, maxKeyLength))), more, reply });
}
