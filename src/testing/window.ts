/**
 * Shrinking a failure to a small window of operations that fails on its own.
 *
 * The end: when the search fails, every branch got stuck at a completion no later than
 * `stuckAt`, so it never looked at an operation invoked after it. The operations invoked by
 * then fail alone, with the same search tree.
 *
 * The start: at a quiescent point (every earlier operation completed before every later one is
 * invoked, and no earlier one is info) all earlier operations are linearized before all later
 * ones. If every linearization of the earlier ones ends in the same state, the later ones fail
 * from that state, and the earlier ones can go. The states are carried from one quiescent point
 * to the next, segment by segment, and the window starts at the last point with a single state.
 */
import type { Model } from './model.js';
import { Budget, search, type Entry, type Frame } from './search.js';

/** A failing window: its entries (by invocation), the state before it, its longest partial linearization and where that stopped. */
export interface FailingWindow<I, O, S> {
  readonly window: readonly Entry<I, O>[];
  readonly start: S;
  readonly linearization: readonly { readonly entry: Entry<I, O>; readonly state: S }[];
  readonly blocked: Entry<I, O>;
}

/** Beyond this many possible states at a quiescent point, the start is not moved further. */
const MAX_STATES = 16;

/**
 * The smallest window this method finds. `failed` is the failed search of all of `entries` from
 * the model's initial state: its window when nothing better is found within `budget`.
 */
export function failingWindow<I, O, S>(
  entries: readonly Entry<I, O>[],
  model: Model<I, O, S>,
  failed: { readonly deepest: Frame<S> | null; readonly blocked: number; readonly stuckAt: number },
  budget: Budget,
): FailingWindow<I, O, S> {
  const initial = model.init();
  const prefix = entries.filter((e) => e.invoke <= failed.stuckAt).sort((a, b) => a.invoke - b.invoke || a.index - b.index);
  const fallback = { window: prefix, start: initial, ...resolve(entries, failed.deepest, failed.blocked) };

  let from = 0; // the window starts at prefix[from], in state `start`
  let start = initial;
  let states: S[] = [initial];
  let segment = 0;
  let latest = -Infinity;
  let info = false;
  for (let i = 0; i + 1 < prefix.length; i++) {
    latest = Math.max(latest, prefix[i]!.complete);
    info ||= prefix[i]!.info;
    if (info) break; // an info operation may take effect after any later point: no more quiescent points
    if (latest >= prefix[i + 1]!.invoke) continue;
    const next = endStates(prefix.slice(segment, i + 1), model, states, budget);
    if (next === undefined || next.length > MAX_STATES) break;
    if (next.length === 0) throw new Error('invariant: the operations before a point the search passed are linearizable');
    states = next;
    segment = i + 1;
    if (states.length === 1) {
      from = segment;
      start = states[0]!;
    }
  }
  if (from === 0) return fallback;

  const window = prefix.slice(from);
  const result = search(window, model, start, budget);
  if (result.kind === 'linearizable') throw new Error('invariant: a window after a single-state quiescent point fails as the whole does');
  if (result.kind === 'unknown') return fallback;
  return { window, start, ...resolve(window, result.deepest, result.blocked) };
}

/** The search's stack, bottom first, and its blocked entry, as entries. */
function resolve<I, O, S>(entries: readonly Entry<I, O>[], top: Frame<S> | null, blocked: number): Pick<FailingWindow<I, O, S>, 'linearization' | 'blocked'> {
  const linearization: { entry: Entry<I, O>; state: S }[] = [];
  for (let frame = top; frame !== null; frame = frame.prev) linearization.push({ entry: entries[frame.id]!, state: frame.after });
  return { linearization: linearization.reverse(), blocked: entries[blocked]! };
}

/** Every state a linearization of `segment` can end in, from any of `starts`; undefined if the budget ran out. */
function endStates<I, O, S>(segment: readonly Entry<I, O>[], model: Model<I, O, S>, starts: readonly S[], budget: Budget): S[] | undefined {
  const hash = model.hash ? (s: S) => model.hash!(s) : (s: S) => JSON.stringify(s);
  const ends: S[] = [];
  for (const start of starts) {
    const result = search(segment, model, start, budget, true);
    if (result.kind === 'unknown') return undefined;
    if (result.kind === 'illegal') continue; // that start leads nowhere
    for (const end of result.ends) {
      const seen = ends.some((other) => hash(other) === hash(end) && (model.equals === undefined || model.equals(other, end)));
      if (!seen) ends.push(end);
    }
  }
  return ends;
}
