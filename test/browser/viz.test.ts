/**
 * raftkit/viz in a real browser: Debian's chromium (driven by playwright-core) loads a page served
 * from 127.0.0.1, which draws every picture of a seeded run with a crash and a partition itself.
 * The strings equal those drawn in Node; the Mermaid diagrams render with the real `mermaid`
 * package without parse errors (hostile node ids included, which must show as text and run
 * nothing); the SVGs parse in the browser's DOMParser with the lanes, arrows and cells the run
 * calls for; the page logs no error. Screenshots go to test-artifacts/browser/ (git-ignored);
 * the assertions read the DOM, never pixels.
 *
 * Chromium is required, not optional: without it these tests fail (.ci/run installs it with
 * apt). Set CHROMIUM_PATH to use another build.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { logsOf } from '../../src/viz/index.js';
import { ARTIFACTS, closeAll, launchChromium, serveFiles, watchPage } from '../support/browser.js';
import { root } from '../support/snippets.js';
import { HOSTILE_IDS, drawAll, faultyRun, replayRun, type Pictures } from '../support/viz-run.js';


const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>raftkit/viz</title><link rel="icon" href="data:,"></head>
<body>
<main id="pictures"></main>
<script src="/mermaid.min.js"></script>
<script src="/viz.js"></script>
</body>
</html>`;

let server: Server | undefined;
let browser: Browser | undefined;
let page: Page;
let origin = '';
const problems: string[] = [];
const dialogs: string[] = [];

/**
 * Serves the page, launches chromium and opens the page, once; every test awaits it, so without
 * chromium each test fails (none is skipped).
 */
let opened: Promise<void> | undefined;
const open = (): Promise<void> => (opened ??= launch());

async function launch(): Promise<void> {
  const bundle = await build({ entryPoints: [join(root, 'test/browser/page.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  const files: Record<string, { type: string; body: string | Buffer }> = {
    '/': { type: 'text/html; charset=utf-8', body: PAGE },
    '/viz.js': { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]?.text ?? '' },
    '/mermaid.min.js': { type: 'text/javascript; charset=utf-8', body: readFileSync(join(root, 'node_modules/mermaid/dist/mermaid.min.js')) },
  };
  ({ server, origin } = await serveFiles(files));
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 900 } });
  watchPage(page, problems, dialogs);
  const response = await page.goto(`${origin}/`);
  if (response?.status() !== 200) throw new Error(`GET ${origin}/ answered ${response?.status()}`);
}

afterAll(() => closeAll(browser, server));

/** The pictures drawn in the page (once). */
let drawn: Pictures | undefined;
async function inBrowser(): Promise<Pictures> {
  await open();
  drawn ??= await page.evaluate(() => window.drawAll());
  return drawn;
}

/** Renders `text` with mermaid into a new section of the page; returns what the DOM holds. */
async function renderMermaid(name: string, text: string) {
  return page.evaluate(
    async ({ name, text }) => {
      const mermaid = (window as unknown as { mermaid: { initialize(c: object): void; parse(t: string): Promise<unknown>; render(id: string, t: string): Promise<{ svg: string }> } }).mermaid;
      mermaid.initialize({ startOnLoad: false, securityLevel: 'strict' });
      await mermaid.parse(text); // throws on a parse error
      const { svg } = await mermaid.render(`mermaid-${name}`, text);
      const section = document.createElement('section');
      section.id = `section-${name}`;
      section.innerHTML = svg;
      document.getElementById('pictures')?.append(section);
      const texts = Array.from(section.querySelectorAll('text')).map((t) => t.textContent ?? '');
      return {
        messages: section.querySelectorAll('.messageText').length,
        notes: section.querySelectorAll('.noteText').length,
        actors: Array.from(section.querySelectorAll('text.actor')).map((t) => t.textContent ?? ''),
        errors: texts.filter((t) => /syntax error|parse error/i.test(t)).length,
        scripts: document.querySelectorAll('script').length,
        images: section.querySelectorAll('img, foreignObject script').length,
        texts,
      };
    },
    { name, text },
  );
}

/** Parses `svg` with DOMParser, checks it is a whole accessible SVG, counts `selectors`, and inlines it in the page. */
async function parseSvg(name: string, svg: string, selectors: readonly string[]) {
  return page.evaluate(
    ({ name, svg, selectors }) => {
      const doc = new DOMParser().parseFromString(svg, 'image/svg+xml');
      const error = doc.querySelector('parsererror')?.textContent ?? null;
      const root = doc.documentElement;
      const section = document.createElement('section');
      section.id = `section-${name}`;
      section.append(document.importNode(root, true));
      document.getElementById('pictures')?.append(section);
      return {
        error,
        element: root.localName,
        namespace: root.namespaceURI,
        viewBox: root.getAttribute('viewBox'),
        title: root.firstElementChild?.localName === 'title' ? root.firstElementChild.textContent : null,
        desc: root.querySelector(':scope > desc')?.textContent ?? null,
        scripts: doc.querySelectorAll('script').length + document.querySelectorAll('main script').length,
        counts: Object.fromEntries(selectors.map((s) => [s, doc.querySelectorAll(s).length])),
        texts: Array.from(doc.querySelectorAll('text')).map((t) => t.textContent ?? ''),
      };
    },
    { name, svg, selectors },
  );
}

