/**
 * A standalone HTML page of a history, in the manner of Porcupine's visualisation: a lane per
 * client, a bar per operation from its invocation to its completion, and for a failure the
 * window that fails, the points of its longest partial linearization, and the operation that
 * cannot be placed.
 */
import type { CheckResult } from './check.js';
import type { Operation } from './history.js';
import { partsOf, type Model } from './model.js';
import { nameState, operationText } from './describe.js';

/**
 * What {@link historyToHtml} draws.
 *
 * @example
 * ```ts
 * import type { HtmlOptions, RegisterState } from 'raftkit/testing';
 * const options: HtmlOptions<RegisterState> = { title: 'nightly run, seed 7' };
 * ```
 */
export interface HtmlOptions<S> {
  /** The verdict of `checkLinearizable` on the same history and model: a failure is drawn as its window. */
  readonly result?: CheckResult<S>;
  /** The page's heading (default: "History"). */
  readonly title?: string;
}

/** Layout, in pixels: a row holds a bar (from BAR_TOP, BAR_HEIGHT high) and room above it for point numbers. */
const GAP = 16; // the least room between two distinct times
const CHAR = 7.3; // the width of a character of the 12 px monospace labels
const ROW = 30;
const BAR_TOP = 10;
const BAR_HEIGHT = 18;
const LANE_GAP = 6;
const LEFT = 90;
const MARGIN = 12;

/**
 * Draws `history` as a standalone HTML page with inline SVG (no scripts, no external files; all
 * text escaped). Time runs left to right by the order of events, not to scale. With an `illegal`
 * result, only the failing window is drawn, with its partial linearization (numbered points, the
 * state after each in its tooltip) and the operation that cannot be placed in red; otherwise
 * every partition is drawn. `info` operations run open-ended to the right; `fail` ones are
 * struck through.
 *
 * @example
 * ```ts
 * import { checkLinearizable, historyToHtml, registerModel, type Operation, type RegisterInput } from 'raftkit/testing';
 * const history: Operation<RegisterInput>[] = [
 *   { client: 'a', input: { op: 'write', value: 1 }, invoke: 0, complete: 1, status: 'ok' },
 *   { client: 'b', input: { op: 'read' }, invoke: 2, complete: 3, status: 'ok', output: 2 },
 * ];
 * const html = historyToHtml(history, registerModel, { result: checkLinearizable(history, registerModel) });
 * // In Node: writeFileSync('history.html', html); in a browser: an iframe's srcdoc.
 * console.log(html.includes('class="op illegal"')); // true
 * ```
 */
