/**
 * The data of a lesson: plain JSON, so that a teacher can write one by hand and a page can load
 * one from a file. {@link LessonRun} interprets it on a real simulated Cluster.
 */
import type { MessageType } from '../../raft/messages.js';
import type { NodeId } from '../../raft/types.js';

/**
 * Which node an action or a condition means, resolved at the moment it is used: a node id, the
 * current `'leader'` (the one a client on the majority side reaches), the first running
 * `'follower'` in id order that is not the leader, the first running `'candidate'` in id order
 * (a precandidate counts), or `'$name'`, a node remembered earlier by an action's `as`.
 *
 * @example
 * ```ts
 * import type { LessonTarget } from 'raftkit/viz';
 * const targets: LessonTarget[] = ['2', 'leader', 'follower', 'candidate', '$old'];
 * ```
 */
export type LessonTarget = NodeId | 'leader' | 'follower' | 'candidate' | `$${string}`;

/**
 * Per-node overrides of a lesson's cluster: to make one node time out first (a narrow
 * `electionTimeoutMs`), or to run one node without pre-vote.
 *
 * @example
 * ```ts
 * import type { LessonNodeOptions } from 'raftkit/viz';
 * const first: LessonNodeOptions = { electionTimeoutMs: [150, 151] };
 * const old: LessonNodeOptions = { preVote: false, checkQuorum: false };
 * ```
 */
export interface LessonNodeOptions {
  /** This node's election timeout range [min, max] in ms. */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Poll with a pre-vote before a timeout-driven election. */
  readonly preVote?: boolean;
  /** Step down when cut off from a majority; keep a leader lease as a follower. */
  readonly checkQuorum?: boolean;
  /** Take a snapshot every this many applied entries (0: never by itself). */
  readonly snapshotThreshold?: number;
  /** The most entries in one AppendEntries (1 shows them travel one by one). */
  readonly maxEntriesPerMessage?: number;
}

/**
 * What the Cluster of a lesson is made of. Every node runs a small built-in state machine (it
 * counts the commands it applied and keeps the last one) that can take and restore snapshots.
 *
 * @example
 * ```ts
 * import type { LessonCluster } from 'raftkit/viz';
 * const cluster: LessonCluster = {
 *   size: 5,
 *   seed: 3,
 *   latencyMs: [5, 15],
 *   nodes: { '1': { electionTimeoutMs: [150, 151] } }, // node 1 campaigns first
 * };
 * ```
 */
export interface LessonCluster {
  /** Number of nodes, named '1'..'N' (1 to 9). */
  readonly size: number;
  /** The seed of every random choice of the run. */
  readonly seed: number | string;
  /** Pre-vote on every node (default true). */
  readonly preVote?: boolean;
  /** Check-quorum on every node (default true). */
  readonly checkQuorum?: boolean;
  /** Election timeout range of every node (default [150, 300]). */
  readonly electionTimeoutMs?: readonly [number, number];
  /** Heartbeat interval of every node (default 50). */
  readonly heartbeatIntervalMs?: number;
  /** One-way network latency [min, max] in ms (default [1, 10]). */
  readonly latencyMs?: readonly [number, number];
  /** Snapshot threshold of every node (default 10,000). */
  readonly snapshotThreshold?: number;
  /** The most entries in one AppendEntries, for every node (default 1024). */
  readonly maxEntriesPerMessage?: number;
  /** Overrides for single nodes, by id (also for nodes an `add-node` action adds). */
  readonly nodes?: Readonly<Record<NodeId, LessonNodeOptions>>;
}

