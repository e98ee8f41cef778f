/**
 * TcpTransport on loopback (127.0.0.1, ephemeral ports only): the conformance suite plain and
 * over mutual TLS; hostile peers, each refused and counted while the transport keeps working;
 * bounded queues towards a peer that never reads and one that is not there; heartbeats that
 * overtake large snapshot chunks; reconnection after a restart; and a close() that ends every
 * connection, inbound ones included. No assertion depends on timing: each waits by polling.
 */
import { randomBytes } from 'node:crypto';
import { connect as connectTls } from 'node:tls';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { transportChecks, type TransportHarness } from '../../src/conformance/index.js';
import { frameHeader } from '../../src/node-only/frames.js';
import { TcpTransport, TcpTransportError, type RefusalReason, type TcpTlsOptions, type TcpTransportOptions } from '../../src/node-only/index.js';
import type { NodeId } from '../../src/raft/types.js';
import type { Envelope } from '../../src/transport/transport.js';
import { deadPort, eventually, fakePeer, hello, jsonFrame, Leftovers, makePki, rawConnect, sleep, watch, type Pki } from './tcp-support.js';

const CHECK_TIMEOUT_MS = 30_000;
const leftovers = new Leftovers();
afterEach(() => leftovers.cleanUp());

let pki: Pki | undefined;
/** The test PKI, made on first use (openssl takes a moment). */
const certificates = (): Pki => (pki ??= makePki(['a', 'b', 'c']));
afterAll(() => pki?.remove());
const tlsOf = (id: NodeId): TcpTlsOptions => certificates().node(id);

/** Warnings reported by each transport opened with {@link open}. */
const warnings = new Map<NodeId, TcpTransportError[]>();

/** A started transport on 127.0.0.1, closed after the test; its warnings are kept in `warnings`. */
async function open(id: NodeId, options: Partial<TcpTransportOptions> = {}): Promise<TcpTransport> {
  const seen: TcpTransportError[] = [];
  warnings.set(id, seen);
  const transport = await TcpTransport.open({ id, peers: {}, listen: '127.0.0.1:0', onWarning: (w) => seen.push(w), ...options });
  leftovers.closer(() => transport.close());
  return transport;
}

/** a and b, each knowing the other (and `c` at a port nobody uses, so that c is a known id). */
async function pair(options: Partial<TcpTransportOptions> = {}, optionsOf: (id: NodeId) => Partial<TcpTransportOptions> = () => ({})): Promise<[TcpTransport, TcpTransport]> {
  const a = await open('a', { ...options, ...optionsOf('a') });
  const b = await open('b', { ...options, ...optionsOf('b'), peers: { a: a.address! } });
  a.setPeer('b', b.address!);
  a.setPeer('c', `127.0.0.1:${await deadPort()}`);
  return [a, b];
}

/** What `transport` received, in order. */
function inbox(transport: TcpTransport): unknown[] {
  const received: unknown[] = [];
  transport.listen((message) => received.push(message));
  return received;
}

const ping = (from: NodeId, to: NodeId, id: number): Envelope & { id: number } => ({ type: 'ReadIndex', from, to, term: 1, id }) as Envelope & { id: number };
const has = (received: unknown[], id: number): boolean => received.some((m) => (m as { id?: number }).id === id);

/** Resends `message` until `received` holds it (the transport may drop; Raft resends too). */
async function deliver(from: TcpTransport, to: NodeId, received: unknown[], id: number): Promise<void> {
  const timer = setInterval(() => from.send(to, ping(from.id, to, id)), 50);
  leftovers.interval(timer);
  from.send(to, ping(from.id, to, id));
  try {
    await eventually(`message ${id} from ${from.id} to reach ${to}`, () => has(received, id));
  } finally {
    clearInterval(timer);
  }
}

const refusedTotal = (t: TcpTransport): number => Object.values(t.stats().refused).reduce((sum, n) => sum + n, 0);

