/**
 * `raftkit/conformance`: the suites an extender runs against a custom `Transport` or `Storage`
 * (from `raftkit`) to know that raftkit can rely on it. Each suite is a list of named checks
 * that any test runner can register (or {@link runChecks} can run); each check says what it
 * requires and, when it fails, what it saw instead.
 *
 * @packageDocumentation
 * @module raftkit/conformance
 */

export { runChecks, ConformanceError } from './checks.js';
export type { ConformanceCheck, ConformanceResult } from './checks.js';
export { transportChecks, sampleMessages } from './transport.js';
export type { TransportHarness, ConformanceNetwork } from './transport.js';
export { storageChecks } from './storage.js';
export type { StorageHarness, StorageFixture } from './storage.js';
