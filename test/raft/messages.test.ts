/**
 * validateMessage: the gate between an untrusted transport and the Raft core. Well-formed
 * messages of every type pass (and come back as the very same object); anything malformed or
 * hostile comes back as a string saying why, without throwing or touching the input.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { validateMessage, type AppendEntries, type Message, type ValidationLimits } from '../../src/raft/messages.js';
import type { LogEntry } from '../../src/raft/types.js';
import { propertyParams } from '../support/runs.js';

const LIMITS: ValidationLimits = { maxEntries: 64 };
const UNSAFE = Number.MAX_SAFE_INTEGER + 1; // 2^53: an integer, but not a safe one

type Raw = Record<string, unknown>;

const rv = (over: Raw = {}): Raw => ({ type: 'RequestVote', from: 'a', to: 'b', term: 5, lastLogIndex: 9, lastLogTerm: 4, ...over });
const rvr = (over: Raw = {}): Raw => ({ type: 'RequestVoteResponse', from: 'b', to: 'a', term: 5, voteGranted: true, ...over });
const aer = (over: Raw = {}): Raw => ({
  type: 'AppendEntriesResponse',
  from: 'b',
  to: 'a',
  term: 5,
  success: false,
  index: 7,
  conflictIndex: 3,
  conflictTerm: 2,
  ...over,
});
const entry = (index: number, term: number, over: Raw = {}): Raw => ({ index, term, kind: 'command', command: { n: index }, ...over });
const ae = (over: Raw = {}): Raw => ({
  type: 'AppendEntries',
  from: 'a',
  to: 'b',
  term: 5,
  prevLogIndex: 3,
  prevLogTerm: 2,
  entries: [entry(4, 2), entry(5, 3, { kind: 'noop', command: undefined }), entry(6, 5)],
  leaderCommit: 4,
  ...over,
});

const builders = { RequestVote: rv, RequestVoteResponse: rvr, AppendEntriesResponse: aer, AppendEntries: ae } as const;

/** A JSON snapshot of `raw` to detect mutation, or undefined when it has none (bigint, huge arrays …). */
function snapshot(raw: unknown): string | undefined {
  try {
    return JSON.stringify(raw);
  } catch {
    return undefined;
  }
}

/** Asserts rejection: a non-empty string, and the input is left exactly as it was. */
function expectRejected(raw: unknown, limits: ValidationLimits = LIMITS): string {
  const before = snapshot(raw);
  const result = validateMessage(raw, limits);
  expect(typeof result, `expected ${before?.slice(0, 200)} to be rejected`).toBe('string');
  expect((result as string).length).toBeGreaterThan(0);
  if (before !== undefined) expect(snapshot(raw)).toBe(before);
  return result as string;
}

function expectAccepted(raw: unknown, limits: ValidationLimits = LIMITS): void {
  const before = JSON.stringify(raw);
  const result = validateMessage(raw, limits);
  expect(result, `expected ${before.slice(0, 200)} to be accepted, got ${typeof result === 'string' ? result : 'another object'}`).toBe(raw);
  expect(JSON.stringify(raw)).toBe(before);
}

describe('validateMessage accepts every well-formed message', () => {
  it.each(Object.entries(builders))('%s', (_type, build) => {
    expectAccepted(build());
    // and after a JSON round trip (what a network transport would hand over)
    expectAccepted(JSON.parse(JSON.stringify(build())));
  });

  it('accepts zero terms and indexes, the largest safe integers, and -0', () => {
    expectAccepted(rv({ term: 0, lastLogIndex: 0, lastLogTerm: 0 }));
    expectAccepted(rv({ term: Number.MAX_SAFE_INTEGER, lastLogIndex: Number.MAX_SAFE_INTEGER, lastLogTerm: Number.MAX_SAFE_INTEGER }));
    expectAccepted(aer({ index: 0, conflictIndex: 0, conflictTerm: 0, success: true }));
    expectAccepted(rvr({ term: -0 }));
  });

  it('accepts heartbeats, a single noop, and exactly maxEntries entries', () => {
    expectAccepted(ae({ entries: [] }));
    expectAccepted(ae({ prevLogIndex: 0, prevLogTerm: 0, term: 1, entries: [{ index: 1, term: 1, kind: 'noop' }], leaderCommit: 0 }));
    const full = Array.from({ length: LIMITS.maxEntries }, (_, i) => entry(4 + i, 5));
    expectAccepted(ae({ entries: full }));
  });

  it('accepts a leaderCommit beyond the entries carried (the core clamps it) and extra unknown fields', () => {
    expectAccepted(ae({ leaderCommit: 1_000 }));
    expectAccepted(rv({ extra: 'ignored', nested: { deep: [1, 2] } }));
  });

  it('accepts objects without a prototype (e.g. from a parser that builds them)', () => {
    expectAccepted(Object.assign(Object.create(null) as object, rv()));
  });
});

