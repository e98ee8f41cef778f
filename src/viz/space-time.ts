import type { NodeId } from '../raft/types.js';
import { describeGroups, isBetween, readTrace, type DrawableTrace, type TracedMessage } from './read.js';
import { HALO, ROLE_FILL, UNKNOWN_ROLE_FILL, arrowDefs, cross, drawLanes, el, label, lanes, lookup, markerId, ms, plural, svgDocument, tooltip } from './svg.js';

/**
 * What {@link toSpaceTimeSvg} draws, and how big.
 *
 * @example
 * ```ts
 * import type { SpaceTimeOptions } from 'raftkit/viz';
 * const firstSecond: SpaceTimeOptions = { from: 0, to: 1_000, heartbeats: false, maxMessages: 500 };
 * ```
 */
export interface SpaceTimeOptions {
  /** The lanes, left to right (default: every node the trace names, sorted as people sort ids). Only messages between two of them are drawn. */
  readonly nodes?: readonly NodeId[];
  /** The message types to draw (default: every type). */
  readonly types?: readonly string[];
  /** Start of the time window in ms (default: the trace's oldest event). Only messages sent in the window are drawn. */
  readonly from?: number;
  /** End of the time window in ms (default: the trace's newest event). */
  readonly to?: number;
  /** Draw heartbeats (empty AppendEntries and their successful responses), thin and light (default true). */
  readonly heartbeats?: boolean;
  /** At most this many messages (default 1,500): past it, the window ends at the send of the last one drawn. */
  readonly maxMessages?: number;
  /** Vertical scale in pixels per ms (default: the window fits about 1,400 pixels, between 0.25 and 4 per ms). */
  readonly pxPerMs?: number;
  /** The picture's accessible name (its `<title>`). */
  readonly title?: string;
}

const LANE = 120;
const LEFT = 78;
const TOP = 56;
const BOTTOM = 64;
const GROUP_TINTS = ['#ddf4ff', '#fff8c5', '#ffebe9', '#dafbe1'];
const OUTAGE_LOOK: Readonly<Record<string, { readonly fill: string; readonly opacity: number }>> = {
  crashed: { fill: '#24292f', opacity: 0.28 },
  paused: { fill: '#9a6700', opacity: 0.22 },
  disconnected: { fill: '#57606a', opacity: 0.14 },
  removed: { fill: '#8c959f', opacity: 0.1 },
};
const ROLE_NAME: Readonly<Record<string, string>> = { precandidate: 'pre-vote' };
const DROP = '#cf222e';

/** The colour of a message type's arrows. */
function colourOf(m: TracedMessage): string {
  if (m.heartbeat) return '#8fb3de';
  if (m.type.startsWith('PreVote')) return '#a475f9';
  if (m.type.startsWith('RequestVote')) return '#8250df';
  if (m.type.startsWith('AppendEntries')) return '#0969da';
  if (m.type.startsWith('InstallSnapshot')) return '#bf3989';
  return '#57606a';
}

/** The shortest step of 1, 2 or 5 × 10^k ms (k ≥ 0) that is at least `minMs` long. */
export function tickStep(minMs: number): number {
  for (let base = 1; ; base *= 10) for (const m of [1, 2, 5]) if (m * base >= minMs) return m * base;
}

/**
 * A space-time diagram of a run as an SVG document, in the manner of Maelstrom's
 * `messages.svg`: a vertical lane per node with **time flowing down**, each lane banded by the
 * node's role and labelled with its term; each message an arrow from its send to its delivery
 * (dashed for responses; a dropped one ends in a red cross, one still in flight at the end of the
 * window is dotted); crashes and other outages shaded on their lanes, a partition's sides tinted;
 * a time axis in virtual ms. Hovering an arrow or a band shows its details.
 *
 * The SVG has a viewBox, a `<title>` and a `<desc>` (what it shows, in numbers), escapes every
 * text, and uses no `<style>` element, so it can be inlined in a page. Elements carry classes
 * (`rk-lane`, `rk-role`, `rk-msg` with `rk-delivered`, `rk-dropped` or `rk-in-flight`,
 * `rk-outage`, `rk-partition`) for scripts and tests. The same trace and options always give the
 * same string. Event kinds it does not know are skipped.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { toSpaceTimeSvg } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = await cluster.waitForLeader();
 * cluster.crash(leader);
 * await cluster.waitForLeader();
 * const svg = toSpaceTimeSvg(cluster.trace(), { heartbeats: false });
 * console.log(svg.match(/class="rk-lane"/g)?.length); // 3
 * console.log(svg.includes('rk-outage rk-crashed')); // true
 * ```
 */
