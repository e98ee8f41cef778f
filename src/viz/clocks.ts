import { LamportClock } from '../clocks/lamport.js';
import { VectorClock, compareVectors, type VectorTimestamp } from '../clocks/vector.js';
import { HALO, arrowDefs, drawLanes, el, label, lanes, markerId, svgDocument, tooltip } from './svg.js';

/**
 * One event of a run of processes exchanging messages, as the clocks pictures take it: an
 * internal event, a send to another process, or a receive from one (of the oldest message from
 * that process not yet received: channels are FIFO).
 *
 * @example
 * ```ts
 * import type { ClockStep } from 'raftkit/viz';
 * const steps: ClockStep[] = [
 *   { process: 'A', kind: 'send', to: 'B' },
 *   { process: 'B', kind: 'receive', from: 'A' },
 *   { process: 'B', kind: 'local', label: 'writes x' },
 * ];
 * ```
 */
export type ClockStep =
  | {
      /** The process that acts. */
      readonly process: string;
      /** An event inside the process. */
      readonly kind: 'local';
      /** What the picture calls the event (default "internal event"). */
      readonly label?: string;
    }
  | {
      /** The process that sends. */
      readonly process: string;
      /** A message sent. */
      readonly kind: 'send';
      /** The process it is sent to. */
      readonly to: string;
      /** What the picture calls the event (default "sends to …"). */
      readonly label?: string;
    }
  | {
      /** The process that receives. */
      readonly process: string;
      /** A message received: the oldest from `from` not yet received. */
      readonly kind: 'receive';
      /** The process that sent it. */
      readonly from: string;
      /** What the picture calls the event (default "receives from …"). */
      readonly label?: string;
    };

/**
 * An event of a {@link ClockStep} run with its Lamport and vector timestamps, as
 * {@link timestampEvents} computes them with {@link LamportClock} and {@link VectorClock}.
 *
 * @example
 * ```ts
 * import { lamportExampleSteps, timestampEvents, type TimestampedEvent } from 'raftkit/viz';
 * const [send]: TimestampedEvent[] = timestampEvents(lamportExampleSteps);
 * console.log(send?.id, send?.lamport, send?.vector); // A1 1 { A: 1 }
 * ```
 */
export interface TimestampedEvent {
  /** The process's name and the event's number on it, from 1 (`A1`, `B2`). */
  readonly id: string;
  /** Its position in the steps, from 0. */
  readonly step: number;
  /** The process. */
  readonly process: string;
  /** What the process did. */
  readonly kind: ClockStep['kind'];
  /** The step's label, or one made from it ("sends to B"). */
  readonly label: string;
  /** The process's Lamport time after the event. */
  readonly lamport: number;
  /** The process's vector timestamp after the event. */
  readonly vector: VectorTimestamp;
  /** A receive's send, or a send's receive (if it was received). */
  readonly partner: string | undefined;
  /** The events neither before nor after this one (`compareVectors` says `'concurrent'`), in step order. */
  readonly concurrentWith: readonly string[];
}

/**
 * What {@link toClocksSvg} draws.
 *
 * @example
 * ```ts
 * import type { ClocksSvgOptions } from 'raftkit/viz';
 * const options: ClocksSvgOptions = { timestamps: 'vector', focus: 'B2' };
 * ```
 */
export interface ClocksSvgOptions {
  /** Which timestamps label the events (default `'both'`). */
  readonly timestamps?: 'lamport' | 'vector' | 'both';
  /** An event id (`'B2'`): its causal past is coloured blue, its future green, the events concurrent with it amber. */
  readonly focus?: string;
  /** The picture's accessible name (its `<title>`). */
  readonly title?: string;
}

/**
 * The Lamport clock example of the introductory text, which `raftkit demo` prints: A sends a
 * message (time 1), B receives it (2), then B has an internal event (3).
 *
 * @example
 * ```ts
 * import { lamportExampleSteps, timestampEvents } from 'raftkit/viz';
 * console.log(timestampEvents(lamportExampleSteps).map((e) => `${e.label}: ${e.lamport}`));
 * // [ 'A sends: 1', 'B receives: 2', 'B internal event: 3' ]
 * ```
 */
export const lamportExampleSteps: readonly ClockStep[] = Object.freeze([
  { process: 'A', kind: 'send', to: 'B', label: 'A sends' },
  { process: 'B', kind: 'receive', from: 'A', label: 'B receives' },
  { process: 'B', kind: 'local', label: 'B internal event' },
]);

/**
 * Three processes whose vector timestamps show what Lamport times cannot: A3 has a smaller
 * Lamport time than B2 but is concurrent with it, and so are C1 and C2.
 *
 * @example
 * ```ts
 * import { timestampEvents, vectorExampleSteps } from 'raftkit/viz';
 * const b2 = timestampEvents(vectorExampleSteps).find((e) => e.id === 'B2');
 * console.log(b2?.concurrentWith); // [ 'C1', 'C2', 'A3' ]
 * ```
 */
