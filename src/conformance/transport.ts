/**
 * The conformance suite for a {@link Transport}: what raftkit needs of any network that carries
 * its messages, checked against a real implementation on real time.
 */

import { RaftNode } from '../node/raft-node.js';
import { LeadershipLostError, NotLeaderError } from '../raft/errors.js';
import type { Message } from '../raft/messages.js';
import type { LogEntry } from '../raft/types.js';
import { MathRandom } from '../sim/random.js';
import type { NodeId, Transport } from '../transport/transport.js';
import { canonical, ConformanceError, eventually, sleep, type ConformanceCheck } from './checks.js';

/**
 * One isolated network for one check, made by {@link TransportHarness.createNetwork}.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, RealScheduler, MathRandom } from 'raftkit';
 * import type { ConformanceNetwork } from 'raftkit/conformance';
 * const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom() });
 * const under: ConformanceNetwork = { transport: (id) => network.transport(id) };
 * ```
 */
export interface ConformanceNetwork {
  /**
   * The transport of node `id`; every transport of this network can reach every other. Called
   * again for an id whose transport was closed, it stands for that node restarting.
   */
  transport(id: NodeId): Transport | Promise<Transport>;
  /** Releases whatever the network shares (a server, a port), after the check closed its transports. */
  close?(): void | Promise<void>;
}

/**
 * How {@link transportChecks} makes the transports it checks.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, RealScheduler, MathRandom } from 'raftkit';
 * import type { TransportHarness } from 'raftkit/conformance';
 * const harness: TransportHarness = {
 *   createNetwork: () => {
 *     const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom() });
 *     return { transport: (id) => network.transport(id) };
 *   },
 *   timeoutMs: 5_000,
 * };
 * ```
 */
export interface TransportHarness {
  /** A fresh network for each check, so that checks never see each other's messages. */
  createNetwork(): ConformanceNetwork | Promise<ConformanceNetwork>;
  /** How long a check waits for messages to arrive before it fails, in ms (default 5,000). */
  timeoutMs?: number;
}

/** What one node received, in arrival order. */
interface Inbox {
  readonly received: unknown[];
  /** Whether a message equal to `message` arrived (as plain JSON). */
  has(message: unknown): boolean;
}

function inbox(transport: Transport): Inbox {
  const received: unknown[] = [];
  const seen = new Set<string>();
  transport.listen((message) => {
    received.push(message);
    seen.add(canonical(message));
  });
  return { received, has: (message) => seen.has(canonical(message)) };
}

/** Runs `body` on a fresh network, then closes every transport it opened (once) and the network. */
function onNetwork(
  harness: TransportHarness,
  body: (open: (id: NodeId) => Promise<Transport>, timeoutMs: number) => Promise<void>,
): () => Promise<void> {
  return async () => {
    const network = await harness.createNetwork();
    const opened = new Set<Transport>();
    const open = async (id: NodeId): Promise<Transport> => {
      const transport = await network.transport(id);
      if (typeof transport?.send !== 'function' || typeof transport.listen !== 'function' || typeof transport.close !== 'function') {
        throw new ConformanceError(`transport(${JSON.stringify(id)}) did not return a Transport (send, listen, close)`);
      }
      opened.add(transport);
      return guarded(transport, opened);
    };
    try {
      await body(open, harness.timeoutMs ?? 5_000);
    } finally {
      for (const transport of opened) await transport.close();
      await network.close?.();
    }
  };
}

/**
 * Wraps `transport` so that a `send` that throws fails the check with a {@link ConformanceError}
 * saying so, and closing it (by the check, or by a stopping node) happens once.
 */
function guarded(transport: Transport, open: Set<Transport>): Transport {
  return {
    send: (to, message) => {
      try {
        transport.send(to, message);
      } catch (error) {
        throw new ConformanceError(`send(${JSON.stringify(to)}, ${(message as Message).type}) threw: ${String(error)}`, { cause: error });
      }
    },
    listen: (handler) => transport.listen(handler),
    close: () => {
      if (!open.delete(transport)) return Promise.resolve();
      return transport.close();
    },
  };
}

const entries = (count: number, from = 1): LogEntry[] =>
  Array.from({ length: count }, (_, i) => ({ index: from + i, term: 2, kind: 'command' as const, command: { op: 'put', key: `k${from + i}`, value: i } }));

/**
 * One message of every type raftkit sends, from `from` to `to`, with awkward contents (Unicode,
 * line separators, nested commands, `null`, ids above 2^32): handy for testing a message codec.
 *
 * @example
 * ```ts
 * import { sampleMessages } from 'raftkit/conformance';
 * for (const message of sampleMessages('a', 'b')) {
 *   const decoded: unknown = JSON.parse(JSON.stringify(message)); // your codec here
 *   console.log(message.type, JSON.stringify(decoded) === JSON.stringify(message));
 * }
 * ```
 */