export function historyToHtml<I, O, S>(history: readonly Operation<I, O>[], model: Model<I, O, S>, options: HtmlOptions<S> = {}): string {
  const { result, title = 'History' } = options;
  const sections: string[] = [];
  let verdict: string;
  if (result?.result === 'illegal') {
    const c = result.counterexample;
    verdict = `<p class="verdict illegal">Not linearizable${c.partition === undefined ? '' : ` on partition <code>${escape(c.partition)}</code>`}. The window: ${c.window.length} of ${history.length} operations, from state <code>${escape(nameState(c.start, model))}</code>.</p><pre>${escape(c.message)}</pre>`;
    sections.push(lanes(history, c.window, model, c.linearization, c.operation));
  } else {
    verdict =
      result === undefined
        ? ''
        : result.result === 'linearizable'
          ? '<p class="verdict ok">Linearizable.</p>'
          : `<p class="verdict unknown">Unknown: the check ran out of ${result.reason === 'steps' ? 'steps' : 'time'}${result.partition === undefined ? '' : ` on partition <code>${escape(result.partition)}</code>`}.</p>`;
    const index = new Map(history.map((o, i) => [o, i]));
    for (const [key, operations] of partsOf(history, model)) {
      const heading = key === undefined ? '' : `<h2>Partition <code>${escape(key)}</code></h2>`;
      sections.push(heading + lanes(history, operations.map((o) => index.get(o)!), model, [], undefined));
    }
  }
  return [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escape(title)}</title>`,
    `<style>${STYLE}</style>`,
    '</head><body>',
    `<h1>${escape(title)}</h1>`,
    verdict,
    ...sections,
    `<p class="legend"><span class="key ok">ok</span> <span class="key info">info: outcome unknown</span> <span class="key fail">fail: did not happen</span> <span class="key illegal">cannot be placed</span> <span class="key point">linearization point (hover for the state after)</span></p>`,
    '</body></html>',
    '',
  ].join('\n');
}

interface Bar {
  readonly index: number;
  readonly x1: number;
  readonly x2: number;
  readonly y: number;
  readonly open: boolean;
}

/** One SVG: a lane per client (with a row per overlapping operation of that client). */
function lanes<I, O, S>(
  history: readonly Operation<I, O>[],
  shown: readonly number[],
  model: Model<I, O, S>,
  linearization: readonly { readonly operation: number; readonly state: S }[],
  illegal: number | undefined,
): string {
  const ops = [...shown].sort((a, b) => history[a]!.invoke - history[b]!.invoke || a - b);
  const labels = new Map(ops.map((i) => [i, `#${i} ${operationText(history[i]!, model)}`]));
  const { x, right } = timeline(ops.map((i) => ({ operation: history[i]!, width: labels.get(i)!.length * CHAR + 10 })));

  // Rows: each client's operations packed greedily so that overlapping ones do not cover each other.
  const clients = [...new Set(ops.map((i) => history[i]!.client))];
  const bars = new Map<number, Bar>();
  const parts: string[] = [];
  let y = MARGIN;
  for (const client of clients) {
    const rowEnds: number[] = [];
    for (const i of ops.filter((j) => history[j]!.client === client)) {
      const o = history[i]!;
      const open = o.status === 'info' || o.complete === undefined;
      const x1 = x(o.invoke);
      const x2 = open ? right : Math.max(x(o.complete!), x1 + 8); // (a zero-length operation still shows)
      let row = rowEnds.findIndex((end) => end < x1);
      if (row < 0) row = rowEnds.push(x2) - 1;
      else rowEnds[row] = x2;
      bars.set(i, { index: i, x1, x2, y: y + row * ROW, open });
    }
    const height = Math.max(1, rowEnds.length) * ROW;
    parts.push(`<text class="client" x="8" y="${y + BAR_TOP + 13}">${escape(`client ${String(client)}`)}</text>`);
    parts.push(`<line class="lane" x1="${LEFT}" y1="${y + height + LANE_GAP / 2}" x2="${right}" y2="${y + height + LANE_GAP / 2}"/>`);
    y += height + LANE_GAP;
  }
  for (const bar of bars.values()) parts.push(drawBar(history, bar, labels.get(bar.index)!, bar.index === illegal));

  // Linearization points: strictly left to right in linearization order, each inside its own bar.
  let last = -Infinity;
  const placed = linearization.map(({ operation, state }, k) => {
    const bar = bars.get(operation);
    if (bar === undefined) throw new Error(`invariant: linearized operation #${operation} is in the window`);
    last = Math.min(Math.max(bar.x1 + 4, last + 6), bar.x2 - 2);
    return { x: last, y: bar.y + BAR_TOP, label: `${k + 1}. #${operation} ${operationText(history[operation]!, model)} => ${nameState(state, model)}` };
  });
  const path = placed.length < 2 ? [] : [`<polyline class="path" points="${placed.map((p) => `${p.x},${p.y}`).join(' ')}"/>`];
  const points = placed.map(
    (p, k) => `<g class="point"><circle cx="${p.x}" cy="${p.y}" r="4"/><text x="${p.x + 5}" y="${p.y - 2}">${k + 1}</text><title>${escape(p.label)}</title></g>`,
  );

  const width = Math.ceil(right + MARGIN);
  const height = y + MARGIN;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">\n${[...parts, ...path, ...points].join('\n')}\n</svg>`;
}