/**
 * Something a step does to the cluster when it begins, in order. Those with `as` remember what
 * they resolved (a node id; for `propose`, the index the command landed at; for a
 * `'leader-minority'` partition, the leader) under that name, for later targets (`'$name'`),
 * conditions (`'$name'` as an index) and captions (`{name}`).
 *
 * - `crash`, `restart`, `disconnect`, `reconnect`: as the Cluster's methods of the same name.
 * - `timeout`: the node's election timer fires now (`node.campaign()`: a forced election).
 * - `partition`: the groups given, or `'leader-minority'`: the leader and ⌊(n−1)/2⌋ − 1 followers
 *   (the first in id order) on one side, the rest on the other. Binds `{minority}` and `{majority}`.
 * - `heal`: removes every partition, disconnection and cut, and the drops still in force.
 * - `propose`: the node (default the leader) appends `command` now (`submit`), `repeat` times.
 * - `drop`: drops the next `count` messages (default: all, until `heal` or `stop-dropping`)
 *   matching `type`, `from`, `to` and `carrying`: an AppendEntries that would bring the
 *   receiver the entry at that index (it carries it, and the receiver's log matches where it
 *   starts; a probe the receiver would refuse anyway goes through).
 * - `cut`, `restore`: one-way link faults.
 * - `add-node`, `remove-node`: a membership change, as `Cluster.addNode` and `removeNode` make
 *   it; the lesson waits for it (it takes simulated time of its own).
 * - `compact`: the node snapshots its state machine now and drops the log it covers.
 * - `remember`: binds `as` to the target now (the leader, typically).
 *
 * @example
 * ```ts
 * import type { LessonAction } from 'raftkit/viz';
 * const actions: LessonAction[] = [
 *   { do: 'crash', node: 'leader', as: 'old' },
 *   { do: 'propose', command: 'x=1', as: 'x' },
 *   { do: 'drop', type: 'AppendEntries', from: '1', to: '3', carrying: 3 },
 *   { do: 'partition', groups: [['1', '2'], ['3', '4', '5']] },
 *   { do: 'restart', node: '$old' },
 * ];
 * ```
 */
export type LessonAction =
  | {
      /** What to do to the node. */
      readonly do: 'crash' | 'restart' | 'timeout' | 'disconnect' | 'reconnect' | 'compact' | 'remember';
      /** The node. */
      readonly node: LessonTarget;
      /** Remember the node (and its term now) under this name. */
      readonly as?: string;
    }
  | {
      /** Split the network. */
      readonly do: 'partition';
      /** The sides (nodes left out form one more), or the leader with a minority. */
      readonly groups: readonly (readonly LessonTarget[])[] | 'leader-minority';
      /** With `'leader-minority'`: remember the leader under this name. */
      readonly as?: string;
    }
  | {
      /** Lift every fault (`heal`), or only the drops (`stop-dropping`). */
      readonly do: 'heal' | 'stop-dropping';
    }
  | {
      /** A client's command. */
      readonly do: 'propose';
      /** The command (any JSON value). */
      readonly command: unknown;
      /** The node that appends it (default: the leader). */
      readonly node?: LessonTarget;
      /** How many times (default 1). */
      readonly repeat?: number;
      /** Remember the index of the (last) entry under this name. */
      readonly as?: string;
    }
  | {
      /** Lose messages on purpose. */
      readonly do: 'drop';
      /** Only messages of this type. */
      readonly type?: MessageType;
      /** Only messages from this node. */
      readonly from?: LessonTarget;
      /** Only messages to this node. */
      readonly to?: LessonTarget;
      /** Only an AppendEntries that would bring the receiver the entry at this index. */
      readonly carrying?: number;
      /** How many to drop (default: all, until `heal` or `stop-dropping`). */
      readonly count?: number;
    }
  | {
      /** Cut, or restore, one direction of a link. */
      readonly do: 'cut' | 'restore';
      /** The sender's end. */
      readonly from: LessonTarget;
      /** The receiver's end. */
      readonly to: LessonTarget;
    }
  | {
      /** Start a new node and have the leader add it. */
      readonly do: 'add-node';
      /** The new node's id. */
      readonly node: NodeId;
      /** Promote it to voter once it has caught up (default true; false leaves it a learner). */
      readonly voter?: boolean;
    }
  | {
      /** Have the leader remove a node, then stop it for good. */
      readonly do: 'remove-node';
      /** The node. */
      readonly node: LessonTarget;
      /** Remember the node under this name. */
      readonly as?: string;
    };

