import { describe, it, expect } from 'vitest';
import { lamportExample } from '../../src/examples/lamport.js';

describe('Lamport clock seed example', () => {
  it('prints exactly what the text prints', () => {
    expect(lamportExample()).toEqual(['A sends at time: 1', 'B after receiving: 2', 'B after internal event: 3']);
  });
});
