/**
 * The script of the playground's browser test page, bundled by esbuild: it defines
 * `<raft-playground>` as the standalone script does, and lists the lessons for the test.
 */
import { definePlayground, lessons } from '../../src/viz/index.js';

declare global {
  interface Window {
    lessonIds: readonly string[];
  }
}

definePlayground();
definePlayground(); // idempotent
window.lessonIds = lessons.map((lesson) => lesson.id);
