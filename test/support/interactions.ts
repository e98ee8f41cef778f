/**
 * The environment behind test/raft/interactions.test.ts: a cluster of pure RaftCores driven by
 * script commands, and the text it prints. No timers and no network: time passes only with
 * `elapse`, and a message moves only when a script delivers it.
 *
 * After every command each node's Ready is processed the way a driver would (persist to its
 * MemoryStorage, post the messages to the destinations' mailboxes, apply, advance), until no
 * node has one, and what mattered is printed. Only the public API (src/index.js) is used.
 */
import {
  MemoryStorage,
  RaftCore,
  SeededRandom,
  validateMessage,
  type LogEntry,
  type Message,
  type RaftCoreOptions,
  type Ready,
} from '../../src/index.js';

// ── Script files ────────────────────────────────────────────────────────────────────────────

/** One command of a script, with the output written under it (null: none written yet). */
export interface Command {
  readonly line: number; // 1-based line of the command in the file
  readonly text: string;
  readonly expected: string[] | null;
}

/** A script: its lines, and which of them are commands (everything else is kept as it is). */
export interface Script {
  readonly lines: readonly string[];
  readonly commands: readonly (Command & { readonly end: number })[]; // end: first line after the output
}

const SEPARATOR = '----';

/**
 * Parses a script: `#` lines and blank lines are prose; any other line is a command, optionally
 * followed by `----` and its expected output, which runs up to the next blank line.
 */
export function parseScript(text: string): Script {
  const lines = text.replace(/\n$/, '').split('\n');
  const commands: (Command & { end: number })[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (line.trim() === '' || line.startsWith('#')) continue;
    let end = i + 1;
    let expected: string[] | null = null;
    if (lines[end] === SEPARATOR) {
      expected = [];
      for (end++; end < lines.length && (lines[end] as string).trim() !== ''; end++) expected.push(lines[end] as string);
    }
    commands.push({ line: i + 1, text: line.trim(), expected, end });
    i = end - 1;
  }
  return { lines, commands };
}

/** The script with every command's output replaced by `outputs` (one per command). */
export function rewriteScript(script: Script, outputs: readonly string[][]): string {
  const out: string[] = [];
  let next = 0;
  script.commands.forEach((command, k) => {
    out.push(...script.lines.slice(next, command.line - 1), script.lines[command.line - 1] as string, SEPARATOR, ...(outputs[k] as string[]));
    next = command.end;
    if (next < script.lines.length && (script.lines[next] as string).trim() !== '') out.push(''); // keep commands apart
  });
  out.push(...script.lines.slice(next));
  return `${out.join('\n')}\n`;
}

// ── Printing ────────────────────────────────────────────────────────────────────────────────

const ids = (xs: readonly string[]): string => xs.join(',');

/** `12@t8 "x"`: index, term, and what the entry carries. */
export function entry(e: LogEntry): string {
  const at = `${e.index}@t${e.term}`;
  if (e.kind === 'noop') return `${at} noop`;
  if (e.kind === 'config') return `${at} config(voters=${ids(e.membership?.voters ?? [])} learners=${ids(e.membership?.learners ?? [])})`;
  if (e.kind === 'session') return `${at} session(timeout=${e.timeoutMs})`;
  return e.command === null || e.command === undefined ? at : `${at} ${JSON.stringify(e.command)}`;
}

/** A log as runs of one term: `1-3@t1 4-5@t4 6@t5`. */
export function runs(entries: readonly LogEntry[]): string {
  const out: string[] = [];
  for (let i = 0; i < entries.length; ) {
    const first = entries[i] as LogEntry;
    let j = i;
    while (j + 1 < entries.length && (entries[j + 1] as LogEntry).term === first.term) j++;
    const last = entries[j] as LogEntry;
    out.push(first.index === last.index ? `${first.index}@t${first.term}` : `${first.index}-${last.index}@t${first.term}`);
    i = j + 1;
  }
  return out.length === 0 ? '(empty)' : out.join(' ');
}

