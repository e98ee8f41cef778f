/**
 * FAILING (bug in src/raft/messages.ts, validateMessage): its documentation promises "Never
 * throws", and the brief says an invalid message is never thrown into the caller. An in-process
 * transport can hand over objects whose reads throw (a revoked Proxy, a throwing getter); then
 * validateMessage throws instead of returning a reason. (RaftNode now guards against this
 * itself; see test/node/hostile.test.ts.)
 */
import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../src/raft/messages.js';

const LIMITS = { maxEntries: 64 };

describe('validateMessage never throws', () => {
  it('on a revoked Proxy', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    let result: unknown;
    expect(() => {
      result = validateMessage(proxy, LIMITS);
    }).not.toThrow();
    expect(typeof result).toBe('string');
  });

  it('on an object whose getter throws', () => {
    const hostile = {
      type: 'RequestVote',
      get from(): string {
        throw new Error('boom');
      },
      to: 'b',
      term: 1,
      lastLogIndex: 0,
      lastLogTerm: 0,
    };
    let result: unknown;
    expect(() => {
      result = validateMessage(hostile, LIMITS);
    }).not.toThrow();
    expect(typeof result).toBe('string');
  });

  it('on an entries array whose element getter throws', () => {
    const entries: unknown[] = [];
    Object.defineProperty(entries, 0, {
      get() {
        throw new Error('boom');
      },
    });
    const hostile = { type: 'AppendEntries', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0 };
    let result: unknown;
    expect(() => {
      result = validateMessage(hostile, LIMITS);
    }).not.toThrow();
    expect(typeof result).toBe('string');
  });
});
