import { EventEmitter } from 'eventemitter3';
import { describe, expect, it } from 'vitest';
import { InMemoryNetwork, SeededRandom, VirtualScheduler } from '../../src/index.js';
import { eventKey, hasListeners, listens } from '../../src/runtime/listeners.js';

describe('hasListeners', () => {
  it('follows listeners being added and removed on an eventemitter3 emitter', () => {
    const emitter = new EventEmitter();
    const listener = (): void => {};
    expect(hasListeners(emitter)).toBe(false);
    emitter.on('a', listener);
    emitter.once('b', listener);
    expect(hasListeners(emitter)).toBe(true);
    emitter.off('a', listener);
    expect(hasListeners(emitter)).toBe(true);
    emitter.emit('b'); // a once-listener removes itself
    expect(hasListeners(emitter)).toBe(false);
  });

  it('errs on the side of listening for an object that keeps no count', () => {
    expect(hasListeners({})).toBe(true);
    expect(listens({}, eventKey('a'))).toBe(true);
  });

  it('tells one event from another through its prebuilt key', () => {
    const emitter = new EventEmitter();
    const [a, b] = [eventKey('a'), eventKey('b')];
    const listener = (): void => {};
    expect(listens(emitter, a)).toBe(false);
    emitter.on('b', listener);
    expect(listens(emitter, a)).toBe(false);
    expect(listens(emitter, b)).toBe(true);
    emitter.on('a', listener).on('a', () => {});
    expect(listens(emitter, a)).toBe(true);
    emitter.removeAllListeners('a');
    expect(listens(emitter, a)).toBe(false);
    expect(listens(emitter, b)).toBe(true);
  });

  it('lets network events through once a listener subscribes after quiet traffic', () => {
    const scheduler = new VirtualScheduler();
    const network = new InMemoryNetwork({ scheduler, random: new SeededRandom(1), latencyMs: 1 });
    const a = network.transport('a');
    network.transport('b').listen(() => {});
    a.send('b', { type: 'Ping', from: 'a', to: 'b' });
    scheduler.runFor(5);
    const seen: string[] = [];
    network.on('deliver', (m) => seen.push(m.type));
    a.send('b', { type: 'Pong', from: 'a', to: 'b' });
    scheduler.runFor(5);
    expect(seen).toEqual(['Pong']);
  });
});
