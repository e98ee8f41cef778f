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

/** Record types: a segment's opening state, one `save`, and a snapshot file's content. */
export const STATE = 1;
export const UPDATE = 2;
export const SNAPSHOT = 3;

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
  if (type < STATE || type > SNAPSHOT || length > MAX_PAYLOAD_BYTES) return undefined;
  const end = offset + HEADER_BYTES + length;
  if (end > bytes.length || crc32c(bytes, offset + 4, end) !== view.getUint32(offset, true)) return undefined;
  return { type, payload: bytes.subarray(offset + HEADER_BYTES, end), offset };
}

/**
 * Every intact record of a file, in order, up to the first spot that is not one (`badAt`, or
 * undefined when the file ends cleanly). `intactAfter` says whether any intact record starts
 * after that spot: if one does, the damage is not a torn tail.
 */
export function scan(bytes: Uint8Array): { records: ScannedRecord[]; badAt?: number; intactAfter: boolean } {
  const records: ScannedRecord[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const record = recordAt(bytes, offset);
    if (record === undefined) {
      let intactAfter = false;
      for (let at = offset + 1; at + HEADER_BYTES <= bytes.length && !intactAfter; at++) intactAfter = recordAt(bytes, at) !== undefined;
      return { records, badAt: offset, intactAfter };
    }
    records.push(record);
    offset += HEADER_BYTES + record.payload.length;
  }
  return { records, intactAfter: false };
}
