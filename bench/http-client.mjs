// A lean HTTP/1.1 keep-alive client for the load generator: one `net` socket per worker, one request outstanding,
// requests pre-encoded as Buffers, answers framed by content-length or chunked. `http.Agent` costs about as much CPU
// per request as raftkit's three servers together; on a two-core machine shared by client and servers, that cost is
// taken from whichever system is measured, so a cheaper client measures the servers rather than itself. Both systems
// run under this same client. Loopback only (the caller checks the endpoint).
import net from 'node:net';
import { performance } from 'node:perf_hooks';

const HEAD_END = Buffer.from('\r\n\r\n');

/** Encodes one request (HTTP/1.1, keep-alive) once, so that a worker only writes a Buffer. */
export function encodeRequest(host, port, method, path, body) {
  const payload = body == null ? null : Buffer.from(body);
  let head = `${method} ${path} HTTP/1.1\r\nhost: ${host}:${port}\r\n`;
  if (payload) head += `content-type: application/json\r\ncontent-length: ${payload.length}\r\n`;
  const headBytes = Buffer.from(`${head}\r\n`, 'latin1');
  return payload ? Buffer.concat([headBytes, payload]) : headBytes;
}

/**
 * One keep-alive connection with at most one request outstanding. `send(bytes)` resolves like load.mjs's request():
 * { ok (status 200), status, text | err, t0, t1 }, and never rejects. A connection that errs or closes is reopened
 * by the next send.
 */
export class Connection {
  #host;
  #port;
  #socket = null;
  #buffered = null; // bytes received and not yet part of a whole answer
  #pending = null; // { resolve, t0 }
  #timer = null;

  constructor(host, port) {
    this.#host = host;
    this.#port = Number(port);
  }

  send(bytes, timeoutMs) {
    return new Promise((resolve) => {
      if (this.#pending) throw new Error('one request at a time');
      this.#pending = { resolve, t0: performance.now() };
      if (timeoutMs) this.#timer = setTimeout(() => this.#fail('TIMEOUT'), timeoutMs);
      if (this.#socket === null) this.#open();
      this.#socket.write(bytes);
    });
  }

  close() {
    this.#socket?.destroy();
    this.#socket = null;
  }

  #open() {
    const socket = net.connect({ host: this.#host, port: this.#port, noDelay: true });
    this.#socket = socket;
    this.#buffered = null;
    socket.on('data', (chunk) => {
      this.#buffered = this.#buffered === null ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#parse();
    });
    const lost = (code) => {
      if (this.#socket !== socket) return;
      this.#socket = null;
      socket.destroy();
      this.#fail(code);
    };
    socket.on('error', (e) => lost(e.code || e.message));
    socket.on('close', () => lost('ECONNRESET'));
  }

  #finish(result) {
    const p = this.#pending;
    if (p === null) return;
    this.#pending = null;
    if (this.#timer !== null) clearTimeout(this.#timer);
    this.#timer = null;
    result.t0 = p.t0;
    result.t1 = performance.now();
    p.resolve(result);
  }

  #fail(err) {
    if (this.#pending === null) return;
    this.close();
    this.#finish({ ok: false, err });
  }

  #parse() {
    const data = this.#buffered;
    const headEnd = data.indexOf(HEAD_END);
    if (headEnd < 0) return;
    const head = data.latin1Slice(0, headEnd);
    const status = Number(head.slice(9, 12));
    const bodyStart = headEnd + 4;
    const lower = head.toLowerCase();
    const cl = /\r\ncontent-length:\s*(\d+)/.exec(lower);
    let body;
    let end;
    if (cl) {
      end = bodyStart + Number(cl[1]);
      if (data.length < end) return;
      body = data.utf8Slice(bodyStart, end);
    } else if (/\r\ntransfer-encoding:[^\r]*chunked/.test(lower)) {
      const parsed = dechunk(data, bodyStart);
      if (parsed === null) return;
      ({ body, end } = parsed);
    } else return this.#fail('UNFRAMED_ANSWER');
    this.#buffered = end < data.length ? data.subarray(end) : null;
    if (/\r\nconnection:\s*close/.test(lower)) this.close();
    this.#finish({ ok: status === 200, status, text: body });
  }
}

/** The body of a chunked answer starting at `from`, or null while incomplete. Trailers are skipped. */
function dechunk(data, from) {
  const parts = [];
  let at = from;
  for (;;) {
    const lineEnd = data.indexOf('\r\n', at);
    if (lineEnd < 0) return null;
    const size = parseInt(data.latin1Slice(at, lineEnd), 16);
    at = lineEnd + 2;
    if (size === 0) {
      const trailerEnd = data.indexOf(HEAD_END, at - 2);
      if (trailerEnd < 0) return null;
      return { body: Buffer.concat(parts).toString('utf8'), end: trailerEnd + 4 };
    }
    if (data.length < at + size + 2) return null;
    parts.push(data.subarray(at, at + size));
    at += size + 2;
  }
}