/** One line per message: sender→receiver, type, then its fields. */
export function message(m: Message): string {
  const head = `${m.from}→${m.to} ${m.type} term=${m.term}`;
  const round = 'round' in m && m.round !== undefined && m.round > 0 ? ` round=${m.round}` : '';
  switch (m.type) {
    case 'RequestVote':
      return `${head} last=${m.lastLogIndex}@t${m.lastLogTerm}${m.force === true ? ' force' : ''}`;
    case 'PreVote':
      return `${head} last=${m.lastLogIndex}@t${m.lastLogTerm}`;
    case 'RequestVoteResponse':
    case 'PreVoteResponse':
      return `${head} ${m.voteGranted ? 'granted' : 'rejected'}`;
    case 'AppendEntries':
      return `${head} prev=${m.prevLogIndex}@t${m.prevLogTerm} commit=${m.leaderCommit} entries=[${m.entries.map(entry).join(', ')}]${round}`;
    case 'AppendEntriesResponse':
      return m.success
        ? `${head} ok index=${m.index}${round}`
        : `${head} reject index=${m.index} hint=${m.conflictIndex}@t${m.conflictTerm}${round}`;
    case 'InstallSnapshot':
      return `${head} snapshot=${m.index}@t${m.lastTerm} voters=${ids(m.membership.voters)} offset=${m.offset} data=${JSON.stringify(m.data)}${m.done ? ' done' : ''}`;
    case 'InstallSnapshotResponse':
      return `${head} index=${m.index} offset=${m.offset}${m.done ? ' done' : ''}`;
    case 'ReadIndex':
      return `${head} id=${m.id}`;
    case 'ReadIndexResponse':
      return `${head} id=${m.id} index=${m.index} ${m.ok ? 'ok' : 'failed'}`;
    case 'Propose':
      return `${head} id=${m.id} command=${JSON.stringify(m.command)}`;
    case 'ProposeResponse':
      return `${head} id=${m.id} index=${m.index} ${m.outcome}`;
    default:
      return head;
  }
}

/** The parts of a Ready a driver acts on, indented under a header; nothing for an empty Ready. */
function readyLines(id: string, r: Ready): string[] {
  const out: string[] = [];
  if (r.hardState !== null) out.push(`  hard state: term=${r.hardState.term} vote=${r.hardState.votedFor ?? '-'}`);
  if (r.snapshot !== null) {
    const s = r.snapshot;
    out.push(`  snapshot: ${s.index}@t${s.term} voters=${ids(s.membership.voters)} learners=${ids(s.membership.learners)} data=${JSON.stringify(s.data)}`);
  }
  if (r.entries.length > 0) out.push(`  persist: ${r.entries.map(entry).join(', ')}`);
  if (r.committed.length > 0) out.push(`  apply: ${r.committed.map(entry).join(', ')}`);
  for (const read of r.reads) out.push(`  read: id=${read.id} index=${read.index} ${read.ok ? 'ok' : 'failed'}`);
  for (const f of r.forwarded) out.push(`  forwarded: id=${f.id} index=${f.index} term=${f.term} ${f.outcome}`);
  for (const m of r.messages) out.push(`  send ${message(m)}`);
  return out.length === 0 ? [] : [`${id} ready:`, ...out];
}

// ── The cluster ─────────────────────────────────────────────────────────────────────────────

type Options = Omit<RaftCoreOptions, 'id' | 'peers' | 'random' | 'initialState' | 'join'>;

interface Node {
  core: RaftCore;
  /** Role, term and leader when last printed. */
  seen: string;
  readonly storage: MemoryStorage;
  readonly join: boolean;
  boots: number;
}

/** Node ids in numeric order. */
const byId = (a: string, b: string): number => a.localeCompare(b, 'en', { numeric: true });

/** Parses `key=value` words (a bare word is `word=true`) and the other positional words. */
function args(words: readonly string[]): { pos: string[]; kv: Map<string, string> } {
  const pos: string[] = [];
  const kv = new Map<string, string>();
  for (const w of words) {
    const eq = w.indexOf('=');
    if (eq > 0) kv.set(w.slice(0, eq), w.slice(eq + 1));
    else pos.push(w);
  }
  return { pos, kv };
}