/** Saves a screenshot of section `name` as test-artifacts/browser/<name in kebab case>.png. */
async function screenshot(name: string): Promise<void> {
  const file = `${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}.png`;
  await page.locator(`#section-${name}`).screenshot({ path: join(ARTIFACTS, file) });
}

const arrowLines = (text: string) => text.split('\n').filter((line) => /^ {2}p\d+-/.test(line)).length;
const noteLines = (text: string) => text.split('\n').filter((line) => line.startsWith('  Note over ')).length;

describe('raftkit/viz in chromium', () => {
  it('draws the same strings in the browser as in Node, byte for byte', async () => {
    expect(await inBrowser()).toEqual(await drawAll());
  });

  it('renders the Mermaid diagram of a run with a crash and a partition with the real mermaid', async () => {
    const { mermaid } = await inBrowser();
    expect(mermaid).toMatch(/crashed/);
    expect(mermaid).toMatch(/partition/);
    const result = await renderMermaid('mermaid', mermaid);
    expect(result.errors).toBe(0);
    expect([...new Set(result.actors)].sort()).toEqual(['1', '2', '3', '4', '5']);
    expect(result.messages).toBe(arrowLines(mermaid));
    expect(result.notes).toBe(noteLines(mermaid));
    expect(result.texts.some((t) => /\d+ heartbeats/.test(t))).toBe(true);
    await screenshot('mermaid');
  });

  it('renders hostile node ids as text, running nothing', async () => {
    const { hostileMermaid } = await inBrowser();
    const before = await page.evaluate(() => document.querySelectorAll('script').length);
    const result = await renderMermaid('hostile-mermaid', hostileMermaid);
    expect(result.errors).toBe(0);
    expect(result.scripts).toBe(before);
    expect(result.images).toBe(0);
    expect(result.messages).toBe(arrowLines(hostileMermaid));
    expect(result.notes).toBe(noteLines(hostileMermaid));
    for (const id of ['<script>alert(1)</script>', '-->', 'a;b#c', '%%{init: {"theme":"dark"}}%%', 'end']) expect(result.actors, id).toContain(id);
    expect(dialogs).toEqual([]);
    await screenshot('hostile-mermaid');
  });

  it('parses every SVG in DOMParser, with the lanes, arrows, cells and events the run calls for', async () => {
    const pictures = await inBrowser();
    const cluster = await faultyRun();
    const trace = cluster.trace();
    const sends = trace.filter((e) => e.kind === 'send').length;
    const drops = trace.filter((e) => e.kind === 'drop').length;
    const entries = logsOf(cluster).reduce((n, log) => n + log.entries.length, 0);
    const expected: Partial<Record<keyof Pictures, Record<string, number>>> = {
      spaceTime: { '.rk-lane': 5, '.rk-msg': sends, '.rk-msg.rk-dropped': drops, '.rk-outage.rk-crashed': 1, '.rk-partition': 1 },
      hostileSpaceTime: { '.rk-lane': HOSTILE_IDS.length, '.rk-msg': 4, '.rk-msg.rk-dropped': 1 },
      logs: { '.rk-log': 5, '.rk-entry': entries, '.rk-commit': 5 },
      hostileLogs: { '.rk-log': HOSTILE_IDS.length, '.rk-entry': HOSTILE_IDS.length },
      lamport: { '.rk-lane': 2, '.rk-event': 3, '.rk-msg': 1, '.rk-concurrent': 0 },
      vector: { '.rk-lane': 3, '.rk-event': 10, '.rk-msg': 3 },
    };
    for (const [name, counts] of Object.entries(expected)) {
      const svg = pictures[name as keyof Pictures];
      const result = await parseSvg(name, svg, Object.keys(counts));
      expect(result.error, name).toBeNull();
      expect(result.element, name).toBe('svg');
      expect(result.namespace, name).toBe('http://www.w3.org/2000/svg');
      expect(result.viewBox, name).toMatch(/^0 0 [\d.]+ [\d.]+$/);
      expect(result.title, name).toBeTruthy();
      expect(result.desc, name).toBeTruthy();
      expect(result.scripts, name).toBe(0);
      expect(result.counts, name).toEqual(counts);
      if (name.startsWith('hostile')) expect(result.texts.some((t) => t.includes('<script>alert(1)</script>')), name).toBe(true);
      await screenshot(name);
    }
    const lamport = await parseSvg('lamport-again', pictures.lamport, []);
    expect(lamport.texts.filter((t) => t.startsWith('L '))).toEqual(['L 1  V [1, 0]', 'L 2  V [1, 1]', 'L 3  V [1, 2]']);
  });

  it('records the same trace of a seed as Node, byte for byte, and replays the same states from it', async () => {
    await open();
    const browser = await page.evaluate(() => window.replayRun());
    const node = await replayRun();
    expect(browser.trace.length).toBeGreaterThan(10_000);
    expect(browser.trace).toBe(node.trace);
    expect(browser.positions).toEqual(node.positions);
    expect(browser.states).toEqual(node.states);
    const end = JSON.parse(node.states[0] as string) as { nodes: { status: string; snapshotIndex: number }[] };
    expect(end.nodes.some((n) => n.snapshotIndex > 0)).toBe(true); // (the run compacted, so the snapshots replay too)
  });

  it('logged no error, warning or failed request, and opened no dialog', async () => {
    await open();
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
