/**
 * Shrinking a failure to a small window of operations that fails on its own.
 *
 * The end: when the search fails, every branch got stuck at a completion no later than
 * `stuckAt`, so it never looked at an operation invoked after it. The operations invoked by
 * then fail alone, with the same search tree.
 *
 * The start: at a quiescent point (every earlier ok operation completed before every later
 * operation is invoked) all earlier ok operations are linearized before all later ones; earlier
 * info operations may take effect on either side, or never. A configuration at that point is
 * the state after the last earlier ok operation and the info operations taken by then. If the
 * configurations reduce to one (a single state, and a set of taken info operations contained in
 * every other way of reaching it), the later operations and the info operations not taken fail
 * from that state exactly when the whole does, and everything else can go. Configurations are
 * carried from one quiescent point to the next, segment by segment; the window starts at the
 * last point with a single configuration.
 */
import { hashOf, type Model } from './model.js';
import { Budget, search, type Entry, type Frame } from './search.js';

/** A failing window: its entries (by invocation), the state before it, its longest partial linearization and where that stopped. */
export interface FailingWindow<I, O, S> {
  readonly window: readonly Entry<I, O>[];
  readonly start: S;
  readonly linearization: readonly { readonly entry: Entry<I, O>; readonly state: S }[];
  readonly blocked: Entry<I, O>;
}

/** A way the operations before a quiescent point can end: the state, and the info entries taken (by history index). */
interface Configuration<S> {
  readonly state: S;
  readonly taken: ReadonlySet<number>;
}

/** Beyond this many configurations at a quiescent point, the start is not moved further. */
const MAX_CONFIGURATIONS = 16;

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

  let configurations: Configuration<S>[] = [{ state: initial, taken: new Set() }];
  let chosen: { from: number; configuration: Configuration<S> } | undefined;
  let segment = 0;
  let latest = -Infinity; // the last completion of an ok entry so far
  for (let i = 0; i + 1 < prefix.length; i++) {
    if (!prefix[i]!.info) latest = Math.max(latest, prefix[i]!.complete);
    if (latest >= prefix[i + 1]!.invoke) continue;
    const oks = prefix.slice(segment, i + 1).filter((e) => !e.info);
    const infos = prefix.slice(0, i + 1).filter((e) => e.info);
    const next = configurationsAfter(oks, infos, configurations, model, budget);
    if (next === undefined || next.length > MAX_CONFIGURATIONS) break;
    if (next.length === 0) throw new Error('invariant: the operations before a point the search passed are linearizable');
    configurations = next;
    segment = i + 1;
    if (configurations.length === 1) chosen = { from: segment, configuration: configurations[0]! };
  }
  if (chosen === undefined) return fallback;

  const { from, configuration } = chosen;
  const window = prefix.filter((e, i) => i >= from || (e.info && !configuration.taken.has(e.index)));
  const result = search(window, model, configuration.state, budget);
  if (result.kind === 'linearizable') throw new Error('invariant: a window after a single-configuration point fails as the whole does');
  if (result.kind === 'unknown') return fallback;
  return { window, start: configuration.state, ...resolve(window, result.deepest, result.blocked) };
}

/**
 * The configurations after the ok entries `oks` of one segment, from each of `before`, with the
 * info entries `infos` invoked so far (those not taken yet may be taken in the segment); the
 * ones another subsumes are dropped. Undefined if the budget ran out.
 */
function configurationsAfter<I, O, S>(
  oks: readonly Entry<I, O>[],
  infos: readonly Entry<I, O>[],
  before: readonly Configuration<S>[],
  model: Model<I, O, S>,
  budget: Budget,
): Configuration<S>[] | undefined {
  const hash = hashOf(model);
  const same = (a: S, b: S): boolean => hash(a) === hash(b) && (model.equals === undefined || model.equals(a, b));
  const subsumes = (a: Configuration<S>, b: Configuration<S>): boolean => same(a.state, b.state) && [...a.taken].every((i) => b.taken.has(i));
  const after: Configuration<S>[] = [];
  for (const { state, taken } of before) {
    const entries = [...infos.filter((e) => !taken.has(e.index)), ...oks];
    const result = search(entries, model, state, budget, true);
    if (result.kind === 'unknown') return undefined;
    if (result.kind === 'illegal') continue; // that configuration leads nowhere
    for (const end of result.ends) {
      const configuration = { state: end.state, taken: new Set([...taken, ...end.infos.map((id) => entries[id]!.index)]) };
      if (after.some((other) => subsumes(other, configuration))) continue;
      after.splice(0, after.length, ...after.filter((other) => !subsumes(configuration, other)), configuration);
    }
  }
  return after;
}

/** The search's stack, bottom first, and its blocked entry, as entries. */
function resolve<I, O, S>(entries: readonly Entry<I, O>[], top: Frame<S> | null, blocked: number): Pick<FailingWindow<I, O, S>, 'linearization' | 'blocked'> {
  const linearization: { entry: Entry<I, O>; state: S }[] = [];
  for (let frame = top; frame !== null; frame = frame.prev) linearization.push({ entry: entries[frame.id]!, state: frame.after });
  return { linearization: linearization.reverse(), blocked: entries[blocked]! };
}
