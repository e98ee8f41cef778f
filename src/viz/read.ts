/**
 * Reading a trace into what the pictures draw: messages with their send and their fate, role
 * bands, outages and partitions. One pass, in trace order; kinds it does not know are skipped,
 * so a trace with newer kinds of events still draws. To draw a new kind of event, add it to
 * `KNOWN` (or `NODE_NOTES` and `OUTAGES`, for one about a node) and give it a case in
 * {@link readTrace}.
 */
import type { NodeId } from '../raft/types.js';
import type { TraceEvent } from '../sim/trace.js';
import { compareIds } from './svg.js';

/**
 * An event of a kind raftkit/viz does not draw (a newer trace's, or one of your own): the
 * pictures skip it.
 *
 * @example
 * ```ts
 * import { toMermaid, type OtherEvent } from 'raftkit/viz';
 * const mine: OtherEvent = { time: 5, kind: 'lecture-note' };
 * console.log(toMermaid([mine])); // a diagram with no participants
 * ```
 */
export interface OtherEvent {
  /** Virtual time of the event, in ms. */
  readonly time: number;
  /** What kind of event it is. */
  readonly kind: string;
}

/**
 * What the pictures draw: the events of `cluster.trace()` (or that array read back from JSON),
 * oldest first. Events of kinds they do not know are skipped.
 *
 * @example
 * ```ts
 * import { Cluster } from 'raftkit';
 * import { toMermaid, type DrawableTrace } from 'raftkit/viz';
 * const cluster = new Cluster({ size: 3, seed: 1 });
 * await cluster.waitForLeader();
 * const trace: DrawableTrace = JSON.parse(JSON.stringify(cluster.trace()));
 * console.log(toMermaid(trace).split('\n')[0]); // sequenceDiagram
 * ```
 */
export type DrawableTrace = readonly (TraceEvent | OtherEvent)[];

/** A message of the trace: its send (if the trace still holds it) and what became of it. */
export interface TracedMessage {
  readonly from: NodeId;
  readonly to: NodeId;
  readonly type: string;
  readonly term: number;
  readonly summary: string;
  /** When it was sent (undefined: before the trace's oldest event). */
  readonly sent: number | undefined;
  readonly fate: 'delivered' | 'dropped' | 'in flight';
  /** When it was delivered or dropped (undefined while in flight). */
  readonly at: number | undefined;
  readonly reason: string | undefined;
  /** An empty AppendEntries, or a successful answer to one. */
  readonly heartbeat: boolean;
  /** A second copy made by the network. */
  readonly duplicate: boolean;
  /** Where in the trace it is drawn: the event that settled it (in flight: the send). */
  readonly position: number;
}

/** A role change, a fault or a repair: what a picture shows as a note. */
export interface TracedNote {
  readonly time: number;
  readonly position: number;
  /** The node it concerns (undefined: the whole network). */
  readonly node: NodeId | undefined;
  readonly text: string;
}

/** A span of time a node spent in one role and term. */
export interface RoleSpan {
  readonly node: NodeId;
  readonly role: string;
  /** Undefined before the trace says the node's term. */
  readonly term: number | undefined;
  readonly start: number;
  readonly end: number;
}

/** A span of time a node was crashed, disconnected, paused or out of the cluster. */
export interface OutageSpan {
  readonly node: NodeId;
  /** 'crashed', 'disconnected', 'paused' or 'removed'. */
  readonly state: string;
  readonly start: number;
  readonly end: number;
}

/** A span of time the network was split into `groups`. */
export interface PartitionSpan {
  readonly groups: readonly (readonly NodeId[])[];
  readonly start: number;
  readonly end: number;
}

/** Everything a picture draws of a trace. */
export interface ReadTrace {
  /** Every node the trace names, sorted as people sort ids. */
  readonly nodes: readonly NodeId[];
  /** The times of the oldest and newest events (0, 0 for an empty trace). */
  readonly start: number;
  readonly end: number;
  readonly messages: readonly TracedMessage[];
  readonly notes: readonly TracedNote[];
  readonly roles: readonly RoleSpan[];
  readonly outages: readonly OutageSpan[];
  readonly partitions: readonly PartitionSpan[];
}

/** A fault that starts an outage: the event that ends it, and the state in between. */
const OUTAGES: Readonly<Record<string, { readonly until: string; readonly state: string }>> = {
  crash: { until: 'restart', state: 'crashed' },
  disconnect: { until: 'reconnect', state: 'disconnected' },
  pause: { until: 'resume', state: 'paused' },
  leave: { until: 'join', state: 'removed' },
};

/** How a note names each event about one node. */
const NODE_NOTES: Readonly<Record<string, string>> = {
  crash: 'crashed',
  restart: 'restarted',
  disconnect: 'disconnected',
  reconnect: 'reconnected',
  pause: 'paused',
  resume: 'resumed',
  join: 'joined',
  leave: 'left',
};

