/**
 * The conformance suite for a {@link Transport}: what raftkit needs of any network that carries
 * its messages, checked against a real implementation on real time.
 */

import { RaftNode } from '../node/raft-node.js';
import { LeadershipLostError, NotLeaderError } from '../raft/errors.js';
import type { Message } from '../raft/messages.js';
import type { LogEntry } from '../raft/types.js';
import { MathRandom } from '../runtime/random.js';
import type { NodeId } from '../raft/types.js';
import type { Transport } from '../transport/transport.js';
import { canonical, clock, ConformanceError, eventually, sleep, within, type ConformanceCheck } from './checks.js';

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
  /**
   * The size of the large message the transport must carry, in characters of snapshot data
   * (default 1 MiB). raftkit's largest messages are a snapshot chunk (`snapshotChunkSize`,
   * default 64 KiB) and a batch of entries (up to `maxEntries`, as large as the commands in it):
   * lower it only to what your nodes are configured to send.
   */
  largeMessageBytes?: number;
}

/** What one node received, in arrival order. */
interface Inbox {
  readonly received: unknown[];
  /** Whether a message equal to `message` arrived (as plain JSON). */
  has(message: unknown): boolean;
}

/** The canonical JSON of each expected message, computed once (a 1 MiB message is polled often). */
const keys = new WeakMap<object, string>();
const keyOf = (message: object): string => {
  let key = keys.get(message);
  if (key === undefined) keys.set(message, (key = canonical(message)));
  return key;
};

function inbox(transport: Transport): Inbox {
  const received: unknown[] = [];
  const seen = new Set<string>();
  transport.listen((message) => {
    received.push(message);
    try {
      seen.add(canonical(message));
    } catch {
      // Not plain JSON (a BigInt, a cycle): it equals no expected message, so the check reports it missing.
    }
  });
  return { received, has: (message) => seen.has(keyOf(message as object)) };
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
    let failure: unknown;
    try {
      await body(open, harness.timeoutMs ?? 5_000);
    } catch (error) {
      failure = error;
    }
    // Close everything even when one close fails, and report the check's own failure first.
    const closed = await Promise.allSettled([...opened].map((t) => within('close()', CLOSE_TIMEOUT_MS, () => t.close())));
    closed.push(...(await Promise.allSettled([within("the network's close()", CLOSE_TIMEOUT_MS, () => network.close?.())])));
    if (failure !== undefined) throw failure;
    const refused = closed.find((r) => r.status === 'rejected');
    if (refused !== undefined) throw refused.reason;
  };
}

/** How long `close()` may take before the check fails (it must not hang a test run). */
const CLOSE_TIMEOUT_MS = 5_000;

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
        { index: 14, term: 7, kind: 'session', time: 1_764_000_000_123.25, timeoutMs: 3_600_000 },
        { index: 15, term: 7, kind: 'command', command: 'once', session: { id: 14, seq: 2 ** 40, ack: 1 }, time: 1_764_000_000_124.5 },
      ],
      leaderCommit: 9,
      round: 3,
    },
    { type: 'AppendEntriesResponse', ...head, success: false, index: 9, conflictIndex: 4, conflictTerm: 2, round: 3 },
    { type: 'TimeoutNow', ...head },
    { type: 'ReadIndex', ...head, id: 42 },
    { type: 'ReadIndexResponse', ...head, id: 42, index: 12, ok: true },
    { type: 'Propose', ...head, id: 2 ** 40 + 1, command: ['a', { b: 'c' }], session: { id: 3, seq: 2 ** 40, ack: 1 } },
    { type: 'ProposeResponse', ...head, id: 2 ** 40 + 1, index: 14, outcome: 'unknown' },
    { type: 'InstallSnapshot', ...head, index: 100, lastTerm: 6, membership, offset: 0, data: '{"snapshot":"ü"}\n', done: true },
    { type: 'InstallSnapshotResponse', ...head, index: 100, offset: 17, done: true },
  ];
}

