import type { NodeId } from '../raft/types.js';
import type { Cluster } from '../sim/cluster.js';
import { HALO, el, label, lookup, plural, svgDocument, termColour, tooltip } from './svg.js';

/**
 * One node's log as {@link toLogSvg} draws it: a plain structure, so it can come from a
 * {@link Cluster} ({@link logsOf}), from a replayed trace, or be written by hand for a lesson.
 *
 * @example
 * ```ts
 * import type { NodeLog } from 'raftkit/viz';
 * const figure7a: NodeLog = {
 *   node: 'a',
 *   entries: [1, 1, 1, 4, 4, 5, 5, 6, 6].map((term, i) => ({ index: i + 1, term })),
 *   commitIndex: 0,
 * };
 * ```
 */
export interface NodeLog {
  /** The node. */
  readonly node: NodeId;
  /** Its entries, in index order (those a snapshot replaced left out). */
  readonly entries: readonly {
    /** The entry's index. */
    readonly index: number;
    /** The term it was created in. */
    readonly term: number;
    /** Its kind (`'command'`, `'noop'`, `'config'`, `'session'`); a cell of another kind than a command has its term in italics. */
    readonly kind?: string;
  }[];
  /** The highest index it knows committed. */
  readonly commitIndex: number;
  /** The last index its snapshot covers (default 0: none). */
  readonly snapshotIndex?: number;
  /** Its role, shown by its name (e.g. 'leader', 'stopped'). */
  readonly role?: string;
  /** Its current term, shown by its name. */
  readonly term?: number;
}

/**
 * What {@link toLogSvg} draws.
 *
 * @example
 * ```ts
 * import type { LogSvgOptions } from 'raftkit/viz';
 * const lastTwenty: LogSvgOptions = { maxEntries: 20, title: 'Logs after the partition' };
 * ```
 */
export interface LogSvgOptions {
  /** At most this many indexes, the newest (default 60); older ones are summed up at the left. */
  readonly maxEntries?: number;
  /** The picture's accessible name (its `<title>`). */
  readonly title?: string;
}

/**
 * Every node's log in `cluster`, as {@link toLogSvg} takes it: entries with their terms, the
 * commit and snapshot indexes, role and term (a crashed node's as it was when it stopped, with
 * role `'stopped'`). Reads only the nodes' public state.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { logsOf } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * const leader = await cluster.waitForLeader();
 * await cluster.propose('x');
 * const log = logsOf(cluster).find((l) => l.node === leader);
 * console.log(log?.entries.map((e) => `${e.index}:${e.term} ${e.kind}`), log?.commitIndex);
 * // [ '1:1 noop', '2:1 session', '3:1 command' ] 3 (cluster.propose opens a client session first)
 * ```
 */
export function logsOf<C, R>(cluster: Cluster<C, R>): NodeLog[] {
  return cluster.ids.map((id) => {
    const node = cluster.node(id);
    const status = node.status();
    return {
      node: id,
      entries: node.entries().map(({ index, term, kind }) => ({ index, term, kind })),
      commitIndex: status.commitIndex,
      snapshotIndex: status.snapshotIndex,
      role: node.running ? status.role : 'stopped',
      term: status.term,
    };
  });
}

const CELL = 24;
const GAP = 2;
const LEFT = 150;
const TOP = 40;
const ROW = 40;
/** How a cell marks an entry that is not a command. */
const KIND_MARK: Readonly<Record<string, string>> = { noop: 'no-op', config: 'membership change', session: 'session opening' };

/**
 * The logs of a cluster as an SVG document: a row per node, a cell per index coloured by the
 * entry's term (the same palette in every picture: term 1 blue, 2 orange, 3 red, …) and
 * labelled with it; entries past the commit index are pale, a bar after the last committed entry
 * marks the commit index, and a grey block stands for what a snapshot replaced. Hovering a cell
 * tells its index, term, kind and whether it is committed. Same input, same string; a viewBox, a
 * `<title>` and a `<desc>`, every text escaped, no `<style>`. Cells have class `rk-entry`
 * (`rk-committed` once committed), commit bars `rk-commit`.
 *
 * @example
 * ```ts
 * import { toLogSvg } from 'raftkit/viz';
 * const svg = toLogSvg([
 *   { node: '1', entries: [{ index: 1, term: 1 }, { index: 2, term: 2 }], commitIndex: 2, role: 'leader', term: 2 },
 *   { node: '2', entries: [{ index: 1, term: 1 }], commitIndex: 1 },
 * ]);
 * console.log(svg.match(/class="rk-entry/g)?.length); // 3
 * ```
 */
