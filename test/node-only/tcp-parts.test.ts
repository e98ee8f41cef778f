/**
 * The parts of TcpTransport, one idea each: frames, the bounded send queue, the back-off,
 * addresses, the handshake's checks and the names a certificate gives.
 */
import { describe, expect, it } from 'vitest';
import { parseAddress, formatAddress } from '../../src/node-only/address.js';
import { Backoff } from '../../src/node-only/backoff.js';
import { encodeFrame, FrameDecoder, FrameTooLargeError, frameHeader } from '../../src/node-only/frames.js';
import { certificateNames, checkHello, helloFrame, parseHello, parseReply, refusalFrame, welcomeFrame } from '../../src/node-only/handshake.js';
import { SendQueue } from '../../src/node-only/send-queue.js';
import { KNOWN_MESSAGE_TYPES, TrafficCounter } from '../../src/node-only/tcp-stats.js';
import { SeededRandom } from '../../src/runtime/random.js';
import type { PeerCertificate } from 'node:tls';

describe('FrameDecoder', () => {
  const frames = [Buffer.from('a'), Buffer.alloc(0), Buffer.from('hello, world'), Buffer.alloc(3000, 7)];
  const stream = Buffer.concat(frames.map((f) => encodeFrame(f)));

  it('reassembles frames split at every possible point, and several frames in one chunk', () => {
    for (let cut = 0; cut <= stream.length; cut++) {
      const out: Buffer[] = [];
      const decoder = new FrameDecoder(4096);
      decoder.push(stream.subarray(0, cut), (f) => out.push(Buffer.from(f)));
      decoder.push(stream.subarray(cut), (f) => out.push(Buffer.from(f)));
      expect(out, `cut at ${cut}`).toEqual(frames);
      expect(decoder.buffered).toBe(0);
    }
  });

  it('reads byte by byte', () => {
    const out: Buffer[] = [];
    const decoder = new FrameDecoder(4096);
    for (let i = 0; i < stream.length; i++) decoder.push(stream.subarray(i, i + 1), (f) => out.push(Buffer.from(f)));
    expect(out).toEqual(frames);
  });

  it('refuses a length prefix over the limit before buffering its payload, after the frames before it', () => {
    const out: Buffer[] = [];
    const decoder = new FrameDecoder(100);
    expect(() => decoder.push(Buffer.concat([encodeFrame(Buffer.from('ok')), frameHeader(101)]), (f) => out.push(Buffer.from(f)))).toThrow(FrameTooLargeError);
    expect(out).toEqual([Buffer.from('ok')]);
  });
});

describe('SendQueue', () => {
  const frame = (type: string, size: number) => ({ type, bytes: new Uint8Array(size) });

  it('drops the oldest frames to keep within its message bound', () => {
    const queue = new SendQueue(3, 1000);
    const evicted = ['1', '2', '3', '4', '5'].flatMap((t) => queue.push(frame(t, 1)));
    expect(evicted.map((f) => f.type)).toEqual(['1', '2']);
    expect([queue.shift(), queue.shift(), queue.shift(), queue.shift()].map((f) => f?.type)).toEqual(['3', '4', '5', undefined]);
  });

  it('drops the oldest frames to keep within its byte bound, and refuses a frame larger than the bound', () => {
    const queue = new SendQueue(100, 10);
    queue.push(frame('a', 4));
    queue.push(frame('b', 4));
    expect(queue.push(frame('c', 4)).map((f) => f.type)).toEqual(['a']);
    expect(queue.bytes).toBe(8);
    expect(queue.push(frame('huge', 11)).map((f) => f.type)).toEqual(['huge']);
    expect(queue.length).toBe(2);
    expect(queue.clear().map((f) => f.type)).toEqual(['b', 'c']);
    expect([queue.length, queue.bytes]).toEqual([0, 0]);
  });

  it('stays consistent over many pushes and shifts', () => {
    const queue = new SendQueue(5000, 1e9);
    let next = 0;
    let expected = 0;
    for (let round = 0; round < 50; round++) {
      for (let i = 0; i < 3000; i++) queue.push(frame(String(next++), 1));
      while (queue.length > 100) expect(queue.shift()?.type).toBe(String(expected++));
    }
    expect(queue.length).toBe(100);
    expect(queue.bytes).toBe(100);
  });
});

