/**
 * Snapshots between nodes: the leader sends one in chunks, a follower reassembles them. Chunks
 * join only within one snapshot of one leader (another may serialise its state differently).
 */
import type { InstallSnapshot } from './messages.js';
import type { NodeId, Snapshot } from './types.js';

/** A snapshot a follower is receiving: from which leader (and term), and the chunks so far. */
export interface IncomingSnapshot {
  readonly from: string;
  readonly leaderTerm: number;
  readonly index: number;
  readonly term: number;
  readonly chunks: string[];
  length: number;
}

/** The InstallSnapshot carrying the chunk of `snapshot` that starts at `offset` (clamped to the end): at most `size` characters. */
export function chunkMessage(from: NodeId, to: NodeId, term: number, snapshot: Snapshot, offset: number, size: number): InstallSnapshot {
  const start = Math.min(offset, snapshot.data.length);
  const data = snapshot.data.slice(start, start + size);
  const done = start + data.length >= snapshot.data.length;
  return { type: 'InstallSnapshot', from, to, term, index: snapshot.index, lastTerm: snapshot.term, membership: snapshot.membership, offset: start, data, done };
}

/** What a follower makes of a chunk: the transfer in progress, where the sender should resume, and the snapshot once complete. */
export interface ChunkReceived {
  readonly incoming: IncomingSnapshot | null;
  readonly resumeAt: number;
  readonly snapshot: Snapshot | null;
}

/**
 * Adds chunk `m` to the transfer in progress (`incoming`). A first chunk starts a new transfer;
 * any other must continue the current one where it ends, else the sender is told where to
 * resume (0: from the start).
 */
export function receiveChunk(incoming: IncomingSnapshot | null, m: InstallSnapshot): ChunkReceived {
  const same = incoming?.from === m.from && incoming.leaderTerm === m.term && incoming.index === m.index && incoming.term === m.lastTerm;
  const current = same ? incoming : m.offset === 0 ? { from: m.from, leaderTerm: m.term, index: m.index, term: m.lastTerm, chunks: [], length: 0 } : null;
  if (current === null) return { incoming, resumeAt: 0, snapshot: null }; // a chunk of another snapshot, out of order
  if (current.length !== m.offset) return { incoming: current, resumeAt: current.length, snapshot: null };
  current.chunks.push(m.data);
  current.length += m.data.length;
  if (!m.done) return { incoming: current, resumeAt: current.length, snapshot: null };
  return { incoming: null, resumeAt: current.length, snapshot: { index: m.index, term: m.lastTerm, membership: m.membership, data: current.chunks.join('') } };
}
