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
  // Node lists SANs as 'DNS:a, URI:spiffe://x, IP Address:10.0.0.1', quoting (as JSON) values with commas or quotes.
  for (const match of (certificate.subjectaltname ?? '').matchAll(/(DNS|URI):("(?:[^"\\]|\\.)*"|[^,]*)/g)) {
    const value = match[2] as string;
    try {
      names.push(value.startsWith('"') ? (JSON.parse(value) as string) : value);
    } catch {
      // A malformed quoted name names nothing.
    }
  }
  return names;
}
