/**
 * `<raft-playground>`: the view of a {@link PlaygroundModel} as a custom element (shadow DOM with
 * its own styles, SVG for the ring of nodes, real buttons and inputs for every control). The
 * element class is made inside {@link definePlayground}, so that this module loads in Node,
 * where there is no `HTMLElement`.
 */
import type { NodeId } from '../../raft/types.js';
import { lessons } from '../lessons/catalogue.js';
import { PlaygroundError } from './errors.js';
import { frameClock } from './frame-clock.js';
import { PlaygroundModel } from './model.js';
import { clampSpeed, parsePlaygroundAttributes, SIZE_RANGE } from './options.js';
import type { PlaygroundMessage, PlaygroundNode, PlaygroundState, RecordedAction } from './state.js';
import { attrs, html, svg, text } from './dom.js';
import { lookup, termColour } from '../svg.js';
import { STYLES } from './styles.js';

/**
 * What `element.state` returns: the model's {@link PlaygroundState} at the time shown, and the
 * element's own: whether it plays, its speed, and what its attributes asked for that it could
 * not use (`problems`, shown above the cluster).
 *
 * @example
 * ```ts
 * import type { PlaygroundElementState } from 'raftkit/viz';
 * const leaderOf = (state: PlaygroundElementState) => (state.playing ? undefined : state.leader);
 * ```
 */
export interface PlaygroundElementState extends PlaygroundState {
  /** Whether it plays. */
  readonly playing: boolean;
  /** Virtual ms per real ms (0.1 to 10). */
  readonly speed: number;
  /** The attributes it could not use as given, one sentence each. */
  readonly problems: readonly string[];
}

/**
 * The `<raft-playground>` element (an `HTMLElement` with these members), as
 * {@link definePlayground} registers it: a RaftScope-like playground running raftkit's real
 * simulator in the page.
 *
 * Attributes: `seed` (a whole number, default 1), `size` (3–7, default 5), `autoplay`,
 * `lesson` (a built-in lesson's id: it runs that lesson, on the lesson's own cluster and seed,
 * showing its caption and holding at each step's end until "Next step"), `pre-vote` and
 * `check-quorum` (on unless `"false"`), `speed` (0.1–10, default 1). Bad values are not fatal: a size outside 3–7 is clamped, a bad seed or
 * speed falls back to the default, an unknown lesson to free play, and each is said in
 * `[data-role=problems]`. The attributes are read when the element is first connected and when
 * one changes; moving the element in the page keeps its run (and its playing), unless an
 * attribute changed while it was detached.
 *
 * Selectors (stable, for tests and pages): buttons by `aria-label` — `Play`/`Pause` (one
 * toggle), `Step`, `Next step`, `Crash node 2`, `Restart node 2`, `Time out node 2`, `Isolate
 * node 2`, `Split the cluster in two`, `Heal the network`, `Propose command` (with the text
 * input `Command`), `Drop message 17` (in the details of a selected message), `New cluster`;
 * inputs `input[type=range][aria-label="Timeline"]` and `[aria-label="Speed"]`; nodes as
 * `[data-node="2"]` with `data-role-name` (follower, precandidate, candidate, leader),
 * `data-term` and `data-status`; messages as `[data-message="17"]`; logs as `[data-log="2"]`
 * with `[data-index]` entries; `[data-role=caption]` (a lesson's caption), `[data-role=details]`,
 * `[data-role=status]` (what an action could not do), `[data-role=actions]` (the actions done).
 * Inside the shadow root: `element.shadowRoot.querySelector(…)`.
 *
 * Keyboard: every control is a button or an input, in reading order; nodes and messages take
 * focus to show their details; on the timeline the arrows move 100 ms (with Shift, 1 s) and
 * Home and End go to its ends (the timeline spans the past still replayable: the model's
 * default `historyMs`, 10 virtual minutes, to a quarter more); shortcuts outside text inputs: `p` play/pause, `s` step, `n`
 * next step.
 *
 * Testing hooks: `state`, the methods below, and the event `raft-playground:state` (a
 * CustomEvent whose detail is the state) after each frame, seek and action.
 *
 * @example
 * ```ts
 * import { definePlayground, type RaftPlayground } from 'raftkit/viz';
 * definePlayground(); // a no-op outside a browser
 * const crashLeader = async (element: RaftPlayground) => {
 *   const leader = element.state.leader;
 *   if (leader !== undefined) await element.crash(leader);
 * };
 * ```
 */
export interface RaftPlayground {
  /** The picture at the time shown. */
  readonly state: PlaygroundElementState;
  /** How long each recent animation frame's work took (ms, newest last; up to 1,000). */
  readonly frameTimes: readonly number[];
  /** The model behind the element (rebuilt when an attribute changes). */
  readonly model: PlaygroundModel;
  /** Plays: virtual time moves `speed` times as fast as real time. */
  play(): void;
  /** Pauses. */
  pause(): void;
  /** Pauses and moves to the next moment something happens. */
  step(): Promise<void>;
  /** Pauses and shows virtual time `ms` (replayed; clamped to what has run and is still replayable). */
  seek(ms: number): Promise<void>;
  /** Moves virtual time `ms` forward at once (as fast as it can run). */
  advance(ms: number): Promise<void>;
  /** Crashes node `id`. */
  crash(id: NodeId): Promise<void>;
  /** Restarts crashed node `id`. */
  restart(id: NodeId): Promise<void>;
  /** Runs node `id`'s election timer out: it campaigns. */
  timeout(id: NodeId): Promise<void>;
  /** Cuts node `id` off from the others. */
  isolate(id: NodeId): Promise<void>;
  /** Splits the network into groups. */
  partition(groups: readonly (readonly NodeId[])[]): Promise<void>;
  /** Heals the network. */
  heal(): Promise<void>;
  /** Proposes `command` to the leader. */
  propose(command: unknown): Promise<void>;
  /** Drops message `id` (in flight at the time shown) when it arrives. */
  dropMessage(id: number): Promise<void>;
  /** Moves a lesson on from a step's end. */
  nextStep(): Promise<void>;
}

