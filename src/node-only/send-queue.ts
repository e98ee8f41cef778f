/**
 * A send queue bounded in messages and in bytes. When a new frame does not fit, the oldest
 * frames make room for it: Raft resends what matters, and the newest message (a fresh
 * heartbeat, the latest log position) is the one worth delivering when the peer comes back.
 */

/** One encoded message waiting to be written. */
export interface QueuedFrame {
  /** The message type, for the statistics. */
  readonly type: string;
  /** The encoded message (the frame's payload). */
  readonly bytes: Uint8Array;
}

export class SendQueue {
  #items: QueuedFrame[] = [];
  /** Index of the first live item: shifting an array is O(n), moving an index is O(1). */
  #head = 0;
  #bytes = 0;

  constructor(
    readonly maxMessages: number,
    readonly maxBytes: number,
  ) {}

  /** Frames waiting. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** Payload bytes waiting. */
  get bytes(): number {
    return this.#bytes;
  }

  /**
   * Appends `frame`, first evicting the oldest frames until it fits. Returns what was evicted
   * (the frame itself, when it alone exceeds `maxBytes`), for the caller to count as dropped.
   */
  push(frame: QueuedFrame): QueuedFrame[] {
    const size = frame.bytes.byteLength;
    if (size > this.maxBytes) return [frame];
    const evicted: QueuedFrame[] = [];
    while (this.length > 0 && (this.length >= this.maxMessages || this.#bytes + size > this.maxBytes)) {
      evicted.push(this.shift() as QueuedFrame);
    }
    this.#items.push(frame);
    this.#bytes += size;
    return evicted;
  }

  /** Removes and returns the oldest frame. */
  shift(): QueuedFrame | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const frame = this.#items[this.#head] as QueuedFrame;
    this.#items[this.#head++] = undefined as unknown as QueuedFrame; // let the buffer go
    this.#bytes -= frame.bytes.byteLength;
    if (this.#head === this.#items.length) {
      this.#items = [];
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return frame;
  }

  /** Empties the queue; returns what it held. */
  clear(): QueuedFrame[] {
    const all = this.#items.slice(this.#head);
    this.#items = [];
    this.#head = 0;
    this.#bytes = 0;
    return all;
  }
}