/**
 * An index in a condition: a number, or `'$name'`, an index remembered by a `propose`'s `as`.
 *
 * @example
 * ```ts
 * import type { LessonIndex } from 'raftkit/viz';
 * const indexes: LessonIndex[] = [3, '$x'];
 * ```
 */
export type LessonIndex = number | `$${string}`;

/**
 * Which nodes a condition looks at: one node, several, `'all'` (every running member) or
 * `'majority'` (a majority of the members).
 *
 * @example
 * ```ts
 * import type { LessonNodes } from 'raftkit/viz';
 * const on: LessonNodes[] = ['all', 'majority', '3', ['1', '2']];
 * ```
 */
export type LessonNodes = 'all' | 'majority' | LessonTarget | readonly LessonTarget[];

/**
 * A role a condition can ask about: a Raft role, or `'stopped'` for a crashed node.
 *
 * @example
 * ```ts
 * import type { LessonRole } from 'raftkit/viz';
 * const roles: LessonRole[] = ['leader', 'follower', 'candidate', 'precandidate', 'stopped'];
 * ```
 */
export type LessonRole = 'leader' | 'follower' | 'candidate' | 'precandidate' | 'stopped';

/**
 * When a step ends: checked before its first event and after every event of the simulation,
 * so a step ends at the same virtual moment however time is sliced.
 *
 * - `{ leader: true }`: a leader the majority reaches; with `except`, not one of those nodes;
 *   with `termAbove`, in a term above that one (a number or a `'$name'` node's term when it was
 *   remembered).
 * - `{ leaderIs }`: that node is that leader.
 * - `{ committed, on? }`: the commit index reached `committed` on `on` (default `'majority'`).
 * - `{ applied, on? }`: likewise for the last applied index (default `'all'`).
 * - `{ entry, term?, on }`: the nodes hold an entry at that index (of that term).
 * - `{ role, node }`: the node is in that role (`'stopped'` once crashed).
 * - `{ someone }`: some running node is in that role.
 * - `{ termAbove, node }`: the node's term is above a number (or a remembered node's term).
 * - `{ snapshotInstalled }`: the node installed a snapshot sent by a leader.
 * - `{ compacted }`: the nodes hold a snapshot (their log starts after it).
 * - `{ member, voter? }`: whether the node is (`true`) or is not (`false`) a voter in the
 *   leader's membership.
 * - `{ converged: true }`: every running member has the leader's log, commit and applied index.
 * - `{ all }`, `{ any }`, `{ not }`: combinations.
 *
 * @example
 * ```ts
 * import type { LessonCondition } from 'raftkit/viz';
 * const conditions: LessonCondition[] = [
 *   { leader: true, except: ['$old'] },
 *   { committed: '$x', on: 'all' },
 *   { all: [{ role: 'follower', node: '$old' }, { converged: true }] },
 * ];
 * ```
 */
