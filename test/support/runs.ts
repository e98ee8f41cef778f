/**
 * How many generated cases a property runs: a bounded number in `npm test`, many more in
 * `npm run test:deep` (RAFTKIT_DEEP=1). RAFTKIT_SEED replays one fast-check run.
 */
export const deep = process.env.RAFTKIT_DEEP === '1';

export function numRuns(normal: number, deepRuns: number): number {
  return deep ? deepRuns : normal;
}

/** fast-check parameters shared by every property: run count, and the seed to replay when given. */
export function propertyParams(normal: number, deepRuns: number): { numRuns: number; seed?: number } {
  const seed = process.env.RAFTKIT_SEED;
  return seed === undefined ? { numRuns: numRuns(normal, deepRuns) } : { numRuns: numRuns(normal, deepRuns), seed: Number(seed) };
}
