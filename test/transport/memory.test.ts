import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Random } from '../../src/runtime/random.js';
import { SeededRandom } from '../../src/runtime/random.js';
import { VirtualScheduler } from '../../src/sim/virtual-scheduler.js';
import type { DropReason, InMemoryNetworkOptions } from '../../src/transport/memory.js';
import { InMemoryNetwork } from '../../src/transport/memory.js';
import type { Envelope } from '../../src/transport/transport.js';
import { propertyParams } from '../support/runs.js';

interface Msg extends Envelope {
  readonly seq: number;
}

let counter = 0;
const msg = (from: string, to: string, type = 'Ping'): Msg => ({ type, from, to, seq: counter++ });

interface Received {
  at: number;
  to: string;
  message: Msg;
}

function setup(options: Partial<InMemoryNetworkOptions> = {}, ids = ['a', 'b', 'c']) {
  const scheduler = new VirtualScheduler();
  const network = new InMemoryNetwork<Msg>({ scheduler, random: new SeededRandom(1), ...options });
  const received: Received[] = [];
  const drops: Array<{ message: Msg; reason: DropReason }> = [];
  network.on('drop', (message, _from, _to, reason) => drops.push({ message, reason }));
  const nodes = Object.fromEntries(
    ids.map((id) => {
      const t = network.transport(id);
      t.listen((message) => received.push({ at: scheduler.now(), to: id, message: message as Msg }));
      return [id, t];
    }),
  );
  const send = (from: string, to: string, type = 'Ping'): Msg => {
    const m = msg(from, to, type);
    nodes[from]!.send(to, m);
    return m;
  };
  return { scheduler, network, nodes, received, drops, send };
}

/** A Random that fails the test if anything draws from it. */
const noRandom: Random = {
  next: () => {
    throw new Error('drew a random number');
  },
  int: () => {
    throw new Error('drew a random int');
  },
};

