import { sql, type CommonQueryMethods, type DatabasePool, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { allOf, dayBounds } from './sql-fragments';
import { bucketStart, groupKeys, keyColumns, modelAndStatusConditions } from './stats-grouping';
import type { StatsGroup, StatsQuery } from '../domain/stats-query';
import { groupFromRollups, rollupGroupRow, rollupsSource, type StatsSource } from '../domain/stats-rollup-group';

type Span = 'hour' | 'day' | 'month';

const spanLength: Record<Span, FragmentSqlToken> = {
  hour: sql.fragment`interval '1 hour'`,
  day: sql.fragment`interval '1 day'`,
  month: sql.fragment`interval '1 month'`,
};

/**
 * The start of the UTC period after the one `at` is in. The arithmetic is on UTC wall time: on
 * a timestamptz, '1 day' would follow the session's time zone across a DST change.
 */
const nextStart = (span: Span, at: FragmentSqlToken) =>
  sql.fragment`((date_trunc(${span}, ${at}, 'UTC') AT TIME ZONE 'UTC' + ${spanLength[span]}) AT TIME ZONE 'UTC')`;

/**
 * The grouped query on request_stats_rollups (migration 021; exported for EXPLAIN in the benchmark). A UTC month wholly inside the date
 * range is read from its month row (without buckets), a whole day from its day row (also with day
 * buckets, when the day lies in one of them), every other hour of the range from its hour row: a
 * month is one or two rows, any range a few dozen plus the hours at its edges. A row is read when
 * it can be used and the period above it cannot; each span's branch names a start range, so each
 * is an index range scan. `whole` is false for an hour row that straddles a range edge or a
 * bucket boundary: a time zone whose offset is not whole hours.
 */
export function rollupStatement(query: StatsQuery): FragmentSqlToken {
  const { start, end } = dayBounds(query, query.tz);
  const bucketOf = (at: FragmentSqlToken) =>
    query.bucket ? bucketStart(at, { ...query, bucket: query.bucket }) : null;
  const lastMicrosecond = (span: Span, at: FragmentSqlToken) =>
    sql.fragment`${nextStart(span, at)} - interval '1 microsecond'`;
  /** The period `span` starting at `at` lies within the range and within one bucket. */
  const usable = (span: Span, at: FragmentSqlToken) =>
    allOf([
      start ? sql.fragment`${at} >= ${start}` : null,
      end ? sql.fragment`${at} < ${end} AND ${nextStart(span, at)} <= ${end}` : null,
      query.bucket ? sql.fragment`${bucketOf(at)} = ${bucketOf(lastMicrosecond(span, at))}` : null,
    ]);
  const spans: Span[] =
    query.bucket === 'hour' ? ['hour'] : query.bucket === 'day' ? ['day', 'hour'] : ['month', 'day', 'hour'];
  const filters = modelAndStatusConditions(query);
  const columns = keyColumns(groupKeys(query, sql.fragment`start`), 'pieces');
  const branches = spans.map((span, index) => {
    const parent = spans[index - 1];
    const inRange = [
      start ? sql.fragment`r.start >= date_trunc(${span}, ${start}, 'UTC')` : null,
      end ? sql.fragment`r.start < ${end}` : null,
    ];
    // Without buckets every whole parent period is read from its own row: only the rows before
    // the first and after the last are wanted, two ranges an index can seek.
    const edges =
      parent && !query.bucket
        ? sql.fragment`(${sql.join(
            [
              start
                ? allOf([
                    ...inRange,
                    sql.fragment`r.start < ${nextStart(parent, sql.fragment`${start} - interval '1 microsecond'`)}`,
                  ])
                : null,
              end ? allOf([...inRange, sql.fragment`r.start >= date_trunc(${parent}, ${end}, 'UTC')`]) : null,
              sql.fragment`false`,
            ].filter((range) => range !== null),
            sql.fragment` OR `,
          )})`
        : allOf(inRange);
    const used = span === 'hour' ? null : usable(span, sql.fragment`r.start`);
    const parentUnused = parent
      ? sql.fragment`NOT ${usable(parent, sql.fragment`date_trunc(${parent}, r.start, 'UTC')`)}`
      : null;
    const whole = span === 'hour' ? usable('hour', sql.fragment`r.start`) : sql.fragment`true`;
    return sql.fragment`
      SELECT ${sql.join([...columns.inner, sql.fragment`r.*`, sql.fragment`${whole} AS whole`], sql.fragment`, `)}
        FROM request_stats_rollups AS r
       WHERE ${allOf([sql.fragment`r.span = ${span}`, ...filters, edges, used, parentUnused])}`;
  });
  const sum = (column: string) => sql.fragment`sum(${sql.identifier([column])})::float8`;
  const max = (column: string) => sql.fragment`max(${sql.identifier([column])})::float8`;
  return sql.fragment`
    WITH pieces AS (${sql.join(branches, sql.fragment` UNION ALL `)})
    SELECT ${columns.select},
           sum(count)::int AS count,
           COALESCE(sum(count) FILTER (WHERE result_success), 0)::int AS "successCount",
           COALESCE(sum(count) FILTER (WHERE NOT result_success), 0)::int AS "failureCount",
           sum(assigned)::int AS assigned,
           ${sum('queue_wait_us_sum')} AS "queueWaitUsSum", ${sum('processing_us_sum')} AS "processingUsSum", ${sum('total_us_sum')} AS "totalUsSum",
           ${max('queue_wait_us_max')} AS "queueWaitUsMax", ${max('processing_us_max')} AS "processingUsMax", ${max('total_us_max')} AS "totalUsMax",
           json_agg(queue_wait_sketch)::text AS "queueWaitSketches",
           json_agg(processing_sketch)::text AS "processingSketches",
           json_agg(total_sketch)::text AS "totalSketches",
           sum(first_token_count)::int AS "firstTokenCount", ${sum('first_token_us_sum')} AS "firstTokenUsSum",
           ${max('first_token_us_max')} AS "firstTokenUsMax", json_agg(first_token_sketch)::text AS "firstTokenSketches",
           ${sum('tokens_in_sum')} AS "tokensInSum", ${sum('tokens_out_sum')} AS "tokensOutSum",
           ${sum('streamed_tokens_out_sum')} AS "streamedTokensOutSum", ${sum('generation_us_sum')} AS "generationUsSum",
           bool_and(whole) AS answerable
      FROM pieces
     GROUP BY ${columns.names}
     ORDER BY ${columns.names}`;
}

const answerableRow = rollupGroupRow.extend({ answerable: z.boolean() });

export type RollupAnswer =
  { answered: true; source: StatsSource; rows: StatsGroup[] } | { answered: false; reason: string };

/** The grouped query answered from the rollups, or why it cannot be (then read the rows). */
export async function queryRollupGroups(db: CommonQueryMethods, query: StatsQuery): Promise<RollupAnswer> {
  if (await rollupsPending(db)) {
    return {
      answered: false,
      reason: 'the rollups of older stats rows are still being built (npm run podium -- stats backfill)',
    };
  }
  const rows = await db.any(sql.type(answerableRow)`${rollupStatement(query)}`);
  if (rows.some((row) => !row.answerable)) {
    return {
      answered: false,
      reason: `time zone ${query.tz} is not a whole number of hours from UTC in this range, and the rollups are hourly`,
    };
  }
  return { answered: true, source: rollupsSource, rows: rows.map(groupFromRollups) };
}

/** True while rows written before the rollups existed are not rolled up yet. */
export async function rollupsPending(db: CommonQueryMethods): Promise<boolean> {
  return db.exists(sql.unsafe`SELECT 1 FROM request_stats_rollup_state WHERE pending_through_id IS NOT NULL`);
}

export type BackfillProgress = { day: string; done: number; days: number; rows: number };

const idRow = z.object({ id: z.string().nullable() });

const dayRow = z.object({ day: z.string() });

const rowsRow = z.object({ rows: z.number() });

/**
 * Rebuilds the rollups of every UTC day that holds a stats row written before they existed, a day
 * per transaction (each locks the rollups only briefly), then marks them complete. Idempotent:
 * a day rebuilt twice is the same; an interrupted backfill is simply run again.
 */
export async function backfillRollups(
  db: DatabasePool,
  onDay: (progress: BackfillProgress) => void = () => undefined,
): Promise<{ days: number; rows: number }> {
  const pending = await db.maybeOneFirst(sql.type(idRow)`
    SELECT pending_through_id::text AS id FROM request_stats_rollup_state`);
  if (pending === null) return { days: 0, rows: 0 };
  // Every day from the first stats row to the last: min and max come from the time index, where
  // finding the days that hold a row would read them all.
  const days = await db.anyFirst(sql.type(dayRow)`
    SELECT to_char(day, 'YYYY-MM-DD') AS day
      FROM (SELECT min(request_timestamp) AS first, max(request_timestamp) AS last FROM request_stats) AS extent,
           generate_series(date_trunc('day', extent.first, 'UTC') AT TIME ZONE 'UTC', extent.last AT TIME ZONE 'UTC', interval '1 day') AS day`);
  let rows = 0;
  for (const [index, day] of days.entries()) {
    // A month's row is made from its days once, with its last day (or the last of all).
    const monthDone = index === days.length - 1 || days[index + 1]!.slice(0, 7) !== day.slice(0, 7);
    rows += await db.transaction(async (transaction) => {
      const start = sql.fragment`(${day}::date)::timestamp AT TIME ZONE 'UTC'`;
      await transaction.query(sql.unsafe`SELECT request_stats_rollups_rebuild_days(ARRAY[${start}])`);
      if (monthDone)
        await transaction.query(
          sql.unsafe`SELECT request_stats_rollups_rebuild_months(ARRAY[date_trunc('month', ${start}, 'UTC')])`,
        );
      return transaction.oneFirst(sql.type(rowsRow)`
        SELECT COALESCE(sum(count), 0)::int AS rows FROM request_stats_rollups
         WHERE span = 'day' AND start = ${start}`);
    });
    onDay({ day, done: index + 1, days: days.length, rows });
  }
  await db.query(
    sql.unsafe`UPDATE request_stats_rollup_state SET pending_through_id = NULL WHERE pending_through_id = ${pending}`,
  );
  return { days: days.length, rows };
}
