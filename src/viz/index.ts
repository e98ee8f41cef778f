/**
 * `raftkit/viz`: pictures of a run, as pure functions that return strings. A Mermaid sequence
 * diagram of a trace ({@link toMermaid}), an SVG space-time diagram in the manner of Maelstrom's
 * `messages.svg` ({@link toSpaceTimeSvg}), an SVG of the nodes' logs coloured by term
 * ({@link toLogSvg}), and logical clocks drawn the same way ({@link toClocksSvg}). They run in
 * browsers and Node, read no clock and draw no random number: the same input gives the same
 * string, byte for byte.
 *
 * @packageDocumentation
 * @module raftkit/viz
 */

export type { DrawableTrace, OtherEvent } from './read.js';
export { toMermaid, mermaidText } from './mermaid.js';
export type { MermaidFilters } from './mermaid.js';
export { toSpaceTimeSvg } from './space-time.js';
export type { SpaceTimeOptions } from './space-time.js';
export { toLogSvg, logsOf } from './logs.js';
export type { NodeLog, LogSvgOptions } from './logs.js';
export { toClocksSvg, timestampEvents, lamportExampleSteps, vectorExampleSteps } from './clocks.js';
export type { ClockStep, TimestampedEvent, ClocksSvgOptions } from './clocks.js';
export { TraceReplay } from './replay.js';
export type { ReplayableTrace, TraceReplayOptions, ReplayState, ReplayedNode, InFlightMessage } from './replay.js';
export { ReplayError } from './replay-error.js';
export type { ReplayErrorCode } from './replay-error.js';
export { LessonRun } from './lessons/run.js';
export type { LessonRunOptions } from './lessons/run.js';
export { lessons, lessonById } from './lessons/catalogue.js';
export { validateLesson } from './lessons/validate.js';
export { LessonError } from './lessons/errors.js';
export type { LessonErrorCode } from './lessons/errors.js';
export type { Lesson, LessonCluster, LessonNodeOptions, LessonStep, LessonAction, LessonCondition, LessonTarget, LessonIndex, LessonNodes, LessonRole } from './lessons/types.js';
export { PlaygroundModel } from './playground/model.js';
export type { PlaygroundState, PlaygroundNode, PlaygroundMessage, PlaygroundLessonState, PlaygroundAction, RecordedAction } from './playground/state.js';
export { parsePlaygroundAttributes } from './playground/options.js';
export type { PlaygroundOptions, PlaygroundConfig, PlaygroundAttributes } from './playground/options.js';
export { PlaygroundError } from './playground/errors.js';
export type { PlaygroundErrorCode } from './playground/errors.js';
export { definePlayground } from './playground/element.js';
export type { RaftPlayground, PlaygroundElementState } from './playground/element.js';