describe('InMemoryNetwork: delivery and latency', () => {
  it('delivers the same object after a fixed latency', () => {
    const { scheduler, received, send } = setup({ latencyMs: 10 });
    const m = send('a', 'b');
    scheduler.runFor(9);
    expect(received).toEqual([]);
    scheduler.runFor(1);
    expect(received).toHaveLength(1);
    expect(received[0]!.message).toBe(m);
    expect(received[0]!.at).toBe(10);
    expect(received[0]!.to).toBe('b');
  });

  it('delivers with latency 0 on the next scheduler step, not synchronously', () => {
    const { scheduler, received, send } = setup();
    send('a', 'b');
    expect(received).toHaveLength(0);
    scheduler.runFor(0);
    expect(received).toHaveLength(1);
  });

  it('draws latency within [min, max]: whole ms for integer bounds', () => {
    const { scheduler, received, send } = setup({ latencyMs: [5, 15], reorder: true });
    for (let i = 0; i < 500; i++) send('a', 'b');
    scheduler.runFor(100);
    const times = received.map((r) => r.at);
    expect(Math.min(...times)).toBe(5);
    expect(Math.max(...times)).toBe(15);
    expect(times.every(Number.isInteger)).toBe(true);
  });

  it('works with a clock that moves between reads, as a real clock does (regression: negative delay)', () => {
    const scheduler = new VirtualScheduler();
    let drift = 0;
    const moving = { now: () => scheduler.now() + (drift += 0.1), schedule: scheduler.schedule.bind(scheduler), defer: scheduler.defer.bind(scheduler) };
    const network = new InMemoryNetwork<Msg>({ scheduler: moving, random: new SeededRandom(1) });
    const got: Msg[] = [];
    network.transport('b').listen((m) => got.push(m as Msg));
    const a = network.transport('a');
    for (let i = 0; i < 3; i++) a.send('b', msg('a', 'b'));
    scheduler.runFor(1);
    expect(got).toHaveLength(3);
  });

  it('draws fractional latency for fractional bounds', () => {
    const { scheduler, received, send } = setup({ latencyMs: [0.5, 1.5], reorder: true });
    for (let i = 0; i < 200; i++) send('a', 'b');
    scheduler.runFor(10);
    expect(received.every((r) => r.at >= 0.5 && r.at <= 1.5)).toBe(true);
    expect(received.some((r) => !Number.isInteger(r.at))).toBe(true);
  });

  it('draws no random numbers with the default options or a fixed latency', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork<Msg>({ scheduler, random: noRandom, latencyMs: 3 });
    const a = network.transport('a');
    let got = 0;
    network.transport('b').listen(() => got++);
    for (let i = 0; i < 10; i++) a.send('b', msg('a', 'b'));
    network.configure({ dropRate: 0, duplicateRate: 0, reorder: true, latencyMs: [4, 4] });
    for (let i = 0; i < 10; i++) a.send('b', msg('a', 'b'));
    scheduler.runFor(10);
    expect(got).toBe(20);
  });

  it('keeps each directed link FIFO when reorder is false — property', () => {
    fc.assert(
      fc.property(
        fc.integer(),
        fc.array(
          fc.record({
            from: fc.constantFrom('a', 'b', 'c'),
            to: fc.constantFrom('a', 'b', 'c'),
            gap: fc.integer({ min: 0, max: 20 }),
            slow: fc.boolean(),
          }),
          { maxLength: 100 },
        ),
        (seed, sends) => {
          const scheduler = new VirtualScheduler();
          const network = new InMemoryNetwork<Msg>({ scheduler, random: new SeededRandom(seed), latencyMs: [0, 50] });
          const arrivals = new Map<string, number[]>();
          const sent = new Map<string, number[]>();
          const endpoints = new Map(['a', 'b', 'c'].map((id) => [id, network.transport(id)] as const));
          for (const [id, t] of endpoints) {
            t.listen((m) => {
              const { from, to, seq } = m as Msg;
              expect(to).toBe(id);
              const key = `${from}>${to}`;
              arrivals.set(key, [...(arrivals.get(key) ?? []), seq]);
            });
          }
          for (const s of sends) {
            scheduler.runFor(s.gap);
            // Latency changes mid-run must not break FIFO either.
            network.configure({ latencyMs: s.slow ? [30, 80] : [0, 5] });
            const m = msg(s.from, s.to);
            const key = `${s.from}>${s.to}`;
            sent.set(key, [...(sent.get(key) ?? []), m.seq]);
            endpoints.get(s.from)!.send(s.to, m);
          }
          scheduler.runFor(1000);
          expect(Object.fromEntries(arrivals)).toEqual(Object.fromEntries(sent));
        },
      ),
      propertyParams(200, 5000),
    );
  });

  it('lets messages overtake when reorder is true', () => {
    const { scheduler, received, send } = setup({ latencyMs: [0, 100], reorder: true });
    const sent = Array.from({ length: 50 }, () => send('a', 'b').seq);
    scheduler.runFor(200);
    const order = received.map((r) => r.message.seq);
    expect([...order].sort((x, y) => x - y)).toEqual(sent);
    expect(order).not.toEqual(sent);
  });
});

describe('InMemoryNetwork: random drops and duplicates', () => {
  it('drops about dropRate of the messages, deterministically per seed', () => {
    const run = (seed: number) => {
      const { scheduler, network, received, drops, send } = setup({ random: new SeededRandom(seed), dropRate: 0.2 });
      for (let i = 0; i < 10_000; i++) send('a', 'b');
      scheduler.runFor(1);
      expect(drops.every((d) => d.reason === 'random')).toBe(true);
      expect(network.stats().dropped.messages).toBe(drops.length);
      expect(received.length + drops.length).toBe(10_000);
      return drops.map((d) => d.message.seq - drops[0]!.message.seq);
    };
    const first = run(3);
    expect(first.length / 10_000).toBeGreaterThan(0.18);
    expect(first.length / 10_000).toBeLessThan(0.22);
    expect(run(3)).toEqual(first);
    expect(run(4)).not.toEqual(first);
  });

  it('duplicates about duplicateRate of the messages; each copy is the same object', () => {
    const { scheduler, network, received, send } = setup({ duplicateRate: 0.1, latencyMs: [1, 20] });
    for (let i = 0; i < 5000; i++) send('a', 'b');
    scheduler.runFor(100);
    const { duplicated, delivered, sent } = network.stats();
    expect(duplicated / 5000).toBeGreaterThan(0.085);
    expect(duplicated / 5000).toBeLessThan(0.115);
    expect(delivered.messages).toBe(sent.messages + duplicated);
    const bySeq = new Map<number, Msg[]>();
    for (const r of received) bySeq.set(r.message.seq, [...(bySeq.get(r.message.seq) ?? []), r.message]);
    const twice = [...bySeq.values()].filter((copies) => copies.length === 2);
    expect(twice).toHaveLength(duplicated);
    for (const [x, y] of twice) expect(x).toBe(y);
  });

  it('each duplicate copy has its own delay (with reorder)', () => {
    const { scheduler, received, send } = setup({ duplicateRate: 1, latencyMs: [0, 1000], reorder: true });
    const m = send('a', 'b');
    scheduler.runFor(2000);
    expect(received).toHaveLength(2);
    expect(received[0]!.message).toBe(m);
    expect(received[0]!.at).not.toBe(received[1]!.at);
  });
});

