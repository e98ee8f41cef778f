/**
 * The courseware site (docs/site/) in a real browser. The test builds it with scripts/site.mjs
 * into a temporary directory (--no-api: typedoc is slow, and the repository's docs/site is left
 * alone), then opens every page in Debian's chromium twice: served from 127.0.0.1 and from
 * file://, since the site must work from disk as from any static host. Each page must log no
 * error or warning and request nothing that fails or leaves the site, and every local href and
 * src must exist in the output. The clocks page must show the seed's Lamport example and mark the
 * vector example's concurrent events; the mini project page must show the rounds a Node run of
 * the same seed reports; the playground page must hold the element and the lessons.
 * Screenshots go to test-artifacts/browser/site-*.png (git-ignored).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import type { Browser, Page } from 'playwright-core';
import { Cluster } from '../../src/index.js';
import { LessonRun, lessons, timestampEvents, vectorExampleSteps, type Lesson } from '../../src/viz/index.js';
import { ARTIFACTS, closeAll, launchChromium, serve, watchPage } from '../support/browser.js';
import { root } from '../support/snippets.js';
// Type-checks the page scripts with the project (tsc follows imports); nothing here runs them.
import type {} from '../../docs/site/src/clocks.js';
import type {} from '../../docs/site/src/mini-project.js';
import type {} from '../../docs/site/src/playground.js';
import type {} from '../../docs/site/src/prerender.js';

const PAGES = ['index.html', 'playground.html', 'clocks.html', 'mini-project.html', 'api/index.html'] as const;
const TYPES: Readonly<Record<string, string>> = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml', '.png': 'image/png' };

let out = '';
let server: Server | undefined;
let browser: Browser | undefined;
let origin = '';
const pages: Page[] = [];

/** Builds the site, serves it and launches chromium, once; every test awaits it (none is skipped without chromium). */
let ready: Promise<void> | undefined;
const setUp = (): Promise<void> => (ready ??= launch());

async function launch(): Promise<void> {
  out = mkdtempSync(join(tmpdir(), 'raftkit-site-test-'));
  await promisify(execFile)(process.execPath, [join(root, 'scripts/site.mjs'), '--out', out, '--no-api'], { cwd: root });
  ({ server, origin } = await serve((request, response) => {
    const path = normalize(decodeURIComponent(new URL(request.url ?? '/', 'http://x').pathname));
    const file = join(out, path.endsWith('/') ? `${path}index.html` : path);
    const found = file.startsWith(out) && existsSync(file) && statSync(file).isFile();
    response.writeHead(found ? 200 : 404, { 'content-type': found ? (TYPES[extname(file)] ?? 'application/octet-stream') : 'text/plain' });
    response.end(found ? readFileSync(file) : 'not found');
  }));
  browser = await launchChromium();
}

afterAll(async () => {
  try {
    for (const page of pages) await page.close().catch(() => undefined);
    await closeAll(browser, server);
  } finally {
    if (out !== '') rmSync(out, { recursive: true, force: true });
  }
});

type Where = 'http' | 'file';
const WHERE: readonly Where[] = ['http', 'file'];
const urlOf = (where: Where, file: string): string => (where === 'http' ? `${origin}/${file}` : pathToFileURL(join(out, file)).href);

/** A page opened at `file`, with what went wrong while it loaded and ran (errors, warnings, failed or outside requests). */
async function visit(where: Where, file: string, viewport = { width: 1200, height: 900 }): Promise<{ page: Page; problems: string[] }> {
  await setUp();
  const page = await (browser as Browser).newPage({ viewport });
  pages.push(page);
  const problems: string[] = [];
  watchPage(page, problems);
  page.on('request', (request) => {
    const url = request.url();
    if (!url.startsWith(where === 'http' ? `${origin}/` : 'file://') && !url.startsWith('data:')) problems.push(`request outside the site: ${url}`);
  });
  page.on('response', (response) => {
    if (response.status() >= 400) problems.push(`${response.status()}: ${response.url()}`);
  });
  await page.goto(urlOf(where, file), { waitUntil: 'load' });
  return { page, problems };
}