describe('validateMessage rejects what is not an object', () => {
  const valid = rv();
  it.each<[string, unknown]>([
    ['null', null],
    ['undefined', undefined],
    ['a number', 42],
    ['NaN', NaN],
    ['a boolean', true],
    ['a bigint', 5n],
    ['a symbol', Symbol('RequestVote')],
    ['a function', () => valid],
    ['a string', 'RequestVote'],
    ['the JSON text of a valid message', JSON.stringify(valid)],
    ['an empty array', []],
    ['an array holding a valid message', [valid]],
    ['an array with the fields of a valid message', Object.assign([], valid)],
    ['an empty object', {}],
  ])('%s', (_name, raw) => {
    expect(typeof validateMessage(raw, LIMITS)).toBe('string');
  });
});

describe('validateMessage rejects malformed fields', () => {
  /** Values no term, index or count may take. */
  const badNumbers: Array<[string, unknown]> = [
    ['negative', -1],
    ['very negative', -Number.MAX_SAFE_INTEGER],
    ['NaN', NaN],
    ['fractional', 1.5],
    ['Infinity', Infinity],
    ['-Infinity', -Infinity],
    ['2^53 (> MAX_SAFE_INTEGER)', UNSAFE],
    ['1e300', 1e300],
    ['a numeric string', '5'],
    ['a bigint', 5n],
    ['null', null],
    ['a boolean', true],
    ['an object', { valueOf: () => 5 }],
    ['an array', [5]],
    ['a boxed number', Object(5)],
  ];
  const badIds: Array<[string, unknown]> = [
    ['empty', ''],
    ['a number', 1],
    ['null', null],
    ['an array', ['a']],
    ['an object', { id: 'a' }],
    ['a boxed string', Object('a')],
    ['absurdly long (100k chars)', 'x'.repeat(100_000)],
  ];
  const badBooleans: Array<[string, unknown]> = [
    ['a string', 'true'],
    ['a number', 1],
    ['null', null],
    ['a boxed boolean', Object(true)],
  ];

  const numericFields: Record<keyof typeof builders, string[]> = {
    RequestVote: ['term', 'lastLogIndex', 'lastLogTerm'],
    RequestVoteResponse: ['term'],
    AppendEntriesResponse: ['term', 'index', 'conflictIndex', 'conflictTerm'],
    AppendEntries: ['term', 'prevLogIndex', 'prevLogTerm', 'leaderCommit'],
  };
  const booleanFields: Partial<Record<keyof typeof builders, string>> = {
    RequestVoteResponse: 'voteGranted',
    AppendEntriesResponse: 'success',
  };

  for (const [type, build] of Object.entries(builders) as Array<[keyof typeof builders, (over?: Raw) => Raw]>) {
    describe(type, () => {
      const required = Object.keys(build()).filter((k) => k !== 'command');
      it.each(required)('missing %s', (field) => {
        const raw = build();
        delete raw[field];
        expectRejected(raw);
        expectRejected({ ...build(), [field]: undefined });
      });

      for (const field of numericFields[type]) {
        it.each(badNumbers)(`${field}: %s`, (_name, value) => {
          expectRejected(build({ [field]: value }));
        });
      }
      for (const field of ['from', 'to']) {
        it.each(badIds)(`${field}: %s`, (_name, value) => {
          expectRejected(build({ [field]: value }));
        });
      }
      const boolField = booleanFields[type];
      if (boolField !== undefined) {
        it.each(badBooleans)(`${boolField}: %s`, (_name, value) => {
          expectRejected(build({ [boolField]: value }));
        });
      }
    });
  }

  it.each<[string, unknown]>([
    ['an unknown type', 'InstallSnapshot'],
    ['a differently cased type', 'requestvote'],
    ['a type with spaces', ' RequestVote'],
    ['a numeric type', 1],
    ['a null type', null],
    ['an array type', ['RequestVote']],
    ['__proto__ as type', '__proto__'],
    ['constructor as type', 'constructor'],
    ['toString as type', 'toString'],
  ])('%s', (_name, type) => {
    expectRejected(rv({ type }));
  });

  it('a RequestVote whose lastLogTerm is after its term', () => {
    expectRejected(rv({ term: 3, lastLogTerm: 4 }));
  });

  it('an AppendEntries whose prevLogTerm is after its term', () => {
    expectRejected(ae({ term: 5, prevLogTerm: 6, entries: [] }));
  });

  it('type confusion: the fields of one type under another type', () => {
    expectRejected({ ...rv(), type: 'AppendEntries' });
    expectRejected({ ...ae(), type: 'AppendEntriesResponse' });
    expectRejected({ ...aer(), type: 'RequestVoteResponse' });
    expectRejected({ ...rvr(), type: 'RequestVote' });
  });
});

