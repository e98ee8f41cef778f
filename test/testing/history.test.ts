import { describe, expect, it } from 'vitest';
import { HistoryRecorder, checkLinearizable, historyFromEvents, registerModel, type HistoryEvent, type RegisterInput } from '../../src/testing/index.js';
import { codeOf } from './history-error-code.js';


describe('HistoryRecorder', () => {
  it('stamps events with a counter by default, in the order they are recorded', () => {
    const recorder = new HistoryRecorder<RegisterInput>();
    const write = recorder.invoke('a', { op: 'write', value: 1 });
    const read = recorder.invoke('b', { op: 'read' });
    read.ok(1);
    write.ok();
    expect(recorder.history()).toEqual([
      { client: 'a', input: { op: 'write', value: 1 }, invoke: 0, complete: 3, status: 'ok', output: undefined },
      { client: 'b', input: { op: 'read' }, invoke: 1, complete: 2, status: 'ok', output: 1 },
    ]);
    expect(checkLinearizable(recorder.history(), registerModel).result).toBe('linearizable');
  });

  it('records fail and info outcomes, and operations still pending as info', () => {
    let now = 10;
    const recorder = new HistoryRecorder<RegisterInput>({ now: () => now });
    const failed = recorder.invoke(1, { op: 'write', value: 1 });
    now = 11;
    failed.fail();
    recorder.invoke(2, { op: 'write', value: 2 }).info();
    recorder.invoke(3, { op: 'write', value: 3 });
    const history = recorder.history();
    expect(history.map((o) => [o.status, o.invoke, o.complete])).toEqual([
      ['fail', 10, 11],
      ['info', 11, 11],
      ['info', 11, undefined],
    ]);
    // A copy: recording more does not change a history already taken.
    recorder.invoke(4, { op: 'read' }).ok(3);
    expect(history).toHaveLength(3);
    expect(recorder.history()).toHaveLength(4);
  });

  it('refuses a second outcome and a clock that goes backwards', () => {
    const recorder = new HistoryRecorder();
    const once = recorder.invoke(1, 'x');
    once.ok();
    expect(codeOf(() => once.info())).toBe('ALREADY_COMPLETED #0');
    let now = 5;
    const backwards = new HistoryRecorder({ now: () => now });
    const pending = backwards.invoke(1, 'x');
    now = 4;
    expect(codeOf(() => pending.ok())).toBe('TIME_WENT_BACKWARDS #0');
  });
});

describe('historyFromEvents', () => {
  const invoke = (id: number, time: number): HistoryEvent<RegisterInput> => ({ type: 'invoke', id, client: id, time, input: { op: 'read' } });

  it('pairs events by id, in invocation order, and leaves unanswered ones info', () => {
    const history = historyFromEvents<RegisterInput>([invoke(1, 0), invoke(2, 1), { type: 'ok', id: 2, time: 2, output: 5 }, { type: 'fail', id: 1, time: 3 }, invoke(3, 4), invoke(4, 5), { type: 'info', id: 4 }]);
    expect(history).toEqual([
      { client: 1, input: { op: 'read' }, invoke: 0, complete: 3, status: 'fail' },
      { client: 2, input: { op: 'read' }, invoke: 1, complete: 2, status: 'ok', output: 5 },
      { client: 3, input: { op: 'read' }, invoke: 4, status: 'info' },
      { client: 4, input: { op: 'read' }, invoke: 5, status: 'info' },
    ]);
  });

  it('refuses malformed event lists with a typed error naming the event', () => {
    expect(codeOf(() => historyFromEvents([{ type: 'ok', id: 1, time: 0 }]))).toBe('COMPLETE_BEFORE_INVOKE #0');
    expect(codeOf(() => historyFromEvents([invoke(1, 0), invoke(1, 1)]))).toBe('DUPLICATE_ID #1');
    expect(codeOf(() => historyFromEvents([invoke(1, 0), { type: 'ok', id: 1, time: 1 }, { type: 'fail', id: 1, time: 2 }]))).toBe('ALREADY_COMPLETED #2');
    expect(codeOf(() => historyFromEvents([invoke(1, 5), { type: 'ok', id: 1, time: 4 }]))).toBe('TIME_WENT_BACKWARDS #1');
    expect(codeOf(() => historyFromEvents([invoke(1, 0), { type: 'ok', id: 1 } as unknown as HistoryEvent]))).toBe('MISSING_COMPLETION #1');
    expect(codeOf(() => historyFromEvents([invoke(1, Number.NaN)]))).toBe('INVALID_OPERATION #0');
  });
});