const ALL = ['a', 'b', 'c', 'd', 'e'];

/** Sends one message between every ordered pair, runs the network, returns who heard whom ("ab" = a→b). */
function connectivity(ctx: ReturnType<typeof setup>): string[] {
  ctx.received.length = 0;
  for (const from of ALL) for (const to of ALL) if (from !== to) ctx.send(from, to);
  ctx.scheduler.runFor(10);
  return ctx.received.map((r) => `${r.message.from}${r.to}`).sort();
}

const fullMesh = (groups: string[][]): string[] =>
  groups.flatMap((g) => g.flatMap((from) => g.filter((to) => to !== from).map((to) => `${from}${to}`))).sort();

describe('InMemoryNetwork: partitions, disconnections and cuts', () => {
  it('separates groups; nodes not named form one more group together', () => {
    const ctx = setup({ latencyMs: 1 }, ALL);
    expect(connectivity(ctx)).toEqual(fullMesh([ALL]));
    ctx.network.partition(['a', 'b'], ['c']);
    expect(connectivity(ctx)).toEqual(fullMesh([['a', 'b'], ['c'], ['d', 'e']]));
    expect(ctx.drops.every((d) => d.reason === 'partition')).toBe(true);
    ctx.network.partition(['a']);
    expect(connectivity(ctx)).toEqual(fullMesh([['a'], ['b', 'c', 'd', 'e']]));
    ctx.network.heal();
    expect(connectivity(ctx)).toEqual(fullMesh([ALL]));
    ctx.network.partition(['a', 'b']);
    ctx.network.partition(); // no groups: no partition
    expect(connectivity(ctx)).toEqual(fullMesh([ALL]));
  });

  it('a new partition replaces the old one', () => {
    const ctx = setup({ latencyMs: 1 }, ALL);
    ctx.network.partition(['a'], ['b']);
    ctx.network.partition(['e']);
    expect(connectivity(ctx)).toEqual(fullMesh([['a', 'b', 'c', 'd'], ['e']]));
  });

  it('rejects a node named in two groups', () => {
    const { network } = setup();
    expect(() => network.partition(['a', 'b'], ['b'])).toThrow(RangeError);
    expect(() => network.partition(['a', ''])).toThrow(TypeError);
    expect(() => network.partition(['a', 'a'], ['b'])).not.toThrow();
  });

  it('drops a message in flight when a partition starts, and delivers it when healed before arrival', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    scheduler.runFor(5);
    network.partition(['a'], ['b']);
    scheduler.runFor(10);
    expect(received).toHaveLength(0);
    expect(drops.map((d) => d.reason)).toEqual(['partition']);

    // Reachability is judged again on arrival: healed in time ⇒ delivered.
    network.heal();
    send('a', 'b');
    network.partition(['a'], ['b']);
    scheduler.runFor(5);
    network.heal();
    scheduler.runFor(10);
    expect(received).toHaveLength(1);

    // Partitioned at send time ⇒ dropped at once; healing does not bring it back.
    network.partition(['a'], ['b']);
    send('a', 'b');
    network.heal();
    scheduler.runFor(20);
    expect(received).toHaveLength(1);
    expect(drops.map((d) => d.reason)).toEqual(['partition', 'partition']);
  });

  it('cuts one direction only, until restored', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 1 });
    network.cut('a', 'b');
    network.cut('a', 'b'); // idempotent
    send('a', 'b');
    send('b', 'a');
    send('a', 'c');
    scheduler.runFor(5);
    expect(received.map((r) => `${r.message.from}${r.to}`)).toEqual(['ba', 'ac']);
    expect(drops.map((d) => d.reason)).toEqual(['cut']);
    network.restore('a', 'b');
    send('a', 'b');
    scheduler.runFor(5);
    expect(received.at(-1)?.to).toBe('b');
  });

  it('drops in-flight messages when their link is cut, and heal() restores cuts', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    network.cut('a', 'b');
    scheduler.runFor(20);
    expect(drops.map((d) => d.reason)).toEqual(['cut']);
    network.heal();
    send('a', 'b');
    scheduler.runFor(20);
    expect(received).toHaveLength(1);
  });

  it('disconnect isolates a node both ways; reconnect and heal undo it', () => {
    const ctx = setup({ latencyMs: 1 }, ALL);
    ctx.network.disconnect('c');
    expect(connectivity(ctx)).toEqual(fullMesh([['a', 'b', 'd', 'e']]));
    expect(new Set(ctx.drops.map((d) => d.reason))).toEqual(new Set(['disconnected']));
    ctx.network.reconnect('c');
    expect(connectivity(ctx)).toEqual(fullMesh([ALL]));
    ctx.network.disconnect('c');
    ctx.network.heal();
    expect(connectivity(ctx)).toEqual(fullMesh([ALL]));
  });

  it('drops a message in flight to a node that gets disconnected', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    network.disconnect('b');
    network.reconnect('b');
    network.disconnect('b');
    scheduler.runFor(20);
    expect(received).toHaveLength(0);
    expect(drops.map((d) => d.reason)).toEqual(['disconnected']);
  });

  it('partitions and disconnections combine', () => {
    const ctx = setup({ latencyMs: 1 }, ALL);
    ctx.network.partition(['a', 'b', 'c']);
    ctx.network.disconnect('a');
    expect(connectivity(ctx)).toEqual(fullMesh([['b', 'c'], ['d', 'e']]));
  });
});