/** `a` refuses exactly `times` for `reason`, reports it as a REFUSED warning, and still hears from b. */
async function expectRefusedThenWorking(a: TcpTransport, b: TcpTransport, reason: RefusalReason, id: number, times = 1): Promise<void> {
  await eventually(`a refusal for ${reason}`, () => a.stats().refused[reason] === times);
  expect(warnings.get('a')?.some((w) => w instanceof TcpTransportError && w.code === 'REFUSED' && w.reason === reason)).toBe(true);
  const received = inbox(a);
  await deliver(b, 'a', received, id);
}

// ── Conformance ──────────────────────────────────────────────────────────────────────────────

/**
 * A network of TcpTransports on loopback. A node keeps its port across restarts (the first
 * transport of an id binds port 0, the later ones the port it got), and every node learns a new
 * node's address when it first appears.
 */
function tcpHarness(tls?: (id: NodeId) => TcpTlsOptions): TransportHarness {
  return {
    createNetwork: () => {
      const ports = new Map<NodeId, number>();
      const transports: TcpTransport[] = [];
      return {
        transport: async (id) => {
          const peers = Object.fromEntries([...ports].map(([peer, port]) => [peer, `127.0.0.1:${port}`]));
          const transport = await TcpTransport.open({ id, peers, listen: { host: '127.0.0.1', port: ports.get(id) ?? 0 }, onWarning: () => undefined, ...(tls ? { tls: tls(id) } : {}) });
          if (!ports.has(id)) {
            ports.set(id, transport.address!.port);
            for (const other of transports) other.setPeer(id, transport.address!);
          }
          transports.push(transport);
          return transport;
        },
        close: async () => void (await Promise.all(transports.map((t) => t.close()))),
      };
    },
    timeoutMs: 10_000,
  };
}

describe('TcpTransport passes every conformance check', () => {
  describe('over plain TCP', () => {
    for (const check of transportChecks(tcpHarness())) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });
  describe('over mutual TLS', () => {
    for (const check of transportChecks(tcpHarness(tlsOf))) it(check.name, () => check.run(), CHECK_TIMEOUT_MS);
  });
});

// ── Hostile peers (plain TCP) ────────────────────────────────────────────────────────────────