export function toSpaceTimeSvg(trace: DrawableTrace, options: SpaceTimeOptions = {}): string {
  const run = readTrace(trace);
  const nodes = options.nodes ?? run.nodes;
  const shown = new Set(nodes);
  const types = options.types === undefined ? undefined : new Set(options.types);
  const from = options.from ?? run.start;
  let to = Math.max(from, options.to ?? run.end);
  const maxMessages = options.maxMessages ?? 1_500;

  let messages = run.messages
    .filter((m): m is TracedMessage & { sent: number } => m.sent !== undefined && m.sent >= from && m.sent <= to)
    .filter((m) => isBetween(m, shown, types) && (options.heartbeats !== false || !m.heartbeat))
    .sort((a, b) => a.sent - b.sent || a.position - b.position);
  let capped = 0;
  if (messages.length > maxMessages) {
    capped = messages.length - maxMessages;
    messages = messages.slice(0, maxMessages);
    to = messages[messages.length - 1]?.sent ?? from;
  }

  const span = Math.max(to - from, 1);
  const scale = options.pxPerMs ?? Math.min(4, Math.max(0.25, 1_400 / span));
  const y = (time: number) => TOP + (Math.min(Math.max(time, from), to) - from) * scale;
  const bottom = y(to);
  const layout = lanes(nodes, LEFT, LANE);
  const key = legend(bottom + 24);
  const width = Math.max(layout.right, key.right) + 16;
  const height = bottom + BOTTOM;
  const overlaps = (start: number, end: number) => end >= from && start <= to;
  const body: string[] = [];

  // Partitions: each side tinted behind its lanes.
  let partitions = 0;
  for (const p of run.partitions) {
    if (!overlaps(p.start, p.end)) continue;
    partitions++;
    const sides = [...p.groups, nodes.filter((node) => !p.groups.some((group) => group.includes(node)))];
    const text = `partition ${describeGroups(p.groups)}, ${ms(p.start)} to ${ms(p.end)}`;
    const rects = sides.flatMap((side, g) =>
      side.filter((node) => shown.has(node)).map((node) => el('rect', { x: layout.x(node) - LANE / 2, y: y(p.start), width: LANE, height: y(p.end) - y(p.start), fill: GROUP_TINTS[g % GROUP_TINTS.length] })),
    );
    body.push(el('g', { class: 'rk-partition' }, tooltip(text) + rects.join('') + label(LEFT + 4, y(p.start) + 12, `partition ${describeGroups(p.groups)}`, { ...HALO, 'font-size': 10, fill: '#57606a' })));
  }
  // Outages, shaded on their lanes.
  let outages = 0;
  for (const o of run.outages) {
    if (!shown.has(o.node) || !overlaps(o.start, o.end)) continue;
    outages++;
    const look = OUTAGE_LOOK[o.state] ?? { fill: '#57606a', opacity: 0.2 };
    const x = layout.x(o.node);
    body.push(
      el(
        'g',
        { class: `rk-outage rk-${o.state}`, 'data-node': o.node },
        tooltip(`${o.node} ${o.state} from ${ms(o.start)} to ${ms(o.end)}`) +
          el('rect', { x: x - 26, y: y(o.start), width: 52, height: Math.max(y(o.end) - y(o.start), 1), fill: look.fill, 'fill-opacity': look.opacity }) +
          label(x + 8, y(o.start) + 22, o.state, { ...HALO, 'font-size': 10, 'font-style': 'italic' }),
      ),
    );
  }
  body.push(...drawLanes(layout, TOP, bottom));
  // Role bands, each labelled with its term where there is room.
  let bands = 0;
  for (const r of run.roles) {
    if (!shown.has(r.node) || !overlaps(r.start, r.end)) continue;
    bands++;
    const x = layout.x(r.node);
    const top = y(r.start);
    const h = y(r.end) - top;
    const term = r.term === undefined ? '' : `T${r.term} `;
    const text = h >= 14 || r.role === 'leader' ? label(x + 8, top + 10, `${term}${lookup(ROLE_NAME, r.role) ?? r.role}`, { ...HALO, 'font-size': 10 }) : '';
    body.push(
      el(
        'g',
        { class: 'rk-role', 'data-node': r.node, 'data-role': r.role },
        tooltip(`${r.node}: ${r.role}${r.term === undefined ? '' : ` in term ${r.term}`}, ${ms(r.start)} to ${ms(r.end)}`) + el('rect', { x: x - 4, y: top, width: 8, height: Math.max(h, 1), fill: lookup(ROLE_FILL, r.role) ?? UNKNOWN_ROLE_FILL }) + text,
      ),
    );
  }
  // Messages: from the send to the delivery or the drop (half-way across when dropped at once).
  const colours = new Set<string>();
  const counts = { delivered: 0, dropped: 0, 'in flight': 0 };
  for (const m of messages) {
    const colour = colourOf(m);
    const x1 = layout.x(m.from);
    const x2 = layout.x(m.to);
    const y1 = y(m.sent);
    const fate = m.at === undefined || m.at > to ? 'in flight' : m.fate;
    counts[fate]++;
    const reach = fate === 'delivered' || (fate === 'dropped' && (m.at as number) > m.sent) ? 1 : 0.5;
    const xEnd = x1 + (x2 - x1) * reach;
    const yEnd = fate === 'in flight' ? bottom : y(m.at as number);
    const dash = fate === 'in flight' ? '1 3' : m.type.endsWith('Response') ? '5 3' : undefined;
    if (fate === 'delivered') colours.add(colour);
    const details = `${m.type} ${m.from} to ${m.to}, term ${m.term}: ${m.summary}. Sent at ${ms(m.sent)}, ${fate === 'delivered' ? `delivered at ${ms(m.at as number)}` : fate === 'dropped' ? `dropped at ${ms(m.at as number)}${m.reason === undefined ? '' : ` (${m.reason})`}` : 'in flight'}${m.duplicate ? ' (a duplicate)' : ''}.`;
    const line = el('line', {
      x1,
      y1,
      x2: xEnd,
      y2: yEnd,
      stroke: colour,
      'stroke-width': m.heartbeat ? 0.8 : 1.4,
      'stroke-dasharray': dash,
      'marker-end': fate === 'delivered' ? `url(#${markerId('st', colour)})` : undefined,
    });
    body.push(
      el(
        'g',
        { class: `rk-msg rk-${fate.replace(' ', '-')}${m.heartbeat ? ' rk-heartbeat' : ''}`, 'data-type': m.type, 'data-from': m.from, 'data-to': m.to },
        tooltip(details) + line + (fate === 'dropped' ? cross(xEnd, yEnd, 4, DROP) : ''),
      ),
    );
  }
  body.unshift(arrowDefs('st', colours));

  // The time axis, with faint rules across the lanes.
  const step = tickStep(48 / scale);
  const ticks: string[] = [el('line', { x1: LEFT - 8, y1: TOP, x2: LEFT - 8, y2: bottom, stroke: '#57606a' })];
  for (let t = Math.ceil(from / step) * step; t <= to; t += step) {
    const ty = y(t);
    ticks.push(el('line', { x1: LEFT - 12, y1: ty, x2: LEFT - 8, y2: ty, stroke: '#57606a' }), el('line', { x1: LEFT - 8, y1: ty, x2: layout.right, y2: ty, stroke: '#eaeef2', 'stroke-width': 0.6 }), label(LEFT - 14, ty + 4, ms(t), { 'text-anchor': 'end', 'font-size': 10, fill: '#57606a' }));
  }
  body.unshift(el('g', { class: 'rk-axis' }, ticks.join('')));
  body.push(key.svg);

  const windowText = `from ${ms(from)} to ${ms(to)}`;
  const description =
    `${plural(nodes.length, 'node')} ${windowText}, time flowing down: ${plural(messages.length, 'message')} (${counts.delivered} delivered, ${counts.dropped} dropped, ${counts['in flight']} in flight), ` +
    `${plural(bands, 'role band')}, ${plural(outages, 'outage')}, ${plural(partitions, 'partition')}.${capped > 0 ? ` ${plural(capped, 'later message')} not drawn (maxMessages ${maxMessages}).` : ''}`;
  return svgDocument('space-time', width, height, options.title ?? `Space-time diagram ${windowText}`, description, body);
}

