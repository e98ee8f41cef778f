/**
 * A fault-injecting TCP proxy for tests, on loopback only. For each directed pair of nodes X→Y
 * it listens on a port of its own and forwards each connection to Y's real address; node X is
 * told to reach Y at `port(X, Y)`. A TcpTransport carries X's messages to Y only on connections
 * X dials, so the link X→Y carries exactly the traffic from X to Y (plus Y's handshake answer),
 * and cutting it leaves Y→X flowing.
 *
 * Faults, per directed link: `cut` (`'blackhole'`: bytes vanish, connections stay open and
 * silent; `'close'`: connections are closed and new ones closed on arrival), `delay` (every
 * chunk held for a time, order kept), `drop` (close the connections open now). `partition`
 * cuts every link between groups of nodes, both ways; `heal` undoes every fault. Connections
 * that lost bytes to a blackhole are closed on heal, since their byte stream has a hole in it.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export type CutMode = 'blackhole' | 'close';

interface Pipe {
  readonly downstream: Socket;
  readonly upstream: Socket;
  /** Bytes were swallowed by a blackhole: the stream is broken, close it on heal. */
  holed: boolean;
}

interface Link {
  readonly from: string;
  readonly to: string;
  readonly server: Server;
  port: number;
  cut: CutMode | null;
  delayMs: number;
  jitterMs: number;
  readonly pipes: Set<Pipe>;
  /** Connections accepted on this link, over its lifetime. */
  accepted: number;
}

export class TcpProxy {
  readonly #links = new Map<string, Link>();
  readonly #targets: Readonly<Record<string, number>>;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  /** @param targets each node's real port on 127.0.0.1 */
  private constructor(targets: Readonly<Record<string, number>>) {
    this.#targets = targets;
  }

  /** A proxy listening for every directed pair of `targets` (node id → its real port on 127.0.0.1). */
  static async start(targets: Readonly<Record<string, number>>): Promise<TcpProxy> {
    const proxy = new TcpProxy(targets);
    const ids = Object.keys(targets);
    for (const from of ids) for (const to of ids) if (from !== to) await proxy.#listen(from, to);
    return proxy;
  }

  /** Where `from` must dial to reach `to`. */
  port(from: string, to: string): number {
    return this.#link(from, to).port;
  }

  /** Node `from`'s view of the cluster: itself at `self`, every other node at its proxy port (a `--peers` value). */
  peersOf(from: string, self: string): string {
    return Object.keys(this.#targets)
      .map((id) => `${id}=${id === from ? self : `127.0.0.1:${this.port(from, id)}`}`)
      .join(',');
  }

  /** Connections accepted on `from`→`to` so far. */
  accepted(from: string, to: string): number {
    return this.#link(from, to).accepted;
  }

  /** Blocks `from`→`to` only; `to`→`from` keeps flowing. */
  cut(from: string, to: string, mode: CutMode = 'blackhole'): void {
    const link = this.#link(from, to);
    link.cut = mode;
    if (mode === 'close') for (const pipe of link.pipes) this.#close(pipe);
  }

  /** Cuts every link between nodes of different groups, both ways. Nodes in no group keep all their links. */
  partition(groups: readonly (readonly string[])[], mode: CutMode = 'blackhole'): void {
    const groupOf = new Map(groups.flatMap((group, g) => group.map((id) => [id, g] as const)));
    for (const link of this.#links.values()) {
      const a = groupOf.get(link.from);
      const b = groupOf.get(link.to);
      if (a !== undefined && b !== undefined && a !== b) this.cut(link.from, link.to, mode);
    }
  }

  /** Holds every chunk on `from`→`to` (both of its directions) for `ms` plus up to `jitterMs` more, in order. */
  delay(from: string, to: string, ms: number, jitterMs = 0): void {
    const link = this.#link(from, to);
    link.delayMs = ms;
    link.jitterMs = jitterMs;
  }

  /** Delays every link. */
  delayAll(ms: number, jitterMs = 0): void {
    for (const link of this.#links.values()) this.delay(link.from, link.to, ms, jitterMs);
  }

  /** Closes the connections open on `from`→`to` now (the dialler reconnects). Returns how many. */
  drop(from: string, to: string): number {
    const link = this.#link(from, to);
    const n = link.pipes.size;
    for (const pipe of link.pipes) this.#close(pipe);
    return n;
  }

  /** Lifts every cut and delay; closes the connections a blackhole broke. */
  heal(): void {
    for (const link of this.#links.values()) {
      link.cut = null;
      link.delayMs = 0;
      link.jitterMs = 0;
      for (const pipe of link.pipes) if (pipe.holed) this.#close(pipe);
    }
  }

  /** Closes every connection and listener. */
  async close(): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    await Promise.all(
      [...this.#links.values()].map((link) => {
        for (const pipe of link.pipes) this.#close(pipe);
        return new Promise<void>((resolve) => link.server.close(() => resolve()));
      }),
    );
  }

  #link(from: string, to: string): Link {
    const link = this.#links.get(`${from}>${to}`);
    if (link === undefined) throw new Error(`no proxy link ${from}→${to}`);
    return link;
  }

  async #listen(from: string, to: string): Promise<void> {
    const server = createServer((socket) => this.#accept(link, socket));
    const link: Link = { from, to, server, port: 0, cut: null, delayMs: 0, jitterMs: 0, pipes: new Set(), accepted: 0 };
    this.#links.set(`${from}>${to}`, link);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    link.port = (server.address() as { port: number }).port;
  }

  #accept(link: Link, downstream: Socket): void {
    link.accepted++;
    downstream.on('error', () => undefined);
    if (link.cut === 'close') return void downstream.destroy();
    const upstream = connect({ host: '127.0.0.1', port: this.#targets[link.to] as number });
    upstream.on('error', () => undefined);
    const pipe: Pipe = { downstream, upstream, holed: false };
    link.pipes.add(pipe);
    const closed = (): void => {
      link.pipes.delete(pipe);
      this.#close(pipe);
    };
    downstream.on('close', closed);
    upstream.on('close', closed);
    this.#forward(link, pipe, downstream, upstream);
    this.#forward(link, pipe, upstream, downstream);
  }

  /** Copies `source` to `sink` through the link's faults, in order. A write to a socket still connecting is buffered by Node. */
  #forward(link: Link, pipe: Pipe, source: Socket, sink: Socket): void {
    const queue: { due: number; chunk: Buffer }[] = []; // delayed chunks, oldest first
    let timer: ReturnType<typeof setTimeout> | undefined;
    const drain = (): void => {
      if (timer !== undefined) this.#timers.delete(timer);
      timer = undefined;
      while (queue.length > 0 && (queue[0] as { due: number }).due <= performance.now()) {
        const { chunk } = queue.shift() as { chunk: Buffer };
        if (!sink.destroyed) sink.write(chunk);
      }
      if (queue.length > 0) {
        timer = setTimeout(drain, Math.max(1, (queue[0] as { due: number }).due - performance.now()));
        this.#timers.add(timer);
      }
    };
    source.on('data', (chunk: Buffer) => {
      if (link.cut === 'blackhole') return void (pipe.holed = true);
      if (link.delayMs === 0 && link.jitterMs === 0 && queue.length === 0) return void sink.write(chunk);
      const last = queue.length > 0 ? (queue[queue.length - 1] as { due: number }).due : 0;
      queue.push({ due: Math.max(last, performance.now() + link.delayMs + Math.random() * link.jitterMs), chunk });
      if (timer === undefined) drain();
    });
  }

  #close(pipe: Pipe): void {
    pipe.downstream.destroy();
    pipe.upstream.destroy();
  }
}