describe('InMemoryNetwork: filters', () => {
  it('drops what a filter drops, and the remover removes it', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 1 });
    const remove = network.filter((m) => (m.type === 'Vote' ? 'drop' : 'deliver'));
    send('a', 'b', 'Vote');
    send('a', 'b', 'Append');
    scheduler.runFor(5);
    expect(received.map((r) => r.message.type)).toEqual(['Append']);
    expect(drops.map((d) => d.reason)).toEqual(['filter']);
    remove();
    remove(); // idempotent
    send('a', 'b', 'Vote');
    scheduler.runFor(5);
    expect(received.map((r) => r.message.type)).toEqual(['Append', 'Vote']);
  });

  it('delays exactly, outside FIFO order (forcing a reordering)', () => {
    const { scheduler, network, received, send } = setup({ latencyMs: 5 });
    network.filter((m) => (m.type === 'Slow' ? { delayMs: 100 } : 'deliver'));
    send('a', 'b', 'Slow');
    send('a', 'b', 'Fast');
    scheduler.runFor(200);
    expect(received.map((r) => [r.message.type, r.at])).toEqual([
      ['Fast', 5],
      ['Slow', 100],
    ]);
  });

  it('a filter delay bypasses random drops and duplication', () => {
    const { scheduler, network, received, send } = setup({ dropRate: 1, duplicateRate: 1 });
    network.filter(() => ({ delayMs: 3 }));
    send('a', 'b');
    scheduler.runFor(5);
    expect(received.map((r) => r.at)).toEqual([3]);
  });

  it('composes in the order added: the first opinion wins', () => {
    const { scheduler, network, received, drops, send } = setup({ latencyMs: 1 });
    const calls: string[] = [];
    network.filter(() => {
      calls.push('first');
      return 'deliver';
    });
    const removeSecond = network.filter((m) => {
      calls.push('second');
      return m.to === 'b' ? { delayMs: 50 } : 'deliver';
    });
    network.filter(() => {
      calls.push('third');
      return 'drop';
    });
    send('a', 'b');
    scheduler.runFor(100);
    expect(calls).toEqual(['first', 'second']);
    expect(received.map((r) => r.at)).toEqual([50]);
    calls.length = 0;
    removeSecond();
    send('a', 'b');
    scheduler.runFor(100);
    expect(calls).toEqual(['first', 'third']);
    expect(drops.map((d) => d.reason)).toEqual(['filter']);
  });

  it('sees only reachable messages, with sender and receiver', () => {
    const { scheduler, network, send } = setup({ latencyMs: 1 });
    const seen: string[] = [];
    network.filter((m, from, to) => {
      seen.push(`${m.type}:${from}>${to}`);
      return 'deliver';
    });
    network.cut('a', 'c');
    send('a', 'b');
    send('a', 'c');
    send('a', 'nobody');
    scheduler.runFor(5);
    expect(seen).toEqual(['Ping:a>b']);
  });

  it('rejects invalid filters and verdicts', () => {
    const { network, nodes } = setup();
    expect(() => network.filter('drop' as unknown as () => 'drop')).toThrow(TypeError);
    network.filter(() => ({ delayMs: -1 }));
    expect(() => nodes['a']!.send('b', msg('a', 'b'))).toThrow(RangeError);
  });
});

