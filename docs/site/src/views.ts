/**
 * The site's HTML fragments, as pure functions that return strings: the build renders them in
 * Node (scripts/site.mjs) and the page scripts render the same ones in the browser, so a page
 * reads the same with or without JavaScript. Every text that comes from data is escaped here.
 */
import { Cluster, type RoundReport, type TraceEvent } from '../../../src/index.js';
import { lamportExampleSteps, timestampEvents, toClocksSvg, toSpaceTimeSvg, vectorExampleSteps, type TimestampedEvent } from '../../../src/viz/index.js';
import { lamportExample } from '../../../src/examples/lamport.js';

const HTML_SPECIAL: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** `text` safe in HTML text or a double-quoted attribute. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_SPECIAL[c] as string);
}

/**
 * `svg` with every id it defines (and each `url(#id)` / `href="#id"` naming one) prefixed with
 * `scope`: each picture defines its arrowheads under the same ids, and a page that inlines
 * several must not hold one id twice.
 */
export function scopeIds(svg: string, scope: string): string {
  const ids = new Set([...svg.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1] as string));
  return svg.replace(/(\sid="|url\(#|href="#)([^")]+)/g, (whole, lead: string, id: string) => (ids.has(id) ? `${lead}${scope}-${id}` : whole));
}

/** The pages, in the order of the navigation bar. */
export const PAGES = [
  { file: 'index.html', name: 'Home' },
  { file: 'playground.html', name: 'Playground' },
  { file: 'clocks.html', name: 'Clocks' },
  { file: 'mini-project.html', name: 'Mini project' },
  { file: 'api/index.html', name: 'API' },
] as const;

/** The navigation bar, with `current` marked for assistive technology. */
export function nav(current: string): string {
  const items = PAGES.map((p) => `<li><a href="${p.file}"${p.file === current ? ' aria-current="page"' : ''}>${escapeHtml(p.name)}</a></li>`);
  return `<nav aria-label="Site"><a class="brand" href="index.html">raftkit</a><ul>${items.join('')}</ul></nav>`;
}

/** A vector timestamp as the clocks pictures print it: entries in the order of `processes`. */
function vectorText(event: TimestampedEvent, processes: readonly string[]): string {
  return `[${processes.map((p) => event.vector[p] ?? 0).join(', ')}]`;
}

/** A table of timestamped events (what the SVG beside it shows, in rows a screen reader can walk). */
function eventTable(caption: string, events: readonly TimestampedEvent[], processes: readonly string[], id: string): string {
  const rows = events.map(
    (e) =>
      `<tr data-id="${escapeHtml(e.id)}"${e.concurrentWith.length > 0 ? ' class="concurrent"' : ''}><th scope="row">${escapeHtml(e.id)}</th><td>${escapeHtml(e.label)}</td>` +
      `<td class="num" data-col="lamport">${e.lamport}</td><td class="mono" data-col="vector">${escapeHtml(vectorText(e, processes))}</td>` +
      `<td data-col="concurrent">${e.concurrentWith.length > 0 ? escapeHtml(e.concurrentWith.join(', ')) : '<span class="muted">none</span>'}</td></tr>`,
  );
  return (
    `<div class="table-wrap"><table id="${id}"><caption>${escapeHtml(caption)}</caption>` +
    `<thead><tr><th scope="col">Event</th><th scope="col">What happens</th><th scope="col">Lamport</th><th scope="col">Vector (${escapeHtml(processes.join(', '))})</th><th scope="col">Concurrent with</th></tr></thead>` +
    `<tbody>${rows.join('')}</tbody></table></div>`
  );
}

/** The processes of the events, in the order they first act. */
function processesOf(events: readonly TimestampedEvent[]): string[] {
  return [...new Set(events.map((e) => e.process))];
}

/** The Lamport example: the three lines the text prints, the picture and the table. */
export function lamportSection(): string {
  const events = timestampEvents(lamportExampleSteps);
  const lines = lamportExample();
  return (
    `<pre class="output" id="lamport-output" aria-label="What the example prints">${escapeHtml(lines.join('\n'))}</pre>` +
    `<figure id="lamport-figure">${scopeIds(toClocksSvg(lamportExampleSteps, { timestamps: 'lamport', title: "The seed's Lamport clock example: A sends at 1, B receives at 2, B's internal event at 3" }), 'lamport')}` +
    `<figcaption>Time flows down. Each dot is an event with its Lamport time (L). The receive takes the larger of B's time and the message's, plus one.</figcaption></figure>` +
    eventTable('The Lamport example, event by event', events, processesOf(events), 'lamport-table')
  );
}

/** The vector clocks example on a space-time diagram, concurrent events marked; `focus` colours one event's past and future. */
export function vectorFigure(focus?: string): string {
  const title = focus === undefined ? 'Vector clocks of A, B and C: concurrent events ringed in amber' : `Vector clocks of A, B and C: the past (blue), future (green) and concurrent events (amber) of ${focus}`;
  return scopeIds(toClocksSvg(vectorExampleSteps, { ...(focus !== undefined && { focus }), title }), 'vector');
}

/** The vector example: a focus picker, the picture and the table. */
export function vectorSection(): string {
  const events = timestampEvents(vectorExampleSteps);
  const options = events.map((e) => `<option value="${escapeHtml(e.id)}">${escapeHtml(`${e.id}: ${e.label}`)}</option>`);
  const concurrent = events.filter((e) => e.concurrentWith.length > 0).map((e) => e.id);
  return (
    `<p>Events neither before nor after one another are <strong>concurrent</strong>: ${escapeHtml(concurrent.join(', '))} each have at least one. ` +
    `They are drawn with a dashed amber ring and list the events they are concurrent with (∥). Lamport times alone cannot tell: A3 has Lamport time 3, smaller than B2's, yet neither happened before the other.</p>` +
    `<p class="controls"><label for="focus">Focus on an event</label> <select id="focus"><option value="">none</option>${options.join('')}</select> <span id="focus-status" role="status"></span></p>` +
    `<figure id="vector-figure">${vectorFigure()}</figure>` +
    eventTable('The vector clocks example, event by event', events, processesOf(events), 'vector-table')
  );
}

/** One round of the mini project, with the facts a page shows and the picture of its window. */
export interface RoundView {
  /** What `cluster.simulate` reported. */
  readonly report: RoundReport;
  /** Virtual time of the crash and of the recovery: the window drawn. */
  readonly from: number;
  /** End of the window. */
  readonly to: number;
  /** Who granted the elected node its vote in its term (itself excluded), in trace order. */
  readonly grantedBy: readonly string[];
  /** Refusals of that candidate in its term: voter and reason. */
  readonly refusals: readonly { readonly node: string; readonly reason: string }[];
  /** The space-time diagram of the window. */
  readonly svg: string;
}

/** The next round can start at the very moment this one ends (its node fails at once): stop just before. */
const WINDOW_EDGE_MS = 0.001;

/**
 * Runs the seed's mini project (`cluster.simulate({ rounds })` on a 5-node cluster, as
 * `raftkit demo` does with seed 42) and draws each round's window, from the node's failure to
 * its recovery.
 */
export async function runMiniProject(seed: number | string = 42, rounds = 3, size = 5): Promise<RoundView[]> {
  const cluster = new Cluster({ size, seed, traceLimit: 1_000_000 });
  const marks: { line: string; at: number }[] = [];
  const reports = await cluster.simulate({ rounds, log: (line) => marks.push({ line, at: cluster.now }) });
  const trace: TraceEvent[] = cluster.trace();
  let offset = 0; // the marks are every round's lines, in order
  return reports.map((report) => {
    const at = marks.slice(offset, (offset += report.lines.length)).map((m) => m.at);
    const from = at[1] ?? 0; // "Node X failed", said just after the crash
    const to = at[at.length - 1] ?? cluster.now; // "Node X recovered"
    const votes = trace.filter(
      (e): e is Extract<TraceEvent, { kind: 'vote' }> => e.kind === 'vote' && e.time >= from && e.time <= to && !e.preVote && e.candidate === report.leader && e.term === report.term,
    );
    const grantedBy = votes.filter((v) => v.granted && v.node !== report.leader).map((v) => v.node);
    const refusals = votes.filter((v) => !v.granted).map((v) => ({ node: v.node, reason: v.reason ?? 'refused' }));
    const title = `Round ${report.round}: node ${report.failed} fails, ${report.leader === null ? 'no leader is elected' : `node ${report.leader} is elected in term ${report.term}`}, node ${report.failed} recovers`;
    return { report, from, to, grantedBy, refusals, svg: scopeIds(toSpaceTimeSvg(trace, { from: Math.max(0, from - 10), to: to - WINDOW_EDGE_MS, heartbeats: false, pxPerMs: 2, title }), `round-${report.round}`) };
  });
}

/** The rounds as the mini project page shows them: a summary table, then one section per round. */
export function roundsSection(views: readonly RoundView[], seed: number | string): string {
  const rows = views.map(({ report }) => {
    const elected = report.leader === null ? 'none (split vote)' : `node ${report.leader}`;
    return `<tr data-round="${report.round}"><th scope="row">${report.round}</th><td data-col="failed">node ${escapeHtml(report.failed)}</td><td data-col="leader">${escapeHtml(elected)}</td><td data-col="votes" class="num">${report.votes}/${report.liveNodes}</td><td data-col="term" class="num">${report.term}</td></tr>`;
  });
  const table =
    `<div class="table-wrap"><table id="rounds-table"><caption>${views.length} ${views.length === 1 ? 'round' : 'rounds'}, seed ${escapeHtml(String(seed))}</caption>` +
    `<thead><tr><th scope="col">Round</th><th scope="col">Failed</th><th scope="col">Elected</th><th scope="col">Votes</th><th scope="col">Term</th></tr></thead><tbody>${rows.join('')}</tbody></table></div>`;
  const rounds = views.map((view) => {
    const { report } = view;
    const voters = view.grantedBy.length > 0 ? `${view.grantedBy.map((id) => `node ${id}`).join(', ')} and itself` : 'itself only';
    const refused = view.refusals.length > 0 ? view.refusals.map((r) => `node ${r.node} (${r.reason})`).join(', ') : 'nobody';
    const facts =
      `<dl class="facts"><dt>Failed</dt><dd data-fact="failed">node ${escapeHtml(report.failed)}</dd>` +
      (report.leader === null
        ? `<dt>Elected</dt><dd data-fact="leader">nobody: split vote</dd>`
        : `<dt>Elected</dt><dd data-fact="leader">node ${escapeHtml(report.leader)}, term ${report.term}</dd>` +
          `<dt>Votes</dt><dd data-fact="votes">${report.votes} of ${report.liveNodes} live nodes</dd>` +
          `<dt>Voted for it</dt><dd data-fact="voters">${escapeHtml(voters)}</dd><dt>Refused it</dt><dd data-fact="refusals">${escapeHtml(refused)}</dd>`) +
      `<dt>Window</dt><dd>${view.from} ms to ${view.to} ms of virtual time</dd></dl>`;
    return (
      `<section class="round" id="round-${report.round}" data-round="${report.round}" aria-labelledby="round-${report.round}-title">` +
      `<h3 id="round-${report.round}-title">Round ${report.round}</h3>` +
      `<pre class="output" data-role="lines">${escapeHtml(report.lines.join('\n'))}</pre>${facts}` +
      `<figure class="scroll">${view.svg}<figcaption>Round ${report.round} from node ${escapeHtml(report.failed)}'s failure to its recovery; heartbeats hidden. Time flows down; hover an arrow or a band for its details.</figcaption></figure></section>`
    );
  });
  return table + rounds.join('');
}

/** What the lessons list needs of a lesson (a `Lesson` of raftkit/viz has it). */
export interface LessonSummary {
  /** The lesson's id, the element's `lesson` attribute. */
  readonly id: string;
  /** Its title. */
  readonly title: string;
  /** One or two sentences on what it shows. */
  readonly summary: string;
  /** Its steps (only counted here). */
  readonly steps: readonly unknown[];
}

/** The lesson picker: one button per lesson (and one for free play), each pressed when chosen. */
export function lessonsSection(lessons: readonly LessonSummary[]): string {
  const items = lessons.map(
    (lesson) =>
      `<li><button type="button" data-lesson="${escapeHtml(lesson.id)}" aria-pressed="false" aria-describedby="lesson-${escapeHtml(lesson.id)}-summary">${escapeHtml(lesson.title)}</button> ` +
      `<span id="lesson-${escapeHtml(lesson.id)}-summary">${escapeHtml(lesson.summary)} <span class="muted">(${lesson.steps.length} steps)</span></span></li>`,
  );
  return (
    `<ol class="lessons" id="lesson-list" aria-labelledby="lessons-title">${items.join('')}` +
    `<li class="free"><button type="button" data-lesson="" aria-pressed="true">Free play</button> <span class="muted">No script: the cluster is yours.</span></li></ol>`
  );
}