describe('hostile peers are refused and counted, and the transport keeps working', () => {
  const quick = { handshakeTimeoutMs: 500, maxFrameBytes: 1 << 20 };

  it('random bytes', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(randomBytes(64 * 1024));
    await eventually('the connection to close', client.closed);
    expect(refusedTotal(a)).toBe(1); // by its first four bytes: almost surely frame-too-large, else bad-handshake or a timeout
    const received = inbox(a);
    await deliver(b, 'a', received, 1);
  });

  it('an oversized length prefix, before and after a valid handshake', async () => {
    const [a, b] = await pair(quick);
    const stranger = rawConnect(leftovers, a.address!.port);
    stranger.socket.write(frameHeader(0xffff_fff0)); // 4 GiB announced: nothing buffered
    await eventually('the stranger to be cut off', stranger.closed);
    expect(stranger.reply()).toEqual({ raftkit: 1, ok: false, refused: 'frame-too-large' });

    const peer = rawConnect(leftovers, a.address!.port);
    peer.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the welcome', () => peer.reply()?.ok === true);
    peer.socket.write(frameHeader((1 << 20) + 1)); // one byte over a's maxFrameBytes
    await eventually('the peer to be cut off', peer.closed);
    await expectRefusedThenWorking(a, b, 'frame-too-large', 2, 2);
  });

  it('a handshake from an unknown node id', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('raftkit', 'mallory', 'a'));
    await eventually('the connection to close', client.closed);
    expect(client.reply()).toEqual({ raftkit: 1, ok: false, refused: 'unknown-node' });
    expect(warnings.get('a')?.find((w) => w.reason === 'unknown-node')?.peer).toBe('mallory');
    await expectRefusedThenWorking(a, b, 'unknown-node', 1);
  });

  it('a handshake from another cluster, even with a known node id', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('another-cluster', 'b', 'a'));
    await eventually('the connection to close', client.closed);
    expect(client.reply()).toEqual({ raftkit: 1, ok: false, refused: 'wrong-cluster' });
    await expectRefusedThenWorking(a, b, 'wrong-cluster', 1);
  });

  it('a real node of another cluster is refused both ways, and says so', async () => {
    const a = await open('a', { clusterId: 'blue' });
    const b = await open('b', { clusterId: 'green', peers: { a: a.address! } });
    a.setPeer('b', b.address!);
    b.send('a', ping('b', 'a', 1));
    a.send('b', ping('a', 'b', 2));
    await eventually('both refusals', () => a.stats().refused['wrong-cluster'] >= 1 && b.stats().refused['wrong-cluster'] >= 1);
    await eventually('the dialling side to hear why', () => warnings.get('b')!.some((w) => w.code === 'PEER_REFUSED' && w.reason === 'wrong-cluster'));
    expect(a.stats().delivered.messages + b.stats().delivered.messages).toBe(0);
  });

  it('a handshake addressed to another node', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('raftkit', 'b', 'c'));
    await eventually('the connection to close', client.closed);
    await expectRefusedThenWorking(a, b, 'wrong-node', 1);
  });

  it('a first frame that is not a handshake', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(jsonFrame({ type: 'AppendEntries', from: 'b', to: 'a' }));
    await eventually('the connection to close', client.closed);
    await expectRefusedThenWorking(a, b, 'bad-handshake', 1);
  });

  it('a connection that sends one byte a second (slowloris): the handshake times out', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    const bytes = hello('raftkit', 'b', 'a');
    let sent = 0;
    const drip = (): void => void (sent < bytes.length && !client.closed() && client.socket.write(bytes.subarray(sent, ++sent)));
    drip();
    leftovers.interval(setInterval(drip, 1000));
    await eventually('the connection to close', client.closed);
    expect(sent).toBeLessThan(bytes.length);
    expect(client.reply()).toEqual({ raftkit: 1, ok: false, refused: 'handshake-timeout' });
    await expectRefusedThenWorking(a, b, 'handshake-timeout', 1);
  });

  it('a frame that does not decode, after a valid handshake', async () => {
    const [a, b] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('raftkit', 'b', 'a'));
    const garbage = Buffer.from('{"type": "AppendEntries", ');
    client.socket.write(Buffer.concat([frameHeader(garbage.length), garbage]));
    await eventually('the connection to close', client.closed);
    await expectRefusedThenWorking(a, b, 'decode-error', 1);
  });

  it('empty frames: as a handshake, and after one', async () => {
    const [a, b] = await pair(quick);
    const first = rawConnect(leftovers, a.address!.port);
    first.socket.write(frameHeader(0));
    await eventually('the first connection to close', first.closed);
    expect(first.reply()).toEqual({ raftkit: 1, ok: false, refused: 'bad-handshake' });
    const second = rawConnect(leftovers, a.address!.port);
    second.socket.write(Buffer.concat([hello('raftkit', 'b', 'a'), frameHeader(0)]));
    await eventually('the second connection to close', second.closed);
    expect(a.stats().refused['bad-handshake']).toBe(1);
    await expectRefusedThenWorking(a, b, 'decode-error', 1);
  });

  it('a message that claims another sender than the handshake', async () => {
    const [a, b] = await pair(quick);
    const received = inbox(a);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('raftkit', 'b', 'a'));
    client.socket.write(jsonFrame(ping('c', 'a', 99)));
    await eventually('the connection to close', client.closed);
    expect(has(received, 99)).toBe(false);
    await expectRefusedThenWorking(a, b, 'misaddressed', 1);
  });

  it('a thousand made-up message types: counted under "other", so byType (and the metrics labels made of it) stays small', async () => {
    const [a] = await pair(quick);
    const client = rawConnect(leftovers, a.address!.port);
    client.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the welcome', () => client.reply()?.ok === true);
    // Before listen(): dropped as no-listener, with its encoded size.
    const early = jsonFrame({ type: 'early-bogus', from: 'b', to: 'a' });
    client.socket.write(early);
    await eventually('the drop', () => a.stats().dropReasons['no-listener'] === 1);
    const size = early.length - 4;
    expect(a.stats().dropped).toEqual({ messages: 1, bytes: size, byType: { other: { messages: 1, bytes: size } } });

    const received = inbox(a);
    for (let i = 0; i < 1000; i++) client.socket.write(jsonFrame({ type: `bogus-${i}`, from: 'b', to: 'a' }));
    client.socket.write(jsonFrame(ping('b', 'a', 1)));
    await eventually('every message', () => received.length === 1001);
    const { delivered } = a.stats();
    expect(Object.keys(delivered.byType).sort()).toEqual(['ReadIndex', 'other']);
    expect(delivered.byType.other?.messages).toBe(1000);
    for (let i = 0; i < 1000; i++) a.send('b', { type: `made-up-${i}`, from: 'a', to: 'b' } as unknown as Envelope);
    expect(Object.keys(a.stats().sent.byType)).toEqual(['other']);
  });

  it('a node that cannot reach a peer never throws from send, whatever it is given', async () => {
    const [a] = await pair(quick);
    const cyclic: Record<string, unknown> = { type: 'Ping', from: 'a', to: 'b' };
    cyclic.self = cyclic;
    expect(() => a.send('b', cyclic as unknown as Envelope)).not.toThrow();
    expect(() => a.send('b', { type: 'Big', from: 'a', to: 'b', data: 'x'.repeat(2 << 20) } as Envelope)).not.toThrow();
    expect(() => a.send('nobody', ping('a', 'nobody', 1))).not.toThrow();
    expect(() => a.send('b', null as unknown as Envelope)).not.toThrow();
    expect(a.stats().dropReasons).toMatchObject({ 'encode-error': 1, 'frame-too-large': 1, 'unknown-peer': 1 });
  });
});

