/**
 * Checking a lesson's data before it runs, so that a teacher's mistake is reported with the step
 * and the field at fault rather than as a confusing run. Names used in targets (`'$old'`) and
 * captions (`{old}`) must be remembered by an earlier action.
 */
import { LessonError } from './errors.js';
import type { Lesson } from './types.js';

const MESSAGE_TYPES = new Set([
  'Propose', 'ProposeResponse', 'ReadIndex', 'ReadIndexResponse', 'RequestVote', 'RequestVoteResponse', 'PreVote', 'PreVoteResponse',
  'AppendEntries', 'AppendEntriesResponse', 'TimeoutNow', 'InstallSnapshot', 'InstallSnapshotResponse',
]);
const ROLES = new Set(['leader', 'follower', 'candidate', 'precandidate', 'stopped']);
/** Placeholders every caption may use. */
const BUILT_IN = new Set(['leader', 'term', 'commit', 'time']);
const NODE_ACTIONS = new Set(['crash', 'restart', 'timeout', 'disconnect', 'reconnect', 'compact', 'remember']);
const NODE_OPTION_KEYS = ['electionTimeoutMs', 'preVote', 'checkQuorum', 'snapshotThreshold', 'maxEntriesPerMessage'];
const CLUSTER_KEYS = ['size', 'seed', 'preVote', 'checkQuorum', 'electionTimeoutMs', 'heartbeatIntervalMs', 'latencyMs', 'snapshotThreshold', 'maxEntriesPerMessage', 'nodes'];

type Json = Record<string, unknown>;
/** What a remembered name holds: a node id, an index, or text for captions only. */
type Kind = 'node' | 'index' | 'text';

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const isWhole = (value: unknown, min: number): value is number => typeof value === 'number' && Number.isSafeInteger(value) && value >= min;
const isTime = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value) && value >= 0;
const show = (value: unknown): string => (value === undefined ? 'nothing' : (JSON.stringify(value) ?? String(value)));

/**
 * Checks that `value` is a well-formed {@link Lesson} and returns it, typed. Throws a
 * {@link LessonError} `INVALID_LESSON` naming the step and the field at fault: unknown fields
 * (a typo), wrong types, unknown actions or conditions, nodes that do not exist, and names used
 * before an action remembered them. `new LessonRun(lesson)` calls it.
 *
 * @example
 * ```ts
 * import { LessonError, validateLesson } from 'raftkit/viz';
 * const lesson = JSON.parse('{"id":"mine","title":"Mine","summary":"A crash.","cluster":{"size":3,"seed":1},' +
 *   '"steps":[{"caption":"Wait.","until":{"leader":true}},{"caption":"{gone} crashed.","actions":[{"do":"crash","node":"leader","as":"gone"}]}]}');
 * console.log(validateLesson(lesson).steps.length); // 2
 * try {
 *   validateLesson({ ...lesson, steps: [{ caption: '{who} crashed.', actions: [{ do: 'crash', node: '$who' }] }] });
 * } catch (error) {
 *   if (error instanceof LessonError) console.log(error.field, error.message); // steps[0].actions[0].node lesson "mine" step 0: … "$who" …
 * }
 * ```
 */
