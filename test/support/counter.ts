/** A state machine for simulated runs: adds each command to a number, and snapshots it (so logs compact). */
export class Counter {
  n = 0;
  apply(by: number): number {
    return (this.n += by);
  }
  snapshot(): string {
    return String(this.n);
  }
  restore(snapshot: string): void {
    this.n = Number(snapshot);
  }
}
