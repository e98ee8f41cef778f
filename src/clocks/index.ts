/**
 * Logical clocks: Lamport, vector and hybrid logical clocks, with their errors.
 * @module
 */
export { ClockError, ClockDriftError } from './errors.js';
export type { ClockErrorCode } from './errors.js';
export { LamportClock } from './lamport.js';
export { VectorClock, compareVectors, mergeVectors, parseVectorTimestamp } from './vector.js';
export type { VectorOrder, VectorTimestamp } from './vector.js';
export { HybridLogicalClock, compareHlc, hlcToString, parseHlc } from './hlc.js';
export type { HlcTimestamp, HybridLogicalClockOptions } from './hlc.js';
