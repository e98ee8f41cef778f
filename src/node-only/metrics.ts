/**
 * The little of the Prometheus text format a server needs: counters and gauges with labels, and
 * histograms with fixed buckets. No registry and no dependency: a server collects its figures
 * when scraped and writes them with {@link formatMetrics}.
 */

/**
 * One labelled value of a counter or gauge.
 *
 * @example
 * ```ts
 * import type { MetricSample } from 'raftkit/node';
 * const sample: MetricSample = { labels: { type: 'AppendEntries' }, value: 12 };
 * ```
 */
export interface MetricSample {
  /** Label names and their values (none: the metric's only sample). */
  readonly labels?: Readonly<Record<string, string>>;
  /** The value. */
  readonly value: number;
}

/**
 * A counter or a gauge, with its samples.
 *
 * @example
 * ```ts
 * import type { ValueMetric } from 'raftkit/node';
 * const metric: ValueMetric = { name: 'raftkit_term', help: 'The current term.', type: 'gauge', samples: [{ value: 3 }] };
 * ```
 */
export interface ValueMetric {
  /** The metric's name, e.g. `raftkit_term`. */
  readonly name: string;
  /** What it measures, in a sentence. */
  readonly help: string;
  /** A counter only goes up; a gauge goes up and down. */
  readonly type: 'counter' | 'gauge';
  /** Its values, one per set of labels. */
  readonly samples: readonly MetricSample[];
}

/**
 * A histogram metric.
 *
 * @example
 * ```ts
 * import { Histogram, type HistogramMetric } from 'raftkit/node';
 * const metric: HistogramMetric = { name: 'raftkit_fsync_seconds', help: 'fdatasync latency.', type: 'histogram', histogram: new Histogram([0.001, 0.01]) };
 * ```
 */
export interface HistogramMetric {
  /** The metric's name; its series are `<name>_bucket`, `<name>_sum` and `<name>_count`. */
  readonly name: string;
  /** What it measures, in a sentence. */
  readonly help: string;
  /** Always `'histogram'`. */
  readonly type: 'histogram';
  /** The observations. */
  readonly histogram: Histogram;
}

/**
 * A metric to write with {@link formatMetrics}.
 *
 * @example
 * ```ts
 * import type { Metric } from 'raftkit/node';
 * const metric: Metric = { name: 'raftkit_term', help: 'The current term.', type: 'gauge', samples: [{ value: 3 }] };
 * ```
 */
export type Metric = ValueMetric | HistogramMetric;

/**
 * A histogram of durations in seconds, with cumulative buckets as Prometheus expects.
 *
 * @example
 * ```ts
 * import { Histogram } from 'raftkit/node';
 * const fsync = new Histogram([0.0005, 0.001, 0.005]);
 * fsync.observe(0.0003);
 * fsync.observe(0.002);
 * console.log(fsync.count, fsync.counts); // 2 [1, 1, 2]
 * ```
 */
export class Histogram {
  /** The buckets' upper bounds, ascending. */
  readonly bounds: readonly number[];
  /** How many observations each bucket holds, cumulatively (an observation counts in every bucket at or above it). */
  readonly counts: number[];
  /** How many observations in all. */
  count = 0;
  /** Their sum. */
  sum = 0;

  constructor(bounds: readonly number[]) {
    if (bounds.length === 0 || bounds.some((b, i) => !(b > (bounds[i - 1] ?? -Infinity)))) throw new RangeError(`Histogram: bounds must be ascending numbers, got ${String(bounds)}`);
    this.bounds = [...bounds];
    this.counts = bounds.map(() => 0);
  }

  /** Records one observation. */
  observe(value: number): void {
    this.count++;
    this.sum += value;
    for (let i = this.bounds.length - 1; i >= 0 && value <= (this.bounds[i] as number); i--) this.counts[i] = (this.counts[i] as number) + 1;
  }
}

const escape = (value: string): string => value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const labelsOf = (labels: Readonly<Record<string, string>> | undefined, extra = ''): string => {
  const parts = Object.entries(labels ?? {}).map(([k, v]) => `${k}="${escape(v)}"`);
  if (extra !== '') parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
};

/**
 * The metrics in the Prometheus text exposition format (version 0.0.4).
 *
 * @example
 * ```ts
 * import { formatMetrics } from 'raftkit/node';
 * const text = formatMetrics([{ name: 'raftkit_commits_total', help: 'Entries committed.', type: 'counter', samples: [{ value: 42 }] }]);
 * console.log(text.split('\n')[2]); // raftkit_commits_total 42
 * ```
 */
export function formatMetrics(metrics: readonly Metric[]): string {
  const lines: string[] = [];
  for (const metric of metrics) {
    lines.push(`# HELP ${metric.name} ${metric.help.replace(/\n/g, ' ')}`, `# TYPE ${metric.name} ${metric.type}`);
    if (metric.type !== 'histogram') {
      for (const { labels, value } of metric.samples) lines.push(`${metric.name}${labelsOf(labels)} ${value}`);
      continue;
    }
    const { bounds, counts, count, sum } = metric.histogram;
    bounds.forEach((bound, i) => lines.push(`${metric.name}_bucket${labelsOf(undefined, `le="${bound}"`)} ${counts[i] as number}`));
    lines.push(`${metric.name}_bucket{le="+Inf"} ${count}`, `${metric.name}_sum ${sum}`, `${metric.name}_count ${count}`);
  }
  return `${lines.join('\n')}\n`;
}