export function sampleMessages(from: NodeId, to: NodeId): Message[] {
  const membership = { voters: [from, to, 'n-3'], learners: ['n-4'] };
  const head = { from, to, term: 7 };
  return [
    { type: 'PreVote', ...head, lastLogIndex: 10, lastLogTerm: 6 },
    { type: 'PreVoteResponse', ...head, voteGranted: true },
    { type: 'RequestVote', ...head, lastLogIndex: 10, lastLogTerm: 6, force: true },
    { type: 'RequestVoteResponse', ...head, voteGranted: false },
    {
      type: 'AppendEntries',
      ...head,
      prevLogIndex: 9,
      prevLogTerm: 6,
      entries: [
        { index: 10, term: 7, kind: 'noop' },
        { index: 11, term: 7, kind: 'command', command: { text: 'naïve café ☕ — 日本語 \u2028 "quoted" \\ back', list: [1, null, true, 2.5e-8], empty: {} } },
        { index: 12, term: 7, kind: 'config', membership },
        { index: 13, term: 7, kind: 'command', command: null },
      ],
      leaderCommit: 9,
      round: 3,
    },
    { type: 'AppendEntriesResponse', ...head, success: false, index: 9, conflictIndex: 4, conflictTerm: 2, round: 3 },
    { type: 'TimeoutNow', ...head },
    { type: 'ReadIndex', ...head, id: 42 },
    { type: 'ReadIndexResponse', ...head, id: 42, index: 12, ok: true },
    { type: 'Propose', ...head, id: 2 ** 40 + 1, command: ['a', { b: 'c' }] },
    { type: 'ProposeResponse', ...head, id: 2 ** 40 + 1, index: 14, ok: false },
    { type: 'InstallSnapshot', ...head, index: 100, lastTerm: 6, membership, offset: 0, data: '{"snapshot":"ü"}\n', done: true },
    { type: 'InstallSnapshotResponse', ...head, index: 100, offset: 17, done: true },
  ];
}

/**
 * The conformance checks for a {@link Transport}. Each runs on a fresh network from the harness,
 * on real time, and allows what the contract allows (lost, duplicated and reordered messages: a
 * check resends until what it waits for arrived). They require:
 * - every message type raftkit sends arrives unchanged (as plain JSON) at the node it is addressed to, and only there;
 * - large messages (a 1 MiB snapshot chunk, 1,000 entries) and 1,000 messages at once get through;
 * - `send` never throws, not for an unknown node and not after `close()`;
 * - after `close()` (which resolves) a node receives nothing and sends nothing;
 * - a node can come back with a new transport for the same id;
 * - three `RaftNode`s on it elect one leader and replicate proposals to every node, in one order.
 *
 * @example
 * ```ts
 * import { InMemoryNetwork, RealScheduler, MathRandom } from 'raftkit';
 * import { transportChecks } from 'raftkit/conformance';
 *
 * const checks = transportChecks({
 *   createNetwork: () => {
 *     const network = new InMemoryNetwork({ scheduler: new RealScheduler(), random: new MathRandom(), latencyMs: [0, 2] });
 *     return { transport: (id) => network.transport(id) };
 *   },
 * });
 * // With any test runner: for (const check of checks) it(check.name, () => check.run(), 20_000);
 * await checks[0]?.run(); // resolves: the message arrived, unchanged, at its addressee only
 * ```
 */
