/**
 * Whether an eventemitter3 emitter has any listener at all. It keeps that count as a field, while
 * `listenerCount(name)` and `emit(name)` build a prefixed key string on every call: checking the
 * count first keeps per-message and per-entry events free when nobody listens.
 */
export function hasListeners(emitter: object): boolean {
  return (emitter as { _eventsCount?: number })._eventsCount !== 0;
}
