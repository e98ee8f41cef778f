/**
 * The playground page's script (playground.js): the lesson picker sets the element's `lesson`
 * attribute (and the address's #fragment, so a link can open a lesson); without the element
 * (raft-playground.js missing or broken) the page says so.
 */

/** The lesson id in an address's fragment (`#lesson=figure-8`), or '' for free play. */
export function lessonOfHash(hash: string): string {
  const match = /^#lesson=([\w-]+)$/.exec(hash);
  return match?.[1] ?? '';
}

/** Wires the lesson buttons of `doc` to its `<raft-playground>`. */
export function start(doc: Document, win: Window): void {
  const playground = doc.querySelector('raft-playground');
  const buttons = Array.from(doc.querySelectorAll<HTMLButtonElement>('#lesson-list button[data-lesson]'));
  if (playground === null) return;
  if (win.customElements.get('raft-playground') === undefined) {
    doc.getElementById('playground-missing')?.removeAttribute('hidden');
  }
  const known = new Set(buttons.map((b) => b.dataset['lesson'] ?? ''));
  const press = (lesson: string): void => {
    for (const button of buttons) button.setAttribute('aria-pressed', String(button.dataset['lesson'] === lesson));
  };
  const choose = (id: string, focus: boolean): void => {
    const lesson = known.has(id) ? id : '';
    press(lesson);
    if (lesson === '') playground.removeAttribute('lesson');
    else if (playground.getAttribute('lesson') !== lesson) playground.setAttribute('lesson', lesson);
    if (focus) playground.scrollIntoView({ block: 'nearest' });
  };
  // The element has its own lesson picker, which sets the same attribute: keep the buttons in step.
  new MutationObserver(() => press(playground.getAttribute('lesson') ?? '')).observe(playground, { attributes: true, attributeFilter: ['lesson'] });
  for (const button of buttons) {
    button.addEventListener('click', () => {
      const id = button.dataset['lesson'] ?? '';
      // replaceState, not location.hash: no history entry per click, and no hashchange loop.
      win.history.replaceState(null, '', id === '' ? win.location.pathname : `#lesson=${id}`);
      choose(id, true);
    });
  }
  win.addEventListener('hashchange', () => choose(lessonOfHash(win.location.hash), true));
  choose(lessonOfHash(win.location.hash), false);
}

if (typeof document !== 'undefined') start(document, window);