describe('InMemoryNetwork: endpoints', () => {
  it('never throws for unknown peers: the message is dropped as no-endpoint', () => {
    const { scheduler, network, drops, send } = setup();
    expect(() => send('a', 'zed')).not.toThrow();
    scheduler.runFor(1);
    expect(drops.map((d) => d.reason)).toEqual(['no-endpoint']);
    expect(network.stats().sent.messages).toBe(1);
  });

  it('close() unregisters synchronously: in-flight messages are dropped, sends ignored', async () => {
    const { scheduler, network, nodes, received, drops, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    const closing = nodes['b']!.close();
    expect(nodes['b']!.closed).toBe(true);
    send('a', 'b'); // receiver gone at send time
    nodes['b']!.send('a', msg('b', 'a')); // closed endpoint: ignored, not even counted
    await closing;
    scheduler.runFor(20);
    expect(received).toHaveLength(0);
    expect(drops.map((d) => d.reason)).toEqual(['no-endpoint', 'closed']);
    expect(network.stats().sent.messages).toBe(2);
    await nodes['b']!.close(); // idempotent
  });

  it('a new endpoint for an id replaces (and closes) the old one', () => {
    const { scheduler, network, nodes, received, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    const old = nodes['b']!;
    const fresh = network.transport('b');
    expect(old.closed).toBe(true);
    expect(fresh.closed).toBe(false);
    expect(fresh.id).toBe('b');
    const got: unknown[] = [];
    fresh.listen((m) => got.push(m));
    old.send('a', msg('b', 'a'));
    scheduler.runFor(20);
    // The in-flight message reaches the restarted node; the old one hears nothing and sends nothing.
    expect(got).toHaveLength(1);
    expect(received).toHaveLength(0);
    // Closing the old endpoint again must not unregister the new one.
    void old.close();
    send('a', 'b');
    scheduler.runFor(20);
    expect(got).toHaveLength(2);
  });

  it('drops messages arriving before a handler is registered', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork<Msg>({ scheduler, random: new SeededRandom(1) });
    const reasons: DropReason[] = [];
    network.on('drop', (_m, _f, _t, reason) => reasons.push(reason));
    const a = network.transport('a');
    network.transport('b');
    a.send('b', msg('a', 'b'));
    scheduler.runFor(1);
    expect(reasons).toEqual(['no-listener']);
  });

  it('lets a node send to itself', () => {
    const { scheduler, received, send } = setup();
    send('a', 'a');
    scheduler.runFor(1);
    expect(received.map((r) => r.to)).toEqual(['a']);
  });

  it('validates ids and handlers', () => {
    const { network, nodes } = setup();
    expect(() => network.transport('')).toThrow(TypeError);
    expect(() => network.transport(3 as unknown as string)).toThrow(TypeError);
    expect(() => nodes['a']!.listen(null as unknown as () => void)).toThrow(TypeError);
    expect(() => network.disconnect('')).toThrow(TypeError);
    expect(() => network.cut('a', '')).toThrow(TypeError);
  });
});

describe('InMemoryNetwork: events and stats', () => {
  it('emits send, deliver and drop with the message and both ends', () => {
    const { scheduler, network, send } = setup({ latencyMs: 1 });
    const log: string[] = [];
    network.on('send', (m, from, to) => log.push(`send ${m.type} ${from}>${to}`));
    network.on('deliver', (m, from, to) => log.push(`deliver ${m.type} ${from}>${to}`));
    network.on('drop', (m, from, to, reason) => log.push(`drop ${m.type} ${from}>${to} ${reason}`));
    network.cut('b', 'a');
    send('a', 'b', 'X');
    send('b', 'a', 'Y');
    scheduler.runFor(5);
    expect(log).toEqual(['send X a>b', 'send Y b>a', 'drop Y b>a cut', 'deliver X a>b']);
  });

  it('tells its observer every send with a number, and every outcome with the same number, as the events say', () => {
    fc.assert(
      fc.property(fc.integer(), fc.constantFrom(0, 3), fc.boolean(), (seed, latency, zero) => {
        const scheduler = new VirtualScheduler();
        const network = new InMemoryNetwork<Msg>({ scheduler, random: new SeededRandom(seed), latencyMs: zero ? 0 : [0, latency], dropRate: 0.2, duplicateRate: 0.3, reorder: seed % 2 === 0 });
        const t = { a: network.transport('a'), b: network.transport('b') };
        t.b.listen(() => undefined);
        const seen: string[] = [];
        const observed: string[] = [];
        const copies = new Map<number, number>();
        const outcomes = new Map<number, number>();
        network.on('send', (m) => seen.push(`send ${m.seq}`));
        network.on('deliver', (m) => seen.push(`deliver ${m.seq}`));
        network.on('drop', (m, _from, _to, reason) => seen.push(`drop ${m.seq} ${reason}`));
        let sends = 0;
        network.observe((event, m, from, to, seq, count, reason) => {
          observed.push(event === 'drop' ? `${event} ${m.seq} ${reason}` : `${event} ${m.seq}`);
          expect([from, to]).toEqual([m.from, m.to]);
          if (event === 'send') {
            expect(seq).toBe(++sends);
            copies.set(seq, 0);
            expect(reason).toBeUndefined();
          } else {
            expect(copies.has(seq)).toBe(true);
            outcomes.set(seq, (outcomes.get(seq) ?? 0) + 1);
            copies.set(seq, count);
          }
        });
        network.filter((m) => (m.seq % 7 === 0 ? { delayMs: 2 } : m.seq % 11 === 0 ? 'drop' : 'deliver'));
        for (let i = 0; i < 30; i++) {
          if (i === 10) network.cut('a', 'b');
          if (i === 20) network.restore('a', 'b');
          t.a.send('b', msg('a', 'b'));
          if (i % 5 === 0) scheduler.runFor(1);
        }
        scheduler.runFor(20);
        expect(observed).toEqual(seen);
        // Each send has as many outcomes as the observer was told it would have.
        for (const [seq, n] of outcomes) expect(n, `send ${seq}`).toBe(copies.get(seq));
        expect([...outcomes.values()].reduce((a, b) => a + b, 0)).toBe(network.stats().delivered.messages + network.stats().dropped.messages);
      }),
      propertyParams(100, 2000),
    );
  });

  it('has one observer at a time: another is refused until observe(null) removes the first', () => {
    const { scheduler, network, send } = setup({ latencyMs: 1 });
    const first: string[] = [];
    const second: string[] = [];
    const one = (event: string): number => first.push(event);
    network.observe(one);
    network.observe(one); // the same one again: no change
    expect(() => network.observe((event) => second.push(event))).toThrow(expect.objectContaining({ name: 'RaftError', code: 'OBSERVED' }));
    send('a', 'b');
    scheduler.runFor(5);
    network.observe(null);
    network.observe((event) => second.push(event));
    send('a', 'b');
    scheduler.runFor(5);
    expect([first, second]).toEqual([['send', 'deliver'], ['send', 'deliver']]);
    expect(() => network.observe('log' as never)).toThrow(TypeError);
  });

  it('counts messages and JSON bytes, in total and by type', () => {
    const { scheduler, network, send } = setup({ latencyMs: 1 });
    const v = send('a', 'b', 'Vote');
    send('a', 'b', 'Vote');
    const x = send('a', 'zed', 'Append');
    scheduler.runFor(5);
    const size = (m: Msg): number => JSON.stringify(m).length;
    const stats = network.stats();
    expect(stats.sent.messages).toBe(3);
    expect(stats.sent.byType['Vote']).toEqual({ messages: 2, bytes: 2 * size(v) });
    expect(stats.delivered.byType['Vote']?.messages).toBe(2);
    expect(stats.delivered.byType['Append']).toBeUndefined();
    expect(stats.dropped).toEqual({ messages: 1, bytes: size(x), byType: expect.objectContaining({ Append: { messages: 1, bytes: size(x) } }) });
    expect(stats.sent.bytes).toBe(stats.delivered.bytes + stats.dropped.bytes);
    expect(stats.duplicated).toBe(0);
    expect(stats.inFlight).toBe(0);
  });

  it('returns a copy, and resetStats zeroes the counters', () => {
    const { scheduler, network, send } = setup({ latencyMs: 10 });
    send('a', 'b');
    const before = network.stats();
    expect(before.inFlight).toBe(1);
    send('a', 'b');
    expect(before.sent.messages).toBe(1);
    before.sent.byType['Ping']!.messages = 99;
    expect(network.stats().sent.byType['Ping']?.messages).toBe(2);
    network.resetStats();
    expect(network.stats().sent).toEqual({ messages: 0, bytes: 0, byType: {} });
    scheduler.runFor(20);
    expect(network.stats().delivered.messages).toBe(2);
  });

  it('counts zero bytes when countBytes is false', () => {
    const { scheduler, network, send } = setup({ countBytes: false });
    send('a', 'b');
    scheduler.runFor(1);
    expect(network.stats().sent).toEqual({ messages: 1, bytes: 0, byType: expect.objectContaining({}) });
    expect(network.stats().delivered.byType['Ping']).toEqual({ messages: 1, bytes: 0 });
  });

  it('is safe with hostile type names', () => {
    const { scheduler, network, send } = setup();
    for (const type of ['__proto__', 'constructor', 'hasOwnProperty', 'toString', '__proto__']) send('a', 'b', type);
    scheduler.runFor(1);
    const { sent } = network.stats();
    expect(Object.getPrototypeOf(sent.byType)).toBeNull();
    expect(Object.keys(sent.byType).sort()).toEqual(['__proto__', 'constructor', 'hasOwnProperty', 'toString']);
    expect(sent.byType['__proto__']?.messages).toBe(2);
    expect(sent.byType['constructor']?.messages).toBe(1);
    expect(({} as Record<string, unknown>)['messages']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('messages');
  });

  it('keeps sent + duplicated = delivered + dropped + inFlight under any fault schedule — property', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('send' as const), from: fc.constantFrom(...ALL), to: fc.constantFrom(...ALL, 'zed') }),
      fc.record({ kind: fc.constant('run' as const), ms: fc.integer({ min: 0, max: 30 }) }),
      fc.record({ kind: fc.constant('partition' as const), cut: fc.integer({ min: 1, max: 4 }) }),
      fc.record({ kind: fc.constant('disconnect' as const), id: fc.constantFrom(...ALL) }),
      fc.record({ kind: fc.constant('cut' as const), from: fc.constantFrom(...ALL), to: fc.constantFrom(...ALL) }),
      fc.record({ kind: fc.constant('close' as const), id: fc.constantFrom(...ALL) }),
      fc.record({ kind: fc.constant('heal' as const) }),
    );
    fc.assert(
      fc.property(fc.integer(), fc.array(op, { maxLength: 80 }), (seed, ops) => {
        const ctx = setup(
          { random: new SeededRandom(seed), latencyMs: [0, 20], dropRate: 0.1, duplicateRate: 0.1, reorder: seed % 2 === 0 },
          ALL,
        );
        const balance = (): void => {
          const s = ctx.network.stats();
          expect(s.sent.messages + s.duplicated).toBe(s.delivered.messages + s.dropped.messages + s.inFlight);
        };
        for (const o of ops) {
          if (o.kind === 'send') ctx.nodes[o.from]!.send(o.to, msg(o.from, o.to));
          else if (o.kind === 'run') ctx.scheduler.runFor(o.ms);
          else if (o.kind === 'partition') ctx.network.partition(ALL.slice(0, o.cut));
          else if (o.kind === 'disconnect') ctx.network.disconnect(o.id);
          else if (o.kind === 'cut') ctx.network.cut(o.from, o.to);
          else if (o.kind === 'close') void ctx.nodes[o.id]!.close();
          else ctx.network.heal();
          balance();
        }
        ctx.scheduler.runFor(100);
        balance();
        expect(ctx.network.stats().inFlight).toBe(0);
      }),
      propertyParams(200, 5000),
    );
  });
});

