/**
 * The KeyValueServer's HTTP/1.1 server, over raw sockets: framing (content-length, chunked,
 * 100-continue), pipelining, limits and timeouts. Every refusal is a JSON answer and the server
 * keeps serving.
 */
import { connect, type Socket } from 'node:net';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpServer, type HttpRequest } from '../../src/node-only/http-server.js';

const open = new Set<HttpServer>();
afterEach(async () => {
  await Promise.all([...open].map((s) => s.close(100)));
  open.clear();
});

/** A server that echoes each request as JSON; `delay` holds answers back. */
async function echo(options: { maxBodyBytes?: number; requestTimeoutMs?: number; keepAliveTimeoutMs?: number; delay?: (r: HttpRequest) => number } = {}): Promise<{ server: HttpServer; refused: Array<[string, number]> }> {
  const refused: Array<[string, number]> = [];
  const server = await HttpServer.listen(
    async (request) => {
      const ms = options.delay?.(request) ?? 0;
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
      return { status: 200, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ method: request.method, target: request.target, body: request.body.toString('utf8'), headers: request.headers }) };
    },
    { host: '127.0.0.1', port: 0, maxBodyBytes: options.maxBodyBytes ?? 1024, onRefused: (m, s) => refused.push([m, s]), ...(options.requestTimeoutMs === undefined ? {} : { requestTimeoutMs: options.requestTimeoutMs }), ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeoutMs: options.keepAliveTimeoutMs }) },
    () => undefined,
  );
  open.add(server);
  return { server, refused };
}

/** Sends `bytes` (in pieces, if given) and collects what comes back until the server closes or `quietMs` pass. */
function exchange(server: HttpServer, pieces: readonly (string | Buffer)[], quietMs = 300): Promise<{ text: string; closed: boolean }> {
  return new Promise((resolve) => {
    const socket: Socket = connect(server.address.port, '127.0.0.1');
    let text = '';
    let timer = setTimeout(() => done(false), quietMs);
    const done = (closed: boolean): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ text, closed });
    };
    socket.on('data', (chunk) => {
      text += chunk.toString('utf8');
      clearTimeout(timer);
      timer = setTimeout(() => done(false), quietMs);
    });
    socket.on('end', () => done(true));
    socket.on('error', () => done(true));
    for (const piece of pieces) socket.write(piece);
  });
}

/** The answers in `text`: status and parsed JSON body each. */
function answers(text: string): Array<{ status: number; headers: Record<string, string>; body: any }> {
  const out: Array<{ status: number; headers: Record<string, string>; body: any }> = [];
  let rest = text;
  while (rest.length > 0) {
    const end = rest.indexOf('\r\n\r\n');
    if (end < 0) throw new Error(`incomplete answer: ${JSON.stringify(rest)}`);
    const [statusLine, ...lines] = rest.slice(0, end).split('\r\n');
    const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
    const status = Number((statusLine as string).split(' ')[1]);
    rest = rest.slice(end + 4);
    if (status === 100) continue;
    const length = Number(headers['content-length']);
    const bodyBytes = Buffer.from(rest, 'utf8').subarray(0, length);
    rest = Buffer.from(rest, 'utf8').subarray(length).toString('utf8');
    out.push({ status, headers, body: JSON.parse(bodyBytes.toString('utf8')) });
  }
  return out;
}

