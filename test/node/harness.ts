/**
 * A small deterministic cluster of RaftNodes for node-level tests: one VirtualScheduler, one
 * seeded random, one InMemoryNetwork, and nodes we build ourselves (so a test can wrap
 * transports, swap storage or restart a node from its storage).
 */
import { RaftNode, type RaftNodeOptions } from '../../src/node/raft-node.js';
import type { Message } from '../../src/raft/messages.js';
import type { StateMachine } from '../../src/raft/state-machine.js';
import { MemoryStorage, type Storage } from '../../src/raft/storage.js';
import type { NodeId } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork, type NetworkConditions } from '../../src/transport/memory.js';
import type { Transport } from '../../src/transport/transport.js';

export interface SimOptions {
  readonly ids?: readonly NodeId[];
  readonly seed?: number;
  readonly network?: NetworkConditions;
  readonly stateMachine?: (id: NodeId) => StateMachine<unknown, unknown>;
  readonly storage?: (id: NodeId) => Storage;
  /** Wraps each node's transport (e.g. to capture its inbound handler). */
  readonly wrapTransport?: (id: NodeId, transport: Transport<Message>) => Transport<Message>;
  readonly nodeOptions?: (id: NodeId) => Partial<RaftNodeOptions>;
}

export class Sim {
  readonly scheduler = new VirtualScheduler();
  readonly random: SeededRandom;
  readonly network: InMemoryNetwork<Message>;
  readonly ids: readonly NodeId[];
  readonly storages = new Map<NodeId, Storage>();
  private readonly nodes = new Map<NodeId, RaftNode>();
  private incarnation = 0;

  constructor(private readonly options: SimOptions = {}) {
    this.ids = options.ids ?? ['1', '2', '3'];
    this.random = new SeededRandom(options.seed ?? 1);
    this.network = new InMemoryNetwork<Message>({
      scheduler: this.scheduler,
      random: this.random.fork('network'),
      latencyMs: [1, 5],
      ...options.network,
    });
    for (const id of this.ids) {
      this.storages.set(id, options.storage?.(id) ?? new MemoryStorage());
      this.nodes.set(id, this.make(id));
    }
  }

  /** Builds (does not start) a node for `id` on its storage, replacing the previous one. */
  make(id: NodeId): RaftNode {
    const o = this.options;
    const transport = this.network.transport(id);
    const node = new RaftNode({
      id,
      peers: this.ids,
      transport: o.wrapTransport ? o.wrapTransport(id, transport) : transport,
      storage: this.storages.get(id)!,
      scheduler: this.scheduler,
      random: this.random.fork(`node:${id}:${++this.incarnation}`),
      ...(o.stateMachine && { stateMachine: o.stateMachine(id) }),
      ...o.nodeOptions?.(id),
    });
    this.nodes.set(id, node);
    return node;
  }

  node(id: NodeId): RaftNode {
    return this.nodes.get(id)!;
  }

  get all(): RaftNode[] {
    return this.ids.map((id) => this.node(id));
  }

  async startAll(): Promise<void> {
    await Promise.all(this.all.map((n) => n.start()));
  }

  /** Runs virtual time (synchronously; promise callbacks run when the caller next awaits). */
  run(ms: number): void {
    this.scheduler.runFor(ms);
  }

  runUntil(predicate: () => boolean, timeoutMs = 5_000): boolean {
    return this.scheduler.runUntil(predicate, { timeoutMs });
  }

  /** The running leader with the highest term, if any. */
  leader(): RaftNode | undefined {
    let best: RaftNode | undefined;
    for (const n of this.all) if (n.running && n.role === 'leader' && (best === undefined || n.term > best.term)) best = n;
    return best;
  }

  /** Makes `id` campaign and runs until it leads and every running node knows it. */
  elect(id: NodeId): RaftNode {
    const node = this.node(id);
    node.campaign();
    const ok = this.runUntil(() => node.role === 'leader' && this.all.every((n) => !n.running || n.leaderId === id), 2_000);
    if (!ok) throw new Error(`node ${id} did not become a known leader`);
    return node;
  }

  /** Runs until every running node applied through `index`. */
  settle(index: number, timeoutMs = 5_000): boolean {
    return this.runUntil(() => this.all.every((n) => !n.running || n.lastApplied >= index), timeoutMs);
  }
}

/** Lets pending promise callbacks run (a macrotask drains every microtask). */
export function drain(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** The state of a promise, observable without awaiting it (and never an unhandled rejection). */
export interface Tracked<T> {
  state: 'pending' | 'fulfilled' | 'rejected';
  value?: T;
  error?: unknown;
}

export function track<T>(promise: Promise<T>): Tracked<T> {
  const t: Tracked<T> = { state: 'pending' };
  promise.then(
    (value) => {
      t.state = 'fulfilled';
      t.value = value;
    },
    (error: unknown) => {
      t.state = 'rejected';
      t.error = error;
    },
  );
  return t;
}

/**
 * Runs the scheduler one event at a time, draining promise callbacks after each, so that async
 * storage continuations happen at the virtual time their promise resolved.
 */
export async function runAsync(scheduler: VirtualScheduler, ms: number, until?: () => boolean): Promise<boolean> {
  const end = scheduler.now() + ms;
  await drain();
  for (;;) {
    if (until?.()) return true;
    const next = scheduler.nextTime();
    if (next === undefined || next > end) break;
    scheduler.step();
    await drain();
  }
  scheduler.advanceTo(end);
  await drain();
  return until?.() ?? false;
}

/** A transport wrapper that captures the inbound handler, so a test can inject raw messages. */
export function capturing(transport: Transport<Message>): { transport: Transport<Message>; inject: (raw: unknown) => void } {
  let handler: ((raw: unknown) => void) | undefined;
  return {
    transport: {
      send: (to, message) => transport.send(to, message),
      listen: (h) => {
        handler = h;
        transport.listen(h);
      },
      close: () => transport.close(),
    },
    inject: (raw) => {
      if (handler === undefined) throw new Error('capturing: the node is not listening');
      handler(raw);
    },
  };
}

/** A transport that goes nowhere: records what is sent and lets the test deliver by hand. */
export function manualTransport(): { transport: Transport<Message>; sent: Message[]; inject: (raw: unknown) => void; closed: () => boolean } {
  const sent: Message[] = [];
  let handler: ((raw: unknown) => void) | undefined;
  let closed = false;
  return {
    transport: {
      send: (_to, message) => {
        sent.push(message);
      },
      listen: (h) => {
        handler = h;
      },
      close: async () => {
        closed = true;
        handler = undefined;
      },
    },
    sent,
    inject: (raw) => handler?.(raw),
    closed: () => closed,
  };
}
