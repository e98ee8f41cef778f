/**
 * What every picture of raftkit/viz shares: XML escaping, number formatting, the document
 * wrapper (viewBox, title, description), the colours, and the vertical lanes that the space-time
 * and clocks diagrams both draw. Styles are presentation attributes, never a `<style>` element,
 * so an SVG pasted into a page cannot restyle the page around it.
 */

/** Characters XML 1.0 does not allow in a document, even escaped: C0 controls (but tab, LF, CR), lone surrogates, U+FFFE and U+FFFF. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;
const XML_SPECIAL: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe inside an XML element or a double-quoted attribute: specials escaped, characters XML forbids replaced by U+FFFD. */
export function escapeXml(text: string): string {
  return text.replace(NOT_XML, '\uFFFD').replace(/[&<>"']/g, (c) => XML_SPECIAL[c] as string);
}

/** A coordinate or length, rounded to 0.1 (so output does not depend on floating-point noise). */
export function px(value: number): string {
  return String(Math.round(value * 10) / 10);
}

/** A time in ms as people read it: at most 3 decimals, no trailing zeros. */
export function ms(value: number): string {
  return `${String(Math.round(value * 1000) / 1000)} ms`;
}

/** `1 message`, `2 messages` (or `2 ${nouns}`). */
export function plural(count: number, noun: string, nouns = `${noun}s`): string {
  return `${count} ${count === 1 ? noun : nouns}`;
}

/** Compares node ids as people sort them: runs of digits by value ('2' before '10'), the rest by code unit. */
export function compareIds(a: string, b: string): number {
  const chunks = (s: string) => s.match(/\d+|\D+/g) ?? [];
  const x = chunks(a);
  const y = chunks(b);
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i] as string;
    const q = y[i] as string;
    if (p === q) continue;
    const numeric = /^\d/.test(p) && /^\d/.test(q);
    if (numeric && Number(p) !== Number(q)) return Number(p) - Number(q);
    return p < q ? -1 : 1;
  }
  return x.length - y.length || (a < b ? -1 : a > b ? 1 : 0);
}

/** An SVG element: `name` with `attributes` (values escaped; undefined ones left out) and already-escaped `content`. */
export function el(name: string, attributes: Readonly<Record<string, string | number | undefined>>, content?: string): string {
  let open = `<${name}`;
  for (const [key, value] of Object.entries(attributes)) {
    if (value !== undefined) open += ` ${key}="${typeof value === 'number' ? px(value) : escapeXml(value)}"`;
  }
  return content === undefined ? `${open}/>` : `${open}>${content}</${name}>`;
}

/** Attributes that give text a white halo, legible over lines and bands. */
export const HALO = { stroke: '#ffffff', 'stroke-width': 3, 'paint-order': 'stroke' } as const;

/** A `<text>` element with escaped `text`. */
export function label(x: number, y: number, text: string, attributes: Readonly<Record<string, string | number | undefined>> = {}): string {
  return el('text', { x, y, 'font-size': 11, ...attributes }, escapeXml(text));
}

/** An element's tooltip (an SVG `<title>` child, which browsers and screen readers show). */
export function tooltip(text: string): string {
  return `<title>${escapeXml(text)}</title>`;
}

/**
 * A whole SVG document: `width` × `height`, with a viewBox, an accessible name (`<title>`) and
 * description (`<desc>`), and `body` (already escaped markup).
 */
