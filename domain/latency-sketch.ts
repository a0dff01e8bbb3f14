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

/**
 * Bucket index → how many values, with the key `zero` for values ≤ 0 (a timing of 0 ms). The
 * same object is stored as jsonb in request_stats_rollups (migration 021 counts into it).
 */
export type LatencySketch = Record<string, number>;

const zeroKey = 'zero';

/** The bucket a positive value falls in. */
export function bucketIndex(value: number): number {
  return Math.ceil(Math.log(value) / logGamma);
}

/** What a bucket's values are read back as: within `relativeAccuracy` of each of them. */
export function bucketValue(index: number): number {
  return (2 * gamma ** index) / (gamma + 1);
}

export function sketchOf(values: Iterable<number>): LatencySketch {
  const sketch: LatencySketch = {};
  for (const value of values) {
    const key = value > 0 ? String(bucketIndex(value)) : zeroKey;
    sketch[key] = (sketch[key] ?? 0) + 1;
  }
  return sketch;
}

/** The sketch of all their values: counts added. */
export function mergeSketches(sketches: Iterable<Readonly<LatencySketch>>): LatencySketch {
  const merged: LatencySketch = {};
  for (const sketch of sketches) {
    for (const key in sketch) merged[key] = (merged[key] ?? 0) + sketch[key]!;
  }
  return merged;
}

export const sketchCount = (sketch: Readonly<LatencySketch>) =>
  Object.values(sketch).reduce((sum, count) => sum + count, 0);

/**
 * The q-quantiles (each 0–1) as PostgreSQL's percentile_cont computes them (linear between the
 * two values around rank q·(n-1)), each of those two read back from its bucket: within
 * `relativeAccuracy` of percentile_cont on the values themselves. Nulls for no values.
 */
export function sketchQuantiles(sketch: Readonly<LatencySketch>, qs: readonly number[]): Array<number | null> {
  const n = sketchCount(sketch);
  if (n === 0) return qs.map(() => null);
  const zeros = sketch[zeroKey] ?? 0;
  const buckets = Object.entries(sketch)
    .filter(([key]) => key !== zeroKey)
    .map(([key, count]) => [Number(key), count] as const)
    .sort((a, b) => a[0] - b[0]);
  /** The k-th smallest value (0-based), as its bucket reads it. */
  const nth = (k: number): number => {
    if (k < zeros) return 0;
    let seen = zeros;
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
