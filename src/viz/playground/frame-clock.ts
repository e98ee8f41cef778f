/**
 * The playground's only contact with the wall clock: animation frames and the time between
 * them. The simulation itself runs on virtual time; this file only decides how much of it to
 * show per frame (and measures how long a frame's work took). It is the one file of src/viz
 * allowed `performance.now` (see ALLOWED_NONDETERMINISM in scripts/lint.mjs).
 */

/** Animation frames and a monotonic clock, or stand-ins that never fire where there are none (Node). */
export interface FrameClock {
  /** Milliseconds on a monotonic clock (0 where there is none). */
  now(): number;
  /** Calls `callback` before the next repaint with the frame's time; returns a handle (0: no frames here). */
  request(callback: (time: number) => void): number;
  /** Cancels a request. */
  cancel(handle: number): void;
}

/** The browser's frames and `performance.now()`. */
export const frameClock: FrameClock = {
  now: () => (typeof performance === 'undefined' ? 0 : performance.now()),
  request: (callback) => (typeof requestAnimationFrame === 'function' ? requestAnimationFrame(callback) : 0),
  cancel: (handle) => {
    if (handle !== 0 && typeof cancelAnimationFrame === 'function') cancelAnimationFrame(handle);
  },
};
