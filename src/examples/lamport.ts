import { LamportClock } from '../clocks/lamport.js';

/**
 * The Lamport clock example from the introductory text: process A sends a message to B, B
 * receives it, then B has an internal event. Returns the three lines the text prints.
 *
 * @example
 * ```ts
 * import { lamportExample } from 'raftkit';
 * for (const line of lamportExample()) console.log(line);
 * // A sends at time: 1
 * // B after receiving: 2
 * // B after internal event: 3
 * ```
 */
export function lamportExample(): string[] {
  const a = new LamportClock();
  const b = new LamportClock();
  const sentAt = a.send();
  const receivedAt = b.receive(sentAt);
  const internalAt = b.tick();
  return [`A sends at time: ${sentAt}`, `B after receiving: ${receivedAt}`, `B after internal event: ${internalAt}`];
}
