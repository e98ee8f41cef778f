import type { NodeId } from '../raft/types.js';
import { isBetween, readTrace, type DrawableTrace, type TracedMessage } from './read.js';
import { ms, plural } from './svg.js';

/**
 * What {@link toMermaid} draws of a trace.
 *
 * @example
 * ```ts
 * import type { MermaidFilters } from 'raftkit/viz';
 * const elections: MermaidFilters = { types: ['RequestVote', 'RequestVoteResponse'], to: 1_000 };
 * const betweenTwo: MermaidFilters = { nodes: ['1', '2'], heartbeats: 'hide' };
 * ```
 */
export interface MermaidFilters {
  /** The participants, in this order (default: every node the trace names, sorted as people sort ids). Only messages between two of them are drawn, and only notes about them. */
  readonly nodes?: readonly NodeId[];
  /** The message types to draw (default: every type). */
  readonly types?: readonly string[];
  /** Start of the time window in ms, inclusive (default: the trace's oldest event). */
  readonly from?: number;
  /** End of the time window in ms, inclusive (default: the trace's newest event). A message sent in the window and settled after it is drawn last, as in flight. */
  readonly to?: number;
  /** `'collapse'` (default): each run of heartbeats (empty AppendEntries and their successful responses) becomes one note with its count; `'show'`: drawn as other messages; `'hide'`: left out. */
  readonly heartbeats?: 'collapse' | 'show' | 'hide';
  /** Role changes, faults and repairs as notes (default true). */
  readonly notes?: boolean;
  /**
   * At most this many lines after the participants (default 400: Mermaid refuses a diagram over
   * 50,000 characters). What does not fit is counted in a last note.
   */
  readonly maxLines?: number;
}