describe('validateMessage rejects bad AppendEntries entries', () => {
  it.each<[string, unknown]>([
    ['an object', { 0: entry(4, 2), length: 1 }],
    ['a string', 'entries'],
    ['null', null],
    ['a number', 1],
  ])('entries is %s', (_name, entries) => {
    expectRejected(ae({ entries }));
  });

  it.each<[string, unknown[]]>([
    ['starting after prevLogIndex + 1', [entry(5, 2)]],
    ['starting at prevLogIndex', [entry(3, 2)]],
    ['starting at index 0', [entry(0, 2)]],
    ['with a gap', [entry(4, 2), entry(6, 2)]],
    ['with a repeated index', [entry(4, 2), entry(4, 2)]],
    ['going backwards', [entry(4, 2), entry(5, 2), entry(4, 2)]],
    ['with a string index', [entry(4, 2, { index: '4' })]],
    ['with a fractional index', [entry(4, 2), entry(4.5, 2)]],
    ['with a missing index', [{ term: 2, kind: 'command', command: 1 }]],
  ])('indexes not consecutive from prevLogIndex + 1: %s', (_name, entries) => {
    expectRejected(ae({ entries }));
  });

  it.each<[string, unknown[]]>([
    ['above the message term', [entry(4, 6)]],
    ['decreasing', [entry(4, 3), entry(5, 2)]],
    ['below prevLogTerm', [entry(4, 1)]],
    ['zero', [entry(1, 0)]],
    ['negative', [entry(4, -2)]],
    ['fractional', [entry(4, 2.5)]],
    ['NaN', [entry(4, NaN)]],
    ['2^53', [entry(4, UNSAFE)]],
    ['a string', [entry(4, 2, { term: '2' })]],
    ['missing', [{ index: 4, kind: 'command', command: 1 }]],
  ])('entry term %s', (name, entries) => {
    const raw = name === 'zero' ? ae({ prevLogIndex: 0, prevLogTerm: 0, entries }) : ae({ entries });
    expectRejected(raw);
  });

  it.each<[string, unknown]>([
    ['unknown', 'cmd'],
    ['upper case', 'NOOP'],
    ['missing', undefined],
    ['a number', 1],
    ['null', null],
    ['a snapshot kind', 'snapshot'],
  ])('entry kind %s', (_name, kind) => {
    expectRejected(ae({ entries: [entry(4, 2, { kind })] }));
  });

  it.each<[string, unknown]>([
    ['null', null],
    ['a number', 4],
    ['a string', 'entry'],
    ['an array', [4, 2, 'command']],
    ['a hole (sparse array)', undefined],
  ])('an entry that is %s', (name, bad) => {
    const entries: unknown[] = [entry(4, 2), bad, entry(6, 2)];
    if (name.startsWith('a hole')) delete entries[1];
    expectRejected(ae({ entries }));
  });

  it('more entries than maxEntries, and an enormous entries array', () => {
    const over = Array.from({ length: LIMITS.maxEntries + 1 }, (_, i) => entry(4 + i, 5));
    expect(expectRejected(ae({ entries: over }))).toMatch(/entries/);
    // A huge (sparse) array must be refused on its length, without walking it.
    const enormous: unknown[] = [];
    enormous.length = 2 ** 32 - 1;
    expectRejected(ae({ entries: enormous }), { maxEntries: 1_000_000 });
    const big = Array.from({ length: 20_000 }, (_, i) => entry(4 + i, 5));
    expectRejected(ae({ entries: big }), { maxEntries: 1000 });
  });
});

