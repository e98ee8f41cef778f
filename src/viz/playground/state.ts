/**
 * What the playground shows at one moment: the replayed state of the trace at the view's time,
 * with what the picture needs on top (each election timer's progress, each message's position
 * between its send and its delivery). Plain, frozen data: the element draws it, tests read it.
 */
import type { NodeId } from '../../raft/types.js';
import type { InFlightMessage, ReplayState, ReplayedNode } from '../replay.js';

/**
 * One node as the playground shows it: its replayed state, and how far its election timer has
 * run (`timer`: the time since it was last reset over the longest timeout, 0 to 1; null for a
 * leader or a node that is down).
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundNode } from 'raftkit/viz';
 * const model = new PlaygroundModel({ seed: 1, size: 3 });
 * await model.advance(1000);
 * const node: PlaygroundNode = model.state.nodes[0]!;
 * console.log(node.id, node.role, node.timer); // 1 follower 0.333…
 * ```
 */
export interface PlaygroundNode extends ReplayedNode {
  /** The node's election timeout range [min, max] in ms. */
  readonly electionTimeoutMs: readonly [number, number];
  /** How far its election timer has run, 0 to 1 (null: a leader, or down). */
  readonly timer: number | null;
}

/**
 * A message in flight as the playground draws it: where it is between its sender (0) and its
 * receiver (1), and when it arrives: known from the trace once the run has got there, estimated
 * from the latency range before (`estimated`).
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundMessage } from 'raftkit/viz';
 * const model = new PlaygroundModel({ seed: 1, size: 3 });
 * await model.advance(3000);
 * const flying: readonly PlaygroundMessage[] = model.state.messages;
 * console.log(flying.every((m) => m.progress >= 0 && m.progress <= 1)); // true
 * ```
 */
export interface PlaygroundMessage extends InFlightMessage {
  /** When it arrives (or is dropped), virtual ms. */
  readonly deliverAt: number;
  /** Whether `deliverAt` is an estimate (the run has not got there yet). */
  readonly estimated: boolean;
  /** Its position between sender (0) and receiver (1). */
  readonly progress: number;
  /** Whether the user dropped it: it is lost when it arrives. */
  readonly doomed: boolean;
}

/**
 * The lesson a playground runs, where it is in it.
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundLessonState } from 'raftkit/viz';
 * const lesson: PlaygroundLessonState | null = new PlaygroundModel({ lesson: 'leader-election' }).state.lesson;
 * console.log(lesson?.step, lesson?.steps, lesson?.done); // 0 4 false
 * ```
 */
export interface PlaygroundLessonState {
  /** The lesson's id. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** The current step's index (the number of steps once done). */
  readonly step: number;
  /** How many steps it has. */
  readonly steps: number;
  /** The caption the student reads now. */
  readonly caption: string;
  /** Whether its last step has ended. */
  readonly done: boolean;
  /** Whether it waits at the end of a step for "Next step". */
  readonly holding: boolean;
}

/**
 * One user action, as {@link PlaygroundModel} records it to replay a run: crash, restart or time
 * out a node, isolate one, partition the cluster into groups, heal it, propose a command (to the
 * leader of that moment, named), drop a message in flight (by its trace id: it is lost when it
 * arrives, at `deliverAt`), or move a lesson on to its next step.
 *
 * @example
 * ```ts
 * import type { PlaygroundAction } from 'raftkit/viz';
 * const actions: PlaygroundAction[] = [{ kind: 'crash', node: '2' }, { kind: 'partition', groups: [['1'], ['2', '3']] }, { kind: 'heal' }];
 * ```
 */
export type PlaygroundAction =
  | {
      /** Crash, restart, or time out (campaign) a node. */
      readonly kind: 'crash' | 'restart' | 'timeout';
      /** The node. */
      readonly node: NodeId;
    }
  | {
      /** Partition the network. */
      readonly kind: 'partition';
      /** The groups that cannot talk to each other (unnamed nodes form one more). */
      readonly groups: readonly (readonly NodeId[])[];
    }
  | {
      /** Heal the network, or move a lesson on to its next step. */
      readonly kind: 'heal' | 'next-step';
    }
  | {
      /** Propose a command. */
      readonly kind: 'propose';
      /** The leader it was proposed to. */
      readonly node: NodeId;
      /** The command (a JSON value). */
      readonly command: unknown;
    }
  | {
      /** Drop a message in flight. */
      readonly kind: 'drop';
      /** Its trace id. */
      readonly message: number;
      /** Its sender. */
      readonly from: NodeId;
      /** Its receiver. */
      readonly to: NodeId;
      /** When it arrives, and so is lost (virtual ms). */
      readonly deliverAt: number;
    };

