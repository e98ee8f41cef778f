/**
 * The clocks page's script (bundled as a classic script, clocks.js): the focus picker redraws
 * the vector clocks picture with one event's past, future and concurrent events coloured. The
 * picture the page starts with was drawn by the build with the same function.
 */
import { vectorFigure } from './views.js';

/** Wires the focus picker of `doc`. */
export function start(doc: Document): void {
  const select = doc.querySelector<HTMLSelectElement>('select#focus');
  const figure = doc.getElementById('vector-figure');
  const status = doc.getElementById('focus-status');
  if (select === null || figure === null || status === null) return;
  const draw = (): void => {
    const focus = select.value === '' ? undefined : select.value;
    figure.innerHTML = vectorFigure(focus); // escaped by toClocksSvg
    figure.dataset['focus'] = select.value;
    // A short status for screen readers, rather than reading the whole picture out again.
    status.textContent = focus === undefined ? 'No focus.' : `${focus}: its past in blue, its future in green, concurrent events in amber.`;
  };
  select.addEventListener('change', draw);
  if (select.value !== '') draw(); // a value the browser restored on reload
}

if (typeof document !== 'undefined') start(document);