export type LessonCondition =
  | {
      /** A leader that the majority reaches. */
      readonly leader: true;
      /** Not one of these nodes. */
      readonly except?: readonly LessonTarget[];
      /** In a term above this one (a remembered node: its term when it was remembered). */
      readonly termAbove?: number | `$${string}`;
    }
  | {
      /** This node is that leader. */
      readonly leaderIs: LessonTarget;
    }
  | {
      /** The commit index reached this index. */
      readonly committed: LessonIndex;
      /** On these nodes (default `'majority'`). */
      readonly on?: LessonNodes;
    }
  | {
      /** The last applied index reached this index. */
      readonly applied: LessonIndex;
      /** On these nodes (default `'all'`). */
      readonly on?: LessonNodes;
    }
  | {
      /** The nodes hold an entry at this index. */
      readonly entry: LessonIndex;
      /** Of this term. */
      readonly term?: number;
      /** The nodes. */
      readonly on: LessonNodes;
    }
  | {
      /** The node is in this role. */
      readonly role: LessonRole;
      /** The node. */
      readonly node: LessonTarget;
    }
  | {
      /** Some running node is in this role. */
      readonly someone: LessonRole;
    }
  | {
      /** The node's term is above this one (a remembered node: its term when it was remembered). */
      readonly termAbove: number | `$${string}`;
      /** The node. */
      readonly node: LessonTarget;
    }
  | {
      /** The node installed a snapshot a leader sent it. */
      readonly snapshotInstalled: LessonTarget;
    }
  | {
      /** The nodes hold a snapshot. */
      readonly compacted: LessonNodes;
    }
  | {
      /** The node whose membership is asked about. */
      readonly member: LessonTarget;
      /** Whether it is a voter in the leader's membership. */
      readonly voter: boolean;
    }
  | {
      /** Every running member has the leader's log, commit and applied index. */
      readonly converged: true;
    }
  | {
      /** All of these hold. */
      readonly all: readonly LessonCondition[];
    }
  | {
      /** One of these holds. */
      readonly any: readonly LessonCondition[];
    }
  | {
      /** This does not hold. */
      readonly not: LessonCondition;
    };

/**
 * One step of a lesson: its actions run when it begins, its caption is shown while it lasts,
 * and it ends when `until` holds, after `forMs`, or at once (with neither). A step with `until`
 * that has not ended within `timeoutMs` (default 30,000) fails the lesson with a
 * {@link LessonError} `STEP_TIMEOUT`.
 *
 * The caption is plain text; `{leader}`, `{term}` (the leader's, or the highest), `{commit}`
 * (the leader's commit index), `{time}` and any name an action remembered (`{old}`) are
 * filled in when the step begins, after its actions.
 *
 * @example
 * ```ts
 * import type { LessonStep } from 'raftkit/viz';
 * const step: LessonStep = {
 *   caption: 'The leader {old} crashes. The others stop hearing its heartbeats…',
 *   actions: [{ do: 'crash', node: 'leader', as: 'old' }],
 *   until: { leader: true, except: ['$old'] },
 *   timeoutMs: 3_000,
 * };
 * ```
 */
export interface LessonStep {
  /** What the student reads during this step (plain text, with `{placeholders}`). */
  readonly caption: string;
  /** Done at the start of the step, in order. */
  readonly actions?: readonly LessonAction[];
  /** The step ends when this holds. */
  readonly until?: LessonCondition;
  /** Without `until`: how long the step lasts (virtual ms); with it, the least it lasts. */
  readonly forMs?: number;
  /** How long `until`, and a membership change among the actions, may take at most (virtual ms, default 30,000). */
  readonly timeoutMs?: number;
}

/**
 * A scripted run with captions, in the manner of The Secret Lives of Data: plain JSON data.
 *
 * @example
 * ```ts
 * import { LessonRun, type Lesson } from 'raftkit/viz';
 * const lesson: Lesson = {
 *   id: 'hello',
 *   title: 'Hello, Raft',
 *   summary: 'Three servers elect a leader.',
 *   cluster: { size: 3, seed: 1 },
 *   steps: [
 *     { caption: 'Three followers wait for a leader.', until: { leader: true } },
 *     { caption: '{leader} is leader of term {term}.', forMs: 200 },
 *   ],
 * };
 * const run = new LessonRun(lesson);
 * await run.runToEnd();
 * console.log(run.captions.at(-1)); // 1 is leader of term 1.
 * ```
 */
export interface Lesson {
  /** A short, stable id (`'leader-election'`), as the playground's `lesson` attribute names it. */
  readonly id: string;
  /** The title. */
  readonly title: string;
  /** One or two sentences: what the lesson shows. */
  readonly summary: string;
  /** The cluster it runs on. */
  readonly cluster: LessonCluster;
  /** Its steps, in order (at least one). */
  readonly steps: readonly LessonStep[];
}