export function validateLesson(value: unknown): Lesson {
  const id = isObject(value) && typeof value['id'] === 'string' && value['id'] !== '' ? value['id'] : '?';
  const fail = (field: string, message: string, step?: number): never => {
    throw new LessonError('INVALID_LESSON', id, `${field}: ${message}`, { field, ...(step !== undefined && { step }) });
  };
  if (!isObject(value)) return fail('lesson', `must be an object, got ${show(value)}`);
  only(value, ['id', 'title', 'summary', 'cluster', 'steps'], '', fail);
  for (const key of ['id', 'title', 'summary']) {
    if (typeof value[key] !== 'string' || value[key] === '') fail(key, `must be a non-empty string, got ${show(value[key])}`);
  }
  const cluster = value['cluster'];
  if (!isObject(cluster)) return fail('cluster', `must be an object, got ${show(cluster)}`);
  only(cluster, CLUSTER_KEYS, 'cluster.', fail);
  if (!isWhole(cluster['size'], 1) || cluster['size'] > 9) fail('cluster.size', `must be a whole number from 1 to 9, got ${show(cluster['size'])}`);
  const seed = cluster['seed'];
  if (!(typeof seed === 'string' || (typeof seed === 'number' && Number.isFinite(seed)))) fail('cluster.seed', `must be a number or a string, got ${show(seed)}`);
  checkNodeOptions(cluster, 'cluster.', fail);
  if (cluster['heartbeatIntervalMs'] !== undefined && !isWhole(cluster['heartbeatIntervalMs'], 1)) fail('cluster.heartbeatIntervalMs', `must be a whole number of ms ≥ 1, got ${show(cluster['heartbeatIntervalMs'])}`);
  const latency = cluster['latencyMs'];
  if (latency !== undefined && !(Array.isArray(latency) && latency.length === 2 && isTime(latency[0]) && isTime(latency[1]) && latency[0] <= latency[1])) {
    fail('cluster.latencyMs', `must be [min, max] with 0 ≤ min ≤ max, got ${show(latency)}`);
  }

  const ids = new Set(Array.from({ length: cluster['size'] as number }, (_, i) => String(i + 1)));
  const steps = value['steps'];
  if (!Array.isArray(steps) || steps.length === 0) return fail('steps', `must be a non-empty array, got ${show(steps)}`);
  // Nodes an add-node action adds may be named anywhere (the lesson's data is checked as a whole).
  for (const step of steps as unknown[]) {
    if (!isObject(step) || !Array.isArray(step['actions'])) continue;
    for (const action of step['actions'] as unknown[]) if (isObject(action) && action['do'] === 'add-node' && typeof action['node'] === 'string') ids.add(action['node']);
  }
  const nodes = cluster['nodes'];
  if (nodes !== undefined) {
    if (!isObject(nodes)) fail('cluster.nodes', `must be an object of node options by id, got ${show(nodes)}`);
    for (const [node, options] of Object.entries(nodes as Json)) {
      const field = `cluster.nodes[${JSON.stringify(node)}]`;
      if (!ids.has(node)) fail(field, `no node ${JSON.stringify(node)} (the nodes are ${[...ids].join(', ')})`);
      if (!isObject(options)) fail(field, `must be an object, got ${show(options)}`);
      only(options as Json, NODE_OPTION_KEYS, `${field}.`, fail);
      checkNodeOptions(options as Json, `${field}.`, fail);
    }
  }

  const names = new Map<string, Kind>();
  steps.forEach((step: unknown, i: number) => new StepChecker(i, ids, names, fail).check(step));
  return value as unknown as Lesson;
}

type Fail = (field: string, message: string, step?: number) => never;

function only(object: Json, keys: readonly string[], prefix: string, fail: Fail, step?: number): void {
  for (const key of Object.keys(object)) if (!keys.includes(key)) fail(`${prefix}${key}`, `unknown field (expected one of ${keys.join(', ')})`, step);
}

function checkNodeOptions(o: Json, prefix: string, fail: Fail): void {
  const range = o['electionTimeoutMs'];
  if (range !== undefined && !(Array.isArray(range) && range.length === 2 && isWhole(range[0], 1) && isWhole(range[1], 1) && range[0] <= range[1])) {
    fail(`${prefix}electionTimeoutMs`, `must be [min, max], whole ms, 0 < min ≤ max, got ${show(range)}`);
  }
  for (const key of ['preVote', 'checkQuorum']) if (o[key] !== undefined && typeof o[key] !== 'boolean') fail(`${prefix}${key}`, `must be true or false, got ${show(o[key])}`);
  if (o['snapshotThreshold'] !== undefined && !isWhole(o['snapshotThreshold'], 0)) fail(`${prefix}snapshotThreshold`, `must be a whole number ≥ 0, got ${show(o['snapshotThreshold'])}`);
  if (o['maxEntriesPerMessage'] !== undefined && !isWhole(o['maxEntriesPerMessage'], 1)) fail(`${prefix}maxEntriesPerMessage`, `must be a whole number ≥ 1, got ${show(o['maxEntriesPerMessage'])}`);
}

