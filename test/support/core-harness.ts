/**
 * Drives RaftCores by hand, for scenario tests that need exact control: every message waits in
 * a queue until delivered or dropped, and each node's Ready is processed like RaftNode does
 * (persist, send, apply, advance).
 */
import { RaftCore } from '../../src/raft/core.js';
import type { RaftCoreOptions } from '../../src/raft/options.js';
import type { Message } from '../../src/raft/messages.js';
import { MemoryStorage } from '../../src/raft/storage.js';
import type { LogEntry } from '../../src/raft/types.js';
import { SeededRandom } from '../../src/runtime/random.js';

/** A log given by the terms of its entries, index 1 first. */
export function logOf(terms: readonly number[], tag = ''): LogEntry[] {
  return terms.map((term, i) => ({ index: i + 1, term, kind: 'command' as const, command: `${tag}${i + 1}@${term}` }));
}

/** Decides a message's fate: deliver (true), drop (false) or deliver a replacement. */
export type Route = (m: Message) => boolean | Message;

export interface HarnessNode {
  readonly id: string;
  term?: number;
  votedFor?: string | null;
  log?: readonly LogEntry[];
}

export class CoreHarness {
  readonly cores = new Map<string, RaftCore>();
  readonly storages = new Map<string, MemoryStorage>();
  readonly applied = new Map<string, LogEntry[]>();
  /** Messages sent and not yet delivered or dropped. */
  queue: Message[] = [];
  /** Nodes that are down: they neither receive nor process anything. */
  readonly down = new Set<string>();
  private readonly ids: string[];

  constructor(nodes: readonly HarnessNode[], private readonly options: Partial<RaftCoreOptions> = {}) {
    this.ids = nodes.map((n) => n.id);
    for (const n of nodes) {
      const storage = new MemoryStorage();
      storage.save({ hardState: { term: n.term ?? 0, votedFor: n.votedFor ?? null }, entries: n.log ?? [] });
      this.storages.set(n.id, storage);
      this.boot(n.id);
    }
  }

  core(id: string): RaftCore {
    return this.cores.get(id)!;
  }

  /** Restarts a node from its storage (a crash loses only what was not persisted). */
  boot(id: string): RaftCore {
    const core = new RaftCore({
      id,
      peers: this.ids,
      random: new SeededRandom(`harness:${id}`),
      initialState: this.storages.get(id)!.load(),
      ...this.options,
    });
    this.cores.set(id, core);
    this.applied.set(id, []);
    this.down.delete(id);
    return core;
  }

  crash(id: string): void {
    this.down.add(id);
    this.queue = this.queue.filter((m) => m.to !== id && m.from !== id);
  }

  /** Processes every pending Ready of every live node. */
  flush(): void {
    for (let progress = true; progress; ) {
      progress = false;
      for (const [id, core] of this.cores) {
        if (this.down.has(id)) continue;
        while (core.hasReady()) {
          progress = true;
          const ready = core.ready();
          this.storages.get(id)!.save({ ...(ready.hardState && { hardState: ready.hardState }), ...(ready.snapshot && { snapshot: ready.snapshot }), entries: ready.entries });
          this.queue.push(...ready.messages);
          this.applied.get(id)!.push(...ready.committed);
          core.advance(ready);
        }
      }
    }
  }

  /**
   * Delivers queued messages until none are left. `route` decides each one: true delivers it,
   * false drops it, a message delivers that instead (as if the sender had sent it).
   */
  deliverAll(route: Route = () => true, maxSteps = 10_000): void {
    this.flush();
    for (let steps = 0; this.queue.length > 0; steps++) {
      if (steps > maxSteps) throw new Error('deliverAll: no quiescence');
      const m = this.queue.shift()!;
      const verdict = this.down.has(m.to) ? false : route(m);
      if (verdict !== false) this.core(m.to).step(verdict === true ? m : verdict);
      this.flush();
    }
  }

  /** Makes `id` campaign and delivers everything among the live nodes (with `allow`). */
  elect(id: string, allow?: Route): void {
    this.core(id).campaign();
    this.deliverAll(allow);
  }

  /** Leader heartbeat: lets the leader's heartbeat interval pass and delivers. */
  heartbeat(id: string, allow?: Route): void {
    this.core(id).elapse(this.options.heartbeatIntervalMs ?? 50);
    this.deliverAll(allow);
  }

  terms(id: string): number[] {
    return this.core(id).entries().map((e) => e.term);
  }
}
