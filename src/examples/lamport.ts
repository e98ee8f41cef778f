import { LamportClock } from '../clocks/lamport.js';

/**
 * The Lamport clock example from the introductory text: process A sends a message to B, B
 * receives it, then B has an internal event. Returns the three lines the text prints
 * (`raftkit demo` prints them; not part of the library's API).
 */
export function lamportExample(): string[] {
  const a = new LamportClock();
  const b = new LamportClock();
  const sentAt = a.send();
  const receivedAt = b.receive(sentAt);
  const internalAt = b.tick();
  return [`A sends at time: ${sentAt}`, `B after receiving: ${receivedAt}`, `B after internal event: ${internalAt}`];
}
