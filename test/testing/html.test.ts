import { describe, expect, it } from 'vitest';
import { checkLinearizable, historyToHtml, kvModel, type KvInput, type Operation } from '../../src/testing/index.js';

const ok = (client: number, invoke: number, complete: number, input: KvInput, output?: unknown): Operation<KvInput> => ({ client, invoke, complete, status: 'ok', input, output });

/**
 * Checks that `markup` is well formed as XML: every tag closed in order, attributes quoted,
 * and no `<` or `&` outside tags and entities. Returns the tag names opened, in order.
 */
function wellFormed(markup: string, voids: readonly string[] = []): string[] {
  const stack: string[] = [];
  const opened: string[] = [];
  const text = markup.replace(/<!DOCTYPE html>/, '');
  let rest = text;
  for (const token of text.matchAll(/<(\/?)([a-zA-Z][\w-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g)) {
    const [whole, closing, name, , selfClosing] = token;
    rest = rest.replace(whole, '');
    if (closing) {
      expect(stack.pop(), `</${name}> closes the last open tag`).toBe(name);
    } else if (!selfClosing && !voids.includes(name!)) {
      stack.push(name!);
      opened.push(name!);
    } else {
      opened.push(name!);
    }
  }
  expect(stack, 'every tag is closed').toEqual([]);
  expect(rest, 'no stray < outside tags').not.toMatch(/</);
  expect(rest.replace(/&(amp|lt|gt|quot|#39);/g, ''), 'no & outside entities').not.toMatch(/&/);
  return opened;
}

const svgs = (html: string): string[] => [...html.matchAll(/<svg[\s\S]*?<\/svg>/g)].map((m) => m[0]);

describe('historyToHtml', () => {
  const history: Operation<KvInput>[] = [
    ok(1, 0, 10, { op: 'put', key: 'x', value: 1 }),
    ok(2, 1, 2, { op: 'get', key: 'x' }, 1),
    { client: 3, invoke: 2, status: 'info', input: { op: 'put', key: 'x', value: 7 } },
    ok(2, 3, 4, { op: 'get', key: 'x' }, undefined),
  ];
  const result = checkLinearizable(history, kvModel);
  const html = historyToHtml(history, kvModel, { result, title: 'A new-old inversion' });

  it('draws the failing window: a lane per client, a bar per operation, the illegal one highlighted', () => {
    if (result.result !== 'illegal') throw new Error('expected the history to be illegal');
    const c = result.counterexample;
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<title>A new-old inversion</title>');
    expect(svgs(html)).toHaveLength(1);
    for (const client of [1, 2, 3]) expect(html).toContain(`>client ${client}</text>`);
    for (const i of c.window) expect(html).toContain(`data-op="${i}"`);
    expect(html).toContain(`<g class="op ok illegal" data-op="${c.operation}">`);
    expect(html.match(/class="op [^"]*illegal/g)).toHaveLength(1);
    expect(html).toContain('Not linearizable on partition <code>x</code>');
  });

  it('marks the linearization points in order, each with the state after it', () => {
    if (result.result !== 'illegal') throw new Error('expected the history to be illegal');
    const points = [...html.matchAll(/<g class="point"><circle cx="([\d.]+)"[^>]*\/><text[^>]*>(\d+)<\/text><title>([^<]*)<\/title><\/g>/g)];
    expect(points.map((p) => Number(p[2]))).toEqual(result.counterexample.linearization.map((_, k) => k + 1));
    expect(points.length).toBeGreaterThan(0);
    const xs = points.map((p) => Number(p[1]));
    expect([...xs].sort((a, b) => a - b)).toEqual(xs);
    expect(points[0]![3]).toContain('=&gt; x=1');
    if (points.length > 1) expect(html).toContain('<polyline class="path"');
  });

  it('draws info operations open-ended, and fail operations struck through', () => {
    expect(html).toMatch(/<g class="op info" data-op="2"><path d="M[\d.]+ [\d.]+ H[\d.]+ V[\d.]+ H[\d.]+"\/>/);
    const failed = historyToHtml([{ client: 1, invoke: 0, complete: 1, status: 'fail', input: { op: 'put', key: 'x', value: 1 } }], kvModel);
    expect(failed).toContain('<g class="op fail" data-op="0"><rect');
    expect(failed).toContain('.op.fail text{text-decoration:line-through');
  });

  it('draws every partition of a linearizable history', () => {
    const fine: Operation<KvInput>[] = [ok(1, 0, 1, { op: 'put', key: 'x', value: 1 }), ok(2, 0, 1, { op: 'put', key: 'y', value: 2 }), ok(1, 2, 3, { op: 'get', key: 'y' }, 2)];
    const page = historyToHtml(fine, kvModel, { result: checkLinearizable(fine, kvModel) });
    expect(page).toContain('Linearizable.');
    expect(page).toContain('<h2>Partition <code>x</code></h2>');
    expect(page).toContain('<h2>Partition <code>y</code></h2>');
    expect(svgs(page)).toHaveLength(2);
    expect(page).not.toContain('illegal" data-op');
  });

  it('escapes every text it draws', () => {
    const nasty = '<script>alert("&\'")</script>';
    const hostile: Operation<KvInput>[] = [ok(1, 0, 1, { op: 'put', key: nasty, value: nasty }), ok(2, 2, 3, { op: 'get', key: nasty }, 'other')];
    const page = historyToHtml(hostile, kvModel, { result: checkLinearizable(hostile, kvModel), title: nasty });
    expect(page).not.toContain('<script');
    expect(page).toContain('&lt;script&gt;alert(');
    wellFormed(page, ['meta']);
  });

  it('is well formed, the SVG as XML', () => {
    const opened = wellFormed(html, ['meta']);
    expect(opened).toEqual(expect.arrayContaining(['html', 'head', 'style', 'body', 'svg', 'g', 'rect', 'path', 'text', 'title', 'circle']));
    for (const svg of svgs(html)) {
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" width="\d+" height="\d+" viewBox="0 0 \d+ \d+">/);
      wellFormed(svg);
    }
  });
});
