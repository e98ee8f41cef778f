import { describe, it, expect } from 'vitest';
import { ClockError, LamportClock } from '../../src/clocks/index.js';

const MAX = Number.MAX_SAFE_INTEGER;
const badTimes: unknown[] = [Number.NaN, -1, 1.5, Infinity, -Infinity, MAX + 1, 2 ** 60, '3', null, undefined, 3n, {}, [1], true];

function expectClockError(fn: () => unknown, code: string, mentions?: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(ClockError);
  expect((caught as ClockError).code).toBe(code);
  if (mentions !== undefined) expect((caught as ClockError).message).toContain(mentions);
}

describe('LamportClock', () => {
  it('starts at 0 or at a given time', () => {
    expect(new LamportClock().time).toBe(0);
    expect(new LamportClock(41).time).toBe(41);
    expect(new LamportClock(MAX).time).toBe(MAX);
    expect(Object.is(new LamportClock(-0).time, 0)).toBe(true);
    expect(new LamportClock(undefined).time).toBe(0); // undefined selects the default
  });

  it('tick and send increment and return the new time', () => {
    const clock = new LamportClock(5);
    expect(clock.tick()).toBe(6);
    expect(clock.send()).toBe(7);
    expect(clock.time).toBe(7);
  });

  it('receive takes max(local, remote) + 1', () => {
    const clock = new LamportClock(5);
    expect(clock.receive(10)).toBe(11);
    expect(clock.receive(3)).toBe(12);
    expect(clock.receive(12)).toBe(13);
    expect(clock.receive(0)).toBe(14);
  });

  it('runs the seed example: A sends 1, B receives 2, B ticks 3', () => {
    const a = new LamportClock();
    const b = new LamportClock();
    const sent = a.send();
    expect(sent).toBe(1);
    expect(b.receive(sent)).toBe(2);
    expect(b.tick()).toBe(3);
  });

  it.each(badTimes.filter((value) => value !== undefined).map((value) => [value]))('rejects the initial time %s', (value) => {
    expectClockError(() => new LamportClock(value as number), 'INVALID_TIME');
  });

  it.each(badTimes.map((value) => [value]))('rejects the remote time %s and stays unchanged', (value) => {
    const clock = new LamportClock(7);
    expectClockError(() => clock.receive(value as number), 'INVALID_TIME', 'received Lamport time');
    expect(clock.time).toBe(7);
  });

  it('names the bad value in the message', () => {
    const clock = new LamportClock();
    expectClockError(() => clock.receive(Number.NaN), 'INVALID_TIME', 'got NaN');
    expectClockError(() => clock.receive(-1), 'INVALID_TIME', 'got -1');
    expectClockError(() => clock.receive(1.5), 'INVALID_TIME', 'got 1.5');
    expectClockError(() => clock.receive('3' as unknown as number), 'INVALID_TIME', 'got "3"');
  });

  it('refuses to overflow on tick, send and receive, staying unchanged', () => {
    const clock = new LamportClock(MAX);
    expectClockError(() => clock.tick(), 'OVERFLOW');
    expectClockError(() => clock.send(), 'OVERFLOW');
    expect(clock.time).toBe(MAX);
    const other = new LamportClock(3);
    expectClockError(() => other.receive(MAX), 'OVERFLOW');
    expect(other.time).toBe(3);
    expect(new LamportClock(MAX - 1).tick()).toBe(MAX);
    expect(new LamportClock().receive(MAX - 1)).toBe(MAX);
  });
});
