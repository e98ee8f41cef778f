/**
 * The script of the browser tests' page, bundled by esbuild: it draws every picture in the
 * browser, with the same code and seed as the tests do in Node.
 */
import { drawAll, replayRun } from '../support/viz-run.js';

declare global {
  interface Window {
    drawAll: typeof drawAll;
    replayRun: typeof replayRun;
  }
}

window.drawAll = drawAll;
window.replayRun = replayRun;
