/**
 * Recording a history as it happens: invoke an operation, then complete its handle.
 */
import { HistoryError } from './errors.js';
import type { Operation } from './history.js';

/**
 * The clock a {@link HistoryRecorder} stamps events with.
 *
 * @example
 * ```ts
 * import { HistoryRecorder, type RecorderOptions } from 'raftkit/testing';
 * let virtual = 0;
 * const options: RecorderOptions = { now: () => virtual }; // e.g. a Cluster's cluster.now
 * const recorder = new HistoryRecorder(options);
 * const write = recorder.invoke('a', { op: 'write', value: 1 });
 * virtual = 5;
 * write.ok();
 * console.log(recorder.history()[0]?.complete); // 5
 * ```
 */
export interface RecorderOptions {
  /**
   * The current time; it must never go backwards. Default: a counter that counts events, which
   * orders them as they were recorded (exact in one JavaScript process, where events cannot be
   * simultaneous).
   */
  readonly now?: () => number;
}

/**
 * An invoked operation, waiting for its outcome. Exactly one of its methods may be called.
 *
 * @example
 * ```ts
 * import { HistoryRecorder, type PendingOperation } from 'raftkit/testing';
 * const recorder = new HistoryRecorder<{ op: 'read' }, number>();
 * const read: PendingOperation<number> = recorder.invoke(1, { op: 'read' });
 * read.ok(42);
 * ```
 */
export interface PendingOperation<O> {
  /** The operation's index in the history. */
  readonly index: number;
  /** It took effect and returned `output`. */
  ok(output?: O): void;
  /** It did not take effect (the system said so for certain). */
  fail(): void;
  /** Its outcome is unknown (a timeout, a lost connection): it may take effect later, or never. */
  info(): void;
}

/**
 * Builds a history as a test runs it: `invoke` when a client sends a request, then `ok`, `fail`
 * or `info` on the handle when it learns the outcome. Operations still pending when the history
 * is read are `info`.
 *
 * @example
 * ```ts
 * import { HistoryRecorder, checkLinearizable, kvModel, type KvInput } from 'raftkit/testing';
 * const store = new Map<string, unknown>(); // the system under test
 * const recorder = new HistoryRecorder<KvInput>();
 * const put = recorder.invoke('alice', { op: 'put', key: 'x', value: 1 });
 * store.set('x', 1);
 * put.ok();
 * const get = recorder.invoke('bob', { op: 'get', key: 'x' });
 * get.ok(store.get('x'));
 * recorder.invoke('carol', { op: 'put', key: 'x', value: 2 }); // never answered: info
 * console.log(checkLinearizable(recorder.history(), kvModel).result); // linearizable
 * ```
 */
export class HistoryRecorder<I = unknown, O = unknown> {
  private readonly operations: { -readonly [K in keyof Operation<I, O>]: Operation<I, O>[K] }[] = [];
  private readonly clock: () => number;
  private last = -Infinity;

  constructor(options: RecorderOptions = {}) {
    let events = 0;
    this.clock = options.now ?? (() => events++);
  }

  /** Records that `client` invoked `input` now; complete the returned handle when the outcome is known. */
  invoke(client: string | number, input: I): PendingOperation<O> {
    const index = this.operations.length;
    this.operations.push({ client, input, invoke: this.time(index), status: 'info' });
    let done = false;
    const complete = (status: 'ok' | 'fail' | 'info', output?: O): void => {
      if (done) throw new HistoryError('ALREADY_COMPLETED', 'this operation was completed already', index);
      const time = this.time(index); // first: a clock that went backwards leaves the operation pending
      done = true;
      const operation = this.operations[index]!;
      operation.status = status;
      operation.complete = time;
      if (status === 'ok') operation.output = output as O;
    };
    return { index, ok: (output) => complete('ok', output), fail: () => complete('fail'), info: () => complete('info') };
  }

  /** The history so far (a copy): operations not completed yet are `info`. */
  history(): Operation<I, O>[] {
    return this.operations.map((o) => ({ ...o }));
  }

  /** The clock's time for an event of operation `index`. */
  private time(index: number): number {
    const now = this.clock();
    if (!(now >= this.last)) throw new HistoryError('TIME_WENT_BACKWARDS', `the clock went from ${this.last} to ${now}`, index);
    this.last = now;
    return now;
  }
}
