/** Cheap checks for eventemitter3 listeners, for events emitted per message or per entry. */

import { EventEmitter } from 'eventemitter3';

/** The key eventemitter3 files an event's listeners under. */
const prefix = typeof EventEmitter.prefixed === 'string' ? EventEmitter.prefixed : '';

/** The internal key of `event`, built once so that {@link listens} builds no string per call. */
export const eventKey = (event: string): string => prefix + event;

interface Internals {
  _eventsCount?: number;
  _events?: Record<string, unknown>;
}

/**
 * Whether an eventemitter3 emitter has any listener at all. It keeps that count as a field, while
 * `listenerCount(name)` and `emit(name)` build a prefixed key string on every call: checking the
 * count first keeps per-message and per-entry events free when nobody listens.
 */
export function hasListeners(emitter: object): boolean {
  return (emitter as Internals)._eventsCount !== 0;
}

/** Whether anyone listens for the event filed under `key` (from {@link eventKey}). */
export function listens(emitter: object, key: string): boolean {
  const events = (emitter as Internals)._events;
  return hasListeners(emitter) && (events === undefined || events[key] !== undefined);
}
