/** The built-in lessons, in the order a course would take them. */
import { figure8 } from './builtin/figure-8.js';
import { leaderCrash } from './builtin/leader-crash.js';
import { leaderElection } from './builtin/leader-election.js';
import { logReplication } from './builtin/log-replication.js';
import { membership } from './builtin/membership.js';
import { partition } from './builtin/partition.js';
import { preVote } from './builtin/pre-vote.js';
import { snapshot } from './builtin/snapshot.js';
import type { Lesson } from './types.js';

/**
 * The built-in lessons, in the order a course takes them: `'leader-election'`,
 * `'log-replication'`, `'leader-crash'`, `'figure-8'`, `'partition'`, `'pre-vote'`,
 * `'snapshot'` and `'membership'`. Each is plain data (a {@link Lesson}) to play with
 * {@link LessonRun} or the `<raft-playground lesson="…">` element.
 *
 * @example
 * ```ts
 * import { lessons } from 'raftkit/viz';
 * for (const lesson of lessons) console.log(`${lesson.id}: ${lesson.title} (${lesson.steps.length} steps)`);
 * // leader-election: Leader election (4 steps)
 * // …
 * ```
 */
export const lessons: readonly Lesson[] = /* @__PURE__ */ deepFreeze([leaderElection, logReplication, leaderCrash, figure8, partition, preVote, snapshot, membership]);

/**
 * The built-in lesson with this id, or undefined.
 *
 * @example
 * ```ts
 * import { lessonById } from 'raftkit/viz';
 * console.log(lessonById('leader-election')?.title); // Leader election
 * console.log(lessonById('nope')); // undefined
 * ```
 */
export function lessonById(id: string): Lesson | undefined {
  return lessons.find((lesson) => lesson.id === id);
}

/** Freezes the built-in data all the way down: a page that edits one cannot change it for the next. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}
