/**
 * `<raft-playground>` in a real browser: Debian's chromium (driven by playwright-core) loads a
 * page served from 127.0.0.1 with the element defined by the same code the standalone script
 * runs. The assertions read the DOM (inside the shadow root) and the element's `state` hook,
 * never pixels: a seed elects the leader a Node run of the model elects; the crash button
 * changes the leader; a partition leaves the minority leaderless; seeking back and forth gives
 * the same state; every lesson runs to its end in the element; the keyboard reaches and
 * activates the controls; hostile text shows as text; bad attributes are clamped with a
 * message; nothing is logged as an error. Screenshots go to test-artifacts/browser/.
 *
 * Chromium is required (as for test/browser/viz.test.ts); set CHROMIUM_PATH to use another build.
 */
import { afterAll, describe, expect, it } from 'vitest';
import type { Server } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Browser, Page } from 'playwright-core';
import { PlaygroundModel, lessons, type RaftPlayground } from '../../src/viz/index.js';
import { ARTIFACTS, closeAll, launchChromium, serveFiles, watchPage } from '../support/browser.js';
import { root } from '../support/snippets.js';


const PAGE = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>raft-playground</title><link rel="icon" href="data:,"></head>
<body>
<main>
<h1>Playground</h1>
<a href="#start" id="start">Start</a>
<raft-playground id="main" seed="1" size="5"></raft-playground>
</main>
<script src="/playground.js"></script>
</body>
</html>`;

let server: Server | undefined;
let browser: Browser | undefined;
let page: Page;
const problems: string[] = [];
const dialogs: string[] = [];

let opened: Promise<void> | undefined;
const open = (): Promise<void> => (opened ??= launch());

async function launch(): Promise<void> {
  const bundle = await build({ entryPoints: [join(root, 'test/browser/playground-page.ts')], bundle: true, format: 'iife', platform: 'browser', target: 'es2022', write: false, logLevel: 'silent' });
  const files: Record<string, { type: string; body: string }> = {
    '/': { type: 'text/html; charset=utf-8', body: PAGE },
    '/playground.js': { type: 'text/javascript; charset=utf-8', body: bundle.outputFiles[0]?.text ?? '' },
  };
  const served = await serveFiles(files);
  server = served.server;
  const origin = served.origin;
  browser = await launchChromium();
  page = await browser.newPage({ viewport: { width: 1200, height: 1000 } });
  watchPage(page, problems, dialogs);
  const response = await page.goto(`${origin}/`);
  if (response?.status() !== 200) throw new Error(`GET ${origin}/ answered ${response?.status()}`);
  await page.waitForFunction(() => customElements.get('raft-playground') !== undefined);
}

afterAll(() => closeAll(browser, server));

/** Adds a fresh `<raft-playground>` with `attributes` to the page, as element `#id`. */
async function fresh(id: string, attributes: Record<string, string>): Promise<void> {
  await open();
  await page.evaluate(
    ({ id, attributes }) => {
      document.getElementById(id)?.remove();
      const element = document.createElement('raft-playground');
      element.id = id;
      for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
      document.querySelector('main')?.append(element);
    },
    { id, attributes },
  );
}

/** Calls hook `method` of element `#id` with `args`; resolves with its state after. */
async function call(id: string, method: string, ...args: unknown[]) {
  return page.evaluate(
    async ({ id, method, args }) => {
      const element = document.getElementById(id) as unknown as RaftPlayground & Record<string, (...a: unknown[]) => Promise<void>>;
      await element[method]?.(...args);
      return element.state;
    },
    { id, method, args },
  );
}

/** Element `#id`'s state, read without changing anything. */
async function stateOf(id: string) {
  return page.evaluate((id) => (document.getElementById(id) as unknown as RaftPlayground).state, id);
}

/** What the DOM of element `#id` says about node `node`. */
async function nodeDom(id: string, node: string) {
  return page.evaluate(
    ({ id, node }) => {
      const g = document.getElementById(id)?.shadowRoot?.querySelector(`[data-node="${node}"]`);
      return { role: g?.getAttribute('data-role-name'), term: g?.getAttribute('data-term'), status: g?.getAttribute('data-status') };
    },
    { id, node },
  );
}

async function screenshot(id: string, name: string): Promise<void> {
  await page.locator(`#${id}`).screenshot({ path: join(ARTIFACTS, `${name}.png`) });
}