describe('validateMessage and hostile keys or objects', () => {
  const RV = '"type":"RequestVote","from":"a","to":"b","term":5,"lastLogIndex":1,"lastLogTerm":1';
  const AE_HEAD = '"type":"AppendEntries","from":"a","to":"b","term":5,"prevLogIndex":0,"prevLogTerm":0,"leaderCommit":0';

  it.each([
    ['a top-level "__proto__" key', `{"__proto__":{"x":1},${RV}}`],
    ['a top-level "__proto__" key holding null', `{"__proto__":null,${RV}}`],
    ['a top-level "constructor" key', `{"constructor":{"prototype":{"x":1}},${RV}}`],
    ['a "__proto__" key in an entry', `{${AE_HEAD},"entries":[{"__proto__":{"x":1},"index":1,"term":1,"kind":"noop"}]}`],
    ['a "constructor" key in an entry', `{${AE_HEAD},"entries":[{"constructor":{"prototype":{"x":1}},"index":1,"term":1,"kind":"noop"}]}`],
  ])('rejects %s (JSON.parse makes it an own key)', (_name, json) => {
    const raw: unknown = JSON.parse(json);
    // Without the hostile key the same message is valid.
    const clean = JSON.parse(json) as Raw;
    delete clean['__proto__'];
    delete clean['constructor'];
    for (const e of Array.isArray(clean['entries']) ? (clean['entries'] as Raw[]) : []) {
      delete e['__proto__'];
      delete e['constructor'];
    }
    expectAccepted(clean);
    expectRejected(raw);
  });

  it('fields hidden behind a JSON "__proto__" key are not picked up', () => {
    const fields = JSON.stringify({ type: 'RequestVote', from: 'a', to: 'b', term: 5, lastLogIndex: 1, lastLogTerm: 1 });
    expectRejected(JSON.parse(`{"__proto__":${fields}}`));
    expectRejected(JSON.parse(`{"constructor":{"prototype":${fields}}}`));
  });

  it('validating hostile keys never pollutes Object.prototype', () => {
    const raws: unknown[] = [
      JSON.parse(`{"__proto__":{"polluted":1},${RV}}`),
      JSON.parse('{"constructor":{"prototype":{"polluted":1}},"type":"RequestVoteResponse","from":"a","to":"b","term":5,"voteGranted":true}'),
      JSON.parse(`{${AE_HEAD},"entries":[{"__proto__":{"polluted":1},"index":1,"term":1,"kind":"noop"}]}`),
    ];
    for (const raw of raws) {
      const result = validateMessage(raw, LIMITS);
      expect(typeof result === 'string' || result === raw).toBe(true);
    }
    expect(({} as Raw)['polluted']).toBeUndefined();
    expect(Object.prototype).not.toHaveProperty('polluted');
  });

  it('never throws on objects whose reads throw (revoked Proxy, throwing getters)', () => {
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    const getter = Object.defineProperty({ ...rv() }, 'from', {
      enumerable: true,
      get(): string {
        throw new Error('boom');
      },
    });
    const entries: unknown[] = [];
    Object.defineProperty(entries, 0, {
      enumerable: true,
      get() {
        throw new Error('boom');
      },
    });
    const trapAll = new Proxy(rv(), {
      get() {
        throw new Error('trap');
      },
      has() {
        throw new Error('trap');
      },
      ownKeys() {
        throw new Error('trap');
      },
      getOwnPropertyDescriptor() {
        throw new Error('trap');
      },
    });
    for (const raw of [proxy, getter, ae({ prevLogIndex: 0, prevLogTerm: 0, entries }), trapAll]) {
      let result: unknown;
      expect(() => {
        result = validateMessage(raw, LIMITS);
      }).not.toThrow();
      expect(typeof result).toBe('string');
    }
  });
});