const OBSERVED = ['seed', 'size', 'autoplay', 'lesson', 'pre-vote', 'check-quorum', 'speed'];
const STATE_EVENT = 'raft-playground:state';
/** The longest real time one frame may show (a background tab coming back does not jump). */
const MAX_FRAME_MS = 100;
const CENTER = 200;
const RING = 140;
const NODE_R = 30;
const TYPE_COLOURS: Readonly<Record<string, string>> = {
  AppendEntries: '#5b8def',
  AppendEntriesResponse: '#5b8def',
  RequestVote: '#f0a000',
  RequestVoteResponse: '#f0a000',
  PreVote: '#f5d76e',
  PreVoteResponse: '#f5d76e',
  InstallSnapshot: '#9b59b6',
  InstallSnapshotResponse: '#9b59b6',
  TimeoutNow: '#d33',
};

/**
 * Registers the `<raft-playground>` element under `tagName` (default `raft-playground`).
 * Idempotent, and a no-op outside a browser (no `customElements`): importing raftkit/viz
 * registers nothing (`"sideEffects": false`), so call this once, or load the standalone script
 * (`raft-playground.js`), which does. See {@link RaftPlayground} for its attributes, selectors
 * and hooks.
 *
 * @example
 * ```ts
 * import { definePlayground } from 'raftkit/viz';
 * definePlayground(); // then <raft-playground seed="1" size="5" autoplay></raft-playground> in a page
 * console.log(typeof customElements === 'undefined' ? 'no browser here: nothing registered' : 'registered'); // no browser here: nothing registered
 * ```
 */
export function definePlayground(tagName = 'raft-playground'): void {
  const registry = (globalThis as { customElements?: CustomElementRegistry }).customElements;
  if (registry === undefined || typeof globalThis.HTMLElement !== 'function') return;
  if (registry.get(tagName) !== undefined) return;
  registry.define(tagName, elementClass());
}

/** The element class, made on demand: `HTMLElement` exists only in a browser. */
function elementClass(): CustomElementConstructor {
  return class RaftPlaygroundElement extends HTMLElement implements RaftPlayground {
    static get observedAttributes(): string[] {
      return OBSERVED;
    }
    readonly #view: View;
    constructor() {
      super();
      this.#view = new View(this);
    }
    connectedCallback(): void {
      this.#view.connect();
    }
    disconnectedCallback(): void {
      this.#view.disconnect();
    }
    attributeChangedCallback(name: string, before: string | null, after: string | null): void {
      if (before !== after) this.#view.attributeChanged(name);
    }
    get state(): PlaygroundElementState {
      return this.#view.state();
    }
    get frameTimes(): readonly number[] {
      return this.#view.frameTimes;
    }
    get model(): PlaygroundModel {
      return this.#view.model;
    }
    play(): void {
      this.#view.play();
    }
    pause(): void {
      this.#view.pause();
    }
    step(): Promise<void> {
      return this.#view.run(() => this.#view.stepOnce());
    }
    seek(ms: number): Promise<void> {
      this.#view.pause(); // playing on from the past would discard the future
      return this.#view.run(() => this.#view.model.seek(ms));
    }
    advance(ms: number): Promise<void> {
      return this.#view.run(() => this.#view.model.advance(ms));
    }
    crash(id: NodeId): Promise<void> {
      return this.#view.run(() => this.#view.model.crash(id));
    }
    restart(id: NodeId): Promise<void> {
      return this.#view.run(() => this.#view.model.restart(id));
    }
    timeout(id: NodeId): Promise<void> {
      return this.#view.run(() => this.#view.model.timeout(id));
    }
    isolate(id: NodeId): Promise<void> {
      return this.#view.run(() => this.#view.model.isolate(id));
    }
    partition(groups: readonly (readonly NodeId[])[]): Promise<void> {
      return this.#view.run(() => this.#view.model.partition(groups));
    }
    heal(): Promise<void> {
      return this.#view.run(() => this.#view.model.heal());
    }
    propose(command: unknown): Promise<void> {
      return this.#view.run(() => this.#view.model.propose(command));
    }
    dropMessage(id: number): Promise<void> {
      return this.#view.run(() => this.#view.model.dropMessage(id));
    }
    nextStep(): Promise<void> {
      return this.#view.run(() => this.#view.model.nextStep());
    }
  };
}

/** What the details panel shows. */
type Selection = { readonly kind: 'message'; readonly id: number } | { readonly kind: 'node'; readonly id: NodeId } | null;

/** Per-node parts of the picture. */
interface NodeParts {
  readonly group: SVGElement;
  readonly timer: SVGElement;
  readonly term: SVGElement;
  readonly votes: SVGElement;
  readonly crash: HTMLButtonElement;
  readonly restart: HTMLButtonElement;
  readonly timeout: HTMLButtonElement;
  readonly isolate: HTMLButtonElement;
  readonly log: HTMLElement;
  logKey: string;
  readonly x: number;
  readonly y: number;
}

