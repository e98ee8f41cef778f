/**
 * raftkit/viz as pure functions: the same run gives byte-identical pictures, filters and
 * windows keep what they say, heartbeats collapse into counts that add up, hostile node ids come
 * out escaped, unknown event kinds change nothing, and the clocks picture carries the Lamport
 * example's timestamps. (test/browser/ renders the same pictures in a real browser.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster, TraceEvent } from '../../src/index.js';
import { compareVectors } from '../../src/index.js';
import { lamportExample } from '../../src/examples/lamport.js';
import { lamportExampleSteps, logsOf, mermaidText, timestampEvents, toClocksSvg, toLogSvg, toMermaid, toSpaceTimeSvg, vectorExampleSteps } from '../../src/viz/index.js';
import { readTrace } from '../../src/viz/read.js';
import { tickStep } from '../../src/viz/space-time.js';
import { HOSTILE_IDS, faultyRun, hostileTrace } from '../support/viz-run.js';

let cluster: Cluster;
let trace: TraceEvent[];

beforeAll(async () => {
  cluster = await faultyRun();
  trace = cluster.trace();
});

/** The message lines of a Mermaid diagram (arrows), without the participants and notes. */
const arrows = (diagram: string) => diagram.split('\n').filter((line) => /^ {2}p\d+-/.test(line));
const notes = (diagram: string) => diagram.split('\n').filter((line) => line.startsWith('  Note over '));
const count = (svg: string, pattern: RegExp) => svg.match(pattern)?.length ?? 0;

describe('the test run', () => {
  it('has a crash, a restart, a partition, a heal and dropped messages', () => {
    const kinds = new Set(trace.map((e) => e.kind));
    for (const kind of ['crash', 'restart', 'partition', 'heal', 'drop', 'role']) expect(kinds, kind).toContain(kind);
  });
});

describe('determinism', () => {
  it('the same seed gives byte-identical Mermaid and SVG', async () => {
    const again = await faultyRun();
    const other = again.trace();
    expect(toMermaid(other)).toBe(toMermaid(trace));
    expect(toSpaceTimeSvg(other)).toBe(toSpaceTimeSvg(trace));
    expect(toLogSvg(logsOf(again))).toBe(toLogSvg(logsOf(cluster)));
    expect(toClocksSvg(vectorExampleSteps, { focus: 'B2' })).toBe(toClocksSvg(vectorExampleSteps, { focus: 'B2' }));
  });

  it('a trace read back from JSON draws the same', () => {
    const json = JSON.parse(JSON.stringify(trace)) as TraceEvent[];
    expect(toMermaid(json)).toBe(toMermaid(trace));
    expect(toSpaceTimeSvg(json)).toBe(toSpaceTimeSvg(trace));
  });

  it('another seed draws another run', async () => {
    expect(toSpaceTimeSvg((await faultyRun(8)).trace())).not.toBe(toSpaceTimeSvg(trace));
  });

  it('events of kinds it does not know change nothing', () => {
    const mixed = trace.flatMap((event, i) => (i % 10 === 0 ? [event, { time: event.time, kind: 'clock', node: '1', offsetMs: 5, drift: 0 }, { time: 1e9, kind: 'lecture' }] : [event]));
    expect(toMermaid(mixed)).toBe(toMermaid(trace));
    expect(toSpaceTimeSvg(mixed)).toBe(toSpaceTimeSvg(trace));
  });
});