/** The leader a Node run of the model elects on `seed` after `ms`. */
async function nodeLeader(seed: number, ms: number): Promise<string | undefined> {
  const model = new PlaygroundModel({ seed, size: 5 });
  await model.advance(ms);
  return model.state.leader;
}

describe('<raft-playground> in chromium', () => {
  it('loads: a shadow root with the ring, the controls and the logs', async () => {
    await open();
    const dom = await page.evaluate(() => {
      const shadow = document.getElementById('main')?.shadowRoot;
      const labels = Array.from(shadow?.querySelectorAll('button') ?? []).map((b) => b.getAttribute('aria-label'));
      return {
        nodes: shadow?.querySelectorAll('[data-node]').length,
        logs: shadow?.querySelectorAll('[data-log]').length,
        timeline: shadow?.querySelectorAll('input[type=range][aria-label="Timeline"]').length,
        labels,
        unlabelled: Array.from(shadow?.querySelectorAll('button, input, select') ?? []).filter((c) => !c.getAttribute('aria-label')).length,
      };
    });
    expect(dom.nodes).toBe(5);
    expect(dom.logs).toBe(5);
    expect(dom.timeline).toBe(1);
    expect(dom.unlabelled).toBe(0);
    for (const label of ['Play', 'Step', 'Crash node 2', 'Restart node 2', 'Time out node 2', 'Isolate node 2', 'Split the cluster in two', 'Heal the network', 'Propose command', 'New cluster']) expect(dom.labels).toContain(label);
    expect(problems).toEqual([]);
  });

  it('elects on seed 1 the leader a Node run of the model elects, and shows it', async () => {
    const expected = await nodeLeader(1, 6000);
    expect(expected).toBeDefined();
    const state = await call('main', 'advance', 6000);
    expect(state.leader).toBe(expected);
    expect(state.time).toBe(6000);
    expect(await nodeDom('main', expected as string)).toMatchObject({ role: 'leader', status: 'up' });
    await screenshot('main', 'playground-elected');
  });

  it('crashes the leader with its button: another node leads', async () => {
    const before = (await call('main', 'advance', 0)).leader as string;
    await page.locator(`#main button[aria-label="Crash node ${before}"]`).click();
    expect(await nodeDom('main', before)).toMatchObject({ status: 'crashed' });
    const state = await call('main', 'advance', 8000);
    expect(state.leader).toBeDefined();
    expect(state.leader).not.toBe(before);
    expect(await nodeDom('main', state.leader as string)).toMatchObject({ role: 'leader' });
    expect(state.actions.map((a) => a.action.kind)).toEqual(['crash']);
    await screenshot('main', 'playground-crashed');
  });

  it('seeks backward to the replayed past and forward again to the same state', async () => {
    await open();
    const at = await call('main', 'advance', 0);
    const back = await call('main', 'seek', 3000);
    expect(back.time).toBe(3000);
    expect(back.actions.length).toBe(1);
    expect(back.nodes.every((n) => n.status === 'up')).toBe(true); // before the crash
    const timeline = await page.evaluate(() => (document.getElementById('main')?.shadowRoot?.querySelector('input[aria-label="Timeline"]') as HTMLInputElement).value);
    expect(Number(timeline)).toBe(3000);
    const forward = await call('main', 'seek', at.head);
    expect(JSON.stringify(forward)).toBe(JSON.stringify(at));
  });

  it('a partition leaves the minority leaderless while the majority elects', async () => {
    await fresh('split', { seed: '1', size: '5' });
    const leader = (await call('split', 'advance', 6000)).leader as string;
    const others = ['1', '2', '3', '4', '5'].filter((id) => id !== leader);
    const minority = [leader, others[0] as string];
    const majority = others.slice(1);
    await call('split', 'partition', [minority, majority]);
    const state = await call('split', 'advance', 10_000);
    for (const id of minority) {
      expect(state.nodes.find((n) => n.id === id)?.role, id).not.toBe('leader');
      expect((await nodeDom('split', id)).role, id).not.toBe('leader');
    }
    expect(majority).toContain(state.leader);
    expect(state.partition).toEqual([minority, majority]);
    const broken = await page.evaluate(() => document.getElementById('split')?.shadowRoot?.querySelectorAll('.rp-link.rp-cut').length);
    expect(broken).toBe(6); // 2 × 3 links across
    await screenshot('split', 'playground-partition');
  });

  it('runs every lesson to its end inside the element, caption shown at each step', async () => {
    await open();
    const ids = await page.evaluate(() => window.lessonIds);
    expect(ids).toEqual(lessons.map((l) => l.id));
    for (const lesson of lessons) {
      await fresh('lesson', { lesson: lesson.id });
      const result = await page.evaluate(async () => {
        const element = document.getElementById('lesson') as unknown as RaftPlayground & HTMLElement;
        const shadow = element.shadowRoot as ShadowRoot;
        const captions: string[] = [];
        for (let i = 0; i < 4000 && element.state.lesson?.done !== true && element.state.error === null; i++) {
          const caption = shadow.querySelector('[data-role=caption]')?.textContent ?? '';
          if (captions[captions.length - 1] !== caption) captions.push(caption);
          if (element.state.lesson?.holding === true) (shadow.querySelector('button[aria-label="Next step"]') as HTMLButtonElement).click();
          await element.advance(250);
        }
        return { state: element.state, captions, caption: shadow.querySelector('[data-role=caption]')?.textContent, hidden: shadow.querySelector('.rp-lesson')?.hasAttribute('hidden') };
      });
      expect(result.state.error, lesson.id).toBeNull();
      expect(result.state.lesson?.done, lesson.id).toBe(true);
      expect(result.hidden, lesson.id).toBe(false);
      expect(result.caption, lesson.id).toBe(result.state.lesson?.caption);
      expect(result.captions.length, lesson.id).toBeGreaterThanOrEqual(Math.min(2, lesson.steps.length));
      expect(result.captions.every((c) => c.length > 0), lesson.id).toBe(true);
    }
    await screenshot('lesson', 'playground-lesson');
  });

  it('is keyboard operable: Tab reaches Play, Enter plays, Space pauses; the shortcut p plays', async () => {
    await fresh('keys', { seed: '2', size: '3' });
    await page.evaluate(() => document.querySelectorAll('raft-playground:not(#keys)').forEach((e) => e.remove()));
    await page.focus('#start');
    let label: string | null = null;
    for (let i = 0; i < 40 && label !== 'Play'; i++) {
      await page.keyboard.press('Tab');
      label = await page.evaluate(() => document.getElementById('keys')?.shadowRoot?.activeElement?.getAttribute('aria-label') ?? null);
    }
    expect(label).toBe('Play');
    await page.keyboard.press('Enter');
    expect((await call('keys', 'advance', 0)).playing).toBe(true);
    await page.waitForFunction(() => (document.getElementById('keys') as unknown as RaftPlayground).state.time > 100);
    await page.keyboard.press('Space'); // the same button, now "Pause"
    const paused = await call('keys', 'advance', 0);
    expect(paused.playing).toBe(false);
    // A node takes focus and its details show; the shortcut works from there.
    await page.locator('#keys [data-node="1"]').focus();
    const details = await page.evaluate(() => document.getElementById('keys')?.shadowRoot?.querySelector('[data-role=details]')?.textContent ?? '');
    expect(details).toContain('Node 1');
    await page.keyboard.press('p');
    expect((await call('keys', 'advance', 0)).playing).toBe(true);
    await call('keys', 'pause');
  });

  it('drops a message picked in the picture with the Drop button; the timeline moves with the arrow keys', async () => {
    await fresh('drop', { seed: '1', size: '5' });
    const state = await call('drop', 'advance', 9000);
    const target = state.messages.find((m) => !m.duplicate && m.progress < 0.5) ?? state.messages.find((m) => !m.duplicate);
    expect(target).toBeDefined();
    const id = target?.id as number;
    await page.locator(`#drop [data-message="${id}"]`).first().click();
    const details = await page.evaluate(() => document.getElementById('drop')?.shadowRoot?.querySelector('[data-role=details]')?.textContent ?? '');
    expect(details).toContain(`Message ${id}: ${target?.type}`);
    await page.locator(`#drop button[aria-label="Drop message ${id}"]`).click();
    const after = await call('drop', 'advance', 2000);
    expect(after.actions.map((a) => a.action)).toEqual([{ kind: 'drop', message: id, from: target?.from, to: target?.to, deliverAt: expect.any(Number) }]);
    const trace = await page.evaluate(() => (document.getElementById('drop') as unknown as RaftPlayground).model.trace().filter((e) => e.kind === 'drop' || e.kind === 'deliver'));
    expect(trace.filter((e) => 'id' in e && e.id === id).map((e) => e.kind)).toEqual(['drop']);
    await page.locator('#drop input[aria-label="Timeline"]').focus();
    await page.keyboard.press('Shift+ArrowLeft');
    expect((await stateOf('drop')).time).toBe(after.time - 1000);
    await page.keyboard.press('Home');
    expect((await stateOf('drop')).time).toBe(0);
    expect((await stateOf('drop')).actions.length).toBe(1); // looking back discards nothing
  });

  it('shows a hostile command as text, running nothing', async () => {
    await fresh('hostile', { seed: '1', size: '3' });
    await call('hostile', 'advance', 6000);
    const hostile = '<img src=x onerror=alert(1)>';
    await page.locator('#hostile input[aria-label="Command"]').fill(hostile);
    await page.locator('#hostile button[aria-label="Propose command"]').click();
    const state = await call('hostile', 'advance', 3000);
    expect(Object.values(state.entries)).toContain(hostile);
    const dom = await page.evaluate(() => {
      const shadow = document.getElementById('hostile')?.shadowRoot as ShadowRoot;
      return {
        images: shadow.querySelectorAll('img').length + document.querySelectorAll('img').length,
        actions: shadow.querySelector('[data-role=actions]')?.textContent ?? '',
        titles: Array.from(shadow.querySelectorAll('[data-log] [data-index]')).map((e) => e.getAttribute('title') ?? ''),
      };
    });
    expect(dom.images).toBe(0);
    expect(dom.actions).toContain(hostile);
    expect(dom.titles.some((t) => t.endsWith(hostile))).toBe(true);
    expect(dialogs).toEqual([]);
    await screenshot('hostile', 'playground-hostile');
  });

  it('sets size, seed, pre-vote and check-quorum from its settings form (as attributes)', async () => {
    await fresh('form', { seed: '1', size: '5' });
    await page.locator('#form summary', { hasText: 'Cluster settings' }).click();
    await page.locator('#form select[aria-label="Cluster size"]').selectOption('3');
    await page.locator('#form input[aria-label="Seed"]').fill('4');
    await page.locator('#form input[aria-label="Pre-vote"]').uncheck();
    await page.locator('#form button[aria-label="New cluster"]').click();
    const result = await page.evaluate(() => {
      const element = document.getElementById('form') as unknown as RaftPlayground & HTMLElement;
      return { size: element.getAttribute('size'), seed: element.getAttribute('seed'), preVote: element.getAttribute('pre-vote'), config: element.model.config, nodes: element.shadowRoot?.querySelectorAll('[data-node]').length };
    });
    expect(result).toMatchObject({ size: '3', seed: '4', preVote: 'false', nodes: 3, config: { size: 3, seed: 4, preVote: false, checkQuorum: true } });
  });

  it('clamps a bad size and replaces a bad seed, saying so', async () => {
    await fresh('bad', { seed: 'x', size: '9' });
    const state = await call('bad', 'advance', 0);
    expect(state.nodes.length).toBe(7);
    expect(state.seed).toBe(1);
    expect(state.problems).toEqual(['seed "x" is not a whole number from 0 to 4294967295: using 1', 'size 9 is outside 3–7: using 7']);
    const shown = await page.evaluate(() => document.getElementById('bad')?.shadowRoot?.querySelector('[data-role=problems]')?.textContent ?? '');
    expect(shown).toContain('size 9 is outside 3–7: using 7');
  });

  it('animates when playing: time passes and messages move between the nodes', async () => {
    await fresh('live', { seed: '1', size: '5', autoplay: '', speed: '4' });
    await page.waitForFunction(() => (document.getElementById('live') as unknown as RaftPlayground).state.time > 4000, undefined, { timeout: 20_000 });
    const positions = await page.evaluate(async () => {
      const shadow = document.getElementById('live')?.shadowRoot as ShadowRoot;
      const read = () => Array.from(shadow.querySelectorAll('[data-message]')).map((m) => `${m.getAttribute('data-message')}@${m.getAttribute('transform')}`);
      const first = read();
      await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(() => requestAnimationFrame(resolve))));
      return { first, second: read() };
    });
    expect(positions.first.length + positions.second.length).toBeGreaterThan(0);
    expect(positions.second).not.toEqual(positions.first);
    await screenshot('live', 'playground-live');
    await call('live', 'pause');
  });

  it('logged no error, warning or failed request, and opened no dialog', async () => {
    await open();
    expect(problems).toEqual([]);
    expect(dialogs).toEqual([]);
  });
});
