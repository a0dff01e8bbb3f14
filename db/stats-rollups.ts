import { sql, type CommonQueryMethods, type DatabasePool, type FragmentSqlToken } from 'slonik';
import { z } from 'zod';
import { dayBounds } from './sql-fragments';
import { bucketStart, groupKeys, keyColumns, modelAndStatusConditions } from './stats-grouping';
import type { StatsGroup, StatsQuery } from '../domain/stats-query';
import { groupFromRollups, rollupGroupRow, rollupsSource, type StatsSource } from '../domain/stats-rollup-group';

const and = (parts: Array<FragmentSqlToken | null>): FragmentSqlToken => {
  const present = parts.filter((part) => part !== null);
  return present.length === 0 ? sql.fragment`true` : sql.fragment`(${sql.join(present, sql.fragment` AND `)})`;
};

/**
 * The grouped query on request_stats_rollups (migration 021). Each UTC day wholly inside the
 * date range — and, with day buckets, inside one bucket — is read from its day row; every other
 * hour of the range from its hour row, so a month is ~30 day rows plus the hours at its edges.
 * Each branch names its span and a start range, so each is an index range scan. `whole` is false
 * for an hour row that straddles a range edge or a bucket boundary: a time zone whose offset is
 * not whole hours.
 */
function rollupGroupsSql(query: StatsQuery): FragmentSqlToken {
  const { start, end } = dayBounds(query, query.tz);
  const bucketOf = (column: FragmentSqlToken) => (query.bucket ? bucketStart(column, { ...query, bucket: query.bucket }) : null);
  // 24 hours, not '1 day': timestamptz + '1 day' follows the session's time zone across DST.
  const length = (span: 'hour' | 'day') => (span === 'hour' ? sql.fragment`interval '1 hour'` : sql.fragment`interval '24 hours'`);
  const within = (column: FragmentSqlToken, span: 'hour' | 'day') =>
    and([start ? sql.fragment`${column} >= ${start}` : null, end ? sql.fragment`${column} <= ${end} - ${length(span)}` : null]); // sargable: an index bound
  const inOneBucket = (column: FragmentSqlToken, span: 'hour' | 'day') =>
    query.bucket ? sql.fragment`${bucketOf(column)} = ${bucketOf(sql.fragment`${column} + ${length(span)} - interval '1 microsecond'`)}` : null;
  const dayUsed = (day: FragmentSqlToken) => and([within(day, 'day'), inOneBucket(day, 'day')]);
  const filters = modelAndStatusConditions(query);
  const hoursFrom = start ? sql.fragment`r.start >= date_trunc('hour', ${start})` : null;
  const hoursTo = end ? sql.fragment`r.start < ${end}` : null;
  // Without buckets every whole day is a day row: the hours wanted are those before the first
  // whole UTC day and after the last. With buckets, any hour whose day row could not be used.
  const hourRanges = query.bucket
    ? and([hoursFrom, hoursTo])
    : sql.fragment`(${sql.join(
        [
          start ? and([hoursFrom, sql.fragment`r.start < date_trunc('day', ${start} + interval '24 hours' - interval '1 microsecond', 'UTC')`, hoursTo]) : null,
          end ? and([hoursFrom, sql.fragment`r.start >= date_trunc('day', ${end}, 'UTC')`, hoursTo]) : null,
          sql.fragment`false`,
        ].filter((range) => range !== null),
        sql.fragment` OR `,
      )})`;
  const keys = groupKeys(query, sql.fragment`start`);
  const keySelect = keys.map((key) => sql.fragment`${key.raw} AS ${sql.identifier([key.name])}`);
  const branch = (span: 'hour' | 'day', conditions: FragmentSqlToken[], whole: FragmentSqlToken) => sql.fragment`
      SELECT ${sql.join([...keySelect, sql.fragment`r.*`, sql.fragment`${whole} AS whole`], sql.fragment`, `)}
        FROM request_stats_rollups AS r
       WHERE ${and([sql.fragment`r.span = ${span}`, ...filters, ...conditions])}`;
  const branches = [
    ...(query.bucket === 'hour' ? [] : [branch('day', [dayUsed(sql.fragment`r.start`)], sql.fragment`true`)]),
    branch(
      'hour',
      [hourRanges, sql.fragment`NOT ${query.bucket === 'hour' ? sql.fragment`false` : dayUsed(sql.fragment`date_trunc('day', r.start, 'UTC')`)}`],
      and([within(sql.fragment`r.start`, 'hour'), inOneBucket(sql.fragment`r.start`, 'hour')]),
    ),
  ];
  const columns = keyColumns(keys, 'pieces');
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
           bool_and(whole) AS answerable
      FROM pieces
     GROUP BY ${columns.names}
     ORDER BY ${columns.names}`;
}

const answerableRow = rollupGroupRow.extend({ answerable: z.boolean() });

export type RollupAnswer = { answered: true; source: StatsSource; rows: StatsGroup[] } | { answered: false; reason: string };

/** The grouped query answered from the rollups, or why it cannot be (then read the rows). */
export async function queryRollupGroups(db: CommonQueryMethods, query: StatsQuery): Promise<RollupAnswer> {
  if (await rollupsPending(db)) {
    return { answered: false, reason: 'the rollups of older stats rows are still being built (npm run podium -- stats backfill)' };
  }
  const rows = await db.any(sql.type(answerableRow)`${rollupGroupsSql(query)}`);
  if (rows.some((row) => !row.answerable)) {
    return { answered: false, reason: `time zone ${query.tz} is not a whole number of hours from UTC in this range, and the rollups are hourly` };
  }
  return { answered: true, source: rollupsSource, rows: rows.map(groupFromRollups) };
}

/** The statement a grouped query runs on the rollups (for EXPLAIN in the benchmark). */
export const rollupStatement = rollupGroupsSql;

/** True while rows written before the rollups existed are not rolled up yet. */
export async function rollupsPending(db: CommonQueryMethods): Promise<boolean> {
  return db.exists(sql.unsafe`SELECT 1 FROM request_stats_rollup_state WHERE pending_through_id IS NOT NULL`);
}

export type BackfillProgress = { day: string; done: number; days: number; rows: number };

/**
 * Rebuilds the rollups of every UTC day that holds a stats row written before they existed, a day
 * per transaction (each locks the rollups only briefly), then marks them complete. Idempotent:
 * a day rebuilt twice is the same; an interrupted backfill is simply run again.
 */
export async function backfillRollups(db: DatabasePool, onDay: (progress: BackfillProgress) => void = () => undefined): Promise<{ days: number; rows: number }> {
  const pending = await db.maybeOneFirst(sql.type(z.object({ id: z.string().nullable() }))`
    SELECT pending_through_id::text AS id FROM request_stats_rollup_state`);
  if (pending === null) return { days: 0, rows: 0 };
  // Every day from the first stats row to the last: min and max come from the time index, where
  // finding the days that hold a row would read them all.
  const days = await db.anyFirst(sql.type(z.object({ day: z.string() }))`
    SELECT to_char(day, 'YYYY-MM-DD') AS day
      FROM (SELECT min(request_timestamp) AS first, max(request_timestamp) AS last FROM request_stats) AS extent,
           generate_series(date_trunc('day', extent.first, 'UTC') AT TIME ZONE 'UTC', extent.last AT TIME ZONE 'UTC', interval '1 day') AS day`);
  let rows = 0;
  for (const [index, day] of days.entries()) {
    rows += await db.transaction(async (transaction) => {
      await transaction.query(sql.unsafe`SELECT request_stats_rollups_rebuild(ARRAY[(${day}::date)::timestamp AT TIME ZONE 'UTC'])`);
      return transaction.oneFirst(sql.type(z.object({ rows: z.number() }))`
        SELECT COALESCE(sum(count), 0)::int AS rows FROM request_stats_rollups
         WHERE span = 'day' AND start = (${day}::date)::timestamp AT TIME ZONE 'UTC'`);
    });
    onDay({ day, done: index + 1, days: days.length, rows });
  }
  await db.query(sql.unsafe`UPDATE request_stats_rollup_state SET pending_through_id = NULL WHERE pending_through_id = ${pending}`);
  return { days: days.length, rows };
}
