/**
 * How a record lies on disk: `[crc u32][length u32][type u8][payload]`, little-endian. The
 * CRC-32C covers everything after it (length, type and payload), so a torn or flipped byte
 * anywhere in a record is caught.
 */
import { crc32c } from './crc32c.js';

/** The bytes before a record's payload. */
export const HEADER_BYTES = 9;
/** The largest payload a record may declare (1 GiB): a larger length is damage, not data. */
export const MAX_PAYLOAD_BYTES = 1 << 30;

/**
 * Record types: a segment's opening state, one `save`, a snapshot file's content, and the mark
 * that opens each write to the log (a batch: the saves that share one write and one sync).
 */
export const STATE = 1;
export const UPDATE = 2;
export const SNAPSHOT = 3;
export const BATCH = 4;

/** One record, framed. */
export function frame(type: number, payload: Uint8Array): Uint8Array {
  const bytes = new Uint8Array(HEADER_BYTES + payload.length);
  const view = new DataView(bytes.buffer);
  view.setUint32(4, payload.length, true);
  bytes[8] = type;
  bytes.set(payload, HEADER_BYTES);
  view.setUint32(0, crc32c(bytes, 4), true);
  return bytes;
}

/** The bytes of a {@link BATCH} mark's record. */
export const BATCH_BYTES = HEADER_BYTES + 4;

/** The mark that opens a write of `bytes` bytes in all (the mark included). */
export function batchMark(bytes: number): Uint8Array {
  const payload = new Uint8Array(4);
  new DataView(payload.buffer).setUint32(0, bytes, true);
  return frame(BATCH, payload);
}

/** A record read back: its type, payload (a view into the file's bytes) and where it lies. */
export interface ScannedRecord {
  readonly type: number;
  readonly payload: Uint8Array;
  readonly offset: number;
}

/** The intact record at `offset` in `bytes`, or undefined when there is none (torn, damaged or absent). */
export function recordAt(bytes: Uint8Array, offset: number): ScannedRecord | undefined {
  if (offset + HEADER_BYTES > bytes.length) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const length = view.getUint32(offset + 4, true);
  const type = bytes[offset + 8] as number;
  if (type < STATE || type > BATCH || length > MAX_PAYLOAD_BYTES || (type === BATCH && length !== 4)) return undefined;
  const end = offset + HEADER_BYTES + length;
  if (end > bytes.length || crc32c(bytes, offset + 4, end) !== view.getUint32(offset, true)) return undefined;
  return { type, payload: bytes.subarray(offset + HEADER_BYTES, end), offset };
}

/** What {@link scan} found in a file. */
export interface Scanned {
  /** Every intact record up to the first spot that is not one (batch marks included). */
  readonly records: ScannedRecord[];
  /** That spot, or undefined when the file ends cleanly. */
  readonly badAt?: number;
  /**
   * Where the file must be cut if the damage is the last write cut short by a crash, or
   * undefined if it cannot be: then it is damage to what was once synced.
   */
  readonly tornFrom?: number;
}

/**
 * Reads a file's records, and judges damage. A write appends one batch and is synced before the
 * next begins, so a crash can harm only the last batch, anywhere in it (the disk may keep some of
 * its pages and lose others). The damage is a torn write exactly when nothing intact follows that
 * batch: no later batch mark, and, when the damage lies inside a batch, no record past its end.
 * A torn batch is cut off whole: it was never synced, so none of its saves was acknowledged.
 */
export function scan(bytes: Uint8Array): Scanned {
  const records: ScannedRecord[] = [];
  let offset = 0;
  let batch: { start: number; end: number } | undefined;
  while (offset < bytes.length) {
    const record = recordAt(bytes, offset);
    if (record === undefined) break;
    records.push(record);
    if (record.type === BATCH) batch = { start: offset, end: offset + new DataView(record.payload.buffer, record.payload.byteOffset, 4).getUint32(0, true) };
    offset += HEADER_BYTES + record.payload.length;
  }
  if (offset >= bytes.length) return { records };
  const inside = batch !== undefined && offset < batch.end;
  for (let at = offset + 1; at + HEADER_BYTES <= bytes.length; at++) {
    const later = recordAt(bytes, at);
    if (later !== undefined && (later.type === BATCH || (inside && at >= (batch as { end: number }).end))) return { records, badAt: offset };
  }
  const tornFrom = inside ? (batch as { start: number }).start : offset;
  return { records: records.filter((record) => record.offset < tornFrom), badAt: offset, tornFrom };
}