/** What a node is: printed whenever it changes. */
const describe = (core: RaftCore): string => `${core.role} term=${core.term}${core.role === 'leader' ? '' : ` leader=${core.leaderId ?? '-'}`}`;

const list = (value: string | undefined): string[] | undefined => (value === undefined ? undefined : value.split(',').filter((x) => x !== ''));

export class Interactions {
  readonly #nodes = new Map<string, Node>();
  #options: Options = {};
  /** Messages waiting for delivery, by destination, oldest first. */
  readonly #mailbox = new Map<string, Message[]>();
  /** The groups of a partition (empty when healed): a message between two groups is lost on delivery. */
  #groups: string[][] = [];
  #members: string[] = [];

  /** Runs one command line and returns what it printed. */
  run(text: string): string[] {
    const [name = '', ...words] = text.split(/\s+/);
    const { pos, kv } = args(words);
    const out: string[] = [];
    try {
      this.#command(name, pos, kv, out, words);
    } catch (error) {
      out.push(`error: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`);
    }
    out.push(...this.#processReadies());
    return out.length === 0 ? ['ok'] : out;
  }

  #command(name: string, pos: string[], kv: Map<string, string>, out: string[], words: string[]): void {
    const node = (id: string | undefined): RaftCore => {
      const n = id === undefined ? undefined : this.#nodes.get(id);
      if (n === undefined) throw new Error(`no node ${String(id)}`);
      return n.core;
    };
    const targets = (): string[] => (pos.length > 0 ? pos : [...this.#nodes.keys()]);
    switch (name) {
      case 'cluster': {
        // cluster 3 [preVote=false] [checkQuorum=false] [election=150-300] [heartbeat=50] [maxEntries=N] [maxInflight=N] [chunk=N]
        const n = Number(pos[0]);
        const [lo = 150, hi = 300] = (kv.get('election') ?? '150-300').split('-').map(Number);
        const num = (key: string): number | undefined => (kv.has(key) ? Number(kv.get(key)) : undefined);
        const options: Options = { electionTimeoutMs: [lo, hi], heartbeatIntervalMs: num('heartbeat') ?? 50, preVote: kv.get('preVote') !== 'false', checkQuorum: kv.get('checkQuorum') !== 'false' };
        const optional = { maxEntriesPerMessage: num('maxEntries'), maxInflightMessages: num('maxInflight'), snapshotChunkSize: num('chunk') };
        for (const [k, v] of Object.entries(optional)) if (v !== undefined) Object.assign(options, { [k]: v });
        this.#options = options;
        this.#nodes.clear();
        this.#mailbox.clear();
        this.#groups = [];
        this.#members = Array.from({ length: n }, (_, i) => String(i + 1));
        for (const id of this.#members) this.#boot(id, new MemoryStorage(), false);
        out.push(`${this.#members.join(' ')}: followers, term 0, empty logs`);
        return;
      }
      case 'add-node': {
        // add-node 4: a new, empty node that joins the running cluster (learns its membership from the leader).
        for (const id of pos) this.#boot(id, new MemoryStorage(), true);
        out.push(`${pos.join(' ')}: started empty, joining`);
        return;
      }
      case 'load': {
        // load 2 term=7 [vote=1] log=1,1,1,4: replace node 2 by one that persisted this state (commands are empty).
        const id = pos[0] as string;
        node(id);
        const terms = (list(kv.get('log')) ?? []).map(Number);
        const storage = new MemoryStorage();
        const entries: LogEntry[] = terms.map((term, i) => ({ index: i + 1, term, kind: 'command', command: null }));
        storage.save({ hardState: { term: Number(kv.get('term') ?? 0), votedFor: kv.get('vote') ?? null }, entries });
        this.#boot(id, storage, false);
        this.#status(id, out);
        return;
      }
      case 'restart': {
        // restart 2: a crash and a reboot from what node 2 persisted (its mailbox is kept: the network still holds those messages).
        for (const id of pos) {
          const n = this.#nodes.get(id);
          if (n === undefined) throw new Error(`no node ${id}`);
          this.#boot(id, n.storage, n.join);
          this.#status(id, out);
        }
        return;
      }
      case 'campaign':
        return node(pos[0]).campaign();
      case 'propose': {
        // propose 1 x: a command on node 1 (only a leader takes it).
        const at = node(pos[0]).propose(pos.slice(1).join(' '));
        out.push(`${pos[0]}: proposed at ${at.index}@t${at.term}`);
        return;
      }
      case 'elapse': {
        // elapse 50 [ids]: time passes on the given nodes (default: all).
        const ms = Number(pos.shift());
        for (const id of targets()) node(id).elapse(ms);
        return;
      }
      case 'deliver':
      case 'drop': {
        // deliver|drop [to=ids] [from=ids] [type=Types]: the matching messages now waiting (not the ones they cause).
        const to = list(kv.get('to'));
        const from = list(kv.get('from'));
        const types = list(kv.get('type'));
        const match = (m: Message): boolean =>
          (to === undefined || to.includes(m.to)) && (from === undefined || from.includes(m.from)) && (types === undefined || types.includes(m.type));
        const picked = this.#take(match);
        if (name === 'drop') for (const m of picked) out.push(`dropped ${message(m)}`);
        else this.#deliver(picked, out);
        return;
      }
      case 'stabilize': {
        // stabilize [rounds=N]: deliver round after round until no message is left.
        const max = Number(kv.get('rounds') ?? 50);
        for (let round = 1; this.#pending() > 0; round++) {
          if (round > max) throw new Error(`still ${this.#pending()} messages after ${max} rounds`);
          const messages = this.#take(() => true);
          out.push(`round ${round}: ${messages.length} delivered`);
          this.#deliver(messages, out);
          out.push(...this.#processReadies());
        }
        return;
      }
      case 'partition': {
        // partition 1 2 | 3: messages between the groups are lost; nodes not named form one more group.
        const groups = words.join(' ').split('|').map((g) => g.trim().split(/\s+/).filter((x) => x !== ''));
        const named = new Set(groups.flat());
        const rest = [...this.#nodes.keys()].filter((id) => !named.has(id));
        this.#groups = rest.length > 0 ? [...groups, rest] : groups;
        out.push(`partitioned: ${this.#groups.map((g) => g.join(' ')).join(' | ')}`);
        return;
      }
      case 'heal':
        this.#groups = [];
        out.push('healed');
        return;
      case 'compact': {
        // compact 1 [index=N]: node 1 snapshots its state machine at N (default: what it applied).
        const core = node(pos[0]);
        const index = Number(kv.get('index') ?? core.lastApplied);
        core.compact(index, `state@${index}`);
        return;
      }
      case 'read': {
        // read 1 id=7 [lease]: a linearizable read on node 1 (a follower asks its leader).
        return node(pos[0]).read(Number(kv.get('id') ?? 1), { lease: kv.get('lease') === 'true' || pos.includes('lease') });
      }
      case 'transfer': {
        const target = node(pos[0]).transferLeadership(kv.get('to'));
        out.push(`${pos[0]}: transferring to ${target}`);
        return;
      }
      case 'add-learner':
      case 'promote':
      case 'remove': {
        // add-learner 1 4, promote 1 4, remove 1 3: a membership change proposed on leader 1.
        const type = name === 'add-learner' ? 'addLearner' : name;
        const at = node(pos[0]).changeMembership({ type, id: pos[1] as string });
        out.push(`${pos[0]}: proposed ${type} ${pos[1]} at ${at.index}@t${at.term}`);
        return;
      }
      case 'status':
        for (const id of targets().sort(byId)) this.#status(id, out);
        return;
      case 'log':
        for (const id of targets().sort(byId)) {
          const core = node(id);
          out.push(`${id}: commit=${core.commitIndex} applied=${core.lastApplied} snapshot=${core.snapshotIndex}`);
          for (const e of core.entries(core.snapshotIndex + 1)) out.push(`  ${entry(e)}`);
        }
        return;
      case 'mailbox':
        for (const [to, queue] of [...this.#mailbox].sort(([a], [b]) => byId(a, b))) for (const m of queue) out.push(`${to} has ${message(m)}`);
        if (out.length === 0) out.push('(empty)');
        return;
      default:
        throw new Error(`unknown command ${JSON.stringify(name)}`);
    }
  }

  #boot(id: string, storage: MemoryStorage, join: boolean): void {
    const boots = (this.#nodes.get(id)?.boots ?? 0) + 1;
    const peers = this.#members.filter((p) => p !== id);
    const core = new RaftCore({ ...this.#options, id, peers, join, random: new SeededRandom(`interactions:${id}:${boots}`), initialState: storage.load() });
    this.#nodes.set(id, { core, storage, join, boots, seen: describe(core) });
    if (!this.#mailbox.has(id)) this.#mailbox.set(id, []);
  }

  #status(id: string, out: string[]): void {
    const core = (this.#nodes.get(id) as Node).core;
    const s = core.status();
    const { voters, learners } = s.membership;
    out.push(
      `${id}: ${s.role} term=${s.term} vote=${s.votedFor ?? '-'} leader=${s.leaderId ?? '-'} commit=${s.commitIndex} applied=${s.lastApplied} timeout-in=${core.msUntilTimeout}ms`,
      `  log: ${core.snapshotIndex > 0 ? `[snapshot ${core.snapshotIndex}@t${core.snapshot?.term}] ` : ''}${runs(core.entries(core.snapshotIndex + 1))}`,
      `  voters=${ids(voters)} learners=${ids(learners)}`,
    );
    if (s.followers !== undefined) {
      const progress = Object.entries(s.followers).sort(([a], [b]) => byId(a, b));
      out.push(`  progress: ${progress.map(([f, p]) => `${f} match=${p.matchIndex} next=${p.nextIndex}`).join(', ')}`);
    }
  }

  #pending(): number {
    let n = 0;
    for (const queue of this.#mailbox.values()) n += queue.length;
    return n;
  }

  /** Removes and returns the waiting messages that match, by destination (in id order), oldest first. */
  #take(match: (m: Message) => boolean): Message[] {
    const picked: Message[] = [];
    for (const to of [...this.#mailbox.keys()].sort(byId)) {
      const queue = this.#mailbox.get(to) as Message[];
      picked.push(...queue.filter(match));
      this.#mailbox.set(to, queue.filter((m) => !match(m)));
    }
    return picked;
  }

  #cut(m: Message): boolean {
    if (this.#groups.length === 0) return false;
    const group = (id: string): number => this.#groups.findIndex((g) => g.includes(id));
    return group(m.from) !== group(m.to);
  }

  #deliver(messages: readonly Message[], out: string[]): void {
    for (const m of messages) {
      const n = this.#nodes.get(m.to);
      if (this.#cut(m)) out.push(`lost ${message(m)} (partition)`);
      else if (n === undefined) out.push(`lost ${message(m)} (no such node)`);
      else {
        const valid = validateMessage(structuredClone(m), { maxEntries: 100_000 });
        if (typeof valid === 'string') throw new Error(`${message(m)} is invalid: ${valid}`);
        n.core.step(valid);
      }
    }
  }

  /** Processes every node's Ready (in id order) until none has one; prints each. */
  #processReadies(): string[] {
    const out: string[] = [];
    for (let busy = true; busy; ) {
      busy = false;
      for (const id of [...this.#nodes.keys()].sort(byId)) {
        const node = this.#nodes.get(id) as Node;
        const { core, storage } = node;
        if (describe(core) !== node.seen) out.push(`${id} is now ${(node.seen = describe(core))}`);
        while (core.hasReady()) {
          busy = true;
          const ready = core.ready();
          storage.save({ hardState: ready.hardState ?? undefined, snapshot: ready.snapshot ?? undefined, entries: ready.entries });
          for (const m of ready.messages) {
            if (!this.#mailbox.has(m.to)) this.#mailbox.set(m.to, []);
            (this.#mailbox.get(m.to) as Message[]).push(m);
          }
          out.push(...readyLines(id, ready));
          core.advance(ready);
        }
      }
    }
    return out;
  }
}