// ── Bounded queues ───────────────────────────────────────────────────────────────────────────

describe('a slow or dead peer never grows memory without bound', () => {
  const payload = 'x'.repeat(1000);
  const message = (i: number): Envelope => ({ type: 'AppendEntries', from: 'a', to: 'b', term: 1, i, payload }) as Envelope;
  const limits = { maxQueueMessages: 1000, maxQueueBytes: 256 * 1024 };

  it('a peer that takes the handshake and then never reads: 100,000 messages, the queue stays within bounds, drops are counted', async () => {
    const stalled = await fakePeer(leftovers, 'b', 'stall');
    const a = await open('a', { ...limits, peers: { b: `127.0.0.1:${stalled.port}` } });
    a.send('b', message(0));
    await eventually('a to be connected', () => a.stats().connections.outbound === 1);
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 100_000; i++) a.send('b', message(i));
      // Let the link write what the socket takes; what it does not take stays queued, within bounds.
      await sleep(200);
      const { queued, dropReasons, sent } = a.stats();
      expect(queued.messages).toBeLessThanOrEqual(limits.maxQueueMessages);
      expect(queued.bytes).toBeLessThanOrEqual(limits.maxQueueBytes);
      // Written: at most the socket buffer (1 MiB) and the kernel's buffers, far below 2 × 100 MB.
      expect(dropReasons['queue-full']).toBeGreaterThanOrEqual((round + 1) * 100_000 - 20_000);
      expect(sent.messages).toBe((round + 1) * 100_000 + 1);
    }
    expect(stalled.hellos()).toBe(1);
    expect(a.stats().dropped.byType.AppendEntries?.messages).toBe(a.stats().dropReasons['queue-full']);
  });

  it('a peer nobody listens for: the queue stays within bounds, and redialling backs off', async () => {
    const a = await open('a', { ...limits, peers: { b: `127.0.0.1:${await deadPort()}` }, reconnectMs: [50, 1000] });
    for (let i = 0; i < 100_000; i++) a.send('b', message(i));
    await eventually('a few failed dials', () => a.stats().dials.failures >= 3);
    for (let i = 0; i < 100_000; i++) a.send('b', message(i));
    const { queued, dropReasons, dials } = a.stats();
    expect(queued.messages).toBeGreaterThan(0);
    expect(queued.messages).toBeLessThanOrEqual(limits.maxQueueMessages);
    expect(queued.bytes).toBeLessThanOrEqual(limits.maxQueueBytes);
    expect(dropReasons['queue-full']).toBe(200_000 - queued.messages); // nothing was ever written
    expect(dials.attempts).toBeLessThan(50); // one per back-off, not one per message
  });
});