/** The element's view: builds the shadow DOM once, draws the model's state, wires the controls. */
class View {
  readonly host: HTMLElement;
  readonly doc: Document;
  model: PlaygroundModel;
  readonly frameTimes: number[] = [];
  #connected = false;
  #playing = false;
  #speed = 1;
  #problems: readonly string[] = [];
  #handle = 0;
  #last = 0;
  #busy = false;
  #selected: Selection = null;
  #hovered: Selection = null;
  #nodes = new Map<NodeId, NodeParts>();
  #messages = new Map<string, SVGElement>();
  #nodeKey = '';
  #actionsShown = -1;
  /** The entry texts last drawn (the model makes a new record only when they change), and a count of their changes. */
  #entriesSeen: PlaygroundState['entries'] | null = null;
  #entriesVersion = 0;
  #suppress = false;
  /** Whether {@link configure} has run (on the first connection). */
  #configured = false;
  /** Attributes changed while detached: configure again when connected. */
  #stale = false;
  /** It was playing when it was detached. */
  #playOnConnect = false;
  // The skeleton.
  readonly #problemsEl: HTMLElement;
  readonly #lesson: HTMLElement;
  readonly #lessonTitle: HTMLElement;
  readonly #caption: HTMLElement;
  readonly #stepText: HTMLElement;
  readonly #next: HTMLButtonElement;
  readonly #ring: SVGElement;
  readonly #linksLayer: SVGElement;
  readonly #messagesLayer: SVGElement;
  readonly #nodesLayer: SVGElement;
  readonly #details: HTMLElement;
  readonly #detailsBody: HTMLElement;
  readonly #drop: HTMLButtonElement;
  readonly #nodeControls: HTMLElement;
  readonly #playButton: HTMLButtonElement;
  readonly #speedInput: HTMLInputElement;
  readonly #speedText: HTMLElement;
  readonly #timeline: HTMLInputElement;
  readonly #timeText: HTMLElement;
  readonly #command: HTMLInputElement;
  readonly #status: HTMLElement;
  readonly #logs: HTMLElement;
  readonly #actions: HTMLElement;
  readonly #lessonSelect: HTMLSelectElement;
  readonly #sizeSelect: HTMLSelectElement;
  readonly #seedInput: HTMLInputElement;
  readonly #preVote: HTMLInputElement;
  readonly #checkQuorum: HTMLInputElement;