export function transportChecks(harness: TransportHarness): ConformanceCheck[] {
  const check = (name: string, body: Parameters<typeof onNetwork>[1]): ConformanceCheck => ({ name, run: onNetwork(harness, body) });
  return [
    check('delivers a message to the node it is addressed to, unchanged, and to no other', async (open, timeoutMs) => {
      const [a, b, c] = [await open('a'), await open('b'), await open('c')];
      const [inA, inB, inC] = [inbox(a), inbox(b), inbox(c)];
      const message = sampleMessages('a', 'b')[2] as Message;
      await eventually('b to receive a RequestVote from a', timeoutMs, () => inB.has(message), () => a.send('b', message));
      await sleep(50); // time for a stray copy to land elsewhere
      if (inA.received.length > 0 || inC.received.length > 0) {
        throw new ConformanceError(`a message for b also reached ${inA.received.length > 0 ? 'its sender a' : 'c'}`);
      }
    }),

    check('carries every Raft message type unchanged (Unicode, nested commands, null, large ids)', async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const inB = inbox(b);
      const messages = sampleMessages('a', 'b');
      const missing = (): Message[] => messages.filter((m) => !inB.has(m));
      for (const m of messages) a.send('b', m);
      await eventually(
        'every message type to arrive unchanged',
        timeoutMs,
        () => missing().length === 0,
        () => missing().forEach((m) => a.send('b', m)),
      ).catch((error: unknown) => {
        const types = missing().map((m) => m.type);
        throw new ConformanceError(`${(error as Error).message}; missing or changed: ${types.join(', ')}; received: ${inB.received.length}`);
      });
    }),

    check('carries large messages: a 1 MiB snapshot chunk and 1,000 entries', async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const inB = inbox(b);
      const data = 'snapshot data, '.repeat(65_536).slice(0, 1 << 20); // 1 MiB
      const chunk: Message = { type: 'InstallSnapshot', from: 'a', to: 'b', term: 3, index: 5_000, lastTerm: 2, membership: { voters: ['a', 'b'], learners: [] }, offset: 0, data, done: false };
      const append: Message = { type: 'AppendEntries', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: entries(1_000), leaderCommit: 0, round: 0 };
      const send = (): void => {
        if (!inB.has(chunk)) a.send('b', chunk);
        if (!inB.has(append)) a.send('b', append);
      };
      send();
      await eventually('a 1 MiB InstallSnapshot and a 1,000-entry AppendEntries to arrive unchanged', timeoutMs, () => inB.has(chunk) && inB.has(append), send);
    }),

    check('gets 1,000 messages sent at once through, 500 each way', async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const [inA, inB] = [inbox(a), inbox(b)];
      const batch = (from: NodeId, to: NodeId): Message[] =>
        Array.from({ length: 500 }, (_, id) => ({ type: 'ReadIndex', from, to, term: 1, id }) as Message);
      const toB = batch('a', 'b');
      const toA = batch('b', 'a');
      const send = (): void => {
        for (const m of toB) if (!inB.has(m)) a.send('b', m);
        for (const m of toA) if (!inA.has(m)) b.send('a', m);
      };
      send();
      const done = (): boolean => toB.every((m) => inB.has(m)) && toA.every((m) => inA.has(m));
      await eventually('all 1,000 messages to arrive', timeoutMs, done, send);
    }),

    check('send does not throw for a node that does not exist', async (open) => {
      const a = await open('a');
      for (const m of sampleMessages('a', 'nobody')) a.send('nobody', m);
      await sleep(20); // a transport that fails later, asynchronously, fails the run here
    }),

    check('after close() resolves, the node neither receives nor sends, and send does not throw', async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const [inA, inB] = [inbox(a), inbox(b)];
      const ping = (from: NodeId, to: NodeId, id: number): Message => ({ type: 'ReadIndex', from, to, term: 1, id });
      await eventually('b to be reachable', timeoutMs, () => inB.has(ping('a', 'b', 1)), () => a.send('b', ping('a', 'b', 1)));
      await b.close();
      const before = inB.received.length;
      a.send('b', ping('a', 'b', 2));
      b.send('a', ping('b', 'a', 3));
      await sleep(100);
      if (inB.received.length > before) throw new ConformanceError('a closed transport still delivered a message');
      if (inA.has(ping('b', 'a', 3))) throw new ConformanceError('a closed transport still sent a message');
    }),

    check('a node whose transport closed comes back with a new transport for the same id', async (open, timeoutMs) => {
      const a = await open('a');
      await (await open('b')).close();
      const b = await open('b');
      const [inA, inB] = [inbox(a), inbox(b)];
      const toB: Message = { type: 'TimeoutNow', from: 'a', to: 'b', term: 4 };
      const toA: Message = { type: 'TimeoutNow', from: 'b', to: 'a', term: 5 };
      await eventually('the new b to receive from a', timeoutMs, () => inB.has(toB), () => a.send('b', toB));
      await eventually('a to receive from the new b', timeoutMs, () => inA.has(toA), () => b.send('a', toA));
    }),

    check('three RaftNodes on it elect one leader and replicate proposals to every node, in one order', async (open, timeoutMs) => {
      const ids = ['a', 'b', 'c'];
      const applied = new Map<NodeId, unknown[]>(ids.map((id) => [id, []]));
      const nodes: RaftNode<string, void>[] = [];
      for (const id of ids) {
        nodes.push(
          new RaftNode<string, void>({
            id,
            peers: ids,
            transport: await open(id),
            stateMachine: { apply: (command) => void applied.get(id)?.push(command) },
            random: new MathRandom(),
            electionTimeoutMs: [150, 300],
            heartbeatIntervalMs: 30,
          }),
        );
      }
      try {
        for (const node of nodes) await node.start();
        const leader = (): RaftNode<string, void> | undefined => {
          const l = nodes.find((n) => n.role === 'leader');
          return l !== undefined && nodes.every((n) => n.leaderId === l.id) ? l : undefined;
        };
        const limit = Math.max(timeoutMs, 10_000);
        await eventually('one leader that every node follows', limit, () => leader() !== undefined);
        const commands = Array.from({ length: 20 }, (_, i) => `command ${i}`);
        for (const command of commands) {
          // A leader may change meanwhile (a slow machine misses heartbeats): ask the new one. A
          // retried command may then be applied twice; what must hold is that every node applies
          // the same sequence, with every command in it.
          for (let attempt = 1; ; attempt++) {
            await eventually('one leader that every node follows', limit, () => leader() !== undefined);
            try {
              await (leader() as RaftNode<string, void>).propose(command, { timeoutMs: limit });
              break;
            } catch (error) {
              if (attempt === 5 || !(error instanceof NotLeaderError || error instanceof LeadershipLostError)) throw error;
            }
          }
        }
        const log = (id: NodeId): string => canonical(applied.get(id));
        await eventually('every node to apply the same commands, all 20 among them', limit, () =>
          ids.every((id) => log(id) === log('a')) && commands.every((c) => applied.get('a')?.includes(c) === true),
        );
      } finally {
        for (const node of nodes) await node.stop();
      }
    }),
  ];
}