/** The kinds drawn (a term change moves a role band to its term); the pictures skip every other. */
const KNOWN: ReadonlySet<string> = new Set(['send', 'deliver', 'drop', 'role', 'term', 'partition', 'heal', ...Object.keys(NODE_NOTES)]);

type Fields = Readonly<Record<string, unknown>>;
const isString = (value: unknown): value is string => typeof value === 'string';
const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isBoolean = (value: unknown): value is boolean => typeof value === 'boolean';
const isGroups = (value: unknown): value is readonly (readonly string[])[] => Array.isArray(value) && value.every((group) => Array.isArray(group) && group.every(isString));

/** `{1, 2} | {3, 4, 5}` */
export function describeGroups(groups: readonly (readonly NodeId[])[]): string {
  return groups.map((group) => `{${group.join(', ')}}`).join(' | ');
}

/** Whether `m` goes between two of `nodes` and has one of `types` (any type if undefined). */
export function isBetween(m: TracedMessage, nodes: ReadonlySet<NodeId>, types: ReadonlySet<string> | undefined): boolean {
  return nodes.has(m.from) && nodes.has(m.to) && (types === undefined || types.has(m.type));
}

/**
 * A heartbeat: an AppendEntries that carries no entries (a send of trace version 1 says so with
 * its fields, an older one in its summary).
 */
const isEmptyAppend = (type: string, summary: string, e?: Fields): boolean =>
  type === 'AppendEntries' && (e !== undefined && isNumber(e['prevIndex']) ? e['entries'] === undefined : summary.startsWith('heartbeat'));

/**
 * Reads `trace` in one pass. A delivery or drop is paired with its send by message id, and a
 * second outcome of a send is a duplicate. (In a trace without ids, older than version 1, it is
 * paired with the oldest unpaired send of the same sender, receiver, type, term and summary:
 * equal messages are indistinguishable, so any pairing draws the same picture.) A node's term is
 * what its `term` events say (without them, as the messages it sends carry). An
 * AppendEntriesResponse is a heartbeat's when it succeeds and the last AppendEntries its sender
 * received on that link was a heartbeat.
 */