export const vectorExampleSteps: readonly ClockStep[] = Object.freeze([
  { process: 'A', kind: 'local' },
  { process: 'A', kind: 'send', to: 'B' },
  { process: 'C', kind: 'local' },
  { process: 'B', kind: 'receive', from: 'A' },
  { process: 'C', kind: 'send', to: 'B' },
  { process: 'B', kind: 'local' },
  { process: 'B', kind: 'receive', from: 'C' },
  { process: 'A', kind: 'local' },
  { process: 'B', kind: 'send', to: 'A' },
  { process: 'A', kind: 'receive', from: 'B' },
]);

/** The processes of `steps`, in the order they are first named. */
function processesOf(steps: readonly ClockStep[]): string[] {
  const names = new Set<string>();
  for (const step of steps) {
    names.add(step.process);
    names.add(step.kind === 'send' ? step.to : step.kind === 'receive' ? step.from : step.process);
  }
  return [...names];
}

/**
 * Runs `steps` with a {@link LamportClock} and a {@link VectorClock} per process and returns
 * every event with its timestamps, its partner and the events concurrent with it.
 *
 * @throws RangeError for a receive with no message waiting from that process.
 *
 * @example
 * ```ts
 * import { timestampEvents } from 'raftkit/viz';
 * const events = timestampEvents([
 *   { process: 'A', kind: 'local' },
 *   { process: 'B', kind: 'local' },
 * ]);
 * console.log(events.map((e) => `${e.id} ${JSON.stringify(e.vector)} ∥ ${e.concurrentWith.join(',')}`));
 * // [ 'A1 {"A":1} ∥ B1', 'B1 {"B":1} ∥ A1' ]
 * ```
 */
export function timestampEvents(steps: readonly ClockStep[]): TimestampedEvent[] {
  const lamport = new Map<string, LamportClock>();
  const vector = new Map<string, VectorClock>();
  const counts = new Map<string, number>();
  /** Messages sent and not yet received, per channel `from → to`: the send's id and timestamps. */
  const channels = new Map<string, { id: string; step: number; lamport: number; vector: VectorTimestamp }[]>();
  const partners = new Map<string, string>();
  const events: Omit<TimestampedEvent, 'partner' | 'concurrentWith'>[] = [];

  steps.forEach((step, i) => {
    const p = step.process;
    const clock = lamport.get(p) ?? new LamportClock();
    const vclock = vector.get(p) ?? new VectorClock(p);
    lamport.set(p, clock);
    vector.set(p, vclock);
    const n = (counts.get(p) ?? 0) + 1;
    counts.set(p, n);
    const id = `${p}${n}`;
    let time: number;
    let stamp: VectorTimestamp;
    let text: string;
    if (step.kind === 'send') {
      time = clock.send();
      stamp = vclock.send();
      text = `sends to ${step.to}`;
      const key = JSON.stringify([p, step.to]);
      channels.set(key, [...(channels.get(key) ?? []), { id, step: i, lamport: time, vector: stamp }]);
    } else if (step.kind === 'receive') {
      const waiting = channels.get(JSON.stringify([step.from, p]));
      const sent = waiting?.shift();
      if (sent === undefined) throw new RangeError(`timestampEvents: step ${i}: ${p} receives from ${step.from}, which has sent it nothing it has not received`);
      time = clock.receive(sent.lamport);
      stamp = vclock.receive(sent.vector);
      text = `receives from ${step.from}`;
      partners.set(id, sent.id).set(sent.id, id);
    } else {
      time = clock.tick();
      stamp = vclock.tick();
      text = 'internal event';
    }
    events.push({ id, step: i, process: p, kind: step.kind, label: step.label ?? text, lamport: time, vector: stamp });
  });

  return events.map((event) => ({
    ...event,
    partner: partners.get(event.id),
    concurrentWith: events.filter((other) => other !== event && compareVectors(event.vector, other.vector) === 'concurrent').map((other) => other.id),
  }));
}

const LANE = 190;
const LEFT = 20;
const TOP = 48;
const ROW = 50;
const FOCUS_COLOURS = { focus: '#cf222e', before: '#0969da', after: '#1a7f37', concurrent: '#bf8700', none: '#24292f' } as const;

/**
 * A space-time diagram of logical clocks as an SVG document, drawn as
 * {@link toSpaceTimeSvg} draws a run (a lane per process, time flowing down, one row per
 * step): each event a dot labelled with its Lamport time and vector timestamp (entries in the
 * order of the lanes), each message an arrow from its send to its receive. An event concurrent
 * with others has a dashed amber ring and lists them (`∥ C1, C2`); with `focus`, the focused
 * event's past, future and concurrent events are coloured. Same steps, same string; a viewBox, a
 * `<title>` and a `<desc>`, every text escaped. Dots have class `rk-event` (and `rk-concurrent`),
 * arrows `rk-msg`.
 *
 * @throws RangeError as {@link timestampEvents} does.
 *
 * @example
 * ```ts
 * import { lamportExampleSteps, toClocksSvg, vectorExampleSteps } from 'raftkit/viz';
 * const lamport = toClocksSvg(lamportExampleSteps, { timestamps: 'lamport' });
 * console.log(lamport.match(/class="rk-event/g)?.length); // 3
 * const vector = toClocksSvg(vectorExampleSteps, { focus: 'B2' });
 * console.log(vector.includes('concurrent with B2')); // true
 * ```
 */
