/**
 * `raftkit serve`: runs one {@link KeyValueServer} until SIGTERM or SIGINT, or (`--local N`) a
 * cluster of N of them as child processes on loopback, for a first try.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { RealScheduler } from '../runtime/real-scheduler.js';
import { KeyValueServer, type KeyValueServerOptions } from './kv-server.js';

/** The usage lines of `raftkit serve`, for the CLI's help. */
export const SERVE_USAGE = `  raftkit serve --id ID --peers ID=HOST:PORT,... --data DIR --http HOST:PORT [options]
                                                   one node of a replicated key-value service
  raftkit serve --local N [--data DIR]             N nodes on loopback, as child processes`;

/** The options of `raftkit serve`, for the CLI's help. */
export const SERVE_OPTIONS = `Options of serve:
  --id ID                 this node's id (a key of --peers)
  --peers LIST            every voter's Raft address: 1=10.0.0.1:7001,2=10.0.0.2:7001,...
  --data DIR              the node's store (created if missing; one process at a time)
  --http HOST:PORT        where the HTTP API listens
  --listen HOST:PORT      where Raft listens (default: this node's address in --peers)
  --cluster-id NAME       the cluster's name, checked in every handshake (default raftkit)
  --tls-ca FILE --tls-cert FILE --tls-key FILE
                          mutual TLS between nodes; each certificate must name its node id
  --join                  join a running cluster (add it with POST /members on the leader)
  --election-timeout MIN-MAX
                          election timeout in ms (default 300-600)
  --heartbeat-interval MS heartbeat interval (default 75)
  --snapshot-threshold N  entries between automatic snapshots (default 10000)
  --request-timeout MS    how long a write or read may take before it is answered 503 (default 5000)
  --max-body BYTES        the largest request body (default 1048576)
  --handshake-timeout MS  how long a Raft connection may take to shake hands (default 5000)
  --max-connections N     the most inbound Raft connections at once (default 1024)
  --no-pre-vote           turn pre-vote off (on by default)
  --no-check-quorum       turn check-quorum off (on by default)
  --sync always|never     never is not durable: demos only (default always)
  --local N               start N nodes on 127.0.0.1 (Raft 7001.., HTTP 8001..; --base-port P
                          and --http-base-port P move them), data under --data (default ./raftkit-data)`;

/** A command-line mistake: the CLI prints it with the usage hint, and exits 2. */
export class ServeUsageError extends Error {}

/** `--peers 1=host:port,2=host:port` as a map. */
function peersOf(text: string): Record<string, string> {
  const peers: Record<string, string> = {};
  for (const part of text.split(',')) {
    const match = /^([^=\s]+)=(\S+)$/.exec(part.trim());
    if (match === null) throw new ServeUsageError(`--peers takes ID=HOST:PORT,... ; '${part}' is not one`);
    peers[match[1] as string] = match[2] as string;
  }
  return peers;
}

/** A whole number of at least `min` for `--name`. */
function countOf(name: string, text: string, min: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NaN;
  if (!(Number.isSafeInteger(value) && value >= min)) throw new ServeUsageError(`--${name} takes a whole number ≥ ${min}, got '${text}'`);
  return value;
}

function rangeOf(text: string): [number, number] {
  const match = /^(\d+)-(\d+)$/.exec(text);
  const [min, max] = match === null ? [NaN, NaN] : [Number(match[1]), Number(match[2])];
  if (!(min >= 10 && max >= min)) throw new ServeUsageError(`--election-timeout takes MIN-MAX in ms (MIN ≥ 10), got '${text}'`);
  return [min, max];
}

/** The numeric options given, each checked. */
function numbers(values: Record<string, string | boolean | undefined>): Partial<KeyValueServerOptions> {
  const flags = [
    ['heartbeat-interval', 'heartbeatIntervalMs', 1],
    ['snapshot-threshold', 'snapshotThreshold', 1],
    ['request-timeout', 'requestTimeoutMs', 1],
    ['max-body', 'maxBodyBytes', 1],
    ['handshake-timeout', 'handshakeTimeoutMs', 1],
    ['max-connections', 'maxConnections', 1],
  ] as const;
  const options: Record<string, number> = {};
  for (const [flag, option, min] of flags) {
    const text = values[flag];
    if (typeof text === 'string') options[option] = countOf(flag, text, min);
  }
  return options;
}

/** Resolves on the first of SIGTERM or SIGINT. */
const terminated = (): Promise<string> =>
  new Promise((resolve) => {
    const on = (signal: string): void => {
      process.off('SIGTERM', on);
      process.off('SIGINT', on);
      resolve(signal);
    };
    process.on('SIGTERM', on);
    process.on('SIGINT', on);
  });

/**
 * Runs `raftkit serve` with its arguments; resolves with the exit code once the server (or the
 * local cluster) has stopped. `script` is the CLI's own path, which `--local` runs once per node.
 */
