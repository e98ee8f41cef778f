/**
 * The size of log entries as a transport carries them (their JSON text), for the byte limit on
 * AppendEntries batches. Each entry is measured once: entries are immutable and shared.
 */
import type { LogEntry } from './types.js';

const measured = new WeakMap<LogEntry, number>();

/** The length of `entry`'s JSON text (0 for one that has none: the command check refuses those). */
export function entryBytes(entry: LogEntry): number {
  let bytes = measured.get(entry);
  if (bytes === undefined) {
    try {
      bytes = JSON.stringify(entry)?.length ?? 0;
    } catch {
      bytes = 0;
    }
    measured.set(entry, bytes);
  }
  return bytes;
}

/** The longest prefix of `entries` whose JSON fits in `maxBytes`, and never less than one entry. */
export function withinBytes(entries: LogEntry[], maxBytes: number): LogEntry[] {
  if (maxBytes === Infinity) return entries;
  let total = 0;
  for (let i = 0; i < entries.length; i++) {
    total += entryBytes(entries[i] as LogEntry);
    if (total > maxBytes && i > 0) return entries.slice(0, i);
  }
  return entries;
}
