/**
 * A small HTTP/1.1 server over `node:net`, for {@link KeyValueServer}'s JSON API. It reads a
 * whole request (head and body, `content-length` or chunked, within limits) before it calls the
 * handler, and writes each answer with one `write`. `node:http` spent about half of a loaded
 * leader's busy time in its streams and objects; this keeps to what the API needs.
 *
 * One request per connection is handled at a time; pipelined requests wait their turn, so
 * answers go out in order. Protocol errors are answered with a JSON `{ code, message }` and the
 * connection closed.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { RealScheduler } from '../runtime/real-scheduler.js';
import type { Cancel } from '../runtime/scheduler.js';
import type { TcpAddress } from './address.js';

/** A request, read whole. */
export interface HttpRequest {
  readonly method: string;
  /** The request target as sent (`/kv/x?consistency=lease`). */
  readonly target: string;
  /** Header names in lower case; repeated headers joined with `, `. */
  readonly headers: Readonly<Record<string, string>>;
  readonly body: Buffer;
}

/** An answer. The body is a string (UTF-8 on the wire). */
export interface HttpReply {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  /** Close the connection after this answer. */
  readonly close?: boolean;
}

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  /** The largest body accepted; a larger one is answered 413 and the connection closed. */
  readonly maxBodyBytes: number;
  /** The largest request head (request line and headers). Default 16 KiB, as `node:http`. */
  readonly maxHeadBytes?: number;
  /** A request must arrive whole within this many ms of its first byte. Default 30,000. */
  readonly requestTimeoutMs?: number;
  /** An idle keep-alive connection is closed after this many ms. Default 5,000, as `node:http`. */
  readonly keepAliveTimeoutMs?: number;
  /** The most connections open at once. Default 4,096. */
  readonly maxConnections?: number;
  /** Told of every request answered without reaching the handler (a protocol error). */
  readonly onRefused?: (method: string, status: number) => void;
}

export type HttpHandler = (request: HttpRequest) => Promise<HttpReply>;