// ── Lanes ────────────────────────────────────────────────────────────────────────────────────

describe('large snapshot chunks do not hold up heartbeats to the same peer', () => {
  it('a heartbeat sent after four 4 MiB snapshot chunks arrives before the last of them', async () => {
    const [a, b] = await pair();
    const received = inbox(b);
    const chunk = (offset: number, size: number): Envelope =>
      ({ type: 'InstallSnapshot', from: 'a', to: 'b', term: 2, index: 100, lastTerm: 1, offset, data: 's'.repeat(size), done: false }) as Envelope;
    const heartbeat = (round: number): Envelope => ({ type: 'AppendEntries', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: [], leaderCommit: 0, round }) as Envelope;
    // Warm up both connections, so that neither waits for a handshake below.
    a.send('b', chunk(-1, 10));
    a.send('b', heartbeat(-1));
    await eventually('the warm-up', () => received.length === 2);
    received.length = 0;

    for (let i = 0; i < 4; i++) a.send('b', chunk(i, 4 << 20));
    a.send('b', heartbeat(0));
    await eventually('everything', () => received.length === 5, 30_000);
    const order = received.map((m) => ((m as Envelope).type === 'InstallSnapshot' ? `chunk ${(m as { offset: number }).offset}` : 'heartbeat'));
    expect(order.indexOf('heartbeat'), order.join(', ')).toBeLessThan(order.indexOf('chunk 3'));
    expect(a.stats().connections.outbound).toBe(2); // one connection per lane
  });
});

// ── Reconnection and close ───────────────────────────────────────────────────────────────────