// ── Properties ─────────────────────────────────────────────────────────────────────────────

/**
 * An independent statement of what a well-formed message is (Raft Figure 2 plus the
 * validation rules of the brief), to check that whatever validateMessage accepts is well formed.
 */
function wellFormed(raw: unknown, limits: ValidationLimits): boolean {
  const isNat = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= Number.MAX_SAFE_INTEGER;
  const isId = (v: unknown): boolean => typeof v === 'string' && v.length > 0;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return false;
  const m = raw as Raw;
  if (!isId(m.from) || !isId(m.to) || !isNat(m.term)) return false;
  const term = m.term;
  switch (m.type) {
    case 'RequestVote':
      return isNat(m.lastLogIndex) && isNat(m.lastLogTerm) && m.lastLogTerm <= term;
    case 'RequestVoteResponse':
      return typeof m.voteGranted === 'boolean';
    case 'AppendEntriesResponse':
      return typeof m.success === 'boolean' && isNat(m.index) && isNat(m.conflictIndex) && isNat(m.conflictTerm);
    case 'AppendEntries': {
      if (!isNat(m.prevLogIndex) || !isNat(m.prevLogTerm) || !isNat(m.leaderCommit) || m.prevLogTerm > term) return false;
      const entries = m.entries;
      if (!Array.isArray(entries) || entries.length > limits.maxEntries) return false;
      let previous = m.prevLogTerm;
      for (let i = 0; i < entries.length; i++) {
        const e: unknown = entries[i];
        if (typeof e !== 'object' || e === null) return false;
        const en = e as Raw;
        if (en.index !== m.prevLogIndex + i + 1) return false;
        if (!isNat(en.term) || en.term < 1 || en.term < previous || en.term > term) return false;
        if (en.kind !== 'command' && en.kind !== 'noop') return false;
        previous = en.term;
      }
      return true;
    }
    default:
      return false;
  }
}

const nat = fc.oneof(fc.nat(20), fc.nat(), fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), fc.constant(Number.MAX_SAFE_INTEGER));
const id = fc.oneof(fc.constantFrom('1', '2', '3', 'n1'), fc.string({ minLength: 1, maxLength: 12 }));

/** Any well-formed message (plain JSON). */
const validMessage: fc.Arbitrary<Message> = fc.oneof(
  fc
    .record({ from: id, to: id, term: nat, lastLogIndex: nat, fraction: fc.double({ min: 0, max: 1, noNaN: true }) })
    .map(({ fraction, ...m }): Message => ({ type: 'RequestVote', ...m, lastLogTerm: Math.floor(m.term * fraction) })),
  fc.record({ from: id, to: id, term: nat, voteGranted: fc.boolean() }).map((m): Message => ({ type: 'RequestVoteResponse', ...m })),
  fc
    .record({ from: id, to: id, term: nat, success: fc.boolean(), index: nat, conflictIndex: nat, conflictTerm: nat })
    .map((m): Message => ({ type: 'AppendEntriesResponse', ...m })),
  fc
    .record({
      from: id,
      to: id,
      term: fc.integer({ min: 1, max: 1_000 }),
      prevLogIndex: fc.nat(1_000_000),
      prevFraction: fc.double({ min: 0, max: 1, noNaN: true }),
      steps: fc.array(fc.tuple(fc.nat(2), fc.boolean(), fc.jsonValue({ maxDepth: 2 })), { maxLength: 12 }),
      leaderCommit: nat,
    })
    .map(({ term, prevLogIndex, prevFraction, steps, ...m }): AppendEntries => {
      const prevLogTerm = Math.floor(term * prevFraction);
      let t = Math.max(1, prevLogTerm);
      const entries: LogEntry[] = steps.map(([step, noop, command], i) => {
        t = Math.min(term, t + step);
        const index = prevLogIndex + i + 1;
        return noop ? { index, term: t, kind: 'noop' } : { index, term: t, kind: 'command', command };
      });
      return { type: 'AppendEntries', ...m, term, prevLogIndex, prevLogTerm, entries };
    }),
);

