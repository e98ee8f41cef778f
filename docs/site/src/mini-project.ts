/**
 * The mini project page's script (mini-project.js): the form runs the mini project again in the
 * page with another seed or number of rounds, and draws it as the build drew seed 42.
 */
import { roundsSection, runMiniProject } from './views.js';

/** A seed as the CLI reads one: an integer when it looks like one, else the text. */
export function seedOf(text: string): number | string {
  const trimmed = text.trim();
  return /^-?\d+$/.test(trimmed) && Number.isSafeInteger(Number(trimmed)) ? Number(trimmed) : trimmed;
}

/** Shows and wires the re-run form of `doc`. */
export function start(doc: Document): void {
  const form = doc.querySelector<HTMLFormElement>('form#rerun');
  const target = doc.getElementById('rounds');
  const status = doc.getElementById('rerun-status');
  if (form === null || target === null || status === null) return;
  form.hidden = false;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const seed = seedOf(String(data.get('seed') ?? '42'));
    const rounds = Math.min(10, Math.max(1, Math.trunc(Number(data.get('rounds') ?? 3)) || 3));
    status.textContent = 'Running…';
    runMiniProject(seed, rounds).then(
      (views) => {
        target.innerHTML = roundsSection(views, seed); // every text escaped by roundsSection
        status.textContent = `Ran ${rounds} ${rounds === 1 ? 'round' : 'rounds'} with seed ${String(seed)}.`;
      },
      (error: unknown) => {
        status.textContent = `The run failed: ${error instanceof Error ? error.message : String(error)}`;
      },
    );
  });
}

if (typeof document !== 'undefined') start(document);
