import { z } from 'zod';
import { mergeSketches, relativeAccuracy, sketchQuantiles, type LatencySketch } from './latency-sketch';
import { statsGroup, type StatsGroup, type Timing } from './stats-query';

type TimingName = 'queueWait' | 'processing' | 'total' | 'firstToken';

/**
 * One group as db/stats-rollups.ts reads it: exact counts, microsecond sums and maxima, and each
 * timing's sketches (one per rollup row merged) as the JSON text of an array, parsed here once.
 */
export const rollupGroupRow = statsGroup.pick({ bucket: true, model: true, status: true }).extend({
  count: z.number(),
  successCount: z.number(),
  failureCount: z.number(),
  /** Attempts that got an instance: how many queue wait and processing values there are. */
  assigned: z.number(),
  queueWaitUsSum: z.number(),
  processingUsSum: z.number(),
  totalUsSum: z.number(),
  queueWaitUsMax: z.number().nullable(),
  processingUsMax: z.number().nullable(),
  totalUsMax: z.number(),
  queueWaitSketches: z.string(),
  processingSketches: z.string(),
  totalSketches: z.string(),
  /** Attempts whose output streamed: how many first-token values there are. */
  firstTokenCount: z.number(),
  firstTokenUsSum: z.number(),
  firstTokenUsMax: z.number().nullable(),
  firstTokenSketches: z.string(),
  tokensInSum: z.number(),
  tokensOutSum: z.number(),
  streamedTokensOutSum: z.number(),
  generationUsSum: z.number(),
});
export type RollupGroupRow = z.infer<typeof rollupGroupRow>;

/** What the stats API says about where grouped figures came from (docs/stats.md). */
export const statsSource = z.object({
  /** `rollups`: request_stats_rollups; `rows`: every matching request_stats row. */
  kind: z.enum(['rollups', 'rows']),
  /** How far a percentile may be from percentile_cont on the rows, relative: 0 when exact. */
  percentileRelativeError: z.number(),
  /** Why rows were read when rollups could not answer; null otherwise. */
  reason: z.string().nullable(),
});
export type StatsSource = z.infer<typeof statsSource>;

export const rollupsSource: StatsSource = { kind: 'rollups', percentileRelativeError: relativeAccuracy, reason: null };
export const rowsSource = (reason: string | null): StatsSource => ({
  kind: 'rows',
  percentileRelativeError: 0,
  reason,
});

/**
 * The group's figures in ms, as the raw query gives them: averages and maxima exact, percentiles
 * from the merged sketch (within 1 %, and never above the exact maximum). Pure.
 */
export function groupFromRollups(row: RollupGroupRow): StatsGroup {
  const timing = (name: TimingName): Timing => {
    const values = name === 'total' ? row.count : name === 'firstToken' ? row.firstTokenCount : row.assigned;
    const sum = row[`${name}UsSum`];
    const max = row[`${name}UsMax`];
    if (values === 0 || max === null) return { avg: null, p50: null, p90: null, p99: null, max: null };
    const maxMs = max / 1000;
    const sketch = mergeSketches(JSON.parse(row[`${name}Sketches`]) as LatencySketch[]);
    const [p50, p90, p99] = sketchQuantiles(sketch, [0.5, 0.9, 0.99]).map((p) =>
      p === null ? null : Math.min(p, maxMs),
    );
    return { avg: sum / values / 1000, p50: p50!, p90: p90!, p99: p99!, max: maxMs };
  };
  return {
    ...(row.bucket === undefined ? {} : { bucket: row.bucket }),
    ...(row.model === undefined ? {} : { model: row.model }),
    ...(row.status === undefined ? {} : { status: row.status }),
    count: row.count,
    successCount: row.successCount,
    failureCount: row.failureCount,
    queueWaitMs: timing('queueWait'),
    processingMs: timing('processing'),
    totalMs: timing('total'),
    firstTokenMs: timing('firstToken'),
    tokensIn: row.tokensInSum,
    tokensOut: row.tokensOutSum,
    tokensPerSecond: row.generationUsSum > 0 ? row.streamedTokensOutSum / (row.generationUsSum / 1e6) : null,
  };
}