const REASONS: Readonly<Record<number, string>> = {
  100: 'Continue', 200: 'OK', 307: 'Temporary Redirect', 400: 'Bad Request', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 413: 'Content Too Large', 417: 'Expectation Failed', 431: 'Request Header Fields Too Large',
  500: 'Internal Server Error', 501: 'Not Implemented', 503: 'Service Unavailable',
};
const REQUEST_LINE = /^([A-Z]{1,32}) (\S{1,16384}) HTTP\/1\.([01])$/;
const HEADER = /^([!#$%&'*+\-.^_`|~0-9A-Za-z]+):[ \t]*(.*?)[ \t]*$/;
const HEAD_END = Buffer.from('\r\n\r\n');

/** A JSON `{ code, message }` answer that closes its connection. */
function problem(status: number, code: string, message: string): HttpReply {
  return { status, headers: { 'content-type': 'application/json' }, body: `${JSON.stringify({ code, message })}\n`, close: true };
}

/** A protocol error: answered, then the connection is closed. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

interface Head {
  method: string;
  target: string;
  headers: Record<string, string>;
  keepAlive: boolean;
  /** The body's length, or -1 for a chunked body. */
  length: number;
  /** Where the body starts in the connection's buffer. */
  bodyAt: number;
}

/** One connection's state. */
class Connection {
  buffer: Buffer = Buffer.alloc(0);
  head: Head | null = null;
  busy = false;
  /** When the request being read began (its first byte), or the connection went idle. */
  since: number;
  closing = false;

  constructor(
    readonly socket: Socket,
    now: number,
  ) {
    this.since = now;
  }
}

/**
 * The HTTP server of {@link KeyValueServer}: {@link HttpServer.listen} starts it, `close` drains it.
 */
export class HttpServer {
  readonly #server: Server;
  readonly #handler: HttpHandler;
  readonly #options: Required<Omit<HttpServerOptions, 'onRefused'>> & Pick<HttpServerOptions, 'onRefused'>;
  readonly #connections = new Set<Connection>();
  readonly #clock = new RealScheduler();
  #sweep: Cancel;
  #closing = false;
  #closed: (() => void) | null = null;

  private constructor(server: Server, handler: HttpHandler, options: HttpServerOptions) {
    this.#server = server;
    this.#handler = handler;
    this.#options = { maxHeadBytes: 16 * 1024, requestTimeoutMs: 30_000, keepAliveTimeoutMs: 5_000, maxConnections: 4_096, ...options };
    server.maxConnections = this.#options.maxConnections;
    server.on('connection', (socket) => this.#accept(socket));
    // One timer for every connection: slow requests and idle keep-alives are closed here.
    const sweep = (): void => {
      this.#expire();
      this.#sweep = this.#clock.schedule(1_000, sweep);
    };
    this.#sweep = this.#clock.schedule(1_000, sweep);
  }

  /** Listens on `options.host:options.port`; rejects with the listen error (`EADDRINUSE`, say). */
  static listen(handler: HttpHandler, options: HttpServerOptions, onError: (error: Error) => void): Promise<HttpServer> {
    const server = createServer({ noDelay: true });
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port, options.host, () => {
        server.off('error', reject);
        // Once listening, an error (EMFILE on accept, say) is reported: the server must not crash.
        server.on('error', onError);
        resolve(new HttpServer(server, handler, options));
      });
    });
  }

  /** Where it listens. */
  get address(): TcpAddress {
    const { address, port } = this.#server.address() as { address: string; port: number };
    return { host: address, port };
  }

  /**
   * Stops accepting, closes idle connections, lets requests in flight be answered (their
   * connections close after), and after `graceMs` closes whatever is left.
   */
  close(graceMs: number): Promise<void> {
    this.#closing = true;
    this.#server.close();
    for (const connection of this.#connections) if (!connection.busy) connection.socket.destroy();
    return new Promise((resolve) => {
      const cancel = this.#clock.schedule(graceMs, () => {
        for (const connection of this.#connections) connection.socket.destroy();
      });
      this.#closed = () => {
        cancel();
        this.#sweep();
        resolve();
      };
      this.#settle();
    });
  }

  #settle(): void {
    if (this.#closing && this.#connections.size === 0 && this.#closed !== null) this.#closed();
  }

  #accept(socket: Socket): void {
    if (this.#closing) {
      socket.destroy();
      return;
    }
    const connection = new Connection(socket, this.#clock.now());
    this.#connections.add(connection);
    socket.on('data', (chunk: Buffer) => {
      if (connection.closing) return; // the rest of a refused request: read and dropped
      if (connection.buffer.length === 0 && connection.head === null && !connection.busy) connection.since = this.#clock.now();
      connection.buffer = connection.buffer.length === 0 ? chunk : Buffer.concat([connection.buffer, chunk]);
      if (!connection.busy) this.#read(connection);
      // A client that sends request after request without reading answers is held back.
      else if (connection.buffer.length > this.#options.maxHeadBytes + this.#options.maxBodyBytes) socket.pause();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      this.#connections.delete(connection);
      this.#settle();
    });
  }

  /** Parses and handles every whole request buffered on `connection`, one after another. */
  #read(connection: Connection): void {
    while (!connection.busy && !connection.closing) {
      let request: HttpRequest | null;
      let keepAlive: boolean;
      try {
        connection.head ??= this.#parseHead(connection);
        if (connection.head === null) return;
        keepAlive = connection.head.keepAlive;
        request = this.#takeBody(connection, connection.head);
      } catch (error) {
        if (!(error instanceof Refusal)) throw error;
        this.#options.onRefused?.(connection.head?.method ?? '?', error.status);
        this.#write(connection, problem(error.status, error.code, error.message), connection.head?.method === 'HEAD');
        return;
      }
      if (request === null) return;
      connection.head = null;
      connection.busy = true;
      const { method } = request;
      this.#handler(request).then(
        (reply) => this.#answered(connection, reply, keepAlive, method),
        (error: unknown) => this.#answered(connection, problem(500, 'INTERNAL', String(error)), keepAlive, method),
      );
    }
  }

  #answered(connection: Connection, reply: HttpReply, keepAlive: boolean, method: string): void {
    connection.busy = false;
    connection.since = this.#clock.now();
    if (connection.socket.destroyed) return;
    connection.socket.resume();
    this.#write(connection, reply.close === true || !keepAlive || this.#closing ? { ...reply, close: true } : reply, method === 'HEAD');
    if (connection.buffer.length > 0) this.#read(connection);
  }

  #write(connection: Connection, reply: HttpReply, headOnly: boolean): void {
    const { socket } = connection;
    let head = `HTTP/1.1 ${reply.status} ${REASONS[reply.status] ?? 'Unknown'}\r\ncontent-length: ${Buffer.byteLength(reply.body)}\r\n`;
    for (const name in reply.headers) head += `${name}: ${reply.headers[name] as string}\r\n`;
    head += reply.close === true ? 'connection: close\r\n\r\n' : `keep-alive: timeout=${Math.floor(this.#options.keepAliveTimeoutMs / 1000)}\r\n\r\n`;
    socket.write(headOnly ? head : head + reply.body);
    if (reply.close === true) {
      connection.closing = true;
      connection.buffer = Buffer.alloc(0);
      // Half-close: the client reads the answer before it sees the end, even while it still sends
      // the rest of a refused body (which is read and dropped until it hangs up, or a second passes).
      socket.end();
      this.#clock.schedule(1_000, () => socket.destroy());
    }
  }

  /** The request head, once it has arrived whole; null before. */
  #parseHead(connection: Connection): Head | null {
    const { buffer } = connection;
    // Tolerate the empty lines a client may send between requests (RFC 9112 §2.2).
    let start = 0;
    while (buffer.length >= start + 2 && buffer[start] === 13 && buffer[start + 1] === 10) start += 2;
    const end = buffer.indexOf(HEAD_END, start);
    if ((end < 0 ? buffer.length : end) - start > this.#options.maxHeadBytes) throw new Refusal(431, 'HEADERS_TOO_LARGE', `the request head is over ${this.#options.maxHeadBytes} bytes`);
    if (end < 0) return null;
    const lines = buffer.toString('latin1', start, end).split('\r\n');
    const requestLine = REQUEST_LINE.exec(lines[0] as string);
    if (requestLine === null) throw new Refusal(400, 'BAD_REQUEST', 'the request line is not HTTP/1.x');
    const headers: Record<string, string> = Object.create(null) as Record<string, string>;
    for (let i = 1; i < lines.length; i++) {
      const header = HEADER.exec(lines[i] as string);
      if (header === null) throw new Refusal(400, 'BAD_REQUEST', 'a header is malformed');
      const name = (header[1] as string).toLowerCase();
      const value = header[2] as string;
      const before = headers[name];
      if (before !== undefined && name === 'content-length' && before !== value) throw new Refusal(400, 'BAD_REQUEST', 'content-length is given twice');
      headers[name] = before === undefined || name === 'content-length' ? value : `${before}, ${value}`;
    }
    const method = requestLine[1] as string;
    const http10 = requestLine[3] === '0';
    const connectionHeader = (headers['connection'] ?? '').toLowerCase();
    const keepAlive = http10 ? connectionHeader.includes('keep-alive') : !connectionHeader.includes('close');
    const encoding = headers['transfer-encoding'];
    const declared = headers['content-length'];
    let length = 0;
    if (encoding !== undefined) {
      if (declared !== undefined) throw new Refusal(400, 'BAD_REQUEST', 'both transfer-encoding and content-length are given');
      if (encoding.toLowerCase() !== 'chunked') throw new Refusal(501, 'NOT_IMPLEMENTED', `transfer-encoding ${encoding} is not supported (chunked is)`);
      length = -1;
    } else if (declared !== undefined) {
      if (!/^\d{1,15}$/.test(declared)) throw new Refusal(400, 'BAD_REQUEST', `content-length is not a length: ${declared}`);
      length = Number(declared);
      if (length > this.#options.maxBodyBytes) throw new Refusal(413, 'BODY_TOO_LARGE', `the body is ${length} bytes; at most ${this.#options.maxBodyBytes} are accepted`);
    }
    const expect = headers['expect'];
    if (expect !== undefined) {
      if (expect.toLowerCase() !== '100-continue') throw new Refusal(417, 'EXPECTATION_FAILED', `expect: ${expect} is not supported`);
      if (!http10 && length !== 0) connection.socket.write('HTTP/1.1 100 Continue\r\n\r\n');
    }
    return { method, target: requestLine[2] as string, headers, keepAlive, length, bodyAt: end + 4 };
  }

  /** The whole request, once its body has arrived; null before. What it used is taken off the buffer. */
  #takeBody(connection: Connection, head: Head): HttpRequest | null {
    const { buffer } = connection;
    let body: Buffer;
    let end: number;
    if (head.length >= 0) {
      end = head.bodyAt + head.length;
      if (buffer.length < end) return null;
      body = buffer.subarray(head.bodyAt, end);
    } else {
      const chunked = dechunk(buffer, head.bodyAt, this.#options.maxBodyBytes);
      if (chunked === null) return null;
      ({ body, end } = chunked);
    }
    // A copy when more follows, so that a pipelined request does not keep the whole buffer alive.
    connection.buffer = end === buffer.length ? Buffer.alloc(0) : Buffer.from(buffer.subarray(end));
    return { method: head.method, target: head.target, headers: head.headers, body };
  }

  #expire(): void {
    const now = this.#clock.now();
    for (const connection of this.#connections) {
      if (connection.busy || connection.closing) continue;
      const reading = connection.buffer.length > 0 || connection.head !== null;
      if (now - connection.since > (reading ? this.#options.requestTimeoutMs : this.#options.keepAliveTimeoutMs)) {
        if (reading) {
          this.#options.onRefused?.(connection.head?.method ?? '?', 408);
          this.#write(connection, problem(408, 'REQUEST_TIMEOUT', `the request did not arrive whole within ${this.#options.requestTimeoutMs} ms`), false);
        } else connection.socket.destroy();
      }
    }
  }
}