/** Characters Mermaid reads as plain text anywhere in a sequence diagram; the rest become `#code;` entities. */
const PLAIN = /^[A-Za-z0-9 .,:_()/=+'!?]$/;

/**
 * `text` as Mermaid shows it literally: every character that could end a label, start a comment
 * or a directive, or be read as an arrow or as HTML (`;`, `#`, `%`, `-`, `<`, `>`, `&`, quotes,
 * braces, line breaks, anything not ASCII) becomes a numeric entity code, which Mermaid decodes
 * only after parsing.
 *
 * @example
 * ```ts
 * import { mermaidText } from 'raftkit/viz';
 * const id = 'a;b-->c';
 * console.log(`sequenceDiagram\n  participant p1 as ${mermaidText(id)}`);
 * // sequenceDiagram
 * //   participant p1 as a#59;b#45;#45;#62;c
 * ```
 */
export function mermaidText(text: string): string {
  let out = '';
  for (const c of text) out += PLAIN.test(c) ? c : `#${c.codePointAt(0) as number};`;
  return out;
}

/** The arrow of a message: solid for requests, dotted for responses; a cross at the end when dropped, an open head while in flight. */
function arrow(m: TracedMessage, fate: TracedMessage['fate']): string {
  const line = m.type.endsWith('Response') ? '--' : '-';
  return fate === 'dropped' ? `${line}x` : fate === 'in flight' ? `${line})` : `${line}>>`;
}

function messageLabel(m: TracedMessage, fate: TracedMessage['fate']): string {
  const outcome = fate === 'dropped' ? ` (dropped${m.reason === undefined ? '' : `: ${m.reason}`})` : fate === 'in flight' ? ' (in flight)' : '';
  return `${m.type} term ${m.term}: ${m.summary}${outcome}${m.duplicate ? ' (duplicate)' : ''}`;
}

/**
 * A Mermaid sequence diagram of a run, or of a time window of it: a participant per node,
 * each message as an arrow where it was delivered (dotted for responses, with a cross when
 * dropped), heartbeats collapsed into a count, role changes and faults as notes with their
 * virtual time. Every label is escaped (see the node ids of the example); the same trace and
 * filters always give the same text. Event kinds it does not know are skipped.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { toMermaid } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * await cluster.run(200);
 * const diagram = toMermaid(cluster.trace(), { heartbeats: 'collapse' });
 * console.log(diagram.split('\n').slice(0, 4).join('\n'));
 * // sequenceDiagram
 * //   participant p1 as 1
 * //   participant p2 as 2
 * //   participant p3 as 3
 * console.log(toMermaid([{ time: 0, kind: 'crash', node: '<b>-->x' }]).split('\n')[1]);
 * //   participant p1 as #60;b#62;#45;#45;#62;x
 * ```
 */
export function toMermaid(trace: DrawableTrace, filters: MermaidFilters = {}): string {
  const run = readTrace(trace);
  const nodes = filters.nodes ?? run.nodes;
  const alias = new Map(nodes.map((node, i) => [node, `p${i + 1}`]));
  const shown = new Set(nodes);
  const from = filters.from ?? run.start;
  const to = filters.to ?? run.end;
  const types = filters.types === undefined ? undefined : new Set(filters.types);
  const heartbeats = filters.heartbeats ?? 'collapse';
  const maxLines = filters.maxLines ?? 400;
  const inWindow = (time: number) => time >= from && time <= to;
  const over = (ids: readonly NodeId[]): string | undefined => {
    const order = ids.map((id) => nodes.indexOf(id)).filter((i) => i >= 0).sort((a, b) => a - b);
    const first = order[0];
    const last = order[order.length - 1];
    if (first === undefined || last === undefined) return undefined;
    return first === last ? `p${first + 1}` : `p${first + 1},p${last + 1}`;
  };

  const lines = ['sequenceDiagram', ...nodes.map((node, i) => `  participant p${i + 1} as ${mermaidText(node)}`)];
  const body: string[] = [];
  let cut = 0;
  let cutFrom: number | undefined;
  const emit = (time: number, line: string) => {
    if (body.length < maxLines) return void body.push(line);
    cut++;
    cutFrom ??= time;
  };
  let beats: { count: number; dropped: number; ids: Set<NodeId>; time: number } | undefined;
  const flushHeartbeats = () => {
    if (beats === undefined) return;
    const { count, dropped, ids, time } = beats;
    beats = undefined;
    const where = over([...ids]);
    if (where !== undefined) emit(time, `  Note over ${where}: ${mermaidText(`${plural(count, 'heartbeat')}${dropped > 0 ? `, ${dropped} dropped` : ''}`)}`);
  };

  /** Draws a message as it stands at `time`, or counts it in the current run of heartbeats. */
  const draw = (m: TracedMessage, fate: TracedMessage['fate'], time: number) => {
    if (m.heartbeat && heartbeats === 'collapse') {
      beats ??= { count: 0, dropped: 0, ids: new Set(), time };
      beats.count++;
      if (fate === 'dropped') beats.dropped++;
      beats.ids.add(m.from).add(m.to);
      return;
    }
    flushHeartbeats();
    emit(time, `  ${alias.get(m.from) as string}${arrow(m, fate)}${alias.get(m.to) as string}: ${mermaidText(messageLabel(m, fate))}`);
  };
  type Item = { position: number; draw: () => void };
  const items: Item[] = [];
  const inFlight: TracedMessage[] = [];
  if (filters.notes !== false) {
    for (const note of run.notes) {
      if (!inWindow(note.time)) continue;
      const where = note.node === undefined ? over(nodes) : over([note.node]);
      if (where === undefined) continue;
      items.push({
        position: note.position,
        draw: () => {
          flushHeartbeats();
          emit(note.time, `  Note over ${where}: ${mermaidText(`${ms(note.time)}: ${note.text}`)}`);
        },
      });
    }
  }
  for (const m of run.messages) {
    if (!isBetween(m, shown, types) || (m.heartbeat && heartbeats === 'hide')) continue;
    const settledInWindow = m.at !== undefined && inWindow(m.at);
    if (!settledInWindow) {
      if (m.sent !== undefined && inWindow(m.sent)) inFlight.push(m);
      continue;
    }
    items.push({ position: m.position, draw: () => draw(m, m.fate, m.at as number) });
  }
  for (const m of inFlight.sort((x, y) => x.position - y.position)) {
    items.push({ position: Infinity, draw: () => draw(m, 'in flight', to) });
  }
  items.sort((x, y) => x.position - y.position);
  for (const item of items) item.draw();
  flushHeartbeats();
  if (cut > 0) {
    const where = over(nodes);
    if (where !== undefined) body.push(`  Note over ${where}: ${mermaidText(`${plural(cut, 'more line')} from ${ms(cutFrom ?? to)} not drawn (see maxLines, from and to)`)}`);
  }
  return [...lines, ...body, ''].join('\n');
}