/** Checks one step, in order, adding the names its actions remember. */
class StepChecker {
  constructor(
    private readonly step: number,
    private readonly ids: ReadonlySet<string>,
    private readonly names: Map<string, Kind>,
    private readonly failAt: Fail,
  ) {}

  private fail(field: string, message: string): never {
    return this.failAt(`steps[${this.step}]${field}`, message, this.step);
  }

  check(step: unknown): void {
    if (!isObject(step)) return this.fail('', `must be an object, got ${show(step)}`);
    only(step, ['caption', 'actions', 'until', 'forMs', 'timeoutMs'], `steps[${this.step}].`, this.failAt, this.step);
    if (typeof step['caption'] !== 'string') this.fail('.caption', `must be a string, got ${show(step['caption'])}`);
    const actions = step['actions'];
    if (actions !== undefined) {
      if (!Array.isArray(actions)) this.fail('.actions', `must be an array, got ${show(actions)}`);
      (actions as unknown[]).forEach((action, i) => this.action(action, `.actions[${i}]`));
    }
    // The caption is filled in after the actions: it may use what they remembered.
    for (const [, name] of (step['caption'] as string).matchAll(/\{([^{}]*)\}/g)) {
      if (!BUILT_IN.has(name as string) && !this.names.has(name as string)) {
        this.fail('.caption', `{${name}} is neither ${[...BUILT_IN].map((n) => `{${n}}`).join(', ')} nor a name an earlier action remembered with "as"`);
      }
    }
    if (step['until'] !== undefined) this.condition(step['until'], '.until');
    if (step['forMs'] !== undefined && !isTime(step['forMs'])) this.fail('.forMs', `must be a number of ms ≥ 0, got ${show(step['forMs'])}`);
    const timeout = step['timeoutMs'];
    if (timeout !== undefined) {
      if (!(isTime(timeout) && timeout > 0)) this.fail('.timeoutMs', `must be a number of ms > 0, got ${show(timeout)}`);
    }
  }

  private target(value: unknown, field: string): void {
    if (typeof value !== 'string' || value === '') return this.fail(field, `must be a node id, "leader", "follower", "candidate" or "$name", got ${show(value)}`);
    if (value === 'leader' || value === 'follower' || value === 'candidate') return;
    if (value.startsWith('$')) {
      const kind = this.names.get(value.slice(1));
      if (kind !== 'node') this.fail(field, `${show(value)} names no node an earlier action remembered with "as"${kind === undefined ? '' : ` (it is ${kind === 'index' ? 'an index' : 'text'})`}`);
      return;
    }
    if (!this.ids.has(value)) this.fail(field, `no node ${show(value)} (the nodes are ${[...this.ids].join(', ')})`);
  }

  private remember(action: Json, field: string, kind: Kind): void {
    const as = action['as'];
    if (as === undefined) return;
    if (typeof as !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(as) || BUILT_IN.has(as)) {
      this.fail(`${field}.as`, `must be a name (letters, digits, _) other than ${[...BUILT_IN].join(', ')}, got ${show(as)}`);
    }
    this.names.set(as as string, kind);
  }