describe('HttpServer', () => {
  it('reads content-length and chunked bodies, split at any byte, and answers pipelined requests in order', async () => {
    const { server } = await echo({ delay: (r) => (r.target === '/slow' ? 30 : 0) });
    const requests = [
      'PUT /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 7\r\n\r\n"hello"',
      'POST /c?x=1 HTTP/1.1\r\nhost: x\r\nTransfer-Encoding: chunked\r\n\r\n3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nTrailer: t\r\n\r\n',
      'GET /g HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a: 2\r\n\r\n',
    ];
    const whole = Buffer.from(requests.join(''));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: whole.length - 1 }), { maxLength: 6 }), async (cuts) => {
        const points = [0, ...cuts.sort((a, b) => a - b), whole.length];
        const pieces = points.slice(1).map((end, i) => whole.subarray(points[i], end));
        const got = answers((await exchange(server, pieces, 150)).text);
        expect(got.map((a) => [a.status, a.body.method, a.body.target, a.body.body])).toEqual([
          [200, 'PUT', '/slow', '"hello"'],
          [200, 'POST', '/c?x=1', 'abcde'],
          [200, 'GET', '/g', ''],
        ]);
        expect(got[2]?.body.headers['x-a']).toBe('1, 2');
        expect(got[0]?.headers['keep-alive']).toBe('timeout=5');
      }),
      { numRuns: 25 },
    );
  }, 30_000);

  it('answers 100 Continue to a client that expects it, and closes after Connection: close or HTTP/1.0', async () => {
    const { server } = await echo();
    const continued = await exchange(server, ['PUT /e HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\nContent-Length: 2\r\n\r\n'], 100);
    expect(continued.text.startsWith('HTTP/1.1 100 Continue\r\n\r\n')).toBe(true);
    const closing = await exchange(server, ['GET /a HTTP/1.1\r\nConnection: close\r\n\r\nGET /b HTTP/1.1\r\n\r\n']);
    expect(answers(closing.text).map((a) => a.body.target)).toEqual(['/a']);
    expect(closing.closed).toBe(true);
    const old = await exchange(server, ['GET /old HTTP/1.0\r\n\r\n']);
    expect(answers(old.text)).toHaveLength(1);
    expect(old.closed).toBe(true);
  });

  it('refuses malformed and oversized requests with a JSON code, closes that connection, and keeps serving others', async () => {
    const { server, refused } = await echo({ maxBodyBytes: 100 });
    const cases: Array<[string, number, string]> = [
      ['garbage\r\n\r\n', 400, 'BAD_REQUEST'],
      ['GET / HTTP/2.0\r\n\r\n', 400, 'BAD_REQUEST'],
      ['GET / HTTP/1.1\r\nno colon here\r\n\r\n', 400, 'BAD_REQUEST'],
      ['PUT / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n', 400, 'BAD_REQUEST'],
      ['PUT / HTTP/1.1\r\nContent-Length: -1\r\n\r\n', 400, 'BAD_REQUEST'],
      ['PUT / HTTP/1.1\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n', 400, 'BAD_REQUEST'],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n', 501, 'NOT_IMPLEMENTED'],
      ['PUT / HTTP/1.1\r\nExpect: magic\r\n\r\n', 417, 'EXPECTATION_FAILED'],
      ['PUT / HTTP/1.1\r\nContent-Length: 101\r\n\r\n', 413, 'BODY_TOO_LARGE'],
      [`PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n${'x'.repeat(64)}\r\n40\r\n`, 413, 'BODY_TOO_LARGE'],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400, 'BAD_REQUEST'],
      ['PUT / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabcd', 400, 'BAD_REQUEST'],
      [`GET / HTTP/1.1\r\nX: ${'y'.repeat(17 * 1024)}`, 431, 'HEADERS_TOO_LARGE'],
    ];
    for (const [request, status, code] of cases) {
      const { text, closed } = await exchange(server, [request]);
      const [answer] = answers(text);
      expect({ request, status: answer?.status, code: answer?.body.code, closed }).toEqual({ request, status, code, closed: true });
    }
    expect(refused).toHaveLength(cases.length);
    const ok = await exchange(server, ['GET /still HTTP/1.1\r\n\r\n']);
    expect(answers(ok.text)[0]?.status).toBe(200);
  }, 30_000);

  it('closes a request that trickles in past the request timeout (408), and an idle keep-alive connection', async () => {
    const { server, refused } = await echo({ requestTimeoutMs: 200, keepAliveTimeoutMs: 200 });
    const slow = await new Promise<{ text: string; closed: boolean }>((resolve) => {
      const socket = connect(server.address.port, '127.0.0.1');
      let text = '';
      const drip = setInterval(() => socket.write('x'), 100);
      socket.write('GET / HTTP/1.1\r\nX-Slow: ');
      socket.on('data', (c) => (text += c.toString()));
      socket.on('close', () => {
        clearInterval(drip);
        resolve({ text, closed: true });
      });
      socket.on('error', () => undefined);
    });
    expect(answers(slow.text)[0]).toMatchObject({ status: 408, body: { code: 'REQUEST_TIMEOUT' } });
    expect(refused).toEqual([['?', 408]]);
    const idle = await exchange(server, ['GET / HTTP/1.1\r\n\r\n'], 5_000);
    expect(idle.closed).toBe(true);
  }, 30_000);

  it('close() lets a request in flight be answered, then closes its connection', async () => {
    const { server } = await echo({ delay: () => 200 });
    const pending = exchange(server, ['GET /late HTTP/1.1\r\n\r\n'], 2_000);
    await new Promise((r) => setTimeout(r, 50));
    const closed = server.close(2_000);
    open.delete(server);
    const { text, closed: ended } = await pending;
    await closed;
    expect(answers(text)).toMatchObject([{ status: 200, headers: { connection: 'close' } }]);
    expect(ended).toBe(true);
  });
});
