/**
 * `<raft-playground>`'s logic in Node, on the small fake DOM of ./fake-dom.ts (the browser suite,
 * test/browser/playground.test.ts, runs the real element in chromium): what it keeps when it
 * moves in the page, and that its logs use the term colours of every other picture.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { RaftPlayground } from '../../src/viz/index.js';
import { definePlayground } from '../../src/viz/index.js';
import { termColour } from '../../src/viz/svg.js';
import { installFakeDom, type FakeNode } from './fake-dom.js';

type Element = FakeNode & RaftPlayground & { connectedCallback(): void; disconnectedCallback(): void; attributeChangedCallback(name: string, before: string | null, after: string | null): void };

let create: (tag: string) => FakeNode;
let page: FakeNode;
let aside: FakeNode;

beforeAll(() => {
  const dom = installFakeDom();
  create = dom.create;
  page = dom.document.createElement('main');
  aside = dom.document.createElement('aside');
  definePlayground();
});

/** What a browser does: the attribute set (and its callback), then the callbacks of a move. */
function setAttribute(element: Element, name: string, value: string): void {
  const before = element.getAttribute(name);
  element.setAttribute(name, value);
  element.attributeChangedCallback(name, before, value);
}
function moveTo(element: Element, parent: FakeNode): void {
  if (element.parentNode !== null) element.disconnectedCallback();
  parent.append(element);
  element.connectedCallback();
}

/** A new element (seed 1, 3 nodes) in the page, run 8 s with a command proposed. */
async function started(): Promise<Element> {
  const element = create('raft-playground') as Element;
  setAttribute(element, 'seed', '1');
  setAttribute(element, 'size', '3');
  moveTo(element, page);
  await element.advance(6000);
  await element.propose('x');
  await element.advance(2000);
  return element;
}

describe('<raft-playground> (fake DOM)', () => {
  it('keeps its run when it moves in the page, and starts anew when an attribute changed while detached', async () => {
    const element = await started();
    const before = element.state;
    expect(before.time).toBe(8000);
    expect(before.actions.length).toBe(1);
    moveTo(element, aside);
    expect(element.state.time).toBe(8000);
    expect(element.state.actions).toEqual(before.actions);
    expect(element.model.trace().length).toBe(before.position);
    // Playing when moved: it plays on.
    element.play();
    moveTo(element, page);
    expect(element.state.playing).toBe(true);
    element.pause();
    // A speed changed while detached is taken without a new run.
    element.disconnectedCallback();
    element.remove();
    setAttribute(element, 'speed', '2');
    moveTo(element, aside);
    expect(element.state).toMatchObject({ speed: 2, time: 8000 });
    // Any other attribute changed while detached is read when it comes back: a new run.
    element.disconnectedCallback();
    element.remove();
    setAttribute(element, 'seed', '2');
    moveTo(element, page);
    expect(element.state).toMatchObject({ seed: 2, time: 0, actions: [] });
  });

  it('colours log entries by term as every other picture does', async () => {
    const element = await started();
    const cells = [...(element.shadowRoot?.descendants() ?? [])].filter((node) => node.getAttribute('data-term') !== null && (node.getAttribute('class') ?? '').includes('rp-entry'));
    expect(cells.length).toBeGreaterThan(0);
    for (const cell of cells) {
      const { fill, ink } = termColour(Number(cell.getAttribute('data-term')));
      expect(cell.getAttribute('style')).toBe(`background:${fill};color:${ink}`);
    }
  });
});
