import { z } from 'zod';
import { requestPriority } from './request-priority';
import { modelId } from './model-catalog';

/** A calendar date, `YYYY-MM-DD`, that exists (no 2026-02-30). */
export const calendarDate = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, 'must be a date as YYYY-MM-DD')
  .refine((value) => {
    const date = new Date(`${value}T00:00:00Z`);
    return !Number.isNaN(date.getTime()) && date.toISOString().startsWith(value);
  }, 'is not a calendar date');

/** An IANA time zone name that this runtime knows (Postgres knows the same database). */
export const timeZone = z.string().refine((value) => {
  try {
    new Intl.DateTimeFormat('en', { timeZone: value });
    return true;
  } catch {
    return false;
  }
}, 'is not an IANA time zone such as UTC or Europe/Berlin');

export const statsRollups = ['model', 'status'] as const;

/** Query-string lists: `a,b` or the parameter repeated. */
const list = <T extends z.ZodType>(item: T) =>
  z.preprocess(
    (value) =>
      (Array.isArray(value) ? value : [value])
        .filter((v) => v !== undefined)
        .flatMap((v) => String(v).split(','))
        .map((v) => v.trim())
        .filter((v) => v !== ''),
    z.array(item),
  );

/**
 * A stats query. Dates are whole days in `tz` (UTC by default): `from` is the first day
 * included and `to` the last, so `from=2026-11-01&to=2026-11-30` is all of November.
 */
export const statsQuery = z
  .object({
    model: list(modelId).default([]),
    from: calendarDate.optional(),
    to: calendarDate.optional(),
    status: z.enum(['success', 'failure']).optional(),
    rollup: list(z.enum(statsRollups, { message: `must be one of: ${statsRollups.join(', ')}` })).default([]),
    bucket: z.enum(['hour', 'day']).optional(),
    tz: timeZone.default('UTC'),
    cursor: z
      .string()
      .regex(/^\d{1,18}$/, 'must be the nextCursor of a previous page')
      .optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
  })
  .refine((q) => !q.from || !q.to || q.from <= q.to, { message: 'must not be before from', path: ['to'] })
  .refine((q) => !q.cursor || (q.rollup.length === 0 && !q.bucket), {
    message: 'only raw rows are paginated; rolled-up and bucketed results come whole',
    path: ['cursor'],
  })
  .transform((q) => ({ ...q, model: [...new Set(q.model)], rollup: [...new Set(q.rollup)] }));
export type StatsQuery = z.infer<typeof statsQuery>;

/** Rolled up or bucketed: one row per group; otherwise one row per request attempt. */
export function isGrouped(query: Pick<StatsQuery, 'rollup' | 'bucket'>): boolean {
  return query.rollup.length > 0 || query.bucket !== undefined;
}

const timing = z.object({
  avg: z.number().nullable(),
  p50: z.number().nullable(),
  p90: z.number().nullable(),
  p99: z.number().nullable(),
  max: z.number().nullable(),
});
export type Timing = z.infer<typeof timing>;

/** One request attempt. Durations in ms; queue wait and processing are null when it never got an instance. */
export const statsRow = z.object({
  id: z.string(),
  model: z.string(),
  requestId: z.string(),
  attempt: z.number(),
  status: z.enum(['success', 'failure']),
  /** What its request asked for; null for rows written before priorities (migration 033). */
  priority: requestPriority.nullable(),
  /** By when its request's answer was of use; null without a deadline (and for rows before migration 035). */
  deadline: z.string().nullable(),
  requestTimestamp: z.string(),
  podReadyTimestamp: z.string().nullable(),
  processedTimestamp: z.string(),
  queueWaitMs: z.number().nullable(),
  processingMs: z.number().nullable(),
  totalMs: z.number(),
  /** A streamed output's first token, from the request: null when the output did not stream. */
  firstTokenMs: z.number().nullable(),
  /** An OpenAI answer's usage; null when the model gave none. */
  tokensIn: z.number().nullable(),
  tokensOut: z.number().nullable(),
  /** Tokens out over the time from the first token to the end; null when the output did not stream. */
  tokensPerSecond: z.number().nullable(),
});
export type StatsRow = z.infer<typeof statsRow>;

/** One group: the keys it was grouped by (bucket start, model, status), counts and timings in ms. */
export const statsGroup = z.object({
  bucket: z.string().optional(),
  model: z.string().optional(),
  status: z.enum(['success', 'failure']).optional(),
  count: z.number(),
  successCount: z.number(),
  failureCount: z.number(),
  queueWaitMs: timing,
  processingMs: timing,
  totalMs: timing,
  /** Over the attempts whose output streamed. */
  firstTokenMs: timing,
  tokensIn: z.number(),
  tokensOut: z.number(),
  /** The streamed attempts' tokens out over their time from first token to end, together. */
  tokensPerSecond: z.number().nullable(),
});
export type StatsGroup = z.infer<typeof statsGroup>;

const timingNames = ['queueWaitMs', 'processingMs', 'totalMs', 'firstTokenMs'] as const;
const timingStats = ['avg', 'p50', 'p90', 'p99', 'max'] as const;
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The CSV columns for a query: exactly the fields of the JSON rows, flattened. Pure. */
export function statsCsvColumns(query: Pick<StatsQuery, 'rollup' | 'bucket'>): string[] {
  if (!isGrouped(query)) {
    return [
      'id',
      'model',
      'request_id',
      'attempt',
      'status',
      'priority',
      'deadline',
      'request_timestamp',
      'pod_ready_timestamp',
      'processed_timestamp',
      'queue_wait_ms',
      'processing_ms',
      'total_ms',
      'first_token_ms',
      'tokens_in',
      'tokens_out',
      'tokens_per_second',
    ];
  }
  return [
    ...(query.bucket ? ['bucket'] : []),
    ...(query.rollup.includes('model') ? ['model'] : []),
    ...(query.rollup.includes('status') ? ['status'] : []),
    'count',
    'success_count',
    'failure_count',
    ...timingNames.flatMap((name) => timingStats.map((stat) => `${snake(name)}_${stat}`)),
    'tokens_in',
    'tokens_out',
    'tokens_per_second',
  ];
}

/** A JSON row as a CSV record keyed by `statsCsvColumns`. Pure. */
export function statsCsvRecord(row: StatsRow | StatsGroup): Record<string, string | number | null> {
  const record: Record<string, string | number | null> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value !== null && typeof value === 'object') {
      for (const [stat, number] of Object.entries(value)) record[`${snake(key)}_${stat}`] = number as number | null;
    } else {
      record[snake(key)] = value as string | number | null;
    }
  }
  return record;
}

/** e.g. podium-stats_2026-11-01_2026-11-30_by-model-status_per-day.csv */
export function statsCsvFilename(query: StatsQuery): string {
  const parts = ['podium-stats', `${query.from ?? 'start'}_${query.to ?? 'now'}`];
  if (query.rollup.length > 0) parts.push(`by-${query.rollup.join('-')}`);
  if (query.bucket) parts.push(`per-${query.bucket}`);
  if (query.model.length > 0 && query.model.length <= 3) parts.push(query.model.join('-'));
  return `${parts.join('_')}.csv`;
}