export async function serve(args: readonly string[], print: (line: string) => void, script: string): Promise<number> {
  const { values } = parseArgs({
    args: [...args],
    options: {
      id: { type: 'string' },
      peers: { type: 'string' },
      data: { type: 'string' },
      http: { type: 'string' },
      listen: { type: 'string' },
      'cluster-id': { type: 'string' },
      'tls-ca': { type: 'string' },
      'tls-cert': { type: 'string' },
      'tls-key': { type: 'string' },
      join: { type: 'boolean' },
      'election-timeout': { type: 'string' },
      sync: { type: 'string' },
      'heartbeat-interval': { type: 'string' },
      'snapshot-threshold': { type: 'string' },
      'request-timeout': { type: 'string' },
      'max-body': { type: 'string' },
      'handshake-timeout': { type: 'string' },
      'max-connections': { type: 'string' },
      'no-pre-vote': { type: 'boolean' },
      'no-check-quorum': { type: 'boolean' },
      local: { type: 'string' },
      'base-port': { type: 'string' },
      'http-base-port': { type: 'string' },
    },
    strict: true,
    allowPositionals: false,
  });
  if (values.local !== undefined) return local(values, print, script);
  for (const name of ['id', 'peers', 'data', 'http'] as const) if (values[name] === undefined) throw new ServeUsageError(`serve needs --${name}`);
  const tlsFiles = [values['tls-ca'], values['tls-cert'], values['tls-key']];
  if (tlsFiles.some((f) => f !== undefined) && tlsFiles.some((f) => f === undefined)) throw new ServeUsageError('TLS needs all of --tls-ca, --tls-cert and --tls-key');
  if (values.sync !== undefined && values.sync !== 'always' && values.sync !== 'never') throw new ServeUsageError(`--sync is always or never, got '${values.sync}'`);
  const options: KeyValueServerOptions = {
    id: values.id as string,
    peers: peersOf(values.peers as string),
    data: values.data as string,
    http: values.http as string,
    ...(values.listen === undefined ? {} : { listen: values.listen }),
    ...(values['cluster-id'] === undefined ? {} : { clusterId: values['cluster-id'] }),
    ...(values['tls-ca'] === undefined ? {} : { tls: { ca: readFileSync(values['tls-ca']), cert: readFileSync(values['tls-cert'] as string), key: readFileSync(values['tls-key'] as string) } }),
    ...(values.join === true ? { join: true } : {}),
    ...(values['election-timeout'] === undefined ? {} : { electionTimeoutMs: rangeOf(values['election-timeout']) }),
    ...(values.sync === undefined ? {} : { sync: values.sync as 'always' | 'never' }),
    ...numbers(values),
    ...(values['no-pre-vote'] === true ? { preVote: false } : {}),
    ...(values['no-check-quorum'] === true ? { checkQuorum: false } : {}),
  };
  // Started by `--local`: exit with the parent, which is gone when its IPC channel closes (maybe already).
  const orphaned = new Promise<void>((resolve) => {
    if (process.send === undefined) return; // no parent channel: never
    if (!process.connected) return resolve();
    process.once('disconnect', resolve);
  });
  const server = await KeyValueServer.start(options);
  const ended = await Promise.race([terminated().then(() => 'signal' as const), orphaned.then(() => 'orphaned' as const), server.stopped.then(() => 'failed' as const)]);
  await server.close();
  return ended === 'failed' ? 1 : 0;
}

/** `--local N`: N nodes as child processes on loopback; stops exactly those on SIGTERM or SIGINT. */
async function local(values: Record<string, string | boolean | undefined>, print: (line: string) => void, script: string): Promise<number> {
  const count = Number(values.local);
  if (!Number.isInteger(count) || count < 1 || count > 9) throw new ServeUsageError(`--local takes a node count from 1 to 9, got '${String(values.local)}'`);
  const port = (name: string, fallback: number): number => {
    const value = values[name] === undefined ? fallback : Number(values[name]);
    if (!Number.isInteger(value) || value < 1 || value + count > 65535) throw new ServeUsageError(`--${name} takes a port, got '${String(values[name])}'`);
    return value;
  };
  const raftBase = port('base-port', 7001);
  const httpBase = port('http-base-port', 8001);
  const data = typeof values.data === 'string' ? values.data : 'raftkit-data';
  const ids = Array.from({ length: count }, (_, i) => String(i + 1));
  const peers = ids.map((id, i) => `${id}=127.0.0.1:${raftBase + i}`).join(',');
  // Each child has an IPC channel, so it exits when this process does, however it ends; and its
  // own process group, so that Ctrl-C reaches only this process, which stops them in order.
  const children: ChildProcess[] = ids.map((id, i) =>
    spawn(process.execPath, [script, 'serve', '--id', id, '--peers', peers, '--data', join(data, id), '--http', `127.0.0.1:${httpBase + i}`, ...(values.sync === 'never' ? ['--sync', 'never'] : [])], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], detached: true }),
  );
  const exited = children.map((child) => new Promise<number>((resolve) => {
    child.on('error', () => resolve(1)); // could not start: stop the others too
    child.on('exit', (code) => resolve(code ?? 1));
  }));
  ids.forEach((id, i) => print(`node ${id}: http://127.0.0.1:${httpBase + i}  (raft 127.0.0.1:${raftBase + i}, pid ${children[i]?.pid}, data ${join(data, id)})`));
  print(`try:  curl -X PUT -d '"hello"' http://127.0.0.1:${httpBase}/kv/greeting`);
  print(`      curl http://127.0.0.1:${httpBase + count - 1}/kv/greeting`);
  print('stop with Ctrl-C');
  const stopped = await Promise.race([terminated().then(() => 'signal'), Promise.race(exited).then(() => 'child')]);
  for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
  // Those that have not stopped after 10 s are killed.
  const cancel = new RealScheduler().schedule(10_000, () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  });
  const codes = await Promise.all(exited);
  cancel();
  return stopped === 'signal' && codes.every((code) => code === 0) ? 0 : 1;
}