describe('connections', () => {
  it('a node reconnects to a peer that restarted on the same address, and hears from it again', async () => {
    const [a, b] = await pair();
    const atA = inbox(a);
    const atB = inbox(b);
    await deliver(a, 'b', atB, 1);
    await deliver(b, 'a', atA, 2);
    const port = b.address!.port;
    await b.close();
    a.send('b', ping('a', 'b', 3)); // into a broken connection, or a queue: may be lost
    await eventually('a to notice', () => a.stats().connections.outbound === 0);
    const b2 = await open('b', { peers: { a: a.address! }, listen: { host: '127.0.0.1', port } });
    const atB2 = inbox(b2);
    await deliver(a, 'b', atB2, 4);
    await deliver(b2, 'a', atA, 5);
    expect(a.stats().dials.attempts).toBeGreaterThan(1);
  });

  it('a peer that moves to a new address is redialled there after setPeer', async () => {
    const [a, b] = await pair();
    await deliver(a, 'b', inbox(b), 1);
    await b.close();
    const b2 = await open('b', { peers: { a: a.address! } }); // another port
    a.setPeer('b', b2.address!);
    await deliver(a, 'b', inbox(b2), 2);
  });

  it('setPeer with the address a peer already has keeps its connection and does not redial', async () => {
    const [a, b] = await pair();
    const atB = inbox(b);
    await deliver(a, 'b', atB, 1);
    const before = a.stats();
    expect(before.connections.outbound).toBe(1);
    const { host, port } = b.address!;
    a.setPeer('b', b.address!);
    a.setPeer('b', `${host}:${port}`);
    a.setPeer('b', { host, port });
    expect(a.stats().connections.outbound).toBe(1);
    await deliver(a, 'b', atB, 2);
    expect(a.stats().dials).toEqual(before.dials);
    expect(a.stats().connections.outbound).toBe(1);
  });

  it('a peer that welcomes and then closes at once is redialled with a growing back-off, not every 50 ms', async () => {
    const fickle = await fakePeer(leftovers, 'b', 'close');
    const a = await open('a', { peers: { b: `127.0.0.1:${fickle.port}` } }); // back-off [50, 5000]
    leftovers.interval(setInterval(() => a.send('b', ping('a', 'b', 0)), 5)); // always something to send
    await sleep(1200);
    // Growing, the waits are at least 25, 50, 100, 200, 400 ms: at most 7 dials in 1.2 s. Reset
    // on every welcome, each would be 25 to 50 ms: twenty or more.
    const { attempts } = a.stats().dials;
    expect(attempts).toBeGreaterThanOrEqual(2);
    expect(attempts).toBeLessThanOrEqual(8);
    expect(fickle.hellos()).toBeLessThanOrEqual(attempts);
  });

  it('close() ends the connections it accepted, those it dialled, and the server', async () => {
    const [a, b] = await pair();
    const atA = inbox(a);
    await deliver(b, 'a', atA, 1); // b → a: a connection a accepted
    await deliver(a, 'b', inbox(b), 2); // a → b: one a dialled
    const peer = rawConnect(leftovers, a.address!.port); // an admitted raw peer
    peer.socket.write(hello('raftkit', 'c', 'a'));
    await eventually('the welcome', () => peer.reply()?.ok === true);
    const stranger = rawConnect(leftovers, a.address!.port); // one still handshaking
    await eventually('a to count its inbound connections', () => a.stats().connections.inbound === 2);

    await a.close();
    await eventually('the admitted peer to see the close', peer.closed);
    await eventually('the stranger to see the close', stranger.closed);
    await eventually("b's connections to a to close", () => b.stats().connections.outbound === 0 && b.stats().connections.inbound === 0);
    expect(a.stats().connections).toEqual({ outbound: 0, inbound: 0 });
    const late = rawConnect(leftovers, a.address!.port);
    await eventually('a new connection to be refused', late.closed);
    expect(late.frames).toEqual([]);
  });

  it('open() rejects with LISTEN_FAILED for an address in use, and leaves nothing open', async () => {
    const a = await open('a');
    const failure = await TcpTransport.open({ id: 'b', peers: {}, listen: a.address! }).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(TcpTransportError);
    expect((failure as TcpTransportError).code).toBe('LISTEN_FAILED');
  });

  it('removePeer closes its connections and refuses it from then on', async () => {
    const [a, b] = await pair();
    await deliver(b, 'a', inbox(a), 1);
    a.removePeer('b');
    await eventually("b's connection to close", () => b.stats().connections.outbound === 0);
    b.send('a', ping('b', 'a', 2));
    await eventually('the refusal', () => a.stats().refused['unknown-node'] >= 1);
  });

  it('a pluggable codec: both ends must use it; a node with another codec is cut off with decode errors', async () => {
    const tagged = {
      encode: (value: unknown) => Buffer.from(`T${JSON.stringify(value)}`),
      decode: (bytes: Uint8Array) => {
        const text = Buffer.from(bytes).toString();
        if (!text.startsWith('T')) throw new Error('untagged');
        return JSON.parse(text.slice(1)) as unknown;
      },
    };
    const [a, b] = await pair({ codec: tagged });
    await deliver(b, 'a', inbox(a), 1);
    const c = await open('c', { peers: { a: a.address! } }); // JSON
    a.setPeer('c', c.address!);
    c.send('a', ping('c', 'a', 2));
    await eventually('a decode error', () => a.stats().refused['decode-error'] >= 1);
  });
});

// ── Mutual TLS ───────────────────────────────────────────────────────────────────────────────