export function toClocksSvg(steps: readonly ClockStep[], options: ClocksSvgOptions = {}): string {
  const events = timestampEvents(steps);
  const processes = processesOf(steps);
  const shown = options.timestamps ?? 'both';
  const layout = lanes(processes, LEFT, LANE);
  const y = (step: number) => TOP + 24 + step * ROW;
  const bottom = y(Math.max(steps.length - 1, 0)) + 40;
  const byId = new Map(events.map((event) => [event.id, event]));
  const focus = options.focus === undefined ? undefined : byId.get(options.focus);
  if (options.focus !== undefined && focus === undefined) throw new RangeError(`toClocksSvg: no event ${JSON.stringify(options.focus)} (ids are the process name and a number: ${events.map((e) => e.id).join(', ')})`);
  const relation = (event: TimestampedEvent): keyof typeof FOCUS_COLOURS => {
    if (focus === undefined) return 'none';
    if (event === focus) return 'focus';
    const order = compareVectors(event.vector, focus.vector);
    return order === 'before' ? 'before' : order === 'after' ? 'after' : 'concurrent';
  };
  const vectorText = (v: VectorTimestamp) => `[${processes.map((p) => v[p] ?? 0).join(', ')}]`;

  const body: string[] = [arrowDefs('clocks', ['#57606a']), ...drawLanes(layout, TOP, bottom)];
  for (const event of events) {
    if (event.kind !== 'send' || event.partner === undefined) continue;
    const to = byId.get(event.partner) as TimestampedEvent;
    body.push(
      el(
        'g',
        { class: 'rk-msg', 'data-from': event.id, 'data-to': to.id },
        tooltip(`message ${event.id} to ${to.id}`) + el('line', { x1: layout.x(event.process), y1: y(event.step), x2: layout.x(to.process), y2: y(to.step), stroke: '#57606a', 'stroke-width': 1.4, 'marker-end': `url(#${markerId('clocks', '#57606a')})` }),
      ),
    );
  }
  for (const event of events) {
    const x = layout.x(event.process);
    const cy = y(event.step);
    const colour = FOCUS_COLOURS[relation(event)];
    const stamps = [shown !== 'vector' ? `L ${event.lamport}` : '', shown !== 'lamport' ? `V ${vectorText(event.vector)}` : ''].filter((s) => s !== '').join('  ');
    const concurrent = event.concurrentWith.length > 0;
    const details =
      `${event.id}: ${event.label}. Lamport time ${event.lamport}, vector ${vectorText(event.vector)}.` +
      (concurrent ? ` Concurrent with ${event.concurrentWith.join(', ')}.` : ' Ordered with every other event.') +
      (focus !== undefined && event !== focus ? ` ${relation(event) === 'concurrent' ? 'concurrent with' : relation(event) === 'before' ? 'happened before' : 'happened after'} ${focus.id}.` : '');
    body.push(
      el(
        'g',
        { class: `rk-event${concurrent ? ' rk-concurrent' : ''}`, 'data-id': event.id, 'data-lamport': event.lamport },
        tooltip(details) +
          (concurrent ? el('circle', { cx: x, cy, r: 10, fill: 'none', stroke: '#bf8700', 'stroke-width': 1.2, 'stroke-dasharray': '3 2' }) : '') +
          el('circle', { cx: x, cy, r: event === focus ? 7 : 5, fill: colour }) +
          label(x + 14, cy - 4, `${event.id} ${event.label}`, { ...HALO, 'font-size': 11, 'font-weight': 'bold', fill: colour }) +
          label(x + 14, cy + 9, stamps, { ...HALO, 'font-size': 10, 'font-family': 'ui-monospace, monospace' }) +
          (concurrent ? label(x + 14, cy + 21, `\u2225 ${event.concurrentWith.join(', ')}`, { ...HALO, 'font-size': 9, fill: '#9a6700' }) : ''),
      ),
    );
  }
  const width = layout.right + 40;
  const description =
    `${processes.length} processes (${processes.join(', ')}), ${events.length} events, time flowing down. ` +
    events.map((e) => `${e.id} ${e.label}: Lamport ${e.lamport}, vector ${vectorText(e.vector)}${e.concurrentWith.length > 0 ? `, concurrent with ${e.concurrentWith.join(', ')}` : ''}`).join('; ') +
    (focus === undefined ? '.' : `. Focus on ${focus.id}: its past in blue, its future in green, concurrent events in amber.`);
  return svgDocument('clocks', width, bottom + 10, options.title ?? `Logical clocks of ${processes.join(', ')}`, description, body);
}