/** A valid message with one thing changed: a field replaced, removed or added, or an entry broken. */
const mutatedMessage: fc.Arbitrary<unknown> = fc
  .tuple(
    validMessage,
    fc.constantFrom(
      'type',
      'from',
      'to',
      'term',
      'lastLogIndex',
      'lastLogTerm',
      'voteGranted',
      'success',
      'index',
      'conflictIndex',
      'conflictTerm',
      'prevLogIndex',
      'prevLogTerm',
      'leaderCommit',
      'entries',
      '__proto__',
      'constructor',
    ),
    fc.oneof(
      fc.anything(),
      fc.jsonValue(),
      fc.constantFrom(-1, 0.5, NaN, Infinity, UNSAFE, 1e300, '', 'RequestVote', 'AppendEntries', null, true, [], {}),
      nat,
    ),
    fc.constantFrom('set', 'delete', 'entry'),
    fc.nat(11),
    fc.constantFrom('index', 'term', 'kind', 'whole'),
  )
  .map(([message, field, value, how, at, entryField]) => {
    const m: Raw = JSON.parse(JSON.stringify(message)) as Raw;
    if (how === 'delete') delete m[field];
    else if (how === 'set' || !Array.isArray(m.entries) || m.entries.length === 0) {
      Object.defineProperty(m, field, { value, enumerable: true, writable: true, configurable: true });
    } else {
      const entries = m.entries as Raw[];
      const i = at % entries.length;
      if (entryField === 'whole') entries[i] = value as Raw;
      else entries[i] = { ...entries[i], [entryField]: value };
    }
    return m;
  });

/** True when the message or one of its entries has an own __proto__ or constructor key. */
function hasHostileKey(raw: unknown): boolean {
  const own = (o: unknown) =>
    typeof o === 'object' && o !== null && (Object.hasOwn(o, '__proto__') || Object.hasOwn(o, 'constructor'));
  if (own(raw)) return true;
  const entries = typeof raw === 'object' && raw !== null ? (raw as Raw)['entries'] : undefined;
  return Array.isArray(entries) && entries.some(own);
}

/** Checks the contract on any input: no throw, a string or the input itself, and only well-formed input passes. */
function checkContract(raw: unknown, limits: ValidationLimits = LIMITS): Message | string {
  let result: Message | string = '';
  expect(() => {
    result = validateMessage(raw, limits);
  }).not.toThrow();
  if (typeof result !== 'string') {
    expect(result).toBe(raw);
    expect(wellFormed(raw, limits)).toBe(true);
  } else {
    expect(result.length).toBeGreaterThan(0);
  }
  return result;
}