/**
 * A user action with when it happened: after `tick` slices of the simulation, at virtual `time`.
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type RecordedAction } from 'raftkit/viz';
 * const model = new PlaygroundModel({ seed: 1 });
 * await model.advance(100);
 * await model.crash('3');
 * const [first]: readonly RecordedAction[] = model.actions;
 * console.log(first); // { tick: 20, time: 100, action: { kind: 'crash', node: '3' } }
 * ```
 */
export interface RecordedAction {
  /** How many slices of virtual time had run when it happened. */
  readonly tick: number;
  /** The virtual time it happened at. */
  readonly time: number;
  /** What was done. */
  readonly action: PlaygroundAction;
}

/**
 * The whole picture at the view's time: the replayed state of every node, the messages in
 * flight, the network's faults, the user's actions, the lesson, and how far the run has gone
 * (`head`: the timeline's end). `inFlight` counts the messages; `messages` lists them.
 *
 * @example
 * ```ts
 * import { PlaygroundModel, type PlaygroundState } from 'raftkit/viz';
 * const model = new PlaygroundModel({ seed: 1, size: 5 });
 * await model.advance(5000);
 * const state: PlaygroundState = model.state;
 * console.log(state.time, state.leader, state.nodes.length); // 5000 … 5
 * ```
 */
export interface PlaygroundState {
  /** The virtual time shown. */
  readonly time: number;
  /** How far the run has gone (the timeline's end). */
  readonly head: number;
  /**
   * The earliest time the view can show (the timeline's start): 0, until the run outgrows the
   * model's `historyMs` and the older past is forgotten.
   */
  readonly earliest: number;
  /** How many trace events are applied at `time` (counted from the run's start, forgotten ones included). */
  readonly position: number;
  /** The seed of the run. */
  readonly seed: number | string;
  /** Every node, in the order the cluster started them (its ids), added nodes last. */
  readonly nodes: readonly PlaygroundNode[];
  /** The leader shown: the up leader with the highest term. */
  readonly leader: NodeId | undefined;
  /** How many message copies are in flight. */
  readonly inFlight: number;
  /** The messages in flight, in the order they were sent. */
  readonly messages: readonly PlaygroundMessage[];
  /** The partition in force (groups of node ids), or null. */
  readonly partition: ReplayState['partition'];
  /** One-way cuts in force. */
  readonly cuts: ReplayState['cuts'];
  /** Nodes cut off the network. */
  readonly disconnected: ReplayState['disconnected'];
  /** What each log entry holds, by `"index:term"`, as text: a command's JSON, `no-op` or `config`. */
  readonly entries: Readonly<Record<string, string>>;
  /** The user's actions so far, in order. */
  readonly actions: readonly RecordedAction[];
  /** The lesson, or null in free play. */
  readonly lesson: PlaygroundLessonState | null;
  /** Why the run stopped (a lesson step that timed out, a safety violation), or null. */
  readonly error: string | null;
}

/** The parts of a node and message the state needs from the run. */
export interface Derivation {
  readonly view: number;
  readonly head: number;
  readonly latencyMs: readonly [number, number];
  timeoutOf(id: NodeId): readonly [number, number];
  outcomeOf(message: InFlightMessage): number | undefined;
  doomed(message: InFlightMessage): boolean;
}

/** A node with its timer's progress at `view`. */
export function nodeOf(node: ReplayedNode, d: Derivation): PlaygroundNode {
  const range = d.timeoutOf(node.id);
  const running = node.status === 'up' && node.role !== 'leader';
  const timer = running ? clamp01((d.view - node.timerResetAt) / Math.max(1, range[1])) : null;
  return { ...node, electionTimeoutMs: range, timer };
}

/** A message with its position at `view`: between its send and its known or estimated arrival. */
export function messageOf(message: InFlightMessage, d: Derivation): PlaygroundMessage {
  const known = d.outcomeOf(message);
  let deliverAt: number;
  let progress: number;
  if (known !== undefined) {
    deliverAt = known;
    progress = known > message.sentAt ? clamp01((d.view - message.sentAt) / (known - message.sentAt)) : 1;
  } else {
    // Not arrived by the run's head: somewhere in the latency range; a late one waits near the end.
    deliverAt = Math.max(message.sentAt + (d.latencyMs[0] + d.latencyMs[1]) / 2, d.head);
    progress = Math.min(0.95, clamp01((d.view - message.sentAt) / Math.max(1e-9, deliverAt - message.sentAt)));
  }
  return { ...message, deliverAt, estimated: known === undefined, progress, doomed: d.doomed(message) };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}
