/**
 * The handshake that opens every connection between two TcpTransports. The dialling node sends
 * a hello: which cluster, which node it is, which node it means to reach, and on which lane; the
 * listening node answers with its own hello, or with a refusal and a reason, and closes.
 * Handshakes are always JSON (whatever the message codec), so that two nodes with different
 * codecs fail with a clear decode error rather than a garbled handshake.
 */
import type { PeerCertificate } from 'node:tls';
import type { NodeId } from '../raft/types.js';
import { encodeFrame } from './frames.js';
import type { RefusalReason } from './tcp-errors.js';

/** The handshake version; a node refuses any other. */
const VERSION = 1;

/**
 * The largest handshake frame accepted. Until a connection has introduced itself, it may not
 * make this node buffer more than this.
 */
export const MAX_HANDSHAKE_BYTES = 4096;

/**
 * Each peer gets two connections: `control` for the small, urgent messages (heartbeats,
 * votes, appends, responses) and `bulk` for snapshot chunks, so that a large chunk on the wire
 * never holds up a heartbeat behind it.
 */
export type Lane = 'control' | 'bulk';

/** What the dialling node says first. */
export interface Hello {
  readonly raftkit: typeof VERSION;
  readonly cluster: string;
  readonly from: NodeId;
  readonly to: NodeId;
  readonly lane: Lane;
}

/** The listening node's answer: its own hello, or why it refuses. */
export type Reply = { readonly raftkit: typeof VERSION; readonly ok: true; readonly cluster: string; readonly from: NodeId } | Refusal;
export interface Refusal {
  readonly raftkit: typeof VERSION;
  readonly ok: false;
  readonly refused: RefusalReason;
}

export const helloFrame = (cluster: string, from: NodeId, to: NodeId, lane: Lane): Buffer =>
  encodeFrame(Buffer.from(JSON.stringify({ raftkit: VERSION, cluster, from, to, lane } satisfies Hello)));

export const welcomeFrame = (cluster: string, from: NodeId): Buffer =>
  encodeFrame(Buffer.from(JSON.stringify({ raftkit: VERSION, ok: true, cluster, from } satisfies Reply)));

export const refusalFrame = (refused: RefusalReason): Buffer =>
  encodeFrame(Buffer.from(JSON.stringify({ raftkit: VERSION, ok: false, refused } satisfies Refusal)));

function parseObject(payload: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength).toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value) && (value as { raftkit?: unknown }).raftkit === VERSION
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const isId = (value: unknown): value is string => typeof value === 'string' && value !== '' && value.length <= 256;

/** The hello a frame holds, or undefined when it holds none (a client that is not a raftkit node). */
export function parseHello(payload: Uint8Array): Hello | undefined {
  const value = parseObject(payload);
  if (value === undefined || typeof value.cluster !== 'string' || !isId(value.from) || !isId(value.to)) return undefined;
  if (value.lane !== 'control' && value.lane !== 'bulk') return undefined;
  return value as unknown as Hello;
}

/** The reply a frame holds, or undefined. */
export function parseReply(payload: Uint8Array): Reply | undefined {
  const value = parseObject(payload);
  if (value?.ok === true && typeof value.cluster === 'string' && isId(value.from)) return value as unknown as Reply;
  if (value?.ok === false && typeof value.refused === 'string') return value as unknown as Refusal;
  return undefined;
}

/** Whether the listening node `self` of `cluster`, which knows `isPeer`, admits `hello`; if not, why. */
export function checkHello(hello: Hello, self: NodeId, cluster: string, isPeer: (id: NodeId) => boolean): RefusalReason | undefined {
  if (hello.cluster !== cluster) return 'wrong-cluster';
  if (hello.to !== self) return 'wrong-node';
  if (hello.from === self || !isPeer(hello.from)) return 'unknown-node';
  return undefined;
}

/**
 * The names a certificate gives its holder: the subject's common names and the subject
 * alternative names of type DNS and URI. A node's certificate must name its node id among them.
 */
export function certificateNames(certificate: PeerCertificate | undefined): string[] {
  if (certificate === undefined || certificate === null) return [];
  const names: string[] = [];
  const cn: unknown = certificate.subject?.CN;
  if (typeof cn === 'string') names.push(cn);
  else if (Array.isArray(cn)) names.push(...cn.filter((n): n is string => typeof n === 'string'));
  for (const entry of altNameEntries(certificate.subjectaltname ?? '')) {
    if (entry.type === 'DNS' || entry.type === 'URI') names.push(entry.value);
  }
  return names;
}

/** A JSON string literal at the start of the text (the pattern Node's own `tls` module splits alternative names with). */
const JSON_STRING = /^"(?:[^"\\\u0000-\u001f]|\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4}))*"/;
/** What Node prints unquoted: anything but a quote, a backslash, a comma, a single quote or a control character. */
const SAFE_VALUE = /^[^"\\,'\u0000-\u001f\u007f]*$/;

/**
 * The entries of a certificate's `subjectaltname` as Node prints it: `type:value` entries
 * separated by `', '`, such as `DNS:a, URI:spiffe://c/a, IP Address:10.0.0.1, email:x@y`. A value
 * with a comma, a quote, a backslash or a control character is printed as a JSON string
 * (`DNS:"a\u002c b"`). Each entry's type is the text before its first colon, and its value all
 * the rest, so that a `DNS:` inside another entry's value (`email:mallory-DNS:b`) is no DNS name.
 * Text Node would not print (an unterminated quote, a quote inside a value) yields no entries at
 * all: a certificate whose names cannot be read unambiguously names nothing by them.
 */
export function altNameEntries(text: string): { type: string; value: string }[] {
  if (text === '') return [];
  const entries: { type: string; value: string }[] = [];
  let offset = 0;
  for (;;) {
    // One entry: up to the next ', ' that is not inside a quoted value.
    let end = offset;
    for (;;) {
      const separator = text.indexOf(', ', end);
      const quote = text.indexOf('"', end);
      if (quote === -1 || (separator !== -1 && separator < quote)) {
        end = separator === -1 ? text.length : separator;
        break;
      }
      const literal = JSON_STRING.exec(text.slice(quote));
      if (literal === null) return []; // an unterminated or malformed quoted value
      end = quote + literal[0].length;
    }
    const entry = text.slice(offset, end);
    const colon = entry.indexOf(':');
    if (colon <= 0) return [];
    const raw = entry.slice(colon + 1);
    let value: string;
    if (raw.startsWith('"')) {
      const literal = JSON_STRING.exec(raw);
      if (literal === null || literal[0].length !== raw.length) return []; // text after the closing quote
      value = JSON.parse(raw) as string;
    } else if (SAFE_VALUE.test(raw)) value = raw;
    else return []; // a quote (or worse) inside an unquoted value
    entries.push({ type: entry.slice(0, colon), value });
    if (end === text.length) return entries;
    offset = end + 2;
  }
}
