/**
 * KeyValueServer in one process: three servers on loopback (each with its own FileStorage
 * directory and TcpTransport), driven through their HTTP API as a client would.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { KeyValueServer, type KeyValueServerOptions } from '../../src/node-only/index.js';
import { eventually, freePorts } from './tcp-support.js';

const work = await mkdtemp(join(tmpdir(), 'raftkit-server-'));
const running = new Set<KeyValueServer>();
afterEach(async () => {
  await Promise.all([...running].map((s) => s.close()));
  running.clear();
});
afterAll(() => rm(work, { recursive: true, force: true }));

let clusterCount = 0;
async function cluster(size: number, extra: Partial<KeyValueServerOptions> = {}): Promise<{ servers: KeyValueServer[]; start: (i: number) => Promise<KeyValueServer>; peers: Record<string, string>; dir: string }> {
  const dir = join(work, `c${++clusterCount}`);
  const ports = await freePorts(size);
  const peers = Object.fromEntries(ports.map((port, i) => [String(i + 1), `127.0.0.1:${port}`]));
  const start = async (i: number): Promise<KeyValueServer> => {
    const server = await KeyValueServer.start({ id: String(i + 1), peers, data: join(dir, String(i + 1)), http: '127.0.0.1:0', electionTimeoutMs: [150, 300], heartbeatIntervalMs: 30, log: () => undefined, ...extra });
    running.add(server);
    return server;
  };
  const servers = await Promise.all(Array.from({ length: size }, (_, i) => start(i)));
  return { servers, start, peers, dir };
}

const url = (server: KeyValueServer, path: string): string => `http://127.0.0.1:${server.httpAddress.port}${path}`;
async function call(server: KeyValueServer, method: string, path: string, body?: unknown, raw?: string): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url(server, path), { method, ...(raw !== undefined ? { body: raw } : body === undefined ? {} : { body: JSON.stringify(body) }) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // (metrics are text)
  }
  return { status: response.status, body: parsed, headers: response.headers };
}

async function leaderOf(servers: readonly KeyValueServer[]): Promise<KeyValueServer> {
  for (let i = 0; i < 400; i++) {
    const leader = servers.find((s) => s.node.role === 'leader');
    if (leader !== undefined) return leader;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error('no leader');
}

describe('KeyValueServer', () => {
  it('serves puts, reads at each consistency, deletes and compare-and-set, on the leader and through a follower', async () => {
    const { servers } = await cluster(3);
    const leader = await leaderOf(servers);
    const follower = servers.find((s) => s !== leader) as KeyValueServer;

    const put = await call(leader, 'PUT', '/kv/x', { n: 1 });
    expect(put.status).toBe(200);
    expect(put.body.previous).toBeUndefined(); // (absent before)
    expect(await call(follower, 'PUT', '/kv/y', 'through a follower')).toMatchObject({ status: 200 });
    for (const consistency of ['linearizable', 'lease', 'stale']) {
      const read = await call(leader, 'GET', `/kv/x?consistency=${consistency}`);
      expect(read, consistency).toMatchObject({ status: 200, body: { value: { n: 1 } } });
    }
    expect(await call(follower, 'GET', '/kv/y')).toMatchObject({ status: 200, body: { value: 'through a follower' } }); // a follower's linearizable read
    expect(await call(leader, 'POST', '/kv/x/cas', { expected: { n: 2 }, value: 3 })).toMatchObject({ status: 409, body: { ok: false, code: 'CAS_FAILED', previous: { n: 1 } } });
    expect(await call(follower, 'POST', '/kv/x/cas', { expected: { n: 1 }, value: 3 })).toMatchObject({ status: 200, body: { ok: true } });
    expect(await call(leader, 'GET', '/kv/x')).toMatchObject({ status: 200, body: { value: 3 } });
    expect(await call(leader, 'DELETE', '/kv/x')).toMatchObject({ status: 200, body: { previous: 3 } });
    expect(await call(leader, 'GET', '/kv/x')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await call(leader, 'GET', `/kv/${encodeURIComponent('a key/with spaces')}`)).toMatchObject({ status: 404 });
  }, 30_000);

  it('reports status and Prometheus metrics', async () => {
    const { servers } = await cluster(3);
    const leader = await leaderOf(servers);
    await call(leader, 'PUT', '/kv/k', 1);
    const status = await call(leader, 'GET', '/status');
    expect(status.body).toMatchObject({ id: leader.node.id, role: 'leader', leader: leader.node.id, membership: { voters: ['1', '2', '3'] } });
    expect(status.body.commit).toBeGreaterThanOrEqual(2);
    const metrics = await call(leader, 'GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = metrics.body as string;
    for (const name of ['raftkit_term', 'raftkit_commit_index', 'raftkit_applied_index', 'raftkit_proposals_total', 'raftkit_fsyncs_total', 'raftkit_fsync_seconds_bucket', 'raftkit_messages_sent_total{type="AppendEntries"}', 'raftkit_message_bytes_sent_total', 'raftkit_elections_total', 'raftkit_snapshots_total', 'raftkit_http_requests_total']) {
      expect(text, name).toContain(name);
    }
    expect(Number(/^raftkit_fsync_seconds_count (\d+)$/m.exec(text)?.[1])).toBeGreaterThan(0);
    expect(text).toMatch(/^raftkit_role\{role="leader"\} 1$/m);
  }, 30_000);

  it('answers bad requests with clear 4xx codes, and keeps serving', async () => {
    const { servers } = await cluster(1);
    const [server] = servers as [KeyValueServer];
    await leaderOf(servers);
    expect(await call(server, 'PUT', '/kv/x', undefined, '{not json')).toMatchObject({ status: 400, body: { code: 'BAD_JSON' } });
    expect(await call(server, 'PUT', '/kv/x', undefined, '')).toMatchObject({ status: 400, body: { code: 'BAD_JSON' } });
    expect(await call(server, 'PUT', '/kv/x', undefined, JSON.stringify('x'.repeat(2 * 1024 * 1024)))).toMatchObject({ status: 413, body: { code: 'BODY_TOO_LARGE' } });
    const wrong = await call(server, 'PATCH', '/kv/x', 1);
    expect(wrong).toMatchObject({ status: 405, body: { code: 'METHOD_NOT_ALLOWED' } });
    expect(wrong.headers.get('allow')).toBe('GET, PUT, DELETE');
    expect(await call(server, 'GET', '/nothing/here')).toMatchObject({ status: 404, body: { code: 'NOT_FOUND' } });
    expect(await call(server, 'PUT', '/kv/_raftkit%2Fpeers', {})).toMatchObject({ status: 403, body: { code: 'RESERVED_KEY' } });
    expect(await call(server, 'GET', '/kv/x?consistency=eventual')).toMatchObject({ status: 400 });
    expect(await call(server, 'POST', '/kv/x/cas', { expected: 1 })).toMatchObject({ status: 400 });
    expect(await call(server, 'GET', '/kv/%E0%A4%A')).toMatchObject({ status: 400, body: { code: 'BAD_KEY' } });
    expect(await call(server, 'POST', '/members', { id: 4 })).toMatchObject({ status: 400 });
    expect(await call(server, 'PUT', '/kv/x', 'still here')).toMatchObject({ status: 200 });
    expect(await call(server, 'GET', '/kv/x')).toMatchObject({ status: 200, body: { value: 'still here' } });
  }, 30_000);

  it('refuses a chunked body past the limit (no content-length), and survives a client that hangs up mid-body', async () => {
    const { servers } = await cluster(1, { maxBodyBytes: 1024 });
    const [server] = servers as [KeyValueServer];
    await leaderOf(servers);
    const chunked = await new Promise<number>((resolve, reject) => {
      const request = httpRequest({ host: '127.0.0.1', port: server.httpAddress.port, method: 'PUT', path: '/kv/big', headers: { 'transfer-encoding': 'chunked' } }, (response) => {
        response.resume();
        resolve(response.statusCode ?? 0);
      });
      request.on('error', reject);
      for (let i = 0; i < 8; i++) request.write(`"${'x'.repeat(300)}"`.slice(0, 300));
      request.end();
    });
    expect(chunked).toBe(413);
    // Half a body, then the connection drops: nothing is proposed, and the next client is served.
    // (A write applied first: the leader's own entry of its term is committed before we count.)
    expect(await call(server, 'PUT', '/kv/before', 1)).toMatchObject({ status: 200 });
    const proposalsBefore = server.node.status().commitIndex;
    await new Promise<void>((resolve) => {
      const socket = connect(server.httpAddress.port, '127.0.0.1', () => {
        socket.write('PUT /kv/half HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n"abc');
        setTimeout(() => socket.destroy(), 50);
      });
      socket.on('close', () => resolve());
    });
    expect(await call(server, 'GET', '/kv/half?consistency=stale')).toMatchObject({ status: 404 });
    expect(await call(server, 'PUT', '/kv/x', 'after')).toMatchObject({ status: 200 });
    expect(server.node.status().commitIndex).toBe(proposalsBefore + 1);
  }, 30_000);

  it('tells "not applied" from "outcome unknown"', async () => {
    const { servers } = await cluster(3, { requestTimeoutMs: 800 });
    const leader = await leaderOf(servers);
    const followers = servers.filter((s) => s !== leader);
    await call(leader, 'PUT', '/kv/x', 1);
    await Promise.all(followers.map((s) => s.close()));
    // The leader appends, but no majority can commit it: the write may yet take effect.
    const unknown = await call(leader, 'PUT', '/kv/x', 2);
    expect(unknown).toMatchObject({ status: 503, body: { code: 'OUTCOME_UNKNOWN' } });
    // Once it stepped down (check-quorum) and knows no leader, a write is refused before it is appended.
    await eventually('the lone leader steps down', () => leader.node.role !== 'leader');
    expect(await call(leader, 'PUT', '/kv/x', 3)).toMatchObject({ status: 503, body: { code: 'NOT_APPLIED' } });
    expect(await call(leader, 'GET', '/kv/x')).toMatchObject({ status: 503, body: { code: 'READ_FAILED' } });
  }, 30_000);

  it('adds a member through the replicated address book, and removes it', async () => {
    const { servers, dir } = await cluster(3);
    const leader = await leaderOf(servers);
    await call(leader, 'PUT', '/kv/before', 'joined later');
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const peers = { ...Object.fromEntries(servers.map((s) => [s.node.id, `127.0.0.1:${s.raftAddress.port}`])), '4': address };
    const fourth = await KeyValueServer.start({ id: '4', peers, data: join(dir, '4'), http: '127.0.0.1:0', join: true, electionTimeoutMs: [150, 300], heartbeatIntervalMs: 30, log: () => undefined });
    running.add(fourth);
    const follower = servers.find((s) => s !== leader) as KeyValueServer;
    expect(await call(follower, 'POST', '/members', { id: '4', address, role: 'voter' })).toMatchObject({ status: 503, body: { code: 'NOT_APPLIED', leader: leader.node.id } });
    const added = await call(leader, 'POST', '/members', { id: '4', address, role: 'voter' });
    expect(added).toMatchObject({ status: 200, body: { membership: { voters: ['1', '2', '3', '4'] } } });
    await eventually('the new member applies what came before it', () => fourth.store.get('before') === 'joined later');
    for (const s of servers) expect((await call(s, 'GET', '/status')).body.peers['4']).toBe(address);
    expect(await call(leader, 'DELETE', '/members/4')).toMatchObject({ status: 200, body: { membership: { voters: ['1', '2', '3'] } } });
  }, 30_000);

  it('keeps what it acknowledged across a restart on the same directory; a second server on it is refused', async () => {
    const { servers, start } = await cluster(3);
    const leader = await leaderOf(servers);
    for (let i = 0; i < 20; i++) expect((await call(leader, 'PUT', `/kv/k${i}`, i)).status).toBe(200);
    const index = servers.indexOf(leader);
    await expect(start(index)).rejects.toMatchObject({ code: 'LOCKED' });
    await leader.close();
    running.delete(leader);
    const again = await start(index);
    await eventually('the restarted node applies its log', () => again.store.get('k19') === 19);
    expect(await call(again, 'GET', '/kv/k7')).toMatchObject({ status: 200, body: { value: 7 } });
  }, 30_000);

  it('a follower far behind on large values catches up: batches stay below the frame limit (regression: it was sent one 17 MB batch, dropped for ever)', async () => {
    // (900 KB entries share the connection with heartbeats: longer timeouts, so that a loaded machine keeps its leader.)
    const { servers, start } = await cluster(3, { electionTimeoutMs: [600, 1200], heartbeatIntervalMs: 100 });
    const leader = await leaderOf(servers);
    const lagging = servers.find((s) => s !== leader) as KeyValueServer;
    const index = servers.indexOf(lagging);
    await lagging.close();
    running.delete(lagging);
    const value = 'v'.repeat(900_000);
    for (let i = 0; i < 20; i++) {
      const answer = await call(leader, 'PUT', `/kv/big${i}`, `${i}${value}`);
      expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    }
    const again = await start(index);
    await eventually('the lagging follower applies everything', () => again.node.lastApplied >= leader.node.commitIndex);
    expect((await call(leader, 'GET', '/metrics')).body).toMatch(/^raftkit_messages_dropped_total\{reason="frame-too-large"\} 0$/m);
  }, 60_000);

  it('a node restarted after a member was added accepts it as leader (regression: it refused the new leader for ever)', async () => {
    const { servers, start, dir } = await cluster(3);
    const leader = await leaderOf(servers);
    const [port] = await freePorts(1);
    const address = `127.0.0.1:${port}`;
    const peers = { ...Object.fromEntries(servers.map((s) => [s.node.id, `127.0.0.1:${s.raftAddress.port}`])), '4': address };
    const fourth = await KeyValueServer.start({ id: '4', peers, data: join(dir, '4'), http: '127.0.0.1:0', join: true, electionTimeoutMs: [150, 300], heartbeatIntervalMs: 30, log: () => undefined });
    running.add(fourth);
    expect((await call(leader, 'POST', '/members', { id: '4', address, role: 'voter' })).status).toBe(200);
    await eventually('4 caught up', () => fourth.node.lastApplied >= leader.node.commitIndex);
    await leader.node.transferLeadership('4');
    await eventually('4 leads', () => fourth.node.role === 'leader');
    const other = servers.find((s) => s !== leader) as KeyValueServer;
    const index = servers.indexOf(other);
    await other.close();
    running.delete(other);
    expect((await call(fourth, 'PUT', '/kv/after', 'the restart')).status).toBe(200);
    const again = await start(index); // with its original --peers, which do not name 4
    await eventually('the restarted node applies what the new leader committed', () => again.store.get('after') === 'the restart');
  }, 60_000);

  it('membership: a change that failed after its first step is OUTCOME_UNKNOWN; an existing member at another address is refused; concurrent additions keep both addresses', async () => {
    const { servers } = await cluster(3);
    const leader = await leaderOf(servers);
    const { NotLeaderError } = await import('../../src/raft/errors.js');
    const addVoter = leader.node.addVoter.bind(leader.node);
    leader.node.addVoter = () => Promise.reject(new NotLeaderError(leader.node.id, null)); // the learner is in; then leadership moves
    expect(await call(leader, 'POST', '/members', { id: '7', address: '127.0.0.1:9', role: 'voter' })).toMatchObject({ status: 503, body: { code: 'OUTCOME_UNKNOWN' } });
    expect(leader.node.membership.learners).toContain('7');
    leader.node.addVoter = addVoter;
    expect(await call(leader, 'POST', '/members', { id: '7', address: '127.0.0.1:10', role: 'learner' })).toMatchObject({ status: 409, body: { code: 'MEMBER_EXISTS' } });
    expect(await call(leader, 'POST', '/members', { id: 'has space', address: '127.0.0.1:10' })).toMatchObject({ status: 400 });
    const both = await Promise.all([call(leader, 'POST', '/members', { id: '8', address: '127.0.0.1:11', role: 'learner' }), call(leader, 'POST', '/members', { id: '9', address: '127.0.0.1:12', role: 'learner' })]);
    expect(both.map((r) => r.status).sort()).toContain(200);
    const peers = (await call(leader, 'GET', '/status')).body.peers as Record<string, string>;
    expect([peers['8'], peers['9']]).toEqual(['127.0.0.1:11', '127.0.0.1:12']); // neither change lost the other's address
  }, 60_000);
});
