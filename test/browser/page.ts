/**
 * The script of the browser tests' page, bundled by esbuild: it draws every picture in the
 * browser, with the same code and seed as the tests do in Node.
 */
import { drawAll } from '../support/viz-run.js';

declare global {
  interface Window {
    drawAll: typeof drawAll;
  }
}

window.drawAll = drawAll;