describe('toMermaid', () => {
  it('is a sequence diagram with a participant per node, every message of the run and its faults as notes', () => {
    const diagram = toMermaid(trace, { heartbeats: 'show' });
    const lines = diagram.split('\n');
    expect(lines[0]).toBe('sequenceDiagram');
    expect(lines.slice(1, 6)).toEqual(['1', '2', '3', '4', '5'].map((id, i) => `  participant p${i + 1} as ${id}`));
    const settled = trace.filter((e) => e.kind === 'deliver' || e.kind === 'drop').length;
    const inFlight = readTrace(trace).messages.filter((m) => m.fate === 'in flight').length;
    expect(arrows(diagram)).toHaveLength(settled + inFlight);
    expect(arrows(diagram).filter((line) => /^ {2}p\d+--?x/.test(line))).toHaveLength(trace.filter((e) => e.kind === 'drop').length);
    const text = notes(diagram).join('\n');
    expect(text).toMatch(/crashed/);
    expect(text).toMatch(/restarted/);
    expect(text).toMatch(/partition #123;/);
    expect(text).toMatch(/network healed/);
    expect(text).toMatch(/is leader \(term \d+\)/);
  });

  it('draws responses dotted and requests solid', () => {
    for (const line of arrows(toMermaid(trace, { heartbeats: 'show' }))) {
      const response = /: \w+Response /.test(line);
      expect(/^ {2}p\d+--/.test(line), line).toBe(response);
    }
  });

  it('collapses each run of heartbeats into one note whose counts add up to the heartbeats shown', () => {
    const shown = arrows(toMermaid(trace, { heartbeats: 'show', notes: false }));
    const collapsed = toMermaid(trace, { heartbeats: 'collapse', notes: false });
    const heartbeats = readTrace(trace).messages.filter((m) => m.heartbeat);
    expect(heartbeats.length).toBeGreaterThan(20);
    expect(arrows(collapsed)).toHaveLength(shown.length - heartbeats.length);
    expect(arrows(collapsed).filter((line) => /AppendEntries term \d+: heartbeat/.test(line))).toEqual([]);
    const counted = notes(collapsed).map((line) => Number(/: (\d+) heartbeats?/.exec(line)?.[1]));
    expect(counted.every((n) => n > 0)).toBe(true);
    expect(counted.reduce((a, b) => a + b, 0)).toBe(heartbeats.length);
    const hidden = toMermaid(trace, { heartbeats: 'hide', notes: false });
    expect(notes(hidden)).toEqual([]);
    expect(arrows(hidden)).toEqual(arrows(collapsed));
  });

  it('filters by node: only those participants, only messages between them, only notes about them', () => {
    const diagram = toMermaid(trace, { nodes: ['2', '1'], heartbeats: 'show' });
    expect(diagram.split('\n').slice(1, 3)).toEqual(['  participant p1 as 2', '  participant p2 as 1']);
    expect(diagram).not.toMatch(/p3/);
    const between = trace.filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && ['1', '2'].includes(e.from) && ['1', '2'].includes(e.to)).length;
    expect(arrows(diagram).length).toBeGreaterThanOrEqual(between);
    for (const note of notes(diagram)) expect(note).toMatch(/: [\d.]+ ms: ([12] |partition|network)/);
  });

  it('filters by message type', () => {
    const diagram = toMermaid(trace, { types: ['RequestVote', 'RequestVoteResponse'], notes: false });
    expect(arrows(diagram).length).toBeGreaterThan(0);
    for (const line of arrows(diagram)) expect(line).toMatch(/: RequestVote(Response)? term/);
  });

  it('keeps to a time window; a message sent in it and settled after it is in flight', () => {
    const { start, end } = readTrace(trace);
    const from = start + 200;
    const to = start + 400;
    const diagram = toMermaid(trace, { from, to, heartbeats: 'show' });
    for (const note of notes(diagram)) {
      const time = Number(/: ([\d.]+) ms: /.exec(note)?.[1]);
      if (!Number.isNaN(time)) expect(time).toBeGreaterThanOrEqual(from), expect(time).toBeLessThanOrEqual(to);
    }
    const settled = trace.filter((e) => (e.kind === 'deliver' || e.kind === 'drop') && e.time >= from && e.time <= to).length;
    const inFlight = arrows(diagram).filter((line) => line.includes('(in flight)'));
    expect(arrows(diagram)).toHaveLength(settled + inFlight.length);
    expect(toMermaid(trace, { from: end + 1 }).split('\n').filter((l) => l.startsWith('  ') && !l.startsWith('  participant'))).toEqual([]);
    expect(end).toBeGreaterThan(to);
  });

  it('stops at maxLines and says how much it left out', () => {
    const diagram = toMermaid(trace, { heartbeats: 'show', maxLines: 10 });
    const body = diagram.split('\n').filter((l) => l.startsWith('  ') && !l.startsWith('  participant'));
    expect(body).toHaveLength(11);
    expect(body[10]).toMatch(/\d+ more lines from [\d.]+ ms not drawn/);
  });

  it('escapes every character Mermaid could misread, in ids, summaries and reasons', () => {
    const diagram = toMermaid(hostileTrace(), { heartbeats: 'show' });
    const lines = diagram.split('\n');
    // One line per statement: no id could break a line or end one early.
    expect(lines).toHaveLength(1 + HOSTILE_IDS.length + 10 + 1);
    for (const line of lines.slice(1)) {
      const text = line.replace(/^ {2}(participant p\d+ as |Note over p\d+(,p\d+)?: |p\d+(--?>>|--?x|--?\))p\d+: )/, '');
      expect(text, line).toMatch(/^[A-Za-z0-9 .,:_()/=+'!?#;]*$/);
      expect(text.replace(/#\d+;/g, ''), line).not.toMatch(/[#;]/);
    }
    expect(diagram).toContain(`participant p1 as ${mermaidText('"q"&\'s\u0000')}`);
    expect(mermaidText('<script>')).toBe('#60;script#62;');
    expect(mermaidText('a\u{1F600}b')).toBe('a#128512;b');
  });
});

describe('toSpaceTimeSvg', () => {
  const svg = () => toSpaceTimeSvg(trace);

  it('is one SVG document with a viewBox, a title and a description in numbers', () => {
    const text = svg();
    expect(text.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(text.trimEnd().endsWith('</svg>')).toBe(true);
    expect(text).toMatch(/viewBox="0 0 [\d.]+ [\d.]+"/);
    expect(text).toMatch(/<title>Space-time diagram from [\d.]+ ms to [\d.]+ ms<\/title>/);
    expect(text).toMatch(/<desc>5 nodes from .* time flowing down: \d+ messages \(\d+ delivered, \d+ dropped, \d+ in flight\), \d+ role bands, 1 outage, 1 partition\.<\/desc>/);
    expect(text).not.toMatch(/<style/);
  });

  it('draws a lane per node and an arrow per message sent', () => {
    const text = svg();
    expect(count(text, /class="rk-lane"/g)).toBe(5);
    expect(count(text, /class="rk-msg /g)).toBe(trace.filter((e) => e.kind === 'send').length);
    expect(count(text, /class="rk-msg rk-dropped/g)).toBe(trace.filter((e) => e.kind === 'drop').length);
    expect(count(text, /class="rk-cross"/g)).toBe(trace.filter((e) => e.kind === 'drop').length + 1); // and the legend's
    expect(count(text, /class="rk-outage rk-crashed"/g)).toBe(1);
    expect(count(text, /class="rk-partition"/g)).toBe(1);
    const leaders = new Set(trace.filter((e) => e.kind === 'role' && e.role === 'leader').map((e) => (e as { term: number }).term));
    for (const term of leaders) expect(text).toMatch(new RegExp(`>T${term} leader<`));
  });

  it('leaves out heartbeats, other nodes and other types when asked', () => {
    const all = count(svg(), /class="rk-msg /g);
    const beats = count(svg(), /rk-heartbeat/g);
    expect(beats).toBeGreaterThan(0);
    expect(count(toSpaceTimeSvg(trace, { heartbeats: false }), /class="rk-msg /g)).toBe(all - beats);
    const two = toSpaceTimeSvg(trace, { nodes: ['1', '2'] });
    expect(count(two, /class="rk-lane"/g)).toBe(2);
    expect(two).not.toMatch(/data-(from|to|node)="[345]"/);
    const votes = toSpaceTimeSvg(trace, { types: ['RequestVote'] });
    expect([...votes.matchAll(/class="rk-msg[^"]*" data-type="(\w+)"/g)].map((m) => m[1])).toEqual(
      trace.filter((e) => e.kind === 'send' && e.type === 'RequestVote').map(() => 'RequestVote'),
    );
  });

  it('keeps every mark inside its time window, and stops at maxMessages', () => {
    const { start } = readTrace(trace);
    const from = start + 250;
    const to = start + 500;
    const text = toSpaceTimeSvg(trace, { from, to, pxPerMs: 2 });
    const top = 56;
    const bottom = top + (to - from) * 2;
    for (const m of text.matchAll(/<g class="rk-msg[^>]*><title>[^<]*<\/title><line x1="[\d.]+" y1="([\d.]+)" x2="[\d.]+" y2="([\d.]+)"/g)) {
      for (const y of [Number(m[1]), Number(m[2])]) expect(y).toBeGreaterThanOrEqual(top), expect(y).toBeLessThanOrEqual(bottom);
    }
    const sent = trace.filter((e) => e.kind === 'send' && e.time >= from && e.time <= to).length;
    expect(count(text, /class="rk-msg /g)).toBe(sent);
    expect(text).toMatch(new RegExp(`height="${bottom + 64}"`));
    const capped = toSpaceTimeSvg(trace, { maxMessages: 25 });
    expect(count(capped, /class="rk-msg /g)).toBe(25);
    expect(capped).toMatch(/\d+ later messages not drawn \(maxMessages 25\)/);
  });

  it('escapes hostile ids, summaries and reasons, and replaces characters XML forbids', () => {
    const text = toSpaceTimeSvg(hostileTrace());
    expect(text).not.toMatch(/<script|<\/desc><|\u0000/);
    expect(text).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(text).toContain('&quot;q&quot;&amp;&#39;s\uFFFD');
    expect(count(text, /class="rk-lane"/g)).toBe(HOSTILE_IDS.length);
    // Every attribute value is quoted and every tag closes: no raw < or & outside markup.
    expect(text.replace(/<[^<>]*>/g, '')).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/);
  });

  it('draws a role it does not know, even one named like an Object property, with a neutral fill and its name escaped', () => {
    const roles = ['constructor', '__proto__', 'toString', '<b>'];
    const trace = roles.map((role, i) => ({ time: i * 10, kind: 'role', node: String(i + 1), role, term: 1 }));
    const text = toSpaceTimeSvg([...trace, { time: 100, kind: 'heal' }] as unknown as Parameters<typeof toSpaceTimeSvg>[0]);
    for (const role of ['constructor', '__proto__', 'toString', '&lt;b&gt;']) expect(text).toContain(`: ${role} in term 1`);
    expect(text).not.toMatch(/function|native code/);
    expect(text.replace(/<[^<>]*>/g, '')).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/);
  });

  it('picks 1, 2 or 5 × 10^k ms ticks', () => {
    expect([0.5, 1, 1.5, 3, 7, 12, 150, 2001].map(tickStep)).toEqual([1, 1, 2, 5, 10, 20, 200, 5000]);
  });
});

describe('toLogSvg', () => {
  it('draws every entry of every node, coloured by term, and each commit index', () => {
    const logs = logsOf(cluster);
    const text = toLogSvg(logs);
    expect(count(text, /class="rk-entry/g)).toBe(logs.reduce((n, log) => n + log.entries.length, 0));
    expect(count(text, /class="rk-entry rk-committed"/g)).toBe(logs.reduce((n, log) => n + log.entries.filter((e) => e.index <= log.commitIndex).length, 0));
    expect(count(text, /class="rk-commit"/g)).toBe(logs.filter((log) => log.commitIndex > 0).length);
    expect(logs.map((log) => log.role).filter((role) => role === 'leader')).toHaveLength(1);
    expect(text).toMatch(/<desc>5 logs, indexes 1 to \d+: 1 has \d+ entries, commit index \d+; 2 has/);
  });

  it('marks an entry kind it does not know by its name, even one named like an Object property', () => {
    const text = toLogSvg([{ node: '1', entries: [{ index: 1, term: 1, kind: 'constructor' }, { index: 2, term: 1, kind: '__proto__' }], commitIndex: 1 }] as unknown as Parameters<typeof toLogSvg>[0]);
    expect(text).toContain('index 1, term 1 (constructor)');
    expect(text).toContain('index 2, term 1 (__proto__)');
    expect(text).not.toMatch(/function|native code/);
  });

  it('gives each term the same colour in every picture', () => {
    const one = toLogSvg([{ node: 'a', entries: [{ index: 1, term: 1 }, { index: 2, term: 2 }, { index: 3, term: 11 }], commitIndex: 3 }]);
    const fills = [...one.matchAll(/data-term="(\d+)"><title>[^<]*<\/title><rect [^>]*fill="(#\w+)"/g)].map((m) => [m[1], m[2]]);
    expect(fills).toEqual([['1', '#4e79a7'], ['2', '#f28e2b'], ['11', '#4e79a7']]);
  });

  it('shows the newest maxEntries indexes, a snapshot and uncommitted entries', () => {
    const entries = Array.from({ length: 100 }, (_, i) => ({ index: i + 1, term: 1 + Math.floor(i / 30) }));
    const text = toLogSvg([{ node: 'a', entries: entries.slice(20), commitIndex: 90, snapshotIndex: 20 }, { node: 'b', entries, commitIndex: 95 }], { maxEntries: 30 });
    expect(count(text, /class="rk-entry/g)).toBe(60);
    expect(count(text, /class="rk-entry rk-committed"/g)).toBe(20 + 25);
    expect(text).toContain('70 earlier');
    const snapshot = toLogSvg([{ node: 'a', entries: entries.slice(20, 30), commitIndex: 30, snapshotIndex: 20 }]);
    expect(snapshot).toMatch(/class="rk-snapshot"><title>a: snapshot through 20<\/title>/);
  });

  it('escapes hostile ids', () => {
    const text = toLogSvg(HOSTILE_IDS.map((node) => ({ node, entries: [{ index: 1, term: 1 }], commitIndex: 1, role: '<b>' })));
    expect(text).not.toMatch(/<script|<b>|\u0000/);
    expect(text.replace(/<[^<>]*>/g, '')).not.toMatch(/[<>]|&(?!(amp|lt|gt|quot|#39);)/);
  });
});

describe('clocks', () => {
  it('timestamps the Lamport example as raftkit demo prints it', () => {
    const printed = lamportExample().map((line) => Number(/(\d+)$/.exec(line)?.[1]));
    const events = timestampEvents(lamportExampleSteps);
    expect(events.map((e) => e.lamport)).toEqual(printed);
    expect(printed).toEqual([1, 2, 3]);
    expect(events.map((e) => [e.id, e.partner])).toEqual([['A1', 'B1'], ['B1', 'A1'], ['B2', undefined]]);
    const svg = toClocksSvg(lamportExampleSteps);
    for (const [i, event] of events.entries()) {
      expect(svg).toContain(`data-id="${event.id}" data-lamport="${printed[i]}"`);
      expect(svg).toContain(`>L ${printed[i]}  V [`);
    }
    expect(count(svg, /class="rk-msg"/g)).toBe(1);
    expect(count(svg, /rk-concurrent/g)).toBe(0);
  });

  it('marks exactly the pairs compareVectors calls concurrent, both ways', () => {
    const events = timestampEvents(vectorExampleSteps);
    for (const a of events) {
      for (const b of events) {
        if (a === b) continue;
        expect(a.concurrentWith.includes(b.id), `${a.id} ∥ ${b.id}`).toBe(compareVectors(a.vector, b.vector) === 'concurrent');
        expect(a.concurrentWith.includes(b.id)).toBe(b.concurrentWith.includes(a.id));
      }
    }
    const svg = toClocksSvg(vectorExampleSteps);
    expect(count(svg, /class="rk-event rk-concurrent"/g)).toBe(events.filter((e) => e.concurrentWith.length > 0).length);
    expect(count(svg, /class="rk-msg"/g)).toBe(3);
    expect(count(svg, /class="rk-lane"/g)).toBe(3);
  });

  it('colours the past, future and concurrent events of a focus', () => {
    const svg = toClocksSvg(vectorExampleSteps, { focus: 'B2', timestamps: 'vector' });
    const colour = (id: string) => new RegExp(`data-id="${id}"[^]*?<circle cx="[\\d.]+" cy="[\\d.]+" r="[57]" fill="(#\\w+)"`).exec(svg)?.[1];
    expect(['A1', 'A2', 'B1'].map(colour)).toEqual(['#0969da', '#0969da', '#0969da']);
    expect(['B3', 'B4', 'A4'].map(colour)).toEqual(['#1a7f37', '#1a7f37', '#1a7f37']);
    expect(['C1', 'C2', 'A3'].map(colour)).toEqual(['#bf8700', '#bf8700', '#bf8700']);
    expect(colour('B2')).toBe('#cf222e');
    expect(svg).not.toMatch(/>L \d/);
    expect(() => toClocksSvg(vectorExampleSteps, { focus: 'Z9' })).toThrow(/no event "Z9"/);
  });

  it('refuses a receive with nothing sent', () => {
    expect(() => timestampEvents([{ process: 'B', kind: 'receive', from: 'A' }])).toThrow(RangeError);
  });
});