describe('validateMessage properties', () => {
  it('accepts every well-formed message, returning the same object unchanged', () => {
    fc.assert(
      fc.property(validMessage, (message) => {
        const before = JSON.stringify(message);
        expect(validateMessage(message, LIMITS)).toBe(message);
        expect(JSON.stringify(message)).toBe(before);
      }),
      propertyParams(500, 20_000),
    );
  });

  it('never throws on arbitrary values, and accepts only well-formed ones', () => {
    const anything = fc.anything({
      withBigInt: true,
      withBoxedValues: true,
      withDate: true,
      withMap: true,
      withSet: true,
      withNullPrototype: true,
      withObjectString: true,
      withSparseArray: true,
      withTypedArray: true,
      withUnicodeString: true,
    });
    fc.assert(
      fc.property(anything, (raw) => {
        checkContract(raw);
      }),
      propertyParams(500, 50_000),
    );
  });

  it('never throws on arbitrary JSON, and accepts only well-formed ones', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (raw) => {
        checkContract(raw);
        checkContract(JSON.parse(JSON.stringify(raw)));
      }),
      propertyParams(1_000, 50_000),
    );
  });

  it('never throws on mutated messages, never mutates them, and accepts only well-formed ones', () => {
    let rejected = 0;
    fc.assert(
      fc.property(mutatedMessage, (raw) => {
        const before = snapshot(raw); // undefined e.g. with a bigint inside: not JSON, but must still be handled
        const result = checkContract(raw);
        if (typeof result === 'string') rejected++;
        if (hasHostileKey(raw)) expect(typeof result).toBe('string');
        if (before !== undefined) expect(snapshot(raw)).toBe(before);
      }),
      propertyParams(2_000, 100_000),
    );
    expect(rejected).toBeGreaterThan(0);
  });

  it('honours maxEntries exactly', () => {
    fc.assert(
      fc.property(fc.nat(40), fc.nat(40), (count, maxEntries) => {
        const entries = Array.from({ length: count }, (_, i) => ({ index: i + 1, term: 1, kind: 'noop' as const }));
        const m: AppendEntries = { type: 'AppendEntries', from: 'a', to: 'b', term: 1, prevLogIndex: 0, prevLogTerm: 0, entries, leaderCommit: 0 };
        const result = validateMessage(m, { maxEntries });
        if (count <= maxEntries) expect(result).toBe(m);
        else expect(typeof result).toBe('string');
      }),
      propertyParams(300, 5_000),
    );
  });
});

describe('validateMessage: snapshots and membership', () => {
  const membership = { voters: ['a', 'b', 'c'], learners: ['d'] };
  const is = (over: Raw = {}): Raw => ({
    type: 'InstallSnapshot', from: 'a', to: 'b', term: 5, index: 100, lastTerm: 4, membership, offset: 0, data: '[]', done: true, ...over,
  });
  const isr = (over: Raw = {}): Raw => ({ type: 'InstallSnapshotResponse', from: 'b', to: 'a', term: 5, index: 100, offset: 2, done: true, ...over });
  const config = (m: unknown): Raw => ae({ prevLogIndex: 3, prevLogTerm: 2, entries: [entry(4, 5, { kind: 'config', command: undefined, membership: m })] });

  it('accepts well-formed InstallSnapshot, InstallSnapshotResponse and config entries', () => {
    for (const raw of [is(), is({ done: false, offset: 64, data: '' }), isr(), isr({ done: false }), config(membership)]) {
      expect(validateMessage(raw, LIMITS)).toBe(raw);
    }
  });

  it.each<[string, Raw]>([
    ['snapshot index 0', is({ index: 0 })],
    ['lastTerm after term', is({ lastTerm: 6 })],
    ['negative offset', is({ offset: -1 })],
    ['data not a string', is({ data: [1, 2] })],
    ['done not a boolean', is({ done: 'yes' })],
    ['no membership', is({ membership: undefined })],
    ['no voters', is({ membership: { voters: [], learners: [] } })],
    ['a voter that is also a learner', is({ membership: { voters: ['a'], learners: ['a'] } })],
    ['a duplicate voter', is({ membership: { voters: ['a', 'a'], learners: [] } })],
    ['an empty id', is({ membership: { voters: [''], learners: [] } })],
    ['a hostile membership key', is({ membership: JSON.parse('{"voters":["a"],"learners":[],"__proto__":{}}') })],
    ['a chunk over maxSnapshotChunk', is({ data: 'x'.repeat(65) })],
    ['a response without done', isr({ done: undefined })],
    ['a response with a fractional offset', isr({ offset: 1.5 })],
    ['a config entry without a membership', config(undefined)],
    ['a config entry whose learners are not an array', config({ voters: ['a'], learners: 'b' })],
  ])('rejects %s', (_name, raw) => {
    expect(typeof validateMessage(raw, { ...LIMITS, maxSnapshotChunk: 64 })).toBe('string');
  });
});