/** Saves a screenshot of the whole page as test-artifacts/browser/site-<name>.png. */
const screenshot = (page: Page, name: string) => page.screenshot({ path: join(ARTIFACTS, `site-${name}.png`), fullPage: true });

/** The file of the output that a URL of the site names. */
function localFile(where: Where, url: URL): string {
  if (where === 'http') return join(out, decodeURIComponent(url.pathname));
  return fileURLToPath(url);
}

/** The caption a lesson opens with, as a Node run of it reads it. */
async function firstCaption(lesson: Lesson): Promise<string | undefined> {
  const run = new LessonRun(lesson);
  await run.advance(0);
  return run.captions[0];
}

describe('the courseware site in chromium', () => {
  for (const where of WHERE) {
    describe(`over ${where === 'http' ? 'http://127.0.0.1' : 'file://'}`, () => {
      for (const file of PAGES) {
        it(`${file} loads with no error, warning or failed request, and its links exist`, async () => {
          const { page, problems } = await visit(where, file);
          await page.waitForTimeout(200); // let deferred scripts and the element settle
          const links = await page.evaluate(() =>
            Array.from(document.querySelectorAll('[href], [src]')).map((e) => ({ tag: e.localName, value: e.getAttribute('href') ?? e.getAttribute('src') ?? '' })),
          );
          expect(links.length, file).toBeGreaterThan(0);
          for (const link of links) {
            if (link.value.startsWith('data:')) continue;
            expect(link.value, `${file}: ${link.tag} ${link.value} is not relative`).not.toMatch(/^[a-z]+:|^\/\//i);
            const url = new URL(link.value, page.url());
            const target = localFile(where, url);
            expect(existsSync(target) && statSync(target).isFile(), `${file}: ${link.tag} ${link.value} (${target}) exists`).toBe(true);
            if (url.hash !== '' && target === localFile(where, new URL(page.url()))) {
              expect(await page.locator(`[id="${decodeURIComponent(url.hash.slice(1))}"]`).count(), `${file}: anchor ${url.hash}`).toBe(1);
            }
          }
          const shape = await page.evaluate(() => ({
            lang: document.documentElement.lang,
            title: document.title,
            h1: document.querySelectorAll('h1').length,
            main: document.querySelectorAll('main').length,
            unlabelled: Array.from(document.querySelectorAll('select, input, textarea'))
              .filter((c) => c.closest('raft-playground') === null)
              .filter((c) => (c as HTMLInputElement).labels?.length === 0 && !c.getAttribute('aria-label'))
              .map((c) => c.id),
            // Several pictures on one page: no id twice, and every arrowhead they name is there.
            duplicateIds: ((ids) => ids.filter((id, i) => ids.indexOf(id) !== i))(Array.from(document.querySelectorAll('[id]')).map((e) => e.id)),
            danglingRefs: Array.from(document.querySelectorAll('[marker-end], [fill^="url("]'))
              .map((e) => /url\(#([^)]+)\)/.exec(e.getAttribute('marker-end') ?? e.getAttribute('fill') ?? '')?.[1] ?? '')
              .filter((id) => id !== '' && document.getElementById(id) === null),
          }));
          expect(shape, file).toEqual({ lang: 'en', title: expect.stringContaining('raftkit') as string, h1: 1, main: 1, unlabelled: [], duplicateIds: [], danglingRefs: [] });
          if (where === 'http') await screenshot(page, file.replace(/\W+/g, '-').replace(/-html$/, ''));
          expect(problems, file).toEqual([]);
        });
      }

      it('clocks.html: the Lamport example at 1, 2, 3, and the vector example with its concurrent events marked', async () => {
        const { page, problems } = await visit(where, 'clocks.html');
        expect((await page.locator('#lamport-output').textContent())?.split('\n')).toEqual(['A sends at time: 1', 'B after receiving: 2', 'B after internal event: 3']);
        const lamport = await page.locator('#lamport-figure .rk-event').evaluateAll((events) => events.map((e) => [e.getAttribute('data-id'), e.getAttribute('data-lamport'), e.querySelector('text')?.textContent]));
        expect(lamport).toEqual([
          ['A1', '1', 'A1 A sends'],
          ['B1', '2', 'B1 B receives'],
          ['B2', '3', 'B2 B internal event'],
        ]);
        expect(await page.locator('#lamport-table td[data-col="lamport"]').allTextContents()).toEqual(['1', '2', '3']);

        const events = timestampEvents(vectorExampleSteps);
        const concurrent = events.filter((e) => e.concurrentWith.length > 0);
        expect(concurrent.length).toBeGreaterThan(0);
        const marked = () => page.locator('#vector-figure .rk-event.rk-concurrent').evaluateAll((els) => els.map((e) => e.getAttribute('data-id')));
        expect(await marked()).toEqual(concurrent.map((e) => e.id));
        expect(await page.locator('#vector-figure .rk-event').count()).toBe(events.length);
        for (const event of concurrent) {
          const ring = page.locator(`#vector-figure .rk-event[data-id="${event.id}"]`);
          expect(await ring.locator('circle[stroke-dasharray]').count(), event.id).toBe(1);
          expect(await ring.locator('text').allTextContents(), event.id).toContain(`\u2225 ${event.concurrentWith.join(', ')}`);
        }
        expect(await page.locator('#vector-table tr.concurrent').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-id')))).toEqual(concurrent.map((e) => e.id));

        // The picker redraws the picture around one event, in the page.
        await page.selectOption('select#focus', 'B2');
        await expect.poll(() => page.locator('#vector-figure').getAttribute('data-focus')).toBe('B2');
        expect(await page.locator('#vector-figure svg > title').textContent()).toContain('of B2');
        expect(await page.locator('#focus-status').textContent()).toMatch(/^B2: its past in blue/);
        expect(await marked()).toEqual(concurrent.map((e) => e.id));
        if (where === 'http') await page.locator('#vector-figure').screenshot({ path: join(ARTIFACTS, 'site-vector-focus.png') });
        expect(problems).toEqual([]);
      });

      it("mini-project.html: each round of the seed's mini project as a Node run of the same seed reports it", async () => {
        const reports = await new Cluster({ size: 5, seed: 42 }).simulate({ rounds: 3 });
        const { page, problems } = await visit(where, 'mini-project.html');
        const rows = await page.locator('#rounds-table tbody tr').evaluateAll((trs) =>
          trs.map((tr) => ['failed', 'leader', 'votes', 'term'].map((col) => tr.querySelector(`[data-col="${col}"]`)?.textContent ?? '')),
        );
        expect(rows).toEqual(reports.map((r) => [`node ${r.failed}`, r.leader === null ? 'none (split vote)' : `node ${r.leader}`, `${r.votes}/${r.liveNodes}`, String(r.term)]));
        for (const report of reports) {
          const section = page.locator(`section.round[data-round="${report.round}"]`);
          expect(await section.locator('h3').textContent()).toBe(`Round ${report.round}`);
          expect((await section.locator('[data-role="lines"]').textContent())?.split('\n')).toEqual(report.lines);
          expect(await section.locator('[data-fact="failed"]').textContent()).toBe(`node ${report.failed}`);
          if (report.leader !== null) {
            expect(await section.locator('[data-fact="leader"]').textContent()).toBe(`node ${report.leader}, term ${report.term}`);
            expect(await section.locator('[data-fact="votes"]').textContent()).toBe(`${report.votes} of ${report.liveNodes} live nodes`);
            // The voters named are the votes counted: the others and the leader itself.
            const voters = (await section.locator('[data-fact="voters"]').textContent()) ?? '';
            expect(voters.match(/node \w+/g)?.length ?? 0).toBe(report.votes - 1);
          }
          // A space-time diagram of the round's window: five lanes, and the failed node's crash.
          const svg = section.locator('figure svg');
          expect(await svg.locator('.rk-lane').count()).toBe(5);
          expect(await svg.locator('.rk-outage.rk-crashed').count()).toBeGreaterThanOrEqual(1);
          expect(await svg.locator('.rk-msg').count()).toBeGreaterThan(0);
        }

        // The form runs another seed in the page, with the same result as Node.
        const other = await new Cluster({ size: 5, seed: 7 }).simulate({ rounds: 2 });
        await page.fill('#seed', '7');
        await page.fill('#round-count', '2');
        await page.click('#rerun button[type="submit"]');
        await expect.poll(() => page.locator('#rerun-status').textContent(), { timeout: 30_000 }).toBe('Ran 2 rounds with seed 7.');
        expect(await page.locator('#rounds-table tbody [data-col="leader"]').allTextContents()).toEqual(other.map((r) => (r.leader === null ? 'none (split vote)' : `node ${r.leader}`)));
        expect(await page.locator('section.round').count()).toBe(2);

        // A seed is any text, and shows as text.
        const hostile = '<img src=x onerror=alert(1)>';
        await page.fill('#seed', hostile);
        await page.fill('#round-count', '1');
        await page.click('#rerun button[type="submit"]');
        await expect.poll(() => page.locator('#rerun-status').textContent(), { timeout: 30_000 }).toBe(`Ran 1 round with seed ${hostile}.`);
        expect(await page.locator('#rounds-table caption').textContent()).toBe(`1 round, seed ${hostile}`);
        expect(await page.locator('#rounds img').count()).toBe(0);
        expect(problems).toEqual([]);
      });

      it('playground.html: the element and the lessons list', async () => {
        const { page, problems } = await visit(where, 'playground.html');
        expect(await page.locator('raft-playground#playground').count()).toBe(1);
        const buttons = page.locator('#lesson-list button[data-lesson]');
        expect(await buttons.evaluateAll((els) => els.map((e) => e.getAttribute('data-lesson')))).toEqual([...lessons.map((l) => l.id), '']);
        expect(await buttons.allTextContents()).toEqual([...lessons.map((l) => l.title), 'Free play']);
        expect(lessons.map((l) => l.id).sort()).toEqual(['figure-8', 'leader-crash', 'leader-election', 'log-replication', 'membership', 'partition', 'pre-vote', 'snapshot']);
        expect(await page.locator('raft-playground').getAttribute('lesson')).toBeNull(); // free play
        expect(await page.locator('#lesson-list button[data-lesson=""]').getAttribute('aria-pressed')).toBe('true');

        // A link can open a lesson.
        await page.goto(`${urlOf(where, 'playground.html')}#lesson=figure-8`);
        await expect.poll(() => page.locator('raft-playground').getAttribute('lesson')).toBe('figure-8');
        expect(await page.locator('#lesson-list button[aria-pressed="true"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-lesson')))).toEqual(['figure-8']);
        expect(await page.locator('raft-playground [data-role="lesson-title"]').textContent()).toBe(lessons.find((l) => l.id === 'figure-8')?.title);
        expect(problems).toEqual([]);
      });

      it('playground.html: a lesson picked on the page runs to its end in the element, and seeking back and forth gives the same state', async () => {
        const { page, problems } = await visit(where, 'playground.html');
        expect(await page.locator('#playground-missing').isHidden()).toBe(true);
        const element = page.locator('raft-playground#playground');
        // The element drew itself: its controls, by their labels, and a node per member.
        expect(await element.locator('button[aria-label="Play"]').count()).toBe(1);
        expect(await element.locator('input[type=range][aria-label="Timeline"]').count()).toBe(1);
        expect(await element.locator('[data-node]').count()).toBeGreaterThanOrEqual(5);

        const lesson = lessons.find((l) => l.id === 'leader-election') as (typeof lessons)[number];
        await page.click(`#lesson-list button[data-lesson="${lesson.id}"]`);
        expect(await page.locator(`#lesson-list button[data-lesson="${lesson.id}"]`).getAttribute('aria-pressed')).toBe('true');
        expect(await element.getAttribute('lesson')).toBe(lesson.id);
        expect(new URL(page.url()).hash).toBe(`#lesson=${lesson.id}`);
        await expect.poll(() => element.locator('[data-role="caption"]').textContent()).toBe((await firstCaption(lesson)) ?? '?');

        // Run it to its end, as fast as it runs (advance), moving on from each step's end.
        const run = await page.evaluate(async () => {
          type El = HTMLElement & { state: { time: number; error: string | null; lesson: { done: boolean; holding: boolean; caption: string; step: number } | null }; advance(ms: number): Promise<void>; nextStep(): Promise<void>; pause(): void };
          const el = document.querySelector('raft-playground') as El;
          el.pause();
          const captions: string[] = [];
          for (let i = 0; i < 4000 && el.state.lesson?.done !== true && el.state.error === null; i++) {
            const caption = el.state.lesson?.caption ?? '';
            if (captions[captions.length - 1] !== caption) captions.push(caption);
            if (el.state.lesson?.holding === true) await el.nextStep();
            else await el.advance(250);
          }
          return { captions, done: el.state.lesson?.done, error: el.state.error, time: el.state.time, shown: el.shadowRoot?.querySelector('[data-role=caption]')?.textContent };
        });
        expect(run.error).toBeNull();
        expect(run.done).toBe(true);
        // The captions a Node run of the same lesson reads, in order (a lesson's run is its data).
        const headless = new LessonRun(lesson);
        await headless.runToEnd();
        expect(run.captions).toEqual(headless.captions);
        expect(run.captions).toHaveLength(lesson.steps.length);
        expect(run.shown).toBe(headless.caption);
        if (where === 'http') await element.screenshot({ path: join(ARTIFACTS, 'site-playground-lesson-end.png') });

        // Seeking back to the middle and forward to the end again shows the same states.
        const state = () => page.evaluate(() => JSON.stringify((document.querySelector('raft-playground') as unknown as { state: unknown }).state));
        const seek = (ms: number) => page.evaluate((ms) => (document.querySelector('raft-playground') as unknown as { seek(ms: number): Promise<void> }).seek(ms), ms);
        const end = await state();
        const middle = Math.floor(run.time / 2);
        await seek(middle);
        const atMiddle = await state();
        expect(JSON.parse(atMiddle)).toMatchObject({ time: middle });
        expect(atMiddle).not.toBe(end);
        await seek(run.time);
        expect(await state()).toBe(end);
        await seek(0);
        await seek(middle);
        expect(await state()).toBe(atMiddle);
        // The timeline shows the time seeked to.
        expect(Number(await element.locator('input[aria-label="Timeline"]').inputValue())).toBe(middle);
        expect(problems).toEqual([]);
      });
    });
  }

  it('reads without JavaScript: the build rendered the clocks, the rounds and the lessons into the pages', async () => {
    await setUp();
    const context = await (browser as Browser).newContext({ javaScriptEnabled: false });
    try {
      const page = await context.newPage();
      await page.goto(urlOf('file', 'clocks.html'));
      expect(await page.locator('#lamport-table td[data-col="lamport"]').allTextContents()).toEqual(['1', '2', '3']);
      expect(await page.locator('#vector-figure .rk-concurrent').count()).toBeGreaterThan(0);
      await page.goto(urlOf('file', 'mini-project.html'));
      expect(await page.locator('#rounds-table tbody tr').count()).toBe(3);
      expect(await page.locator('section.round figure svg').count()).toBe(3);
      expect(await page.locator('form#rerun').isHidden()).toBe(true); // it needs the script
      await page.goto(urlOf('file', 'playground.html'));
      expect(await page.locator('#lesson-list button[data-lesson]').count()).toBe(lessons.length + 1);
    } finally {
      await context.close();
    }
  });

  it('reads at a phone width: no page scrolls sideways', async () => {
    for (const file of PAGES) {
      const { page, problems } = await visit('http', file, { width: 360, height: 740 });
      const { scroll, width } = await page.evaluate(() => ({ scroll: document.documentElement.scrollWidth, width: document.documentElement.clientWidth }));
      expect(scroll, file).toBeLessThanOrEqual(width);
      await screenshot(page, `narrow-${file.replace(/\W+/g, '-').replace(/-html$/, '')}`);
      expect(problems, file).toEqual([]);
    }
  });
});
