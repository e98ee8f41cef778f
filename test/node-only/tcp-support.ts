/**
 * Helpers of the TcpTransport tests: a throwaway PKI made with `openssl` (a CA, a certificate
 * per node naming its id as CN and DNS SAN, and a rogue CA's certificate), raw clients that
 * speak (or abuse) the wire protocol, and a polling `eventually`.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeFrame, FrameDecoder } from '../../src/node-only/frames.js';
import { helloFrame, parseReply, type Lane, type Reply } from '../../src/node-only/handshake.js';

/** Polls `done` every 10 ms until it holds, or fails after `timeoutMs` saying what it waited for. */
export async function eventually(what: string, done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!done()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(10);
  }
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** One node's TLS material, PEM. */
export interface Pem {
  readonly ca: string;
  readonly cert: string;
  readonly key: string;
}

/**
 * A CA and certificates for `ids` (plus `rogue`: a certificate for 'a' from another CA, and
 * `smuggler`: one from the cluster's CA that names only 'mallory' but hides `DNS:b` inside an
 * email alternative name), in a temporary directory.
 */
export interface Pki {
  readonly ca: string;
  node(id: string): Pem;
  /** A certificate naming 'a', signed by a CA the cluster does not trust. */
  readonly rogue: Pem;
  /**
   * Signed by the cluster CA; its CN is 'mallory' and its alternative names are
   * `email:mallory-DNS:b, IP Address:10.0.0.9`: it names no node, though the text `DNS:b` is in it.
   */
  readonly smuggler: Pem;
  remove(): void;
}

export function makePki(ids: readonly string[]): Pki {
  const dir = mkdtempSync(join(tmpdir(), 'raftkit-pki-'));
  const ssl = (...args: string[]): void => void execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const key = (name: string): void => ssl('genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', `${name}.key`);
  const ca = (name: string): void => {
    key(name);
    ssl('req', '-x509', '-new', '-key', `${name}.key`, '-subj', `/CN=${name}`, '-days', '2', '-out', `${name}.crt`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
  };
  const leaf = (file: string, id: string, issuer: string, san = `DNS:${id}`): void => {
    key(file);
    ssl('req', '-new', '-key', `${file}.key`, '-subj', `/CN=${id}`, '-out', `${file}.csr`);
    writeFileSync(join(dir, `${file}.ext`), `subjectAltName=${san}\nextendedKeyUsage=serverAuth,clientAuth\n`);
    ssl('x509', '-req', '-in', `${file}.csr`, '-CA', `${issuer}.crt`, '-CAkey', `${issuer}.key`, '-CAcreateserial', '-days', '2', '-out', `${file}.crt`, '-extfile', `${file}.ext`);
  };
  ca('cluster-ca');
  ca('rogue-ca');
  for (const id of ids) leaf(`node-${id}`, id, 'cluster-ca');
  leaf('rogue-a', 'a', 'rogue-ca');
  leaf('smuggler', 'mallory', 'cluster-ca', 'email:mallory-DNS:b,IP:10.0.0.9');
  const read = (file: string): string => readFileSync(join(dir, file), 'utf8');
  const caPem = read('cluster-ca.crt');
  const pems = new Map(ids.map((id) => [id, { ca: caPem, cert: read(`node-${id}.crt`), key: read(`node-${id}.key`) }]));
  return {
    ca: caPem,
    node: (id) => {
      const pem = pems.get(id);
      if (pem === undefined) throw new Error(`no certificate for ${id}`);
      return pem;
    },
    rogue: { ca: caPem, cert: read('rogue-a.crt'), key: read('rogue-a.key') },
    smuggler: { ca: caPem, cert: read('smuggler.crt'), key: read('smuggler.key') },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Sockets, servers and timers a test opened, closed in afterEach whatever happened. */
export class Leftovers {
  readonly #sockets = new Set<Socket>();
  readonly #servers = new Set<Server>();
  readonly #timers = new Set<ReturnType<typeof setInterval>>();
  readonly #closers: Array<() => Promise<void>> = [];

  socket<S extends Socket>(socket: S): S {
    this.#sockets.add(socket);
    socket.on('error', () => undefined);
    return socket;
  }
  server(server: Server): Server {
    this.#servers.add(server);
    return server;
  }
  interval(timer: ReturnType<typeof setInterval>): void {
    this.#timers.add(timer);
  }
  closer(close: () => Promise<void>): void {
    this.#closers.push(close);
  }
  async cleanUp(): Promise<void> {
    for (const timer of this.#timers) clearInterval(timer);
    for (const socket of this.#sockets) socket.destroy();
    await Promise.allSettled(this.#closers.splice(0).map((close) => close()));
    await Promise.allSettled([...this.#servers].map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
    this.#sockets.clear();
    this.#servers.clear();
    this.#timers.clear();
  }
}

/** A raw client's view of its socket: every frame the server sent, and whether the socket closed. */
export interface RawClient {
  readonly socket: Socket;
  readonly frames: Buffer[];
  readonly closed: () => boolean;
  /** The handshake reply, once it came. */
  reply(): Reply | undefined;
}

/** Watches `socket` as a client: collects the frames it receives and notes its close. */
export function watch(socket: Socket): RawClient {
  const frames: Buffer[] = [];
  let closed = false;
  const decoder = new FrameDecoder(1 << 20);
  socket.on('data', (chunk: Buffer) => decoder.push(chunk, (frame) => frames.push(frame)));
  socket.on('close', () => (closed = true));
  return { socket, frames, closed: () => closed, reply: () => (frames[0] === undefined ? undefined : parseReply(frames[0])) };
}

/** A plain TCP connection to `port` on loopback. */
export function rawConnect(leftovers: Leftovers, port: number): RawClient {
  return watch(leftovers.socket(connect({ host: '127.0.0.1', port })));
}

/** The handshake frame a node sends. */
export const hello = (cluster: string, from: string, to: string, lane: Lane = 'control'): Buffer => helloFrame(cluster, from, to, lane);

/** A frame holding `value` as JSON. */
export const jsonFrame = (value: unknown): Buffer => encodeFrame(Buffer.from(JSON.stringify(value)));

/**
 * A fake peer that answers each handshake as `id`, then either never reads again (`'stall'`:
 * the socket's buffers fill, and its sender must hold its queue within bounds) or closes the
 * connection at once (`'close'`: as a node does that is misaddressed, speaks another codec, or
 * replaced the connection). `hellos` counts handshakes.
 */
export async function fakePeer(leftovers: Leftovers, id: string, then: 'stall' | 'close', cluster = 'raftkit'): Promise<{ port: number; hellos: () => number }> {
  let hellos = 0;
  const server = leftovers.server(
    createServer((socket) => {
      leftovers.socket(socket);
      const decoder = new FrameDecoder(4096);
      socket.once('data', (chunk: Buffer) => {
        decoder.push(chunk, () => {
          hellos++;
          const welcome = jsonFrame({ raftkit: 1, ok: true, cluster, from: id });
          if (then === 'close') return void socket.end(welcome, () => socket.destroy());
          socket.write(welcome);
          socket.pause(); // and never resume
        });
      });
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (typeof address !== 'object' || address === null) throw new Error('no address');
  return { port: address.port, hellos: () => hellos };
}

/** Free ports on 127.0.0.1 (bound once to learn them, then released), for addresses peers must know in advance. */
export async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<Server>((resolve) => {
      const server = createServer();
      server.listen(0, '127.0.0.1', () => resolve(server));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

/** A port on loopback that nothing listens on. */
export const deadPort = async (): Promise<number> => (await freePorts(1))[0] as number;
