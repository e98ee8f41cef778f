import type { KvInput, Operation } from '../src/testing/index.js';

/** See kv-history.mjs. */
export function linearizableKvHistory(options: { count: number; keys: number; clients: number; seed?: number; infoRate?: number }): Operation<KvInput>[];