describe('mutual TLS', () => {
  const quick = { handshakeTimeoutMs: 500 };
  const withTls = (id: NodeId): Partial<TcpTransportOptions> => ({ ...quick, tls: tlsOf(id) });
  const tlsClient = (port: number, pem: { ca: string; cert?: string; key?: string }) =>
    watch(leftovers.socket(connectTls({ host: '127.0.0.1', port, ...pem, checkServerIdentity: () => undefined })));

  it('carries messages both ways between nodes with certificates from the cluster CA', async () => {
    const [a, b] = await pair({}, withTls);
    await deliver(a, 'b', inbox(b), 1);
    await deliver(b, 'a', inbox(a), 2);
  });

  it('a TLS client without a certificate is refused', async () => {
    const [a, b] = await pair({}, withTls);
    const client = tlsClient(a.address!.port, { ca: certificates().ca });
    client.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the connection to close', client.closed);
    await expectRefusedThenWorking(a, b, 'tls', 1);
  });

  it('a TLS client whose certificate another CA signed is refused', async () => {
    const [a, b] = await pair({}, withTls);
    const client = tlsClient(a.address!.port, certificates().rogue); // names 'a', but not the cluster's CA
    client.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the connection to close', client.closed);
    await expectRefusedThenWorking(a, b, 'tls', 1);
  });

  it("a valid certificate that names another node than the handshake claims is refused (c can't pose as b)", async () => {
    const [a, b] = await pair({}, withTls);
    const client = tlsClient(a.address!.port, certificates().node('c'));
    client.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the connection to close', client.closed);
    expect(client.reply()).toEqual({ raftkit: 1, ok: false, refused: 'tls' });
    await expectRefusedThenWorking(a, b, 'tls', 1);
  });

  it("a node given another node's certificate is refused by its peers, and refuses to talk to them", async () => {
    const a = await open('a', withTls('a'));
    const b = await open('b', { ...quick, tls: tlsOf('c'), peers: { a: a.address! } }); // b holds c's certificate
    a.setPeer('b', b.address!);
    b.send('a', ping('b', 'a', 1));
    await eventually('a to refuse b', () => a.stats().refused.tls >= 1);
    a.send('b', ping('a', 'b', 2));
    await eventually("a to reject b's server certificate", () => warnings.get('a')!.some((w) => w.code === 'PEER_REFUSED' && w.reason === 'tls'));
    expect(a.stats().delivered.messages + b.stats().delivered.messages).toBe(0);
  });

  it("a certificate from the cluster CA that hides 'DNS:b' inside an email name does not name b, as a client or as a server", async () => {
    const a = await open('a', withTls('a'));
    const b = await open('b', { ...quick, tls: certificates().smuggler, peers: { a: a.address! } }); // SAN: email:mallory-DNS:b, IP Address:10.0.0.9
    a.setPeer('b', b.address!);
    const atA = inbox(a);
    const atB = inbox(b);
    b.send('a', ping('b', 'a', 1));
    await eventually('a to refuse b', () => a.stats().refused.tls >= 1);
    a.send('b', ping('a', 'b', 2));
    await eventually("a to reject b's server certificate", () => warnings.get('a')!.some((w) => w.code === 'PEER_REFUSED' && w.reason === 'tls'));
    expect(warnings.get('a')!.find((w) => w.code === 'PEER_REFUSED')?.message).toMatch(/does not name b \(it names mallory\)/);
    const client = tlsClient(a.address!.port, certificates().smuggler);
    client.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the raw client to be cut off', client.closed);
    expect(client.reply()).toEqual({ raftkit: 1, ok: false, refused: 'tls' });
    expect(atA.length + atB.length).toBe(0);
  });

  it('a plain TCP client, and one that sends one byte a second, are refused by a TLS node', async () => {
    const [a, b] = await pair({}, withTls);
    const plain = rawConnect(leftovers, a.address!.port);
    plain.socket.write(hello('raftkit', 'b', 'a'));
    await eventually('the plain client to be cut off', plain.closed);
    expect(a.stats().refused.tls).toBe(1);

    const slow = rawConnect(leftovers, a.address!.port);
    // The header of a 200-byte TLS handshake record, then its body at one byte a second.
    const clientHello = Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x00, 0xc8]), randomBytes(200)]);
    let sent = 0;
    const drip = (): void => void (!slow.closed() && slow.socket.write(clientHello.subarray(sent, ++sent)));
    drip();
    leftovers.interval(setInterval(drip, 1000));
    await eventually('the slow client to be cut off', slow.closed);
    await expectRefusedThenWorking(a, b, 'handshake-timeout', 1);
  });
});