  private action(action: unknown, field: string): void {
    if (!isObject(action)) return this.fail(field, `must be an object, got ${show(action)}`);
    const kind = action['do'];
    const keys = (...more: string[]): void => only(action, ['do', ...more], `steps[${this.step}]${field}.`, this.failAt, this.step);
    if (typeof kind === 'string' && NODE_ACTIONS.has(kind)) {
      keys('node', 'as');
      this.target(action['node'], `${field}.node`);
      return this.remember(action, field, 'node');
    }
    switch (kind) {
      case 'partition': {
        keys('groups', 'as');
        const groups = action['groups'];
        if (groups === 'leader-minority') {
          this.names.set('minority', 'text');
          this.names.set('majority', 'text');
        } else if (Array.isArray(groups) && groups.length > 0 && groups.every(Array.isArray)) {
          (groups as unknown[][]).forEach((group, g) => group.forEach((t, j) => this.target(t, `${field}.groups[${g}][${j}]`)));
        } else this.fail(`${field}.groups`, `must be a list of lists of nodes or "leader-minority", got ${show(groups)}`);
        return this.remember(action, field, 'node');
      }
      case 'heal':
      case 'stop-dropping':
        return keys();
      case 'propose':
        keys('command', 'node', 'repeat', 'as');
        if (!('command' in action) || action['command'] === undefined) this.fail(`${field}.command`, 'is missing (any JSON value)');
        if (action['node'] !== undefined) this.target(action['node'], `${field}.node`);
        if (action['repeat'] !== undefined && !(isWhole(action['repeat'], 1) && action['repeat'] <= 1000)) this.fail(`${field}.repeat`, `must be a whole number from 1 to 1000, got ${show(action['repeat'])}`);
        return this.remember(action, field, 'index');
      case 'drop':
        keys('type', 'from', 'to', 'carrying', 'count');
        if (action['type'] !== undefined && !MESSAGE_TYPES.has(action['type'] as string)) this.fail(`${field}.type`, `must be a message type (${[...MESSAGE_TYPES].join(', ')}), got ${show(action['type'])}`);
        if (action['from'] !== undefined) this.target(action['from'], `${field}.from`);
        if (action['to'] !== undefined) this.target(action['to'], `${field}.to`);
        if (action['carrying'] !== undefined && !isWhole(action['carrying'], 1)) this.fail(`${field}.carrying`, `must be a log index ≥ 1, got ${show(action['carrying'])}`);
        if (action['count'] !== undefined && !isWhole(action['count'], 1)) this.fail(`${field}.count`, `must be a whole number ≥ 1, got ${show(action['count'])}`);
        return;
      case 'cut':
      case 'restore':
        keys('from', 'to');
        this.target(action['from'], `${field}.from`);
        return this.target(action['to'], `${field}.to`);
      case 'add-node':
        keys('node', 'voter');
        if (typeof action['node'] !== 'string' || action['node'] === '' || ['leader', 'follower', 'candidate'].includes(action['node']) || action['node'].startsWith('$')) {
          this.fail(`${field}.node`, `must be the new node's id, got ${show(action['node'])}`);
        }
        if (action['voter'] !== undefined && typeof action['voter'] !== 'boolean') this.fail(`${field}.voter`, `must be true or false, got ${show(action['voter'])}`);
        return;
      case 'remove-node':
        keys('node', 'as');
        this.target(action['node'], `${field}.node`);
        return this.remember(action, field, 'node');
      default:
        return this.fail(`${field}.do`, `unknown action ${show(kind)} (expected one of ${[...NODE_ACTIONS, 'partition', 'heal', 'stop-dropping', 'propose', 'drop', 'cut', 'restore', 'add-node', 'remove-node'].join(', ')})`);
    }
  }

  private index(value: unknown, field: string): void {
    if (isWhole(value, 0)) return;
    if (typeof value === 'string' && value.startsWith('$')) {
      if (this.names.get(value.slice(1)) !== 'index') this.fail(field, `${show(value)} names no index an earlier propose remembered with "as"`);
      return;
    }
    this.fail(field, `must be a log index (a whole number) or "$name", got ${show(value)}`);
  }

  private nodes(value: unknown, field: string): void {
    if (value === 'all' || value === 'majority') return;
    if (Array.isArray(value)) {
      if (value.length === 0) this.fail(field, 'must name at least one node');
      return value.forEach((t, i) => this.target(t, `${field}[${i}]`));
    }
    this.target(value, field);
  }

