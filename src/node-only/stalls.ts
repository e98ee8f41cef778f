// Two stalls that cost a leader its term without any fault of the network: a disk that holds a
// save (a node sends nothing while its save waits), and a main thread that runs late (timers fire
// before the messages that arrived meanwhile are read). Both are logged, so that a step-down in
// the logs has a cause next to it.
import type { Scheduler } from '../runtime/scheduler.js';
import type { FileSystem } from './file-system.js';

/**
 * `fs` with every `datasync` timed: `observe(ms, path)` gets each duration.
 */
export function timedSyncs(fs: FileSystem, clock: Pick<Scheduler, 'now'>, observe: (ms: number, path: string) => void): FileSystem {
  return {
    ...fs,
    async open(path, mode) {
      const file = await fs.open(path, mode);
      return {
        append: (data) => file.append(data),
        truncate: (length) => file.truncate(length),
        close: () => file.close(),
        async datasync() {
          const started = clock.now();
          await file.datasync();
          observe(clock.now() - started, path);
        },
      };
    },
  };
}

/**
 * Calls `onStall(lateMs)` whenever a timer due every `periodMs` fires at least `thresholdMs` late:
 * the main thread was busy (or the process was not scheduled) that long. Returns a stop function.
 */
export function watchEventLoop(scheduler: Scheduler, periodMs: number, thresholdMs: number, onStall: (lateMs: number) => void): () => void {
  let due = scheduler.now() + periodMs;
  let cancel = scheduler.schedule(periodMs, tick);
  function tick(): void {
    const now = scheduler.now();
    const late = now - due;
    due = now + periodMs;
    cancel = scheduler.schedule(periodMs, tick);
    if (late >= thresholdMs) onStall(late);
  }
  return () => cancel();
}