describe('Backoff', () => {
  it('grows exponentially up to its cap, with jitter in the upper half, and starts over after reset', () => {
    const backoff = new Backoff(50, 1000, new SeededRandom(1));
    const ceilings = [50, 100, 200, 400, 800, 1000, 1000, 1000];
    for (const ceiling of ceilings) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(ceiling / 2);
      expect(delay).toBeLessThanOrEqual(ceiling);
    }
    backoff.reset();
    expect(backoff.next()).toBeLessThanOrEqual(50);
  });

  it('is deterministic for a seeded random', () => {
    const run = () => {
      const backoff = new Backoff(50, 5000, new SeededRandom('x'));
      return Array.from({ length: 10 }, () => backoff.next());
    };
    expect(run()).toEqual(run());
  });
});

describe('addresses', () => {
  it('parses host:port, [v6]:port and objects, and rejects the rest', () => {
    expect(parseAddress('10.0.0.1:7001', 'x')).toEqual({ host: '10.0.0.1', port: 7001 });
    expect(parseAddress('db-1.internal:0', 'x')).toEqual({ host: 'db-1.internal', port: 0 });
    expect(parseAddress('[::1]:7001', 'x')).toEqual({ host: '::1', port: 7001 });
    expect(parseAddress({ host: 'h', port: 1 }, 'x')).toEqual({ host: 'h', port: 1 });
    for (const bad of ['', 'host', ':7001', 'host:', 'host:99999', 'host:-1', 'host:1.5', { host: 'h', port: 1.5 }, { host: '', port: 1 }, null]) {
      expect(() => parseAddress(bad as never, 'peer b'), JSON.stringify(bad)).toThrow(/peer b/);
    }
    expect(formatAddress({ host: '::1', port: 7 })).toBe('[::1]:7');
  });
});

