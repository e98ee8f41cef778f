/**
 * Learner catch-up (thesis §4.2.1): what the leader waits for before it promotes a learner to
 * voter, so that the cluster never waits on a voter far behind.
 */
import { NotLeaderError } from '../raft/errors.js';
import type { RaftCore } from '../raft/core.js';
import type { NodeId } from '../raft/types.js';
import type { Cancel } from '../runtime/scheduler.js';
import type { NodeHost } from './host.js';

/**
 * Runs rounds of replication to learner `id` (polled every `intervalMs`) until one ends within
 * `roundLimitMs` (a minimum election timeout). Rejects with NotLeaderError when the node stops
 * leading, NodeStoppedError when it stops, and as the guard does after `timeoutMs` or on `signal`.
 */
export function waitUntilCaughtUp(host: NodeHost, id: NodeId, timeoutMs: number, signal: AbortSignal | undefined, intervalMs: number, roundLimitMs: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let roundStart = host.now();
    let target = host.core().lastLogIndex;
    let cancelPoll: Cancel = () => undefined;
    const finish = (error?: Error): void => {
      cancelPoll();
      cleanup();
      if (error) reject(error);
      else resolve();
    };
    const cleanup = host.guard(`catching up learner ${id}`, timeoutMs, signal, finish);
    const poll = (): void => {
      let core: RaftCore;
      try {
        core = host.core();
      } catch (error) {
        return finish(error as Error); // stopped
      }
      if (core.role !== 'leader') return finish(new NotLeaderError(host.id, core.leaderId));
      const match = core.status().followers?.[id]?.matchIndex ?? 0;
      if (match >= target) {
        if (host.now() - roundStart <= roundLimitMs) return finish();
        roundStart = host.now(); // it took too long: the learner is still behind
        target = core.lastLogIndex;
      }
      cancelPoll = host.schedule(intervalMs, poll);
    };
    poll();
  });
}
