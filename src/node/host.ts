/**
 * What the trackers of a RaftNode (its waiting proposals, reads, learner catch-up and forwarded
 * proposals) see of it, and the timeout/abort guard they all arm for their callers.
 */
import { AbortedError, TimeoutError } from '../raft/errors.js';
import type { RaftCore } from '../raft/core.js';
import type { NodeId } from '../raft/types.js';
import type { Cancel, Scheduler } from '../runtime/scheduler.js';

/**
 * Arms a timeout (by default twice the maximum election timeout) and an abort listener that
 * call `fail`; returns what disarms both. `what` names the wait in the {@link TimeoutError}.
 */
export type Guard = (what: string, timeoutMs: number | undefined, signal: AbortSignal | undefined, fail: (error: Error) => void) => () => void;

/** What a tracker needs of its node. */
export interface NodeHost {
  readonly id: NodeId;
  /** The running core (throws NodeStoppedError when the node is not running). */
  core(): RaftCore;
  /** Arms a timeout and an abort listener that call `fail`; returns what disarms both. */
  readonly guard: Guard;
  schedule(delayMs: number, callback: () => void): Cancel;
  now(): number;
}

/**
 * The {@link Guard} of a node on `scheduler`: its default timeout is twice the maximum election
 * timeout of `options`, read at each call.
 */
export function guardOf(scheduler: Scheduler, options: { readonly electionTimeoutMs?: readonly [number, number] }): Guard {
  return (what, timeoutMs, signal, fail) => {
    timeoutMs ??= 2 * (options.electionTimeoutMs?.[1] ?? 300);
    const cancelTimer = scheduler.schedule(timeoutMs, () => fail(new TimeoutError(what, timeoutMs)));
    const stopListening = signal && onAbort(signal, fail);
    return () => {
      cancelTimer();
      stopListening?.();
    };
  };
}

/** Calls `fail` with an AbortedError (its cause the signal's reason) when `signal` aborts; returns what stops listening. */
export function onAbort(signal: AbortSignal, fail: (error: Error) => void): () => void {
  const listener = (): void => fail(new AbortedError(signal.reason));
  signal.addEventListener('abort', listener, { once: true });
  return () => signal.removeEventListener('abort', listener);
}
