import { seededRandom } from '../support/seeded-random';
import {
  bucketIndex,
  bucketValue,
  mergeSketches,
  relativeAccuracy,
  sketchCount,
  sketchOf,
  sketchQuantiles,
} from '../../domain/latency-sketch';

const sketchQuantile = (sketch: ReturnType<typeof sketchOf>, q: number) => sketchQuantiles(sketch, [q])[0];

/** PostgreSQL's percentile_cont on the values themselves. */
function percentileCont(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = q * (sorted.length - 1);
  const [lower, upper] = [Math.floor(rank), Math.ceil(rank)];
  return sorted[lower]! + (sorted[upper]! - sorted[lower]!) * (rank - lower);
}

/** Request timings as they look: log-normal around `medianMs`, with a long tail and some zeros. */
function timings(count: number, medianMs: number, seed: number): number[] {
  const next = seededRandom(seed);
  return Array.from({ length: count }, () => {
    if (next() < 0.01) return 0;
    const normal = Math.sqrt(-2 * Math.log(next() || 1e-12)) * Math.cos(2 * Math.PI * next());
    return medianMs * Math.exp(normal * 1.2);
  });
}

describe('latency sketch: mergeable timings with a 1 % error bound', () => {
  it('reads every value back within 1 %', () => {
    for (const value of [0.001, 0.5, 1, 7.3, 250, 12_345.6, 3_600_000]) {
      const read = bucketValue(bucketIndex(value));
      expect(Math.abs(read - value) / value).toBeLessThanOrEqual(relativeAccuracy + 1e-12);
    }
  });

  it.each([
    [10, 50, 1],
    [1_000, 12, 2],
    [20_000, 800, 3],
  ])('percentiles of %i timings (median %i ms) are within 1 %% of percentile_cont', (count, median, seed) => {
    const values = timings(count, median, seed);
    const sketch = sketchOf(values);
    expect(sketchCount(sketch)).toBe(count);
    for (const q of [0, 0.5, 0.9, 0.99, 1]) {
      const exact = percentileCont(values, q);
      const estimate = sketchQuantile(sketch, q)!;
      expect(Math.abs(estimate - exact)).toBeLessThanOrEqual(relativeAccuracy * exact + 1e-9);
    }
  });

  it('merges as if the values had been summarised together (hours into days, models into all)', () => {
    const [a, b, c] = [timings(500, 20, 4), timings(300, 400, 5), timings(0, 1, 6)];
    expect(mergeSketches([sketchOf(a), sketchOf(b), sketchOf(c)])).toEqual(sketchOf([...a, ...b, ...c]));
    expect(mergeSketches([sketchOf(a), sketchOf(b)])).toEqual(mergeSketches([sketchOf(b), sketchOf(a)]));
  });

  it('is small: its size follows the spread of the values, not their number', () => {
    expect(Object.keys(sketchOf(timings(100_000, 100, 7))).length).toBeLessThan(700);
  });

  it('has no percentile for no values, and 0 for timings of 0 ms', () => {
    expect(sketchQuantile(sketchOf([]), 0.5)).toBeNull();
    expect(sketchQuantile(sketchOf([0, 0, 0]), 0.99)).toBe(0);
  });
});
