import { RaftError } from './errors.js';
import type { PersistedState } from './storage.js';

const isCount = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/**
 * Checks what `Storage.load()` returned before a node trusts it: a hard state (term ≥ 0, vote
 * null or an id), an optional snapshot (index and term ≥ 0), and a log that follows the
 * snapshot without a gap (indexes from `snapshot.index + 1`, or 1, up by one), with terms that
 * never go down (from the snapshot's term), the last one no later than the hard state's term
 * (a snapshot alone may be later: storage seeded with a snapshot and no hard state is fine).
 * Pure: throws a {@link RaftError} with code `INVALID_STATE` whose message names the offending
 * entry. (No commit index is persisted, so there is none to check.)
 */
export function validatePersistedState(state: unknown): asserts state is PersistedState {
  const bad = (what: string): never => {
    throw new RaftError('INVALID_STATE', `persisted state: ${what}`);
  };
  if (typeof state !== 'object' || state === null) bad(`storage.load() returned ${String(state)}`);
  const { hardState, snapshot, entries } = state as PersistedState;
  if (!isCount(hardState?.term) || (hardState.votedFor !== null && typeof hardState.votedFor !== 'string')) bad('bad hardState');
  if (snapshot !== undefined && !(isCount(snapshot?.index) && isCount(snapshot.term))) bad('bad snapshot');
  if (!Array.isArray(entries)) bad('entries is not an array');
  let index = snapshot?.index ?? 0;
  let term = snapshot?.term ?? 0;
  for (const entry of entries) {
    if (entry?.index !== ++index) bad(`entry ${String(entry?.index)} where entry ${index} belongs`);
    if (!(isCount(entry.term) && entry.term >= term)) bad(`entry ${index} has term ${String(entry.term)}, after term ${term}`);
    term = entry.term;
  }
  if (entries.length > 0 && hardState.term < term) bad(`hardState term ${hardState.term} is below term ${term} of entry ${index}`);
}