describe('InMemoryNetwork: options and determinism', () => {
  it('validates options', () => {
    const scheduler = new VirtualScheduler();
    const random = new SeededRandom(1);
    const make = (extra: Record<string, unknown>) => () =>
      new InMemoryNetwork({ scheduler, random, ...(extra as Partial<InMemoryNetworkOptions>) });
    expect(make({})).not.toThrow();
    expect(make({ latencyMs: -1 })).toThrow(RangeError);
    expect(make({ latencyMs: Number.NaN })).toThrow(RangeError);
    expect(make({ latencyMs: [10, 5] })).toThrow(RangeError);
    expect(make({ latencyMs: [1, 2, 3] })).toThrow(TypeError);
    expect(make({ latencyMs: '5' })).toThrow(TypeError);
    expect(make({ dropRate: 1.5 })).toThrow(RangeError);
    expect(make({ duplicateRate: -0.1 })).toThrow(RangeError);
    expect(make({ reorder: 'yes' })).toThrow(TypeError);
    expect(make({ countBytes: 1 })).toThrow(TypeError);
    expect(make({ scheduler: {} })).toThrow(TypeError);
    expect(make({ random: {} })).toThrow(TypeError);
    expect(make({ random: undefined })).not.toThrow(); // the default, MathRandom
    const network = new InMemoryNetwork({ scheduler, random });
    expect(() => network.configure({ latencyMs: 1, dropRate: 2 })).toThrow(RangeError);
  });

  it('an invalid configure() changes nothing', () => {
    const { scheduler, network, received, send } = setup({ latencyMs: 5 });
    expect(() => network.configure({ latencyMs: 50, dropRate: 2 })).toThrow(RangeError);
    send('a', 'b');
    scheduler.runFor(5);
    expect(received).toHaveLength(1);
  });

  it('configure() changes conditions mid-run, including long tails', () => {
    const { scheduler, network, received, send } = setup({ latencyMs: 1 });
    send('a', 'b');
    network.configure({ latencyMs: [2000, 5000] });
    send('a', 'b');
    network.configure({ latencyMs: 1 });
    send('a', 'b'); // FIFO: waits behind the slow one
    scheduler.runFor(10_000);
    const at = received.map((r) => r.at);
    expect(at[0]).toBe(1);
    expect(at[1]).toBeGreaterThanOrEqual(2000);
    expect(at[2]).toBe(at[1]);
  });

  it('same seed ⇒ identical delivery log', () => {
    const run = (seed: number | string): string[] => {
      const scheduler = new VirtualScheduler();
      const random = new SeededRandom(seed);
      const network = new InMemoryNetwork<Msg>({
        scheduler,
        random: random.fork('network'),
        latencyMs: [1, 30],
        dropRate: 0.1,
        duplicateRate: 0.05,
        reorder: true,
      });
      const log: string[] = [];
      network.on('deliver', (m, from, to) => log.push(`${scheduler.now()} deliver ${m.seq} ${from}>${to}`));
      network.on('drop', (m, from, to, reason) => log.push(`${scheduler.now()} drop ${m.seq} ${from}>${to} ${reason}`));
      const app = random.fork('app');
      let seq = 0;
      const endpoints = ALL.map((id) => network.transport(id));
      endpoints.forEach((endpoint, i) => {
        endpoint.listen((m) => {
          // Reply to one random peer (sometimes two) while the conversation lasts.
          const replies = app.chance(0.2) ? 2 : 1;
          for (let r = 0; r < replies && seq < 2000; r++) {
            const to = app.pick(ALL);
            endpoint.send(to, { type: app.pick(['Vote', 'Append']), from: ALL[i]!, to, seq: seq++ });
          }
          void m;
        });
      });
      for (const from of ALL) for (const to of ALL) endpoints[ALL.indexOf(from)]!.send(to, { type: 'Hello', from, to, seq: seq++ });
      scheduler.runFor(200);
      network.partition(['a', 'b']);
      scheduler.runFor(200);
      network.heal();
      network.cut('c', 'd');
      scheduler.runFor(100_000);
      return log;
    };
    const first = run(7);
    expect(first.length).toBeGreaterThan(1000);
    expect(run(7)).toEqual(first);
    expect(run(8)).not.toEqual(first);
    expect(run('seven')).toEqual(run('seven'));
  });
});