export function svgDocument(kind: string, width: number, height: number, title: string, description: string, body: readonly string[]): string {
  const w = px(width);
  const h = px(height);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" class="raftkit-${kind}" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" font-family="system-ui, -apple-system, 'Segoe UI', sans-serif">`,
    `<title>${escapeXml(title)}</title>`,
    `<desc>${escapeXml(description)}</desc>`,
    el('rect', { x: 0, y: 0, width, height, fill: '#ffffff' }),
    ...body,
    '</svg>',
    '',
  ].join('\n');
}

/** Ten colours that stay apart for most readers (Tableau 10), and the text colour readable on each. */
const PALETTE: readonly (readonly [fill: string, ink: string])[] = [
  ['#4e79a7', '#ffffff'],
  ['#f28e2b', '#000000'],
  ['#e15759', '#ffffff'],
  ['#76b7b2', '#000000'],
  ['#59a14f', '#ffffff'],
  ['#edc948', '#000000'],
  ['#b07aa1', '#ffffff'],
  ['#ff9da7', '#000000'],
  ['#9c755f', '#ffffff'],
  ['#bab0ac', '#000000'],
];

/** The colour of a term, the same in every picture: term 1 is the first of the palette, term 11 the first again. */
export function termColour(term: number): { readonly fill: string; readonly ink: string } {
  const [fill, ink] = PALETTE[(((Math.trunc(term) - 1) % PALETTE.length) + PALETTE.length) % PALETTE.length] as readonly [string, string];
  return { fill, ink };
}

/**
 * `table[key]` when `table` has `key` as its own property, else undefined: a name read from a
 * trace (`constructor`, `__proto__`…) never finds what every object inherits.
 */
export function lookup<V>(table: Readonly<Record<string, V>>, key: string): V | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

/** A role band's fill when the role is not one of {@link ROLE_FILL}'s. */
export const UNKNOWN_ROLE_FILL = '#d0d7de';

/** The fill of each Raft role's band (read it with {@link lookup}). */
export const ROLE_FILL: Readonly<Record<string, string>> = {
  follower: '#d0d7de',
  precandidate: '#f5e0a3',
  candidate: '#e3b341',
  leader: '#2da44e',
};

/** Where vertical lanes go: one per name, `width` apart, after a left margin; time (or order) flows down from `top`. */
export interface Lanes {
  readonly names: readonly string[];
  readonly x: (name: string) => number;
  readonly left: number;
  readonly width: number;
  readonly right: number;
}

/** Lays out one lane per name. */
export function lanes(names: readonly string[], left: number, width: number): Lanes {
  const index = new Map(names.map((name, i) => [name, i]));
  return { names, left, width, right: left + names.length * width, x: (name) => left + ((index.get(name) ?? 0) + 0.5) * width };
}

/** Each lane's name at the top and its line from `top` to `bottom`. */
export function drawLanes(layout: Lanes, top: number, bottom: number): string[] {
  return layout.names.map((name) => {
    const x = layout.x(name);
    return el(
      'g',
      { class: 'rk-lane', 'data-node': name },
      label(x, top - 10, name, { 'text-anchor': 'middle', 'font-size': 13, 'font-weight': 'bold' }) + el('line', { x1: x, y1: top, x2: x, y2: bottom, stroke: '#8c959f', 'stroke-width': 1 }),
    );
  });
}

/** The arrowhead marker of each colour used, to put in `<defs>` (ids are prefixed by `kind`, so two pictures in a page agree). */
export function arrowDefs(kind: string, colours: Iterable<string>): string {
  const markers = [...new Set(colours)].sort().map((colour) =>
    el('marker', { id: markerId(kind, colour), viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, el('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour })),
  );
  return `<defs>${markers.join('')}</defs>`;
}

/** The id of the arrowhead marker of `colour`. */
export function markerId(kind: string, colour: string): string {
  return `rk-${kind}-arrow-${colour.replace(/[^0-9a-z]/gi, '')}`;
}

/** A cross (×) of half-size `r` centred on (x, y): how a lost message ends. */
export function cross(x: number, y: number, r: number, colour: string): string {
  return el('path', { d: `M${px(x - r)},${px(y - r)} L${px(x + r)},${px(y + r)} M${px(x - r)},${px(y + r)} L${px(x + r)},${px(y - r)}`, stroke: colour, 'stroke-width': 2, class: 'rk-cross' });
}