describe('the handshake', () => {
  const payload = (frame: Buffer): Buffer => frame.subarray(4);

  it('round-trips its frames', () => {
    expect(parseHello(payload(helloFrame('c1', 'a', 'b', 'bulk')))).toEqual({ raftkit: 1, cluster: 'c1', from: 'a', to: 'b', lane: 'bulk' });
    expect(parseReply(payload(welcomeFrame('c1', 'b')))).toEqual({ raftkit: 1, ok: true, cluster: 'c1', from: 'b' });
    expect(parseReply(payload(refusalFrame('wrong-cluster')))).toEqual({ raftkit: 1, ok: false, refused: 'wrong-cluster' });
  });

  it('rejects what is not a hello', () => {
    for (const bad of ['', 'null', '[]', '{}', '{"raftkit":2,"cluster":"c","from":"a","to":"b","lane":"control"}', '{"raftkit":1,"cluster":"c","from":"","to":"b","lane":"control"}', '{"raftkit":1,"cluster":"c","from":"a","to":"b","lane":"x"}']) {
      expect(parseHello(Buffer.from(bad)), bad).toBeUndefined();
    }
  });

  it('admits only a known peer of the same cluster that means this node', () => {
    const hello = (cluster: string, from: string, to: string) => ({ raftkit: 1 as const, cluster, from, to, lane: 'control' as const });
    const known = (id: string) => ['a', 'b'].includes(id);
    expect(checkHello(hello('c1', 'b', 'a'), 'a', 'c1', known)).toBeUndefined();
    expect(checkHello(hello('c2', 'b', 'a'), 'a', 'c1', known)).toBe('wrong-cluster');
    expect(checkHello(hello('c1', 'b', 'z'), 'a', 'c1', known)).toBe('wrong-node');
    expect(checkHello(hello('c1', 'm', 'a'), 'a', 'c1', known)).toBe('unknown-node');
    expect(checkHello(hello('c1', 'a', 'a'), 'a', 'c1', known)).toBe('unknown-node');
  });

  it('reads the names of a certificate: CN, and DNS and URI alternative names', () => {
    const cert = (subject: Record<string, unknown>, subjectaltname?: string) => ({ subject, subjectaltname }) as unknown as PeerCertificate;
    expect(certificateNames(cert({ CN: 'n1' }, 'DNS:n1, DNS:n1.internal, IP Address:10.0.0.1, URI:spiffe://c/n1'))).toEqual(['n1', 'n1', 'n1.internal', 'spiffe://c/n1']);
    expect(certificateNames(cert({ CN: ['x', 'y'] }))).toEqual(['x', 'y']);
    expect(certificateNames(cert({}, 'DNS:"a, b"'))).toEqual(['a, b']);
    expect(certificateNames(undefined)).toEqual([]);
  });

  it('reads alternative names entry by entry: a DNS: or URI: inside another entry names nothing', () => {
    const san = (subjectaltname: string) => certificateNames({ subject: {}, subjectaltname } as unknown as PeerCertificate);
    // The reviewer's example: an email address that contains "DNS:1".
    expect(san('email:mallory-DNS:1')).not.toContain('1');
    expect(san('email:mallory-DNS:1, IP Address:10.0.0.9')).toEqual([]);
    expect(san('email:mallory-URI:1')).toEqual([]);
    // Node quotes (as JSON) any value with a comma, quote, backslash or control character.
    expect(san('email:"x\\u002c DNS:1"')).toEqual([]);
    expect(san('email:"x, DNS:1"')).toEqual([]);
    expect(san('othername:XmppAddr:DNS:1, othername:"SRVName:a\\u002c DNS:1"')).toEqual([]);
    expect(san('DirName:"CN=DNS:1"')).toEqual([]);
    expect(san('xDNS:1, dns:1, DNS :1, Registered ID:1.2.3')).toEqual([]);
    // The type is compared exactly, the value taken whole; quoted values are unquoted.
    expect(san('IP Address:10.0.0.9, DNS:n1, email:a@b, URI:spiffe://c/n1')).toEqual(['n1', 'spiffe://c/n1']);
    expect(san('DNS:"a\\u002c b", URI:"x\\\\y"')).toEqual(['a, b', 'x\\y']);
    expect(san('DNS:a:b')).toEqual(['a:b']);
    // What Node would never print names nothing rather than something unexpected.
    expect(san('DNS:"unterminated, DNS:1')).toEqual([]);
    expect(san('DNS:"a"b, DNS:1"')).not.toContain('1');
    expect(san('DNS:a"b')).toEqual([]);
  });
});

describe('TrafficCounter', () => {
  it("counts raftkit's message types by name and every other type under 'other', so a peer cannot grow it", () => {
    const counter = new TrafficCounter();
    for (let i = 0; i < 10_000; i++) counter.add(`bogus-${i}`, 1);
    for (const type of ['__proto__', 'constructor', 'toString', 'other', '']) counter.add(type, 1);
    counter.add('AppendEntries', 10);
    counter.add('InstallSnapshot', 100);
    const { messages, bytes, byType } = counter.snapshot();
    expect([messages, bytes]).toEqual([10_007, 10_115]);
    expect(Object.keys(byType).sort()).toEqual(['AppendEntries', 'InstallSnapshot', 'other']);
    expect(byType.other).toEqual({ messages: 10_005, bytes: 10_005 });
    expect(byType.AppendEntries).toEqual({ messages: 1, bytes: 10 });
    for (const type of KNOWN_MESSAGE_TYPES) counter.add(type, 1);
    expect(Object.keys(counter.snapshot().byType).length).toBe(KNOWN_MESSAGE_TYPES.length + 1);
  });
});
