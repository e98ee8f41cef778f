/** CRC-32C against its published check value and a bitwise reference, at every alignment. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { crc32c } from '../../src/node-only/crc32c.js';

/** The definition, one bit at a time. */
function reference(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? 0x82f63b78 ^ (crc >>> 1) : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('crc32c', () => {
  it('gives the check value of "123456789" (0xE3069283)', () => {
    expect(crc32c(new TextEncoder().encode('123456789'))).toBe(0xe3069283);
    expect(crc32c(new Uint8Array(0))).toBe(0);
  });

  it('matches the bitwise definition on any bytes, at any offset into any buffer', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(7), fc.nat(7), (data, before, after) => {
        const buffer = new Uint8Array(before + data.length + after);
        buffer.set(data, before);
        expect(crc32c(buffer, before, before + data.length)).toBe(reference(data));
        expect(crc32c(buffer.subarray(before, before + data.length))).toBe(reference(data));
      }),
      { numRuns: 500 },
    );
  });
});
