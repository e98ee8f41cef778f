/**
 * What a node says when it fails or is misused: storage failures keep their cause, a stopped
 * node says it is stopped (and still shows its last state), start() after stop() explains
 * itself, and a transport of another node is refused.
 */
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/node/raft-node.js';
import { NodeStoppedError, RaftError } from '../../src/raft/errors.js';
import { MemoryStorage, type StorageUpdate } from '../../src/raft/storage.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Cluster } from '../../src/sim/cluster.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import { drain, manualTransport, track } from './harness.js';

/** Saves normally, then fails from the `failAt`-th save on with an ENOSPC-like error. */
class FullDisk extends MemoryStorage {
  saves = 0;
  readonly error = Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
  constructor(private readonly failAt: number) {
    super();
  }
  override save(update: StorageUpdate): void {
    if (++this.saves >= this.failAt) throw this.error;
    super.save(update);
  }
}

describe('a storage failure', () => {
  it.each([false, true])('is the cause of every rejection that follows it (error listener: %s)', async (listening) => {
    const scheduler = new VirtualScheduler();
    const storage = new FullDisk(2);
    const node = new RaftNode({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, storage, scheduler, random: new SeededRandom(1) });
    const errors: Error[] = [];
    if (listening) node.on('error', (e) => errors.push(e));
    await node.start();
    node.campaign();
    scheduler.runFor(0); // the first save: term, vote, no-op
    const pending = track(node.propose('x'));
    const read = track(node.read());
    scheduler.runFor(0); // the second save fails: the node stops
    await drain();
    expect(node.running).toBe(false);
    for (const t of [pending, read]) {
      expect(t.error).toBeInstanceOf(NodeStoppedError);
      expect((t.error as Error).cause).toBe(storage.error);
    }
    // Calls made afterwards say why too.
    const later = await node.propose('y').catch((e: unknown) => e);
    expect(later).toBeInstanceOf(NodeStoppedError);
    expect((later as Error).cause).toBe(storage.error);
    expect(() => node.submit('z')).toThrow(expect.objectContaining({ cause: storage.error }) as unknown as Error);
    expect(errors.map((e) => (e as RaftError).code)).toEqual(listening ? ['STORAGE_FAILED'] : []);
  });

  it('a plain stop() gives no cause', async () => {
    const node = new RaftNode({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, scheduler: new VirtualScheduler() });
    await node.start();
    await node.stop();
    const error = await node.propose('x').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NodeStoppedError);
    expect('cause' in (error as Error)).toBe(false);
  });
});

describe('a stopped node', () => {
  it.each([1, 2, 3])("reports role 'stopped', and its last status and entries (seed %i)", async (seed) => {
    const cluster = new Cluster({ size: 3, seed });
    const leaderId = await cluster.waitForLeader();
    await cluster.propose('x');
    const leader = cluster.node(leaderId);
    const { term, lastLogIndex, commitIndex } = leader.status();
    cluster.crash(leaderId);
    expect(leader.role, `seed ${seed}`).toBe('stopped');
    expect(cluster.nodes.find((n) => n.role === 'leader')?.id, `seed ${seed}`).not.toBe(leaderId);
    // status() keeps its RaftStatus type (role: a Raft role): the state the node stopped in.
    expect(leader.status(), `seed ${seed}`).toMatchObject({ id: leaderId, term, lastLogIndex, commitIndex });
    expect(leader.running).toBe(false);
    expect(leader.entries().length, `seed ${seed}`).toBe(lastLogIndex);
    expect(leader.term).toBe(term);
    await cluster.waitForLeader();
    cluster.restart(leaderId);
    expect(cluster.node(leaderId).role).not.toBe('stopped');
  });

  it('a node never started still throws NodeStoppedError from status() and entries()', () => {
    const node = new RaftNode({ id: '1', peers: ['1'], transport: manualTransport().transport, scheduler: new VirtualScheduler() });
    expect(node.role).toBe('follower');
    expect(() => node.status()).toThrow(NodeStoppedError);
    expect(() => node.entries()).toThrow(NodeStoppedError);
  });

  it('start() after stop() says a RaftNode cannot be restarted, and what to do instead', async () => {
    const node = new RaftNode({ id: 's', peers: ['s'], transport: manualTransport().transport, scheduler: new VirtualScheduler() });
    await node.start();
    await expect(node.start()).rejects.toThrow(/already started/);
    await node.stop();
    const error = await node.start().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RaftError);
    expect((error as RaftError).code).toBe('ALREADY_STARTED');
    expect((error as Error).message).toMatch(/stopped.*cannot be restarted.*new RaftNode.*same storage/);
  });
});

describe('misconfiguration', () => {
  it("a transport that belongs to another node is refused", () => {
    const network = new InMemoryNetwork({ scheduler: new VirtualScheduler(), random: new SeededRandom(1) });
    expect(() => new RaftNode({ id: '1', peers: ['1', '2'], transport: network.transport('2') })).toThrow(RangeError);
    expect(() => new RaftNode({ id: '1', peers: ['1', '2'], transport: network.transport('2') })).toThrow(/transport.*'2'.*'1'/);
    expect(() => new RaftNode({ id: '1', peers: ['1', '2'], transport: network.transport('1') })).not.toThrow();
    // A transport without an id is taken on trust.
    expect(() => new RaftNode({ id: '1', peers: ['1', '2'], transport: manualTransport().transport })).not.toThrow();
  });
});