/**
 * The conformance checks for a {@link Transport}. Each runs on a fresh network from the harness,
 * on real time, and allows what the contract allows (lost, duplicated and reordered messages: a
 * check resends until what it waits for arrived). They require:
 * - every message type raftkit sends arrives unchanged (as plain JSON) at the node it is addressed to, and only there;
 * - large messages (a snapshot chunk of `largeMessageBytes`, default 1 MiB; 1,000 entries) and
 *   1,000 messages at once get through;
 * - `send` never throws, not for an unknown node and not after `close()`;
 * - after `close()` (which resolves within 5 s) a node receives nothing and sends nothing;
 * - a node that restarts (a new transport for its id) is reached again by a peer that had talked
 *   to it before, and reaches that peer;
 * - three `RaftNode`s on it elect one leader and replicate proposals to every node, in one order,
 *   with no node reporting an error (a `send` that threw, a malformed or misaddressed message).
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
  const large = harness.largeMessageBytes ?? 1 << 20;
  const size = large === 1 << 20 ? '1 MiB' : `${large}-character`;
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
      await eventually('every message type to arrive unchanged', timeoutMs, () => missing().length === 0, () => missing().forEach((m) => a.send('b', m))).catch(
        (error: unknown) => {
          const types = missing().map((m) => m.type);
          throw new ConformanceError(`${(error as Error).message}; missing or changed: ${types.join(', ')}; received: ${inB.received.length}`);
        },
      );
    }),

    check(`carries large messages: a ${size} snapshot chunk and 1,000 entries`, async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const inB = inbox(b);
      const data = 'snapshot data 16'.repeat(Math.ceil(large / 16)).slice(0, large);
      const chunk: Message = { type: 'InstallSnapshot', from: 'a', to: 'b', term: 3, index: 5_000, lastTerm: 2, membership: { voters: ['a', 'b'], learners: [] }, offset: 0, data, done: false };
      const append: Message = { type: 'AppendEntries', from: 'a', to: 'b', term: 2, prevLogIndex: 0, prevLogTerm: 0, entries: entries(1_000), leaderCommit: 0, round: 0 };
      const send = (): void => {
        if (!inB.has(chunk)) a.send('b', chunk);
        if (!inB.has(append)) a.send('b', append);
      };
      await eventually(`a ${size} InstallSnapshot and a 1,000-entry AppendEntries to arrive unchanged`, timeoutMs, () => inB.has(chunk) && inB.has(append), send);
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
      const done = (): boolean => toB.every((m) => inB.has(m)) && toA.every((m) => inA.has(m));
      await eventually('all 1,000 messages to arrive', timeoutMs, done, send);
    }),

    check('send does not throw for a node that does not exist', async (open) => {
      const a = await open('a');
      for (const m of sampleMessages('a', 'nobody')) a.send('nobody', m);
    }),

    check('after close() resolves, the node neither receives nor sends, and send does not throw', async (open, timeoutMs) => {
      const [a, b] = [await open('a'), await open('b')];
      const [inA, inB] = [inbox(a), inbox(b)];
      const ping = (from: NodeId, to: NodeId, id: number): Message => ({ type: 'ReadIndex', from, to, term: 1, id });
      await eventually('b to be reachable', timeoutMs, () => inB.has(ping('a', 'b', 1)), () => a.send('b', ping('a', 'b', 1)));
      await within('close()', CLOSE_TIMEOUT_MS, () => b.close());
      const before = inB.received.length;
      a.send('b', ping('a', 'b', 2));
      b.send('a', ping('b', 'a', 3));
      await sleep(200);
      if (inB.received.length > before) throw new ConformanceError('a closed transport still delivered a message');
      if (inA.has(ping('b', 'a', 3))) throw new ConformanceError('a closed transport still sent a message');
    }),

    check('a node that restarts (closes, then opens a new transport for its id) is reached again, both ways', async (open, timeoutMs) => {
      const a = await open('a');
      const message = (from: NodeId, to: NodeId, term: number): Message => ({ type: 'TimeoutNow', from, to, term });
      // Talk first, so that a transport that keeps connections holds one to the old b.
      const oldB = await open('b');
      const [inA, inOldB] = [inbox(a), inbox(oldB)];
      await eventually('b to receive from a', timeoutMs, () => inOldB.has(message('a', 'b', 1)), () => a.send('b', message('a', 'b', 1)));
      await eventually('a to receive from b', timeoutMs, () => inA.has(message('b', 'a', 2)), () => oldB.send('a', message('b', 'a', 2)));
      await within('close()', CLOSE_TIMEOUT_MS, () => oldB.close());
      const b = await open('b');
      const inB = inbox(b);
      await eventually('the restarted b to receive from a', timeoutMs, () => inB.has(message('a', 'b', 3)), () => a.send('b', message('a', 'b', 3)));
      await eventually('a to receive from the restarted b', timeoutMs, () => inA.has(message('b', 'a', 4)), () => b.send('a', message('b', 'a', 4)));
    }),

    check('three RaftNodes on it elect one leader and replicate proposals to every node, in one order', async (open, timeoutMs) => {
      const ids = ['a', 'b', 'c'];
      const applied = new Map<NodeId, unknown[]>(ids.map((id) => [id, []]));
      const nodes: RaftNode<string, void>[] = [];
      // A node reports what went wrong (a send that threw, a malformed message) as an 'error' event.
      let reported: Error | undefined;
      for (const id of ids) {
        const node = new RaftNode<string, void>({
          id,
          peers: ids,
          transport: await open(id),
          stateMachine: { apply: (command) => void applied.get(id)?.push(command) },
          random: new MathRandom(),
          electionTimeoutMs: [150, 300],
          heartbeatIntervalMs: 30,
        });
        node.on('error', (error) => (reported ??= error));
        nodes.push(node);
      }
      const deadline = clock.now() + Math.max(timeoutMs, 10_000);
      const left = (): number => Math.max(0, deadline - clock.now());
      const healthy = (what: string) => (): boolean => {
        if (reported !== undefined) throw new ConformanceError(`while waiting for ${what}, node reported: ${reported.message}`, { cause: reported });
        return true;
      };
      try {
        for (const node of nodes) await within('RaftNode.start()', left(), () => node.start());
        const leader = (): RaftNode<string, void> | undefined => {
          const l = nodes.find((n) => n.role === 'leader');
          return l !== undefined && nodes.every((n) => n.leaderId === l.id) ? l : undefined;
        };
        const commands = Array.from({ length: 20 }, (_, i) => `command ${i}`);
        for (const command of commands) {
          // A leader may change meanwhile (a slow machine misses heartbeats): ask the new one. A
          // retried command may then be applied twice; what must hold is that every node applies
          // the same sequence, with every command in it.
          for (let attempt = 1; ; attempt++) {
            const ok = healthy('one leader that every node follows');
            await eventually('one leader that every node follows', left(), () => ok() && leader() !== undefined);
            try {
              await within(`proposing "${command}"`, left(), () => (leader() as RaftNode<string, void>).propose(command));
              break;
            } catch (error) {
              const cause = error instanceof ConformanceError ? error.cause : error;
              if (attempt === 5 || !(cause instanceof NotLeaderError || cause instanceof LeadershipLostError)) throw error;
            }
          }
        }
        const log = (id: NodeId): string => canonical(applied.get(id));
        const ok = healthy('every node to apply the commands');
        await eventually('every node to apply the same commands, all 20 among them', left(), () =>
          ok() && ids.every((id) => log(id) === log('a')) && commands.every((c) => applied.get('a')?.includes(c) === true),
        );
      } finally {
        await Promise.allSettled(nodes.map((node) => within('RaftNode.stop()', CLOSE_TIMEOUT_MS, () => node.stop())));
      }
    }),
  ];
}