export function toLogSvg(logs: readonly NodeLog[], options: LogSvgOptions = {}): string {
  const maxEntries = options.maxEntries ?? 60;
  const last = Math.max(0, ...logs.map((log) => Math.max(log.commitIndex, log.snapshotIndex ?? 0, ...log.entries.map((e) => e.index))));
  const first = Math.max(1, last - maxEntries + 1);
  const x = (index: number) => LEFT + (index - first) * (CELL + GAP);
  const body: string[] = [];
  const terms = new Set<number>();

  for (let index = first; index <= last; index++) {
    if (index === first || index % 5 === 0 || index === last) body.push(label(x(index) + CELL / 2, TOP - 8, String(index), { 'text-anchor': 'middle', 'font-size': 10, fill: '#57606a' }));
  }
  if (first > 1) body.push(label(LEFT - 6, TOP - 8, `${first - 1} earlier`, { 'text-anchor': 'end', 'font-size': 10, fill: '#57606a' }));

  logs.forEach((log, row) => {
    const top = TOP + row * ROW;
    const cells: string[] = [];
    const name = `${log.node}${log.role === undefined ? '' : ` ${log.role}`}${log.term === undefined ? '' : `, term ${log.term}`}`;
    cells.push(label(8, top + CELL / 2 + 4, name, { 'font-size': 12, 'font-weight': log.role === 'leader' ? 'bold' : undefined }));
    const snapshot = log.snapshotIndex ?? 0;
    if (snapshot >= first) {
      cells.push(el('g', { class: 'rk-snapshot' }, tooltip(`${log.node}: snapshot through ${snapshot}`) + el('rect', { x: x(first), y: top, width: x(snapshot) + CELL - x(first), height: CELL, fill: '#d0d7de', rx: 3 }) + label(x(first) + 4, top + 16, 'snapshot', { 'font-size': 10 })));
    }
    for (const entry of log.entries) {
      if (entry.index < first || entry.index <= snapshot) continue;
      terms.add(entry.term);
      const committed = entry.index <= log.commitIndex;
      const { fill, ink } = termColour(entry.term);
      const kind = entry.kind === undefined || entry.kind === 'command' ? '' : ` (${lookup(KIND_MARK, entry.kind) ?? entry.kind})`;
      cells.push(
        el(
          'g',
          { class: `rk-entry${committed ? ' rk-committed' : ''}`, 'data-node': log.node, 'data-index': entry.index, 'data-term': entry.term },
          tooltip(`${log.node}: index ${entry.index}, term ${entry.term}${kind}, ${committed ? 'committed' : 'not committed'}`) +
            el('rect', { x: x(entry.index), y: top, width: CELL, height: CELL, rx: 3, fill, 'fill-opacity': committed ? 1 : 0.35, stroke: committed ? undefined : fill, 'stroke-dasharray': committed ? undefined : '3 2' }) +
            label(x(entry.index) + CELL / 2, top + 16, String(entry.term), { 'text-anchor': 'middle', fill: committed ? ink : '#24292f', 'font-style': kind === '' ? undefined : 'italic' }),
        ),
      );
    }
    if (log.commitIndex >= first - 1 && log.commitIndex > 0) {
      const bar = x(log.commitIndex) + CELL + GAP / 2;
      cells.push(el('g', { class: 'rk-commit', 'data-node': log.node, 'data-index': log.commitIndex }, tooltip(`${log.node}: commit index ${log.commitIndex}`) + el('line', { x1: bar, y1: top - 3, x2: bar, y2: top + CELL + 3, stroke: '#24292f', 'stroke-width': 2.5 }) + label(bar + 3, top + CELL + 11, `commit ${log.commitIndex}`, { ...HALO, 'font-size': 9 })));
    }
    body.push(el('g', { class: 'rk-log', 'data-node': log.node }, cells.join('')));
  });

  // The terms' colours.
  const legendTop = TOP + logs.length * ROW + 10;
  const legend = [...terms].sort((a, b) => a - b).map((term, i) => {
    const { fill, ink } = termColour(term);
    return el('rect', { x: LEFT + i * 60, y: legendTop, width: 54, height: 16, rx: 3, fill }) + label(LEFT + i * 60 + 27, legendTop + 12, `term ${term}`, { 'text-anchor': 'middle', 'font-size': 10, fill: ink });
  });
  body.push(el('g', { class: 'rk-legend' }, label(8, legendTop + 12, 'terms', { 'font-size': 11 }) + legend.join('')));

  const width = Math.max(x(last) + CELL + 60, LEFT + terms.size * 60) + 8;
  const height = legendTop + 28;
  const description = `${plural(logs.length, 'log')}, indexes ${last === 0 ? 'none' : `${first} to ${last}`}: ${logs.map((log) => `${log.node} has ${plural(log.entries.length, 'entry', 'entries')}, commit index ${log.commitIndex}`).join('; ')}.`;
  return svgDocument('logs', width, height, options.title ?? 'Raft logs by term', description, body);
}
