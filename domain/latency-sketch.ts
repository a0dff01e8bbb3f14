/**
 * A mergeable summary of timings (issue 20's rollups): counts in logarithmic buckets, as
 * DDSketch keeps them. Bucket i holds the values in (γ^(i-1), γ^i] with γ = (1+α)/(1-α); a value
 * is read back as 2γ^i/(γ+1), within α of every value in its bucket (relative). Counts are exact,
 * two sketches merge by adding counts (hours into days, models into all), and the size depends on
 * the spread of the values, not on their number: about 460 buckets cover 1 µs to 1 hour at 1 %.
 * Chosen over fixed histogram buckets because the error bound holds for any value, with no
 * bucket boundaries to pick per timing. Pure.
 */

/** The relative error of every value read back (and so of every percentile): 1 %. */
export const relativeAccuracy = 0.01;
const gamma = (1 + relativeAccuracy) / (1 - relativeAccuracy);
const logGamma = Math.log(gamma);

/** `counts`: bucket index → how many values; `zeros`: values ≤ 0 (a timing of 0 ms), kept apart. */
export type LatencySketch = { zeros: number; counts: Record<string, number> };

export const emptySketch = (): LatencySketch => ({ zeros: 0, counts: {} });

/** The bucket a positive value falls in. */
export function bucketIndex(value: number): number {
  return Math.ceil(Math.log(value) / logGamma);
}

/** What a bucket's values are read back as: within `relativeAccuracy` of each of them. */
export function bucketValue(index: number): number {
  return (2 * gamma ** index) / (gamma + 1);
}

export function sketchOf(values: Iterable<number>): LatencySketch {
  const sketch = emptySketch();
  for (const value of values) {
    if (!(value > 0)) {
      sketch.zeros++;
      continue;
    }
    const key = String(bucketIndex(value));
    sketch.counts[key] = (sketch.counts[key] ?? 0) + 1;
  }
  return sketch;
}

/** The sketch of both sets of values: counts added. */
export function mergeSketches(...sketches: readonly LatencySketch[]): LatencySketch {
  const merged = emptySketch();
  for (const sketch of sketches) {
    merged.zeros += sketch.zeros;
    for (const [key, count] of Object.entries(sketch.counts)) merged.counts[key] = (merged.counts[key] ?? 0) + count;
  }
  return merged;
}

export const sketchCount = (sketch: LatencySketch) => sketch.zeros + Object.values(sketch.counts).reduce((sum, count) => sum + count, 0);

/**
 * The q-quantiles (each 0–1) as PostgreSQL's percentile_cont computes them (linear between the
 * two values around rank q·(n-1)), each of those two read back from its bucket: within
 * `relativeAccuracy` of percentile_cont on the values themselves. Nulls for no values.
 */
export function sketchQuantiles(sketch: LatencySketch, qs: readonly number[]): Array<number | null> {
  const n = sketchCount(sketch);
  if (n === 0) return qs.map(() => null);
  const buckets = Object.entries(sketch.counts)
    .map(([key, count]) => [Number(key), count] as const)
    .sort((a, b) => a[0] - b[0]);
  /** The k-th smallest value (0-based), as its bucket reads it. */
  const nth = (k: number): number => {
    if (k < sketch.zeros) return 0;
    let seen = sketch.zeros;
    for (const [index, count] of buckets) {
      seen += count;
      if (k < seen) return bucketValue(index);
    }
    return bucketValue(buckets.at(-1)![0]);
  };
  return qs.map((q) => {
    const rank = q * (n - 1);
    const lower = Math.floor(rank);
    const low = nth(lower);
    return lower === rank ? low : low + (nth(lower + 1) - low) * (rank - lower);
  });
}

export const sketchQuantile = (sketch: LatencySketch, q: number): number | null => sketchQuantiles(sketch, [q])[0]!;

/**
 * Adds sketches as the database stores them (request_stats_rollups: bucket index → count, the
 * key `zero` for values ≤ 0) into one.
 */
export function mergeStoredSketches(stored: ReadonlyArray<Readonly<Record<string, number>>>): LatencySketch {
  const merged = emptySketch();
  for (const counts of stored) {
    for (const key in counts) {
      const count = counts[key]!;
      if (key === 'zero') merged.zeros += count;
      else merged.counts[key] = (merged.counts[key] ?? 0) + count;
    }
  }
  return merged;
}
