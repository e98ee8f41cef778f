/**
 * Length-prefixed frames on a byte stream: a 4-byte big-endian payload length, then the payload.
 * The decoder checks each length against a limit before buffering anything of the payload, so a
 * hostile length prefix costs nothing.
 */

/** Bytes of the length prefix. */
export const FRAME_HEADER_BYTES = 4;

/** The largest payload a 4-byte prefix can announce. */
export const MAX_FRAME_LIMIT = 0xffff_ffff;

/** The length prefix of a payload of `length` bytes. */
export function frameHeader(length: number): Buffer {
  const header = Buffer.allocUnsafe(FRAME_HEADER_BYTES);
  header.writeUInt32BE(length, 0);
  return header;
}

/** One whole frame (prefix and payload) in one buffer: for small frames such as the handshake. */
export function encodeFrame(payload: Uint8Array): Buffer {
  return Buffer.concat([frameHeader(payload.byteLength), payload]);
}

/** Raised by {@link FrameDecoder.push} for a length prefix above the decoder's limit. */
export class FrameTooLargeError extends Error {
  constructor(
    readonly length: number,
    readonly limit: number,
  ) {
    super(`a frame of ${length} bytes exceeds the limit of ${limit}`);
    this.name = 'FrameTooLargeError';
  }
}

/**
 * Reassembles frames from the chunks a socket reads. Chunks are kept as they come and joined
 * once per frame, so a large frame read in many chunks is copied once, not once per chunk.
 */
export class FrameDecoder {
  readonly #chunks: Buffer[] = [];
  #buffered = 0;
  /** The payload length of the frame being read, or -1 while its prefix is incomplete. */
  #need = -1;

  /** @param maxFrameBytes the largest payload accepted; may be raised later (after a handshake). */
  constructor(public maxFrameBytes: number) {}

  /** Bytes held that do not yet make a whole frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds `chunk` and calls `onFrame` for every frame it completes, in order. Throws a
   * {@link FrameTooLargeError} on a prefix above the limit, after the frames before it.
   */
  push(chunk: Buffer, onFrame: (payload: Buffer) => void): void {
    if (chunk.byteLength > 0) this.#chunks.push(chunk);
    this.#buffered += chunk.byteLength;
    for (;;) {
      if (this.#need < 0) {
        if (this.#buffered < FRAME_HEADER_BYTES) return;
        const length = this.#take(FRAME_HEADER_BYTES).readUInt32BE(0);
        if (length > this.maxFrameBytes) throw new FrameTooLargeError(length, this.maxFrameBytes);
        this.#need = length;
      }
      if (this.#buffered < this.#need) return;
      const payload = this.#take(this.#need);
      this.#need = -1;
      onFrame(payload);
    }
  }

  /** Removes and returns the first `n` buffered bytes (`n` ≤ what is buffered). */
  #take(n: number): Buffer {
    if (n === 0) return Buffer.alloc(0); // an empty frame: there may be no chunk left to slice
    this.#buffered -= n;
    const first = this.#chunks[0] as Buffer;
    if (first.byteLength >= n) {
      if (first.byteLength === n) this.#chunks.shift();
      else this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let filled = 0;
    while (filled < n) {
      const chunk = this.#chunks[0] as Buffer;
      const used = Math.min(chunk.byteLength, n - filled);
      chunk.copy(out, filled, 0, used);
      filled += used;
      if (used === chunk.byteLength) this.#chunks.shift();
      else this.#chunks[0] = chunk.subarray(used);
    }
    return out;
  }
}