/**
 * Where each distinct time goes: in order, at least GAP apart, and far enough apart that every
 * operation's bar holds its label; the right edge leaves room for the open bars' labels too.
 */
function timeline<I, O>(ops: readonly { readonly operation: Operation<I, O>; readonly width: number }[]): { x: (time: number) => number; right: number } {
  const ends = (o: Operation<I, O>): boolean => o.status !== 'info' && o.complete !== undefined;
  const times = [...new Set(ops.flatMap(({ operation: o }) => (ends(o) ? [o.invoke, o.complete!] : [o.invoke])))].sort((a, b) => a - b);
  const at = new Map<number, number>();
  let last = LEFT + MARGIN - GAP;
  for (const time of times) {
    // Every bar completing now starts at a time already placed.
    const room = ops.filter(({ operation: o }) => ends(o) && o.complete === time && o.invoke < time).map(({ operation: o, width }) => at.get(o.invoke)! + width);
    last = Math.max(last + GAP, ...room);
    at.set(time, last);
  }
  const open = ops.filter(({ operation: o }) => !ends(o)).map(({ operation: o, width }) => at.get(o.invoke)! + width);
  return { x: (time) => at.get(time)!, right: Math.max(last + GAP * 2, ...open) };
}

function drawBar<I, O>(history: readonly Operation<I, O>[], bar: Bar, label: string, illegal: boolean): string {
  const o = history[bar.index]!;
  const classes = ['op', o.status, ...(illegal ? ['illegal'] : [])].join(' ');
  const tooltip = `${label}: client ${String(o.client)}, [${o.invoke}, ${o.complete === undefined || o.status === 'info' ? '?' : o.complete}], ${o.status}${illegal ? ' (cannot be placed)' : ''}`;
  const top = bar.y + BAR_TOP;
  const shape = bar.open
    ? `<path d="M${bar.x2} ${top} H${bar.x1} V${top + BAR_HEIGHT} H${bar.x2}"/>` // no right edge: it may take effect at any later time
    : `<rect x="${bar.x1}" y="${top}" width="${bar.x2 - bar.x1}" height="${BAR_HEIGHT}" rx="3"/>`;
  return `<g class="${classes}" data-op="${bar.index}">${shape}<text x="${bar.x1 + 5}" y="${top + 13}">${escape(label)}</text><title>${escape(tooltip)}</title></g>`;
}

/** Escapes text for HTML and XML alike. */
export function escape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const STYLE = [
  'body{font:14px system-ui,sans-serif;margin:1.5em;color:#222}',
  'pre{background:#f6f6f6;padding:.8em;overflow:auto}',
  'svg{display:block;margin:1em 0;font:12px ui-monospace,monospace}',
  '.lane{stroke:#ddd}',
  '.client{fill:#555}',
  '.op rect,.op path{fill:#dbeafe;stroke:#3b82f6}',
  '.op.info path{fill:#fef3c7;stroke:#d97706;stroke-dasharray:4 3}',
  '.op.fail rect{fill:#f3f4f6;stroke:#9ca3af}',
  '.op.fail text{text-decoration:line-through;fill:#6b7280}',
  '.op.illegal rect,.op.illegal path{fill:#fee2e2;stroke:#dc2626;stroke-width:2}',
  '.op.illegal text{fill:#b91c1c;font-weight:bold}',
  '.point circle{fill:#059669}',
  '.point text{fill:#059669;font-size:10px}',
  '.path{fill:none;stroke:#059669;stroke-dasharray:2 2}',
  '.verdict.illegal{color:#b91c1c}',
  '.verdict.ok{color:#059669}',
  '.key{padding:0 .4em;border:1px solid}',
  '.key.ok{background:#dbeafe;border-color:#3b82f6}',
  '.key.info{background:#fef3c7;border-color:#d97706;border-style:dashed}',
  '.key.fail{background:#f3f4f6;border-color:#9ca3af;text-decoration:line-through}',
  '.key.illegal{background:#fee2e2;border-color:#dc2626}',
  '.key.point{color:#059669;border-color:#059669}',
].join('');