export function readTrace(trace: DrawableTrace): ReadTrace {
  const nodes = new Set<NodeId>();
  const messages: (TracedMessage | undefined)[] = [];
  const notes: TracedNote[] = [];
  const roles: RoleSpan[] = [];
  const outages: OutageSpan[] = [];
  const partitions: PartitionSpan[] = [];
  /** Unpaired sends (their index in `messages`) and the last paired one, by message key. */
  const unpaired = new Map<string, number[]>();
  const lastPaired = new Map<string, number>();
  /** Each message id's send, or once settled its outcome (their index in `messages`). */
  const byId = new Map<number, number>();
  const termEvents = trace.some((event) => (event as { kind?: unknown }).kind === 'term');
  /** Whether the last AppendEntries delivered on link from→to was a heartbeat. */
  const heartbeatLink = new Map<string, boolean>();
  /** Each running node's role span; the nodes crashed or removed have none. */
  const role = new Map<NodeId, { role: string; term: number | undefined; start: number }>();
  const stopped = new Set<NodeId>();
  const terms = new Map<NodeId, number>();
  const down = new Map<NodeId, Map<string, number>>();
  let partition: { groups: readonly (readonly NodeId[])[]; start: number } | undefined;
  const first = trace.find((event) => KNOWN.has(event.kind) && isNumber(event.time));
  const start = first?.time ?? 0;
  let end = start;

  /** A node the trace names: until the trace says otherwise, it was a follower from the start (of a term the trace does not say). */
  const see = (node: NodeId): void => {
    if (nodes.has(node)) return;
    nodes.add(node);
    role.set(node, { role: 'follower', term: undefined, start });
  };
  const closeRole = (node: NodeId, time: number): void => {
    const current = role.get(node);
    if (current !== undefined && time > current.start) roles.push({ node, ...current, end: time });
    role.delete(node);
  };
  /** From `time` on, `node` is `next` in `term`. */
  const setRole = (node: NodeId, next: string, term: number | undefined, time: number): void => {
    closeRole(node, time);
    stopped.delete(node);
    role.set(node, { role: next, term, start: time });
    if (term !== undefined) terms.set(node, term);
  };

  trace.forEach((event, position) => {
    const e = event as unknown as Fields;
    const time = e['time'];
    const kind = e['kind'];
    if (!isNumber(time) || !isString(kind) || !KNOWN.has(kind)) return;
    end = Math.max(end, time);
    const node = e['node'];
    switch (kind) {
      case 'send':
      case 'deliver':
      case 'drop': {
        const { from, to, type, term, summary, reason, id } = e;
        if (!isString(from) || !isString(to) || !isString(type) || !isNumber(term) || !isString(summary)) return;
        see(from);
        see(to);
        const hasId = isNumber(id);
        const key = hasId ? '' : JSON.stringify([from, to, type, term, summary]);
        if (kind === 'send') {
          // Without term events, a message carries its sender's current term (a pre-vote's, the
          // term it would campaign in): the trace's only word on a follower's term.
          const current = role.get(from);
          if (!termEvents && current !== undefined && !type.startsWith('PreVote') && (current.term === undefined || term > current.term)) setRole(from, current.role, term, time);
          const heartbeat = isEmptyAppend(type, summary, e) || (type === 'AppendEntriesResponse' && (isBoolean(e['success']) ? e['success'] : summary.startsWith('ok')) && heartbeatLink.get(`${to}\u0000${from}`) === true);
          const sent = { from, to, type, term, summary, sent: time, fate: 'in flight', at: undefined, reason: undefined, heartbeat, duplicate: false, position } as const;
          if (hasId) byId.set(id, messages.length);
          else {
            const queue = unpaired.get(key);
            if (queue === undefined) unpaired.set(key, [messages.length]);
            else queue.push(messages.length);
          }
          messages.push(sent);
          return;
        }
        let index: number | undefined;
        if (hasId) index = byId.get(id);
        const sentOne = index === undefined ? undefined : messages[index];
        if (kind === 'deliver' && type === 'AppendEntries') heartbeatLink.set(`${from}\u0000${to}`, sentOne?.heartbeat ?? isEmptyAppend(type, summary));
        if (!hasId) index = unpaired.get(key)?.shift() ?? lastPaired.get(key);
        const fate = kind === 'deliver' ? 'delivered' : 'dropped';
        const why = kind === 'drop' && isString(reason) ? reason : undefined;
        const sent = index === undefined ? undefined : messages[index];
        if (index !== undefined && sent !== undefined && sent.fate === 'in flight') {
          if (hasId) byId.set(id, messages.length); // where it is drawn now: a later outcome of the id is a copy's
          else lastPaired.set(key, index);
          messages[index] = undefined; // drawn where it settled
          messages.push({ ...sent, fate, at: time, reason: why, position });
        } else {
          // A duplicate of a settled message, or one whose send is older than the trace.
          const base = sent ?? { from, to, type, term, summary, sent: undefined, heartbeat: isEmptyAppend(type, summary) };
          messages.push({ ...base, fate, at: time, reason: why, duplicate: sent !== undefined, position });
        }
        return;
      }
      case 'role': {
        const { role: next, term } = e;
        if (!isString(node) || !isString(next) || !isNumber(term)) return;
        see(node);
        setRole(node, next, term, time);
        notes.push({ time, position, node, text: `${node} is ${next} (term ${term})` });
        return;
      }
      case 'term': {
        const { term } = e;
        if (!isString(node) || !isNumber(term)) return;
        see(node);
        const current = role.get(node);
        if (current === undefined) terms.set(node, term);
        else if (current.term !== term) setRole(node, current.role, term, time);
        return;
      }
      case 'partition': {
        const groups = e['groups'];
        if (!isGroups(groups)) return;
        for (const group of groups) for (const id of group) see(id);
        if (partition !== undefined) partitions.push({ ...partition, end: time });
        partition = { groups, start: time };
        notes.push({ time, position, node: undefined, text: `partition ${describeGroups(groups)}` });
        return;
      }
      case 'heal': {
        if (partition !== undefined) partitions.push({ ...partition, end: time });
        partition = undefined;
        notes.push({ time, position, node: undefined, text: 'network healed' });
        return;
      }
      default: {
        if (!isString(node)) return;
        if (kind === 'join' && !nodes.has(node)) {
          nodes.add(node); // a new node: it starts here
          stopped.add(node);
        }
        see(node);
        notes.push({ time, position, node, text: `${node} ${NODE_NOTES[kind] as string}` });
        const spans = down.get(node) ?? new Map<string, number>();
        down.set(node, spans);
        const outage = OUTAGES[kind];
        if (outage !== undefined) {
          if (!spans.has(outage.state)) spans.set(outage.state, time);
          if (kind === 'crash' || kind === 'leave') {
            closeRole(node, time);
            stopped.add(node);
          }
          return;
        }
        for (const [state, since] of spans) {
          if (Object.values(OUTAGES).find((o) => o.state === state)?.until !== kind) continue;
          outages.push({ node, state, start: since, end: time });
          spans.delete(state);
        }
        // A restarted node is a follower of the term it had persisted, until it says otherwise.
        if ((kind === 'restart' || kind === 'join') && stopped.has(node)) setRole(node, 'follower', terms.get(node), time);
      }
    }
  });

  for (const node of [...role.keys()]) closeRole(node, end);
  for (const [node, spans] of down) for (const [state, since] of spans) outages.push({ node, state, start: since, end });
  if (partition !== undefined) partitions.push({ ...partition, end });
  return {
    nodes: [...nodes].sort(compareIds),
    start,
    end,
    messages: messages.filter((m): m is TracedMessage => m !== undefined).sort((a, b) => a.position - b.position),
    notes,
    roles,
    outages,
    partitions,
  };
}
