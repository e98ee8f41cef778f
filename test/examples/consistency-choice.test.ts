import { describe, expect, it } from 'vitest';
import { consistencyChoiceExample } from '../../src/examples/consistency-choice.js';

describe('"CAP is not a one-time choice" example', () => {
  it('sells the seat once through Raft and keeps the AP store writable on both sides of a partition', async () => {
    const lines = await consistencyChoiceExample(42);
    expect(lines[0]).toMatch(/^strong \(Raft\): seat 12A sold to (alice|bob); 1 other buyer refused$/);
    expect(lines.slice(1)).toEqual([
      'eventual (AP), partitioned: eu sees 1 key, us sees 1; both accepted their writes',
      "alice's session on us: refused (us has not seen her write: read-your-writes)",
      'after the heal: eu and us both hold "viewed by alice" and "viewed by bob"',
      `alice's session on us: ["seat 12A"]`,
    ]);
  });

  it('is deterministic by seed', async () => {
    expect(await consistencyChoiceExample(7)).toEqual(await consistencyChoiceExample(7));
  });
});
