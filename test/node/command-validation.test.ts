/**
 * Commands must have a JSON form (they cross the network in messages): one without is refused
 * at submit/propose with a RaftError (INVALID_COMMAND) naming what and where, before it can
 * break replication. The check can be replaced or turned off with `validateCommand`.
 */
import { describe, expect, it } from 'vitest';
import { RaftNode } from '../../src/node/raft-node.js';
import { RaftError } from '../../src/raft/errors.js';
import { jsonProblem } from '../../src/raft/command.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { Cluster } from '../../src/sim/cluster.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import { manualTransport, Sim } from './harness.js';

const cycle: Record<string, unknown> = { a: 1 };
cycle['self'] = { back: cycle };
const shared = { x: 1 };

const BAD: Array<[string, unknown, RegExp]> = [
  ['a bigint', 10n, /^command is a bigint/],
  ['a nested bigint', { a: [1, 2, 10n] }, /^command\.a\[2\] is a bigint/],
  ['a function', { f: () => 1 }, /^command\.f is a function/],
  ['a symbol', [Symbol('s')], /^command\[0\] is a symbol/],
  ['undefined at top level', undefined, /^command is undefined/],
  ['undefined in an array', [1, undefined], /^command\[1\] is undefined/],
  ['a cycle', cycle, /^command\.self\.back is a cycle/],
  ['NaN', { n: NaN }, /^command\.n is NaN/],
  ['Infinity', [Infinity], /^command\[0\] is Infinity/],
  ['a Map', { m: new Map() }, /^command\.m is a Map/],
  ['a Date', new Date(0), /^command is a Date/],
  ['a key that is no identifier', { 'a b': { c: 1n } }, /^command\.a b\.c is a bigint/],
];

const GOOD: unknown[] = [
  null,
  0,
  -1.5,
  'x',
  true,
  [],
  {},
  { set: 'x', to: 1 },
  { a: [1, 'b', null, { c: [true] }] },
  { optional: undefined }, // JSON drops the key: the same command to a state machine
  [shared, shared], // shared, not cyclic
  Object.assign(Object.create(null) as object, { k: 1 }),
];

describe('jsonProblem', () => {
  it.each(BAD)('names %s and where it is', (_, command, message) => {
    expect(jsonProblem(command)).toMatch(message);
  });
  it('accepts JSON values', () => {
    for (const command of GOOD) expect(jsonProblem(command), JSON.stringify(command)).toBeUndefined();
  });
});

describe('submit and propose refuse a command with no JSON form', () => {
  it('on the leader: submit throws, propose rejects, and nothing is appended', async () => {
    const scheduler = new VirtualScheduler();
    const node = new RaftNode({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, scheduler, random: new SeededRandom(1) });
    await node.start();
    node.campaign();
    scheduler.runFor(10);
    const last = node.status().lastLogIndex;
    for (const [, command, message] of BAD) {
      let thrown: unknown;
      try {
        node.submit(command);
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(RaftError);
      expect((thrown as RaftError).code).toBe('INVALID_COMMAND');
      expect((thrown as Error).message).toMatch(message);
      const rejected = await node.propose(command).catch((e: unknown) => e);
      expect((rejected as RaftError).code).toBe('INVALID_COMMAND');
    }
    expect(node.status().lastLogIndex).toBe(last);
    for (const command of GOOD) node.submit(command);
    expect(node.status().lastLogIndex).toBe(last + GOOD.length);
    await node.stop();
  });

  it('on a follower that forwards proposals', async () => {
    const seed = 5;
    const sim = new Sim({ seed, nodeOptions: () => ({ forwardProposals: true }) });
    await sim.startAll();
    sim.elect('1');
    const error = await sim.node('2').propose({ n: 10n }).catch((e: unknown) => e);
    expect((error as RaftError).code, `seed ${seed}`).toBe('INVALID_COMMAND');
  });

  it.each([1, 2, 3])('in the simulator: Cluster.propose rejects with INVALID_COMMAND, not LeadershipLostError (seed %i)', async (seed) => {
    const cluster = new Cluster({ size: 3, seed });
    await cluster.waitForLeader();
    const error = await cluster.propose({ n: 10n }).catch((e: unknown) => e);
    expect((error as RaftError).code, `seed ${seed}`).toBe('INVALID_COMMAND');
    expect((error as Error).message, `seed ${seed}`).toMatch(/command\.n is a bigint/);
    await expect(cluster.propose({ n: 10 }), `seed ${seed}`).resolves.toMatchObject({ result: undefined });
  });

  it('validateCommand replaces the check, or turns it off', async () => {
    const scheduler = new VirtualScheduler();
    const make = (validateCommand: ((command: unknown) => string | undefined) | false) =>
      new RaftNode({ id: 'solo', peers: ['solo'], transport: manualTransport().transport, scheduler, random: new SeededRandom(1), validateCommand });
    const strict = make((command) => (typeof command === 'string' ? undefined : 'commands are strings'));
    const off = make(false);
    for (const node of [strict, off]) {
      await node.start();
      node.campaign();
    }
    scheduler.runFor(10);
    expect(() => strict.submit(1)).toThrow(/commands are strings/);
    expect(strict.submit('x').index).toBeGreaterThan(0);
    expect(off.submit(10n).index).toBeGreaterThan(0);
    await Promise.all([strict.stop(), off.stop()]);
  });
});