/** What the colours and strokes mean, and where it ends on the right. */
function legend(top: number): { svg: string; right: number } {
  const items: string[] = [];
  let x = LEFT;
  for (const [role, fill] of Object.entries(ROLE_FILL)) {
    items.push(el('rect', { x, y: top - 9, width: 8, height: 12, fill }), label(x + 12, top, lookup(ROLE_NAME, role) ?? role, { 'font-size': 10 }));
    x += 22 + (lookup(ROLE_NAME, role) ?? role).length * 6;
  }
  const strokes: [string, string, string | undefined][] = [
    ['vote', '#8250df', undefined],
    ['append', '#0969da', undefined],
    ['response', '#0969da', '5 3'],
    ['heartbeat', '#8fb3de', undefined],
  ];
  for (const [name, colour, dash] of strokes) {
    items.push(el('line', { x1: x, y1: top - 3, x2: x + 20, y2: top - 3, stroke: colour, 'stroke-width': 1.4, 'stroke-dasharray': dash }), label(x + 24, top, name, { 'font-size': 10 }));
    x += 30 + name.length * 6;
  }
  items.push(cross(x + 4, top - 3, 4, DROP), label(x + 12, top, 'dropped', { 'font-size': 10 }));
  return { svg: el('g', { class: 'rk-legend' }, items.join('')), right: x + 60 };
}