/**
 * A chunked body (RFC 9112 §7.1) starting at `at`: the body and where it ends, or null while it
 * is incomplete. Throws a 413 past `limit` bytes and a 400 when it is malformed. Extensions
 * and trailers are read and ignored.
 */
function dechunk(buffer: Buffer, at: number, limit: number): { body: Buffer; end: number } | null {
  const parts: Buffer[] = [];
  let size = 0;
  let offset = at;
  for (;;) {
    const lineEnd = buffer.indexOf('\r\n', offset, 'latin1');
    if (lineEnd < 0) {
      if (buffer.length - offset > 1024) throw new Refusal(400, 'BAD_REQUEST', 'a chunk size line is too long');
      return null;
    }
    const sizeText = /^([0-9A-Fa-f]{1,8})(?:[ \t]*;.*)?$/.exec(buffer.toString('latin1', offset, lineEnd));
    if (sizeText === null) throw new Refusal(400, 'BAD_REQUEST', 'a chunk size is malformed');
    const chunkSize = parseInt(sizeText[1] as string, 16);
    offset = lineEnd + 2;
    if (chunkSize === 0) {
      // Trailers, if any, end with an empty line.
      for (;;) {
        const trailerEnd = buffer.indexOf('\r\n', offset, 'latin1');
        if (trailerEnd < 0) {
          if (buffer.length - offset > 16 * 1024) throw new Refusal(431, 'HEADERS_TOO_LARGE', 'the trailers are too large');
          return null;
        }
        if (trailerEnd === offset) return { body: parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts), end: offset + 2 };
        offset = trailerEnd + 2;
      }
    }
    size += chunkSize;
    if (size > limit) throw new Refusal(413, 'BODY_TOO_LARGE', `the body is over ${limit} bytes`);
    if (buffer.length < offset + chunkSize + 2) return null;
    if (buffer[offset + chunkSize] !== 13 || buffer[offset + chunkSize + 1] !== 10) throw new Refusal(400, 'BAD_REQUEST', 'a chunk does not end with CRLF');
    parts.push(buffer.subarray(offset, offset + chunkSize));
    offset += chunkSize + 2;
  }
}