  constructor(host: HTMLElement) {
    this.host = host;
    const doc = (this.doc = host.ownerDocument);
    const root = host.attachShadow({ mode: 'open' });
    const h = <K extends keyof HTMLElementTagNameMap>(tag: K, a: Record<string, string | number | boolean | undefined> = {}, ...c: (Node | string)[]) => html(doc, tag, a, ...c);
    const button = (label: string, content: string, onClick: () => void, extra: Record<string, string> = {}): HTMLButtonElement => {
      const b = h('button', { type: 'button', 'aria-label': label, ...extra }, content);
      b.addEventListener('click', () => {
        if (b.getAttribute('aria-disabled') === 'true') return;
        onClick();
      });
      return b;
    };
    this.model = new PlaygroundModel();

    this.#problemsEl = h('p', { class: 'rp-problems', 'data-role': 'problems', role: 'status' });
    this.#lessonTitle = h('h3', { 'data-role': 'lesson-title' });
    this.#caption = h('p', { class: 'rp-caption', 'data-role': 'caption', 'aria-live': 'polite' });
    this.#stepText = h('span', { 'data-role': 'lesson-step' });
    this.#next = button('Next step', 'Next step', () => void this.act(() => this.model.nextStep()));
    this.#lesson = h('section', { class: 'rp-lesson', 'aria-label': 'Lesson', hidden: true }, this.#lessonTitle, this.#caption, h('div', { class: 'rp-row' }, this.#stepText, this.#next));

    this.#linksLayer = svg(doc, 'g', { class: 'rp-links' });
    this.#messagesLayer = svg(doc, 'g', { class: 'rp-messages' });
    this.#nodesLayer = svg(doc, 'g', { class: 'rp-nodes' });
    this.#ring = svg(doc, 'svg', { class: 'rp-ring', viewBox: '0 0 400 400', role: 'group', 'aria-label': 'The cluster: nodes in a ring, messages in flight' }, this.#linksLayer, this.#nodesLayer, this.#messagesLayer);

    this.#detailsBody = h('div');
    this.#drop = button('Drop message', 'Drop this message', () => {
      const selection = this.#shown();
      if (selection?.kind === 'message') void this.act(() => this.model.dropMessage(selection.id));
    });
    this.#details = h('div', { class: 'rp-details', 'data-role': 'details', 'aria-live': 'polite' }, this.#detailsBody, this.#drop);
    this.#nodeControls = h('div', { class: 'rp-nodectl', role: 'group', 'aria-label': 'Nodes' });
    const side = h('div', { class: 'rp-side' }, this.#details, this.#nodeControls);

    this.#playButton = button('Play', 'Play', () => (this.#playing ? this.pause() : this.play()));
    const stepButton = button('Step', 'Step', () => void this.act(() => this.stepOnce()));
    this.#speedInput = h('input', { type: 'range', min: -1, max: 1, step: 0.05, value: 0, 'aria-label': 'Speed' });
    this.#speedInput.addEventListener('input', () => this.setSpeed(10 ** Number(this.#speedInput.value)));
    this.#speedText = h('output', { 'aria-hidden': 'true' }, '1×');
    this.#timeline = h('input', { type: 'range', min: 0, max: 0, step: 'any', value: 0, 'aria-label': 'Timeline', class: 'rp-timeline' });
    this.#timeline.addEventListener('input', () => {
      this.pause();
      void this.act(() => this.model.seek(Number(this.#timeline.value)));
    });
    // Arrows move 100 ms (with Shift, 1 s), Home and End go to the ends: "any" steps would be 1 ms.
    this.#timeline.addEventListener('keydown', (event) => {
      const state = this.model.state;
      const move: Readonly<Record<string, number>> = { ArrowLeft: -1, ArrowDown: -1, ArrowRight: 1, ArrowUp: 1, PageDown: -10, PageUp: 10 };
      let to: number | undefined;
      if (event.key === 'Home') to = state.earliest;
      else if (event.key === 'End') to = state.head;
      else if (move[event.key] !== undefined) to = state.time + (move[event.key] as number) * (event.shiftKey ? 1000 : 100);
      if (to === undefined) return;
      event.preventDefault();
      this.pause();
      void this.act(() => this.model.seek(to));
    });
    this.#timeText = h('span', { class: 'rp-time', 'data-role': 'time' }, '0.00 s');
    const transport = h('div', { class: 'rp-row', role: 'group', 'aria-label': 'Playback' }, this.#playButton, stepButton, h('label', {}, 'Speed', this.#speedInput), this.#speedText, this.#timeline, this.#timeText);

    this.#command = h('input', { type: 'text', 'aria-label': 'Command', placeholder: 'x = 1', size: 12 });
    const propose = (): void => {
      const command = this.#command.value === '' ? 'x = 1' : this.#command.value;
      void this.act(() => this.model.propose(command));
    };
    this.#command.addEventListener('keydown', (event) => {
      if (event.key === 'Enter') propose();
    });
    const network = h(
      'div',
      { class: 'rp-row', role: 'group', 'aria-label': 'Network and clients' },
      button('Split the cluster in two', 'Split in two', () => {
        const ids = this.model.cluster.ids;
        const half = Math.floor(ids.length / 2);
        void this.act(() => this.model.partition([ids.slice(0, half), ids.slice(half)]));
      }),
      button('Heal the network', 'Heal', () => void this.act(() => this.model.heal())),
      this.#command,
      button('Propose command', 'Propose', propose),
    );
    this.#status = h('p', { class: 'rp-status', 'data-role': 'status', role: 'status', 'aria-live': 'polite' });
    this.#logs = h('div', { class: 'rp-logs', 'data-role': 'logs', role: 'group', 'aria-label': 'Logs' });
    this.#actions = h('ol', { class: 'rp-actions', 'data-role': 'actions', 'aria-label': 'Actions done' });

    this.#lessonSelect = h('select', { 'aria-label': 'Lesson' }, h('option', { value: '' }, 'Free play'), ...lessons.map((l) => h('option', { value: l.id }, l.title)));
    this.#sizeSelect = h('select', { 'aria-label': 'Cluster size' });
    for (let n = SIZE_RANGE[0]; n <= SIZE_RANGE[1]; n++) this.#sizeSelect.append(h('option', { value: n }, `${n} nodes`));
    this.#seedInput = h('input', { type: 'number', min: 0, step: 1, 'aria-label': 'Seed', size: 6 });
    this.#preVote = h('input', { type: 'checkbox', 'aria-label': 'Pre-vote' });
    this.#checkQuorum = h('input', { type: 'checkbox', 'aria-label': 'Check quorum' });
    const settings = h(
      'details',
      { class: 'rp-settings' },
      h('summary', {}, 'Cluster settings'),
      h(
        'div',
        { class: 'rp-row' },
        this.#lessonSelect,
        this.#sizeSelect,
        h('label', {}, 'Seed', this.#seedInput),
        h('label', {}, this.#preVote, 'Pre-vote'),
        h('label', {}, this.#checkQuorum, 'Check quorum'),
        button('New cluster', 'New cluster', () => this.applySettings()),
      ),
    );

    const container = h(
      'div',
      { class: 'rp', role: 'group', 'aria-label': 'Raft playground' },
      this.#problemsEl,
      this.#lesson,
      h('div', { class: 'rp-main' }, this.#ring, side),
      transport,
      network,
      this.#status,
      this.#logs,
      h('details', { open: true }, h('summary', {}, 'Actions done'), this.#actions),
      settings,
    );
    root.append(h('style', {}, STYLES), container);
    this.#wireSelection();
    container.addEventListener('keydown', (event) => this.#shortcut(event));
  }

  // ── Lifecycle ────────────────────────────────────────────────────────────────────────────

  /**
   * Connected: the first time, or after attributes changed while detached, a new model from the
   * attributes; otherwise (the element moved in the page) the same run, playing again if it was.
   */
  connect(): void {
    this.#connected = true;
    if (!this.#configured || this.#stale) {
      this.#configured = true;
      this.#stale = false;
      const autoplay = this.configure();
      if (autoplay) this.play();
    } else if (this.#playOnConnect) this.play();
    this.#playOnConnect = false;
  }

  disconnect(): void {
    this.#connected = false;
    this.#playOnConnect = this.#playing;
    this.pause();
  }

  attributeChanged(name: string): void {
    if (this.#suppress || name === 'autoplay') return;
    if (!this.#connected) {
      // Read at the first connection; once configured, at the next one (a speed needs no new model).
      if (!this.#configured) return;
      if (name === 'speed') this.setSpeed(parsePlaygroundAttributes((n) => this.host.getAttribute(n)).speed);
      else this.#stale = true;
      return;
    }
    if (name === 'speed') {
      const read = parsePlaygroundAttributes((n) => this.host.getAttribute(n));
      this.setSpeed(read.speed);
      return;
    }
    const playing = this.#playing;
    this.pause();
    this.configure();
    if (playing) this.play();
  }

  /** Reads the attributes and starts a new model; returns whether to autoplay. */
  configure(): boolean {
    const read = parsePlaygroundAttributes((n) => this.host.getAttribute(n));
    this.#problems = read.problems;
    text(this.#problemsEl, read.problems.join(' · '));
    this.model = new PlaygroundModel(read.options);
    this.#speed = read.speed;
    this.#selected = this.#hovered = null;
    const c = this.model.config;
    this.#lessonSelect.value = c.lesson?.id ?? '';
    this.#sizeSelect.value = String(c.size);
    this.#seedInput.value = typeof c.seed === 'number' ? String(c.seed) : '1';
    this.#preVote.checked = c.preVote;
    this.#checkQuorum.checked = c.checkQuorum;
    this.#nodeKey = '';
    this.#actionsShown = -1;
    text(this.#status, '');
    this.render();
    return read.autoplay;
  }

  /** The settings form becomes attributes (the attributes stay the element's truth). */
  applySettings(): void {
    const host = this.host;
    this.#suppress = true;
    try {
      const lesson = this.#lessonSelect.value;
      if (lesson === '') host.removeAttribute('lesson');
      else host.setAttribute('lesson', lesson);
      host.setAttribute('size', this.#sizeSelect.value);
      host.setAttribute('seed', this.#seedInput.value);
      host.setAttribute('pre-vote', String(this.#preVote.checked));
      host.setAttribute('check-quorum', String(this.#checkQuorum.checked));
    } finally {
      this.#suppress = false;
    }
    this.attributeChanged('seed');
  }

  // ── Playing ──────────────────────────────────────────────────────────────────────────────

  play(): void {
    if (this.#playing) return;
    this.#playing = true;
    this.#last = frameClock.now();
    this.#handle = frameClock.request(this.#frame);
    this.render();
  }

  pause(): void {
    if (!this.#playing) return;
    this.#playing = false;
    frameClock.cancel(this.#handle);
    this.#handle = 0;
    this.render();
  }

  setSpeed(speed: number): void {
    this.#speed = clampSpeed(Math.round(speed * 100) / 100);
    this.render();
  }

  readonly #frame = (time: number): void => {
    if (!this.#playing) return;
    this.#handle = frameClock.request(this.#frame);
    const elapsed = Math.min(MAX_FRAME_MS, Math.max(0, time - this.#last));
    this.#last = time;
    if (this.#busy) return; // the last frame's work is still running: skip this one
    this.#busy = true;
    const start = frameClock.now();
    this.model
      .advance(elapsed * this.#speed)
      .then(
        () => {
          this.render();
          this.frameTimes.push(frameClock.now() - start);
          if (this.frameTimes.length > 1000) this.frameTimes.splice(0, this.frameTimes.length - 1000);
          if (this.model.state.error !== null) this.pause();
        },
        (error: unknown) => {
          this.pause();
          this.#say(error);
        },
      )
      .finally(() => {
        this.#busy = false;
      });
  };

  async stepOnce(): Promise<void> {
    this.pause();
    await this.model.step();
  }

  /** Runs a hook: its error is shown and rethrown; the picture is drawn either way. */
  async run(work: () => Promise<void>): Promise<void> {
    try {
      await work();
      text(this.#status, '');
    } catch (error) {
      this.#say(error);
      throw error;
    } finally {
      this.render();
    }
  }

  /** Runs a control's work: its error is shown, not thrown. */
  act(work: () => Promise<void>): Promise<void> {
    return this.run(work).catch(() => undefined);
  }

  #say(error: unknown): void {
    text(this.#status, error instanceof PlaygroundError ? error.message : error instanceof Error ? `${error.name}: ${error.message}` : String(error));
  }

  state(): PlaygroundElementState {
    return { ...this.model.state, playing: this.#playing, speed: this.#speed, problems: this.#problems };
  }

  // ── Drawing ──────────────────────────────────────────────────────────────────────────────

  render(): void {
    const state = this.model.state;
    if (state.entries !== this.#entriesSeen) {
      this.#entriesSeen = state.entries;
      this.#entriesVersion++;
    }
    const key = state.nodes.map((n) => n.id).join('\u0000');
    if (key !== this.#nodeKey) this.#buildNodes(state.nodes);
    this.#nodeKey = key;
    this.#drawTransport(state);
    this.#drawLesson(state);
    this.#drawLinks(state);
    for (const node of state.nodes) this.#drawNode(node, state);
    this.#drawMessages(state);
    this.#drawDetails(state);
    this.#drawActions(state.actions);
    this.host.dispatchEvent(new CustomEvent(STATE_EVENT, { detail: this.state(), bubbles: true, composed: true }));
  }

  #drawTransport(state: PlaygroundState): void {
    attrs(this.#playButton, { 'aria-label': this.#playing ? 'Pause' : 'Play' });
    text(this.#playButton, this.#playing ? 'Pause' : 'Play');
    const speed = this.#speed;
    const speedText = `${speed}×`;
    text(this.#speedText, speedText);
    attrs(this.#speedInput, { 'aria-valuetext': speedText });
    if (this.host.shadowRoot?.activeElement !== this.#speedInput) this.#speedInput.value = String(Math.log10(speed));
    // The timeline spans the past still replayable: from `earliest` (0 until the model forgets) to the head.
    attrs(this.#timeline, { min: state.earliest, max: state.head, 'aria-valuetext': `${(state.time / 1000).toFixed(2)} s of ${(state.head / 1000).toFixed(2)} s` });
    if (Number(this.#timeline.value) !== state.time) this.#timeline.value = String(state.time);
    const past = state.time < state.head ? ' (the past, replayed: acting or playing on here discards what follows)' : '';
    text(this.#timeText, `${(state.time / 1000).toFixed(2)} s / ${(state.head / 1000).toFixed(2)} s${past}`);
  }

  #drawLesson(state: PlaygroundState): void {
    const lesson = state.lesson;
    attrs(this.#lesson, { hidden: lesson === null });
    if (lesson === null) return;
    text(this.#lessonTitle, lesson.title);
    text(this.#caption, lesson.caption);
    text(this.#stepText, lesson.done ? `Done: all ${lesson.steps} steps` : `Step ${lesson.step + 1} of ${lesson.steps}${lesson.holding ? ' — press Next step' : ''}`);
    attrs(this.#next, { 'aria-disabled': lesson.holding ? undefined : 'true' });
  }

  #buildNodes(nodes: readonly PlaygroundNode[]): void {
    const doc = this.doc;
    for (const parts of this.#nodes.values()) parts.group.remove();
    this.#nodes.clear();
    this.#nodeControls.replaceChildren();
    this.#logs.replaceChildren(html(doc, 'h4', {}, 'Logs (entries coloured by term; solid: committed; the bar: the commit index)'));
    this.#linksLayer.replaceChildren();
    const n = nodes.length;
    nodes.forEach((node, i) => {
      const angle = -Math.PI / 2 + (2 * Math.PI * i) / n;
      const x = CENTER + RING * Math.cos(angle);
      const y = CENTER + RING * Math.sin(angle);
      const id = node.id;
      const timer = svg(doc, 'path', { class: 'rp-timer' });
      const term = svg(doc, 'text', { class: 'rp-term', x, y: y + 12 });
      const votes = svg(doc, 'g', { class: 'rp-votes' });
      const group = svg(
        doc,
        'g',
        { class: 'rp-node', 'data-node': id, tabindex: 0, role: 'img' },
        timer,
        svg(doc, 'circle', { class: 'rp-body', cx: x, cy: y, r: NODE_R }),
        svg(doc, 'text', { class: 'rp-id', x, y: y - 7 }, id),
        term,
        votes,
      );
      this.#nodesLayer.append(group);
      const b = (label: string, content: string, work: () => Promise<void>) => {
        const button = html(doc, 'button', { type: 'button', 'aria-label': `${label} node ${id}` }, content);
        button.addEventListener('click', () => {
          if (button.getAttribute('aria-disabled') !== 'true') void this.act(work);
        });
        return button;
      };
      const crash = b('Crash', 'Crash', () => this.model.crash(id));
      const restart = b('Restart', 'Restart', () => this.model.restart(id));
      const timeout = b('Time out', 'Time out', () => this.model.timeout(id));
      const isolate = b('Isolate', 'Isolate', () => this.model.isolate(id));
      this.#nodeControls.append(html(doc, 'span', { class: 'rp-label' }, `Node ${id}`), crash, restart, timeout, isolate);
      const log = html(doc, 'div', { class: 'rp-log', 'data-log': id, role: 'group', 'aria-label': `Log of node ${id}` });
      this.#logs.append(log);
      this.#nodes.set(id, { group, timer, term, votes, crash, restart, timeout, isolate, log, logKey: '', x, y });
    });
    const ids = nodes.map((node) => node.id);
    for (let a = 0; a < ids.length; a++) {
      for (let b = a + 1; b < ids.length; b++) {
        const p = this.#nodes.get(ids[a] as NodeId) as NodeParts;
        const q = this.#nodes.get(ids[b] as NodeId) as NodeParts;
        this.#linksLayer.append(svg(doc, 'line', { class: 'rp-link', x1: p.x, y1: p.y, x2: q.x, y2: q.y, 'data-link': `${ids[a] as string} ${ids[b] as string}` }));
      }
    }
  }

  #drawLinks(state: PlaygroundState): void {
    const groupOf = (id: NodeId): number => {
      if (state.partition === null) return 0;
      const g = state.partition.findIndex((group) => group.includes(id));
      return g < 0 ? -1 : g;
    };
    const cut = new Set(state.cuts.map(([from, to]) => `${from} ${to}`));
    for (const line of Array.from(this.#linksLayer.children)) {
      const [a = '', b = ''] = (line.getAttribute('data-link') ?? '').split(' ');
      const broken = groupOf(a) !== groupOf(b) || state.disconnected.includes(a) || state.disconnected.includes(b) || cut.has(`${a} ${b}`) || cut.has(`${b} ${a}`);
      attrs(line, { class: broken ? 'rp-link rp-cut' : 'rp-link' });
    }
  }

  #drawNode(node: PlaygroundNode, state: PlaygroundState): void {
    const parts = this.#nodes.get(node.id);
    if (parts === undefined) return;
    const { x, y } = parts;
    const role = node.status === 'crashed' ? 'follower' : node.role;
    const statusText = node.status === 'up' ? '' : `, ${node.status}`;
    attrs(parts.group, {
      'data-role-name': role,
      'data-term': node.term,
      'data-status': node.status,
      'aria-label': `Node ${node.id}: ${role}, term ${node.term}${statusText}, ${node.votes.length} votes, log ${node.lastIndex}, commit ${node.commitIndex}`,
    });
    parts.group.classList.toggle('rp-selected', this.#shown()?.kind === 'node' && this.#shown()?.id === node.id);
    text(parts.term, `T${node.term}`);
    // The election timer: the arc that remains shrinks as the timeout nears (RaftScope's way).
    attrs(parts.timer, { d: node.timer === null ? '' : arc(x, y, NODE_R + 7, 1 - node.timer) });
    const voters = node.role === 'leader' || node.role === 'candidate' || node.role === 'precandidate' ? node.votes.filter((v) => v !== node.id) : [];
    const voteKey = voters.join(',');
    if (parts.votes.getAttribute('data-votes') !== voteKey) {
      parts.votes.setAttribute('data-votes', voteKey);
      parts.votes.replaceChildren(
        ...voters.map((voter) => {
          const other = this.#nodes.get(voter);
          const dx = other === undefined ? 0 : other.x - x;
          const dy = other === undefined ? 0 : other.y - y;
          const d = Math.hypot(dx, dy) || 1;
          return svg(this.doc, 'circle', { class: 'rp-vote', cx: x + (dx / d) * (NODE_R - 7), cy: y + (dy / d) * (NODE_R - 7), r: 4, 'data-voter': voter });
        }),
      );
    }
    const up = node.status === 'up';
    attrs(parts.crash, { 'aria-disabled': up ? undefined : 'true' });
    attrs(parts.restart, { 'aria-disabled': node.status === 'crashed' ? undefined : 'true' });
    attrs(parts.timeout, { 'aria-disabled': up && node.role !== 'leader' ? undefined : 'true' });
    this.#drawLog(parts, node, state);
  }

  #drawLog(parts: NodeParts, node: PlaygroundNode, state: PlaygroundState): void {
    const key = `${node.status}|${node.snapshotIndex}|${node.log.join(',')}|${node.commitIndex}|${this.#entriesVersion}`;
    if (key === parts.logKey) return;
    parts.logKey = key;
    const doc = this.doc;
    attrs(parts.log, { 'data-status': node.status, 'data-commit': node.commitIndex });
    const cells: Node[] = [html(doc, 'span', { class: 'rp-label' }, `Node ${node.id}`)];
    if (node.snapshotIndex > 0) {
      cells.push(html(doc, 'span', { class: 'rp-entry rp-snapshot rp-committed', title: `snapshot through index ${node.snapshotIndex} (term ${node.snapshotTerm})` }, `≤${node.snapshotIndex}`));
      if (node.commitIndex === node.snapshotIndex) cells.push(html(doc, 'span', { class: 'rp-commit', 'aria-hidden': 'true' }));
    }
    node.log.forEach((term, i) => {
      const index = node.snapshotIndex + 1 + i;
      const content = state.entries[`${index}:${term}`];
      const committed = index <= node.commitIndex;
      cells.push(
        html(
          doc,
          'span',
          {
            class: committed ? 'rp-entry rp-committed' : 'rp-entry',
            style: `background:${termColour(term).fill};color:${termColour(term).ink}`,
            'data-index': index,
            'data-term': term,
            title: `index ${index}, term ${term}${committed ? ', committed' : ''}${content === undefined ? '' : `: ${content}`}`,
          },
          String(term),
        ),
      );
      if (index === node.commitIndex) cells.push(html(doc, 'span', { class: 'rp-commit', 'aria-hidden': 'true' }));
    });
    parts.log.replaceChildren(...cells);
  }

  #drawMessages(state: PlaygroundState): void {
    const seen = new Set<string>();
    const shown = this.#shown();
    for (const message of state.messages) {
      const key = `${message.id}${message.duplicate ? '+' : ''}`;
      seen.add(key);
      let group = this.#messages.get(key);
      const from = this.#nodes.get(message.from);
      const to = this.#nodes.get(message.to);
      if (from === undefined || to === undefined) continue;
      if (group === undefined) {
        const response = message.type.endsWith('Response');
        group = svg(
          this.doc,
          'g',
          { class: response ? 'rp-msg rp-response' : 'rp-msg', 'data-message': message.id, tabindex: 0, role: 'img', 'aria-label': `${message.type} from ${message.from} to ${message.to}, term ${message.term}: ${message.summary}` },
          svg(this.doc, 'circle', { r: 7, fill: lookup(TYPE_COLOURS, message.type) ?? '#999' }),
          svg(this.doc, 'title', {}, `${message.type} ${message.from} → ${message.to}, term ${message.term}: ${message.summary}`),
        );
        this.#messagesLayer.append(group);
        this.#messages.set(key, group);
      }
      // Along the line between the two nodes, beside it by direction (requests and answers pass).
      const dx = to.x - from.x;
      const dy = to.y - from.y;
      const d = Math.hypot(dx, dy) || 1;
      const ux = dx / d;
      const uy = dy / d;
      const side = message.from < message.to ? 5 : -5;
      const travel = d - 2 * NODE_R;
      const px = from.x + ux * (NODE_R + travel * message.progress) - uy * side;
      const py = from.y + uy * (NODE_R + travel * message.progress) + ux * side;
      attrs(group, { transform: `translate(${px.toFixed(1)} ${py.toFixed(1)})` });
      group.classList.toggle('rp-doomed', message.doomed);
      group.classList.toggle('rp-selected', shown?.kind === 'message' && shown.id === message.id && !message.duplicate);
    }
    for (const [key, group] of this.#messages) {
      if (seen.has(key)) continue;
      group.remove();
      this.#messages.delete(key);
    }
  }

  #drawDetails(state: PlaygroundState): void {
    const shown = this.#shown();
    const doc = this.doc;
    const rows = (title: string, pairs: readonly (readonly [string, string])[]): Node[] => [
      html(doc, 'h4', {}, title),
      html(doc, 'dl', {}, ...pairs.flatMap(([k, v]) => [html(doc, 'dt', {}, k), html(doc, 'dd', {}, v)])),
    ];
    let body: Node[];
    let drop: PlaygroundMessage | undefined;
    if (shown?.kind === 'message') {
      const message = state.messages.find((m) => m.id === shown.id && !m.duplicate);
      if (message === undefined) body = [html(doc, 'p', {}, `Message ${shown.id} is no longer in flight at this time.`)];
      else {
        drop = message;
        const send = message.send;
        const fields: [string, string][] = [
          ['from → to', `${message.from} → ${message.to}`],
          ['term', String(message.term)],
          ['says', message.summary],
          ['sent', `${(message.sentAt / 1000).toFixed(3)} s`],
          [message.estimated ? 'arrives (about)' : 'arrives', `${(message.deliverAt / 1000).toFixed(3)} s`],
        ];
        const optional: [string, unknown][] = [
          ['prevIndex', send.prevIndex],
          ['prevTerm', send.prevTerm],
          ['entries', send.entries === undefined ? undefined : `${send.entries[0]}–${send.entries[1]}`],
          ['commit', send.commit],
          ['lastLogIndex', send.lastLogIndex],
          ['lastLogTerm', send.lastLogTerm],
          ['success', send.success],
          ['index', send.index],
          ['refusal', send.refusal],
        ];
        for (const [k, v] of optional) if (v !== undefined) fields.push([k, String(v)]);
        if (message.doomed) fields.push(['fate', 'dropped by you: lost when it arrives']);
        body = rows(`Message ${message.id}: ${message.type}`, fields);
      }
    } else if (shown?.kind === 'node') {
      const node = state.nodes.find((n) => n.id === shown.id);
      body =
        node === undefined
          ? [html(doc, 'p', {}, `Node ${shown.id} is not in the cluster.`)]
          : rows(`Node ${node.id}`, [
              ['status', node.status],
              ['role', node.role],
              ['term', String(node.term)],
              ['voted for', node.votedFor ?? 'nobody'],
              ['votes', node.votes.join(', ') || 'none'],
              ['log', `${node.lastIndex} entries${node.snapshotIndex > 0 ? ` (snapshot through ${node.snapshotIndex})` : ''}`],
              ['commit', String(node.commitIndex)],
              ['applied', String(node.appliedIndex)],
              ['timer', node.timer === null ? '—' : `reset at ${(node.timerResetAt / 1000).toFixed(2)} s; times out ${node.electionTimeoutMs[0]}–${node.electionTimeoutMs[1]} ms after`],
            ]);
    } else body = [html(doc, 'p', {}, 'Hover over or focus a node or a message to see its details; click a message to pick it, then drop it.')];
    this.#detailsBody.replaceChildren(...body);
    attrs(this.#drop, { hidden: drop === undefined, 'aria-label': drop === undefined ? 'Drop message' : `Drop message ${drop.id}`, 'aria-disabled': drop?.doomed === true ? 'true' : undefined });
  }

  #drawActions(actions: readonly RecordedAction[]): void {
    if (actions.length === this.#actionsShown) return;
    this.#actionsShown = actions.length;
    this.#actions.replaceChildren(...actions.map((a) => html(this.doc, 'li', {}, `${(a.time / 1000).toFixed(2)} s: ${describeAction(a)}`)));
  }

  // ── Selection and shortcuts ──────────────────────────────────────────────────────────────

  #shown(): Selection {
    return this.#hovered ?? this.#selected;
  }

  #wireSelection(): void {
    const target = (event: Event): Selection => {
      const element = (event.target as Element | null)?.closest?.('[data-message], [data-node]');
      if (element === null || element === undefined) return null;
      const message = element.getAttribute('data-message');
      if (message !== null) return { kind: 'message', id: Number(message) };
      return { kind: 'node', id: element.getAttribute('data-node') ?? '' };
    };
    const ring = this.#ring;
    ring.addEventListener('pointerover', (event) => {
      this.#hovered = target(event);
      this.#drawDetails(this.model.state);
    });
    ring.addEventListener('pointerleave', () => {
      this.#hovered = null;
      this.#drawDetails(this.model.state);
    });
    ring.addEventListener('focusin', (event) => {
      this.#selected = target(event);
      this.#drawDetails(this.model.state);
    });
    ring.addEventListener('click', (event) => {
      this.#selected = target(event);
      this.#drawDetails(this.model.state);
    });
  }

  #shortcut(event: KeyboardEvent): void {
    const target = event.target as Element | null;
    if (target === null || event.ctrlKey || event.metaKey || event.altKey) return;
    if (target.closest('input, select, textarea') !== null) return;
    if (event.key === 'p') (this.#playing ? this.pause() : this.play());
    else if (event.key === 's') void this.act(() => this.stepOnce());
    else if (event.key === 'n') void this.act(() => this.model.nextStep());
    else return;
    event.preventDefault();
  }
}

/** The arc of `fraction` of a circle, clockwise from the top. */
function arc(x: number, y: number, r: number, fraction: number): string {
  const f = Math.max(0, Math.min(0.9999, fraction));
  if (f <= 0) return '';
  const end = -Math.PI / 2 + 2 * Math.PI * f;
  const ex = x + r * Math.cos(end);
  const ey = y + r * Math.sin(end);
  return `M ${x.toFixed(1)} ${(y - r).toFixed(1)} A ${r} ${r} 0 ${f > 0.5 ? 1 : 0} 1 ${ex.toFixed(1)} ${ey.toFixed(1)}`;
}

/** An action in words (a command as its text, never as markup). */
function describeAction({ action }: RecordedAction): string {
  switch (action.kind) {
    case 'crash':
    case 'restart':
      return `${action.kind} node ${action.node}`;
    case 'timeout':
      return `time out node ${action.node}`;
    case 'partition':
      return `partition ${action.groups.map((g) => `{${g.join(', ')}}`).join(' | ')}`;
    case 'heal':
      return 'heal the network';
    case 'next-step':
      return 'next step of the lesson';
    case 'propose':
      return `propose ${typeof action.command === 'string' ? action.command : JSON.stringify(action.command)} to node ${action.node}`;
    case 'drop':
      return `drop message ${action.message} (${action.from} → ${action.to})`;
  }
}
