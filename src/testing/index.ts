/**
 * `raftkit/testing`: checking that a system is linearizable from what its clients saw. Record a
 * history (invocations, then `ok`, `fail` or `info` outcomes, as Jepsen does), pick a model of
 * what the system should do (a register, a key-value store, a set, or your own), and
 * {@link checkLinearizable} says whether some order of the operations explains every output,
 * or shows a small counterexample; {@link historyToHtml} draws it. For stores that are not
 * linearizable, {@link checkCausal}, {@link checkConvergence} and {@link measureStaleness} say
 * what they do guarantee, and {@link runCapExperiment} puts a CP and an AP store side by side
 * under one partition. To test a simulated Raft cluster under faults, {@link runJepsen} drives
 * {@link KvClient}s that record their history while a {@link Nemesis} applies {@link faults}
 * (partitions, kills, pauses, message and clock faults). Runs in browsers and Node.
 *
 * @packageDocumentation
 * @module raftkit/testing
 */

export { HistoryError } from './errors.js';
export type { HistoryErrorCode } from './errors.js';
export { historyFromEvents } from './history.js';
export type { Operation, OperationStatus, HistoryEvent } from './history.js';
export { HistoryRecorder } from './recorder.js';
export type { PendingOperation, RecorderOptions } from './recorder.js';
export { UNKNOWN, partitionBy } from './model.js';
export type { Model, Unknown } from './model.js';
export { registerModel } from './register.js';
export type { RegisterInput, RegisterState } from './register.js';
export { kvModel } from './kv.js';
export type { KvInput, KvState } from './kv.js';
export { setModel } from './set.js';
export type { SetInput, SetState } from './set.js';
// `check` is the name the API contract gives; `checkLinearizable` says what it checks.
export { checkLinearizable, checkLinearizable as check } from './check.js';
export type { CheckOptions, CheckResult, Counterexample, LinearizationPoint } from './check.js';
export { describeHistory } from './describe.js';
export { historyToHtml } from './html.js';
export type { HtmlOptions } from './html.js';
export { checkConvergence, lastWriterWins } from './convergence.js';
export type { ConvergenceResult, ConvergenceDifference, LwwWrite } from './convergence.js';
export { checkCausal } from './causal.js';
export type { CausalResult, CausalViolation, CausalGuarantee } from './causal.js';
export { measureStaleness } from './staleness.js';
export type { Staleness } from './staleness.js';
export { runCapExperiment, formatCapReport } from './cap.js';
export type { CapOptions, CapReport, CapStoreReport, CapAvailability } from './cap.js';
export { KvClient } from './kv-client.js';
export type { KvClientOptions, KvOutcome, ReadConsistency } from './kv-client.js';
export { Nemesis, faults } from './nemesis.js';
export type { Fault, Faults, FaultRecord, NemesisContext, NemesisOptions } from './nemesis.js';
export { runJepsen } from './jepsen.js';
export type { JepsenOptions, JepsenRun } from './jepsen.js';
