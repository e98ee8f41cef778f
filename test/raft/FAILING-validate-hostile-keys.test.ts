/**
 * FAILING (bug in src/raft/messages.ts, validateMessage): the issue requires that messages
 * carrying `__proto__` or `constructor` keys are rejected as hostile. Today validateMessage
 * ignores unknown keys, so `JSON.parse('{"__proto__":{…},…valid fields…}')` passes validation
 * and reaches the core (and, inside entries, the log and the user's Storage, where any
 * `Object.assign`/deep-merge of an entry would then rewrite prototypes).
 */
import { describe, expect, it } from 'vitest';
import { validateMessage } from '../../src/raft/messages.js';

const LIMITS = { maxEntries: 64 };

const RV = '"type":"RequestVote","from":"a","to":"b","term":5,"lastLogIndex":1,"lastLogTerm":1';
const AE_HEAD = '"type":"AppendEntries","from":"a","to":"b","term":5,"prevLogIndex":0,"prevLogTerm":0,"leaderCommit":0';

describe('validateMessage rejects __proto__ / constructor keys', () => {
  it.each([
    ['a top-level "__proto__" key', `{"__proto__":{"x":1},${RV}}`],
    ['a top-level "__proto__" key holding null', `{"__proto__":null,${RV}}`],
    ['a top-level "constructor" key', `{"constructor":{"prototype":{"x":1}},${RV}}`],
    ['a "__proto__" key in an entry', `{${AE_HEAD},"entries":[{"__proto__":{"x":1},"index":1,"term":1,"kind":"noop"}]}`],
    ['a "constructor" key in an entry', `{${AE_HEAD},"entries":[{"constructor":{"prototype":{"x":1}},"index":1,"term":1,"kind":"noop"}]}`],
  ])('%s', (_name, json) => {
    const raw: unknown = JSON.parse(json);
    // Sanity: without the hostile key the same message is valid.
    const clean = JSON.parse(json) as Record<string, unknown>;
    delete clean['__proto__'];
    delete clean['constructor'];
    if (Array.isArray(clean['entries'])) {
      for (const e of clean['entries'] as Record<string, unknown>[]) {
        delete e['__proto__'];
        delete e['constructor'];
      }
    }
    expect(validateMessage(clean, LIMITS)).toBe(clean);
    expect(typeof validateMessage(raw, LIMITS)).toBe('string');
  });
});
