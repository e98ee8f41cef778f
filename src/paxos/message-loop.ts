/**
 * The plumbing both Paxos nodes share: receive from the transport, validate, hand over to the
 * node; send to peers, and to the node itself through a local queue (a node plays every role, and
 * its messages to itself never touch the network).
 */
import { InvalidMessageError } from '../raft/errors.js';
import type { NodeId } from '../raft/types.js';
import type { Envelope, Transport } from '../transport/transport.js';

/** Checks a node's id and peers (the peers include the node: every node is an acceptor). */
export function checkMembers(who: string, id: unknown, peers: unknown): readonly NodeId[] {
  if (typeof id !== 'string' || id.length === 0) throw new TypeError(`${who}: id must be a non-empty string`);
  if (!Array.isArray(peers) || peers.some((p) => typeof p !== 'string' || p.length === 0)) throw new TypeError(`${who}: peers must be an array of node ids`);
  const unique = [...new Set(peers as NodeId[])];
  if (!unique.includes(id)) throw new RangeError(`${who}: peers must include the node itself (${id}): every node is an acceptor`);
  return unique;
}

/** Checks a `[min, max]` option of whole, non-negative milliseconds. */
export function checkRange(who: string, name: string, value: readonly [number, number]): readonly [number, number] {
  const [min, max] = value;
  if (!(Number.isSafeInteger(min) && Number.isSafeInteger(max) && min >= 0 && max >= min)) {
    throw new RangeError(`${who}: ${name} must be [min, max], whole ms, 0 ≤ min ≤ max; got ${JSON.stringify(value)}`);
  }
  return value;
}

export class MessageLoop<M extends Envelope> {
  readonly #local: M[] = [];
  #draining = false;
  #open = false;

  constructor(
    private readonly id: NodeId,
    private readonly peers: readonly NodeId[],
    private readonly transport: Transport<M>,
    private readonly validate: (raw: unknown) => M | string,
    private readonly handle: (message: M) => void,
    private readonly emitError: (error: Error) => void,
  ) {}

  /** Reports a problem the node survived as an `error` event (a listener that throws cannot derail the node). */
  report(error: Error): void {
    try {
      this.emitError(error);
    } catch {
      // An 'error' listener that throws has nowhere left to report to.
    }
  }

  get open(): boolean {
    return this.#open;
  }

  start(): void {
    if (this.#open) return;
    this.#open = true;
    this.transport.listen((raw) => this.#receive(raw));
  }

  stop(): Promise<void> {
    this.#open = false;
    this.#local.length = 0;
    return this.transport.close();
  }

  /** Sends `message` (addressed to `message.to`); to this node itself it is queued, and handled once the current input is. */
  send(message: M): void {
    if (!this.#open) return;
    if (message.to !== this.id) this.transport.send(message.to, message);
    else this.#local.push(message);
  }

  /** Sends `make(peer)` to every peer, this node last (unless `self` is false). */
  broadcast(make: (to: NodeId) => M, self = true): void {
    for (const to of this.peers) if (to !== this.id) this.send(make(to));
    if (self) this.send(make(this.id));
  }

  /** Runs `input` (a timer firing, a call on the node), then handles what it sent to this node. */
  input(input: () => void): void {
    input();
    this.#drain();
  }

  /** Handles the queued messages to this node, in order (re-entrant calls return at once). */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (let m = this.#local.shift(); m !== undefined && this.#open; m = this.#local.shift()) this.handle(m);
    } finally {
      this.#draining = false;
    }
  }

  #receive(raw: unknown): void {
    if (!this.#open) return;
    const message = this.validate(raw);
    if (typeof message === 'string') return this.report(new InvalidMessageError(this.id, message));
    if (message.to !== this.id) return this.report(new InvalidMessageError(this.id, `addressed to ${message.to}`));
    if (message.from === this.id) return this.report(new InvalidMessageError(this.id, 'sent by this node itself'));
    if (!this.peers.includes(message.from)) return this.report(new InvalidMessageError(this.id, `from ${message.from}, not a peer`));
    this.input(() => this.handle(message));
  }
}