  private condition(value: unknown, field: string): void {
    if (!isObject(value)) return this.fail(field, `must be an object, got ${show(value)}`);
    const keys = (...allowed: string[]): void => only(value, allowed, `steps[${this.step}]${field}.`, this.failAt, this.step);
    const term = (t: unknown, f: string): void => {
      if (isWhole(t, 0)) return;
      if (typeof t === 'string' && t.startsWith('$') && this.names.get(t.slice(1)) === 'node') return;
      this.fail(f, `must be a term (a whole number) or a remembered node ("$name"), got ${show(t)}`);
    };
    if ('leader' in value) {
      keys('leader', 'except', 'termAbove');
      if (value['leader'] !== true) this.fail(`${field}.leader`, `must be true, got ${show(value['leader'])}`);
      const except = value['except'];
      if (except !== undefined) {
        if (!Array.isArray(except)) this.fail(`${field}.except`, `must be a list of nodes, got ${show(except)}`);
        (except as unknown[]).forEach((t, i) => this.target(t, `${field}.except[${i}]`));
      }
      if (value['termAbove'] !== undefined) term(value['termAbove'], `${field}.termAbove`);
    } else if ('leaderIs' in value) {
      keys('leaderIs');
      this.target(value['leaderIs'], `${field}.leaderIs`);
    } else if ('committed' in value || 'applied' in value) {
      const which = 'committed' in value ? 'committed' : 'applied';
      keys(which, 'on');
      this.index(value[which], `${field}.${which}`);
      if (value['on'] !== undefined) this.nodes(value['on'], `${field}.on`);
    } else if ('entry' in value) {
      keys('entry', 'term', 'on');
      this.index(value['entry'], `${field}.entry`);
      if (value['term'] !== undefined && !isWhole(value['term'], 0)) this.fail(`${field}.term`, `must be a whole number, got ${show(value['term'])}`);
      this.nodes(value['on'], `${field}.on`);
    } else if ('role' in value) {
      keys('role', 'node');
      if (!ROLES.has(value['role'] as string)) this.fail(`${field}.role`, `must be one of ${[...ROLES].join(', ')}, got ${show(value['role'])}`);
      this.target(value['node'], `${field}.node`);
    } else if ('someone' in value) {
      keys('someone');
      if (!ROLES.has(value['someone'] as string)) this.fail(`${field}.someone`, `must be one of ${[...ROLES].join(', ')}, got ${show(value['someone'])}`);
    } else if ('termAbove' in value) {
      keys('termAbove', 'node');
      term(value['termAbove'], `${field}.termAbove`);
      this.target(value['node'], `${field}.node`);
    } else if ('snapshotInstalled' in value) {
      keys('snapshotInstalled');
      this.target(value['snapshotInstalled'], `${field}.snapshotInstalled`);
    } else if ('compacted' in value) {
      keys('compacted');
      this.nodes(value['compacted'], `${field}.compacted`);
    } else if ('member' in value) {
      keys('member', 'voter');
      this.target(value['member'], `${field}.member`);
      if (typeof value['voter'] !== 'boolean') this.fail(`${field}.voter`, `must be true or false, got ${show(value['voter'])}`);
    } else if ('converged' in value) {
      keys('converged');
      if (value['converged'] !== true) this.fail(`${field}.converged`, `must be true, got ${show(value['converged'])}`);
    } else if ('all' in value || 'any' in value) {
      const which = 'all' in value ? 'all' : 'any';
      keys(which);
      const list = value[which];
      if (!Array.isArray(list) || list.length === 0) this.fail(`${field}.${which}`, `must be a non-empty list of conditions, got ${show(list)}`);
      (list as unknown[]).forEach((c, i) => this.condition(c, `${field}.${which}[${i}]`));
    } else if ('not' in value) {
      keys('not');
      this.condition(value['not'], `${field}.not`);
    } else {
      this.fail(field, `unknown condition ${show(value)} (expected one with leader, leaderIs, committed, applied, entry, role, someone, termAbove, snapshotInstalled, compacted, member, converged, all, any or not)`);
    }
  }
}
