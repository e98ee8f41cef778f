/**
 * Generated message-passing histories for the clock laws, and happens-before computed from them
 * independently of any clock: the transitive closure of program order plus send → receive edges.
 */
import fc from 'fast-check';

export type EventKind = 'local' | 'send' | 'receive';

/** One generated step; numbers are reduced modulo what is available when the history is built. */
export interface Step {
  process: number;
  kind: EventKind;
  /** Which earlier message (sent by another process) a receive delivers. */
  pick: number;
  /** How far true time moves before this step (for physical clocks). */
  advanceMs: number;
  /** How far ahead of true time this process's physical clock reads, before clamping. */
  jitterMs: number;
}

export interface HistorySpec {
  processes: number;
  maxSkewMs: number;
  steps: Step[];
}

export interface HistoryEvent {
  id: number;
  process: number;
  kind: EventKind;
  /** For a receive: the id of the send event whose message is delivered. */
  from?: number;
  /** Physical time this process's clock reads at the event: never decreasing per process, within [t, t + maxSkewMs]. */
  physicalMs: number;
}

export interface History {
  processes: number;
  maxSkewMs: number;
  events: HistoryEvent[];
  /** True iff event a happened before event b (a ≠ b). */
  happensBefore(a: number, b: number): boolean;
}

export const MAX_EVENTS = 40;

export const historySpec: fc.Arbitrary<HistorySpec> = fc.record({
  processes: fc.integer({ min: 2, max: 5 }),
  maxSkewMs: fc.integer({ min: 0, max: 50 }),
  steps: fc.array(
    fc.record({
      process: fc.nat({ max: 4 }),
      kind: fc.constantFrom<EventKind>('local', 'send', 'receive'),
      pick: fc.nat(),
      advanceMs: fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 20 })),
      jitterMs: fc.nat({ max: 50 }),
    }),
    { maxLength: MAX_EVENTS, size: 'max' }, // 'max': the default size would rarely pass ~10 events
  ),
});

export function buildHistory(spec: HistorySpec): History {
  const { processes, maxSkewMs } = spec;
  const events: HistoryEvent[] = [];
  const ancestors: bigint[] = []; // bit i set ⇔ event i happened before this one
  const lastOf: (number | undefined)[] = new Array<number | undefined>(processes).fill(undefined);
  const physical: number[] = new Array<number>(processes).fill(0);
  const sends: HistoryEvent[] = [];
  let trueTime = 0;

  for (const step of spec.steps) {
    const process = step.process % processes;
    trueTime += step.advanceMs;
    // Forward-only physical clock, at most maxSkewMs ahead of true time (and never behind it).
    physical[process] = Math.max(physical[process] ?? 0, trueTime + (step.jitterMs % (maxSkewMs + 1)));
    const id = events.length;
    const event: HistoryEvent = { id, process, kind: step.kind, physicalMs: physical[process] ?? 0 };
    let before = 0n;
    const previous = lastOf[process];
    if (previous !== undefined) before |= (ancestors[previous] ?? 0n) | (1n << BigInt(previous));
    if (step.kind === 'receive') {
      const candidates = sends.filter((send) => send.process !== process);
      const message = candidates[step.pick % Math.max(1, candidates.length)];
      if (message === undefined) event.kind = 'local'; // nothing to receive yet
      else {
        event.from = message.id;
        before |= (ancestors[message.id] ?? 0n) | (1n << BigInt(message.id));
      }
    }
    if (event.kind === 'send') sends.push(event);
    events.push(event);
    ancestors.push(before);
    lastOf[process] = id;
  }

  return {
    processes,
    maxSkewMs,
    events,
    happensBefore: (a, b) => (((ancestors[b] ?? 0n) >> BigInt(a)) & 1n) === 1n,
  };
}

export const history: fc.Arbitrary<History> = historySpec.map(buildHistory);

/** Throws with `message` unless `condition`: cheaper than `expect` inside O(n²) loops. */
export function check(condition: boolean, message: () => string): void {
  if (!condition) throw new Error(message());
}
