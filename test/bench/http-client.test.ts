import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Connection, encodeRequest } from '../../bench/http-client.mjs';

// The benchmark's load client frames answers itself, so a framing bug would count wrong answers as puts.
// These tests feed it raw answers, cut at random bytes, from a server of the test's own on 127.0.0.1.

const servers: net.Server[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A server that, for each request head it reads, writes `answers[i]` in the given pieces (or closes, for null). */
async function rawServer(answers: (Buffer | null)[], cuts: (answer: Buffer) => Buffer[] = (a) => [a]): Promise<number> {
  const server = net.createServer((socket) => {
    let seen = '';
    let answered = 0;
    socket.on('data', async (chunk) => {
      seen += chunk.toString('latin1');
      while (true) {
        const end = seen.indexOf('\r\n\r\n');
        if (end < 0) return;
        const length = Number(/content-length: (\d+)/.exec(seen.slice(0, end))?.[1] ?? 0);
        if (seen.length < end + 4 + length) return;
        seen = seen.slice(end + 4 + length);
        const answer = answers[answered++ % answers.length]!;
        if (answer === null) return void socket.destroy();
        for (const piece of cuts(answer)) {
          socket.write(piece);
          await new Promise((resolve) => setImmediate(resolve));
        }
      }
    });
    socket.on('error', () => {});
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

const fixed = (status: number, body: string) => Buffer.from(`HTTP/1.1 ${status} X\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
const chunked = (body: string) =>
  Buffer.from(`HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n${body.length.toString(16)};ext=1\r\n${body}\r\n0\r\nX-Trailer: 1\r\n\r\n`);

describe('the load client', () => {
  it('encodes a request with its body and length', () => {
    expect(encodeRequest('127.0.0.1', 80, 'PUT', '/kv/a', '"é"').toString()).toBe(
      'PUT /kv/a HTTP/1.1\r\nhost: 127.0.0.1:80\r\ncontent-type: application/json\r\ncontent-length: 4\r\n\r\n"é"',
    );
    expect(encodeRequest('127.0.0.1', 80, 'GET', '/status', null).toString()).toBe('GET /status HTTP/1.1\r\nhost: 127.0.0.1:80\r\n\r\n');
  });

  it('reads content-length and chunked answers cut at any byte, in order, on one connection', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 12 }), async (sizes) => {
        const answers = [fixed(200, '{"value":"é1"}'), chunked('{"kvs":[2]}'), fixed(503, '{"code":"NOT_APPLIED"}')];
        const cuts = (a: Buffer) => {
          const pieces: Buffer[] = [];
          for (let at = 0, i = 0; at < a.length; i++) pieces.push(a.subarray(at, (at += sizes[i % sizes.length]!)));
          return pieces;
        };
        const port = await rawServer(answers, cuts);
        const c = new Connection('127.0.0.1', port);
        const get = encodeRequest('127.0.0.1', port, 'GET', '/kv/a', null);
        try {
          for (let round = 0; round < 2; round++) {
            expect(await c.send(get, 2000)).toMatchObject({ ok: true, status: 200, text: '{"value":"é1"}' });
            expect(await c.send(get, 2000)).toMatchObject({ ok: true, status: 200, text: '{"kvs":[2]}' });
            expect(await c.send(get, 2000)).toMatchObject({ ok: false, status: 503, text: '{"code":"NOT_APPLIED"}' });
          }
        } finally {
          c.close();
        }
      }),
      { numRuns: 25, examples: [[[1]]] },
    );
  });

  it('reports a lost connection and a timeout as errors, and reconnects for the next request', async () => {
    const port = await rawServer([fixed(200, '1'), null]);
    const c = new Connection('127.0.0.1', port);
    const get = encodeRequest('127.0.0.1', port, 'GET', '/', null);
    expect(await c.send(get, 2000)).toMatchObject({ ok: true, text: '1' });
    expect(await c.send(get, 2000)).toMatchObject({ ok: false, err: 'ECONNRESET' });
    expect(await c.send(get, 2000)).toMatchObject({ ok: true, text: '1' });
    c.close();

    const silent = await rawServer([Buffer.alloc(0)]);
    const s = new Connection('127.0.0.1', silent);
    expect(await s.send(encodeRequest('127.0.0.1', silent, 'GET', '/', null), 50)).toMatchObject({ ok: false, err: 'TIMEOUT' });
    s.close();
  });
});
