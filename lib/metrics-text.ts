import { Counter, Gauge, Histogram, type Registry } from 'prom-client';

/**
 * prom-client's Prometheus text, byte for byte (test/unit/metrics-text.test.ts compares them), at
 * a fraction of its cost. prom-client builds an object per line (a copy of its labels and a
 * bucket's `le`), formats each line's labels again and joins the lines into one string; with 100
 * models that is ~7,000 lines and most of a scrape (`npm run bench:metrics`). Here each series'
 * line prefixes (`name_bucket{le="0.1",model="echo"} `) are built once and kept while the series
 * lives, and a scrape writes prefixes and values into one reused buffer: little is allocated,
 * so little is left for the collector. Counters, gauges and histograms (all Podium has, the
 * default process metrics among them) take this path; any other kind is written by prom-client.
 */
type Labels = Record<string, string | number>;
type Series = { labels: Labels; value: number };
type HistogramSeries = { labels: Labels; bucketValues: Record<number, number>; sum: number; count: number };
type Internals = {
  name: string;
  help: string;
  type: string;
  hashMap: Record<string, Series | HistogramSeries>;
  upperBounds?: number[];
  collect?: () => unknown;
};

/** `a="1",b="2"`, escaped as prom-client escapes label values; '' without labels. */
function labelText(labels: Labels): string {
  return Object.entries(labels)
    .map(
      ([name, value]) =>
        `${name}="${typeof value === 'string' ? value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"') : value}"`,
    )
    .join(',');
}

function valueText(value: number): string {
  if (Number.isNaN(value)) return 'Nan';
  if (!Number.isFinite(value)) return value < 0 ? '-Inf' : '+Inf';
  return `${value}`;
}

const escapeText = (text: string) => text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

/**
 * Each metric's series' line prefixes, in line order: a counter's or gauge's one; a histogram's
 * buckets, `+Inf`, `_sum` and `_count`. Keyed by prom-client's key for the series (its label
 * values), not by the labels object: a gauge set again, as the scrape's gauges are, gets a new
 * one. Emptied when it holds twice as many series as the metric, so series gone stay bounded.
 */
const prefixes = new WeakMap<Internals, Map<string, string[]>>();

function seriesPrefixes(metric: Internals, key: string, labels: Labels): string[] {
  let ofMetric = prefixes.get(metric);
  if (ofMetric === undefined) prefixes.set(metric, (ofMetric = new Map()));
  let known = ofMetric.get(key);
  if (known === undefined) {
    const text = labelText(labels);
    const braced = text ? `{${text}}` : '';
    if (metric.upperBounds) {
      const after = text ? `,${text}} ` : '} ';
      known = [...metric.upperBounds, '+Inf'].map((bound) => `\n${metric.name}_bucket{le="${bound}"${after}`);
      known.push(`\n${metric.name}_sum${braced} `, `\n${metric.name}_count${braced} `);
    } else {
      known = [`\n${metric.name}${braced} `];
    }
    ofMetric.set(key, known);
  }
  return known;
}

/** Forgets the prefixes of series a metric no longer has, once they are as many as those it has. */
function forgetGoneSeries(metric: Internals): void {
  const ofMetric = prefixes.get(metric);
  if (ofMetric && ofMetric.size > 2 * Object.keys(metric.hashMap).length) ofMetric.clear();
}

/** A growing buffer reused from scrape to scrape; `take` copies out what one scrape wrote. */
class Output {
  private buffer = Buffer.allocUnsafe(1 << 20);
  private length = 0;

  write(text: string): void {
    if (this.length + text.length * 3 > this.buffer.length) {
      const larger = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + text.length * 3));
      this.buffer.copy(larger, 0, 0, this.length);
      this.buffer = larger;
    }
    this.length += this.buffer.write(text, this.length);
  }

  take(): Buffer {
    const written = Buffer.from(this.buffer.subarray(0, this.length));
    this.length = 0;
    return written;
  }
}

const output = new Output();

/** A histogram's lines; one string per series, so the buffer is written once per series. */
function writeHistogram(metric: Internals): void {
  const bounds = metric.upperBounds!;
  for (const [key, series] of Object.entries(metric.hashMap) as [string, HistogramSeries][]) {
    const lines = seriesPrefixes(metric, key, series.labels);
    let text = '';
    let cumulative = 0;
    for (let i = 0; i < bounds.length; i++) {
      cumulative += series.bucketValues[bounds[i]!]!;
      text += lines[i]! + valueText(cumulative);
    }
    const n = bounds.length;
    output.write(
      `${text}${lines[n]}${valueText(series.count)}${lines[n + 1]}${valueText(series.sum)}${lines[n + 2]}${valueText(series.count)}`,
    );
  }
}

function writeSeries(metric: Internals): void {
  for (const [key, series] of Object.entries(metric.hashMap) as [string, Series][])
    output.write(seriesPrefixes(metric, key, series.labels)[0]! + valueText(series.value));
}

/** The registry's metrics in Prometheus' text format, as `registry.metrics()` writes them (UTF-8). */
export async function metricsText(registry: Registry): Promise<Buffer> {
  // Default labels go on every line; Podium sets none, and prom-client writes them if it ever does.
  if (Object.keys((registry as unknown as { _defaultLabels?: object })._defaultLabels ?? {}).length > 0)
    return Buffer.from(await registry.metrics());
  const metrics = registry.getMetricsAsArray().map((metric) => metric as unknown as Internals);
  const known = (metric: object) => metric instanceof Counter || metric instanceof Gauge || metric instanceof Histogram;
  // First every await: a metric's collect callback (the process metrics set their values there, as
  // prom-client's `get` would) or prom-client's text for a kind written here. Then the writing,
  // with no await, so concurrent scrapes never share the buffer.
  const written = await Promise.all(
    metrics.map(async (metric) =>
      known(metric) ? void (await metric.collect?.()) : registry.getSingleMetricAsString(metric.name),
    ),
  );
  metrics.forEach((metric, i) => {
    if (i > 0) output.write('\n\n');
    const text = written[i];
    if (text !== undefined) return output.write(text);
    output.write(
      `# HELP ${escapeText(metric.name)} ${escapeText(metric.help)}\n# TYPE ${escapeText(metric.name)} ${metric.type}`,
    );
    forgetGoneSeries(metric);
    if (metric.upperBounds) writeHistogram(metric);
    else writeSeries(metric);
  });
  output.write('\n');
  return output.take();
}
