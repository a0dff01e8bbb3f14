import { Transform, type Readable } from 'node:stream';
import { sql, type CommonQueryMethods, type DatabasePool, type FragmentSqlToken } from 'slonik';
import { allOf, millisecondsBetween, priorityName, withinDays } from './sql-fragments';
import { groupKeys, iso, keyColumns, modelAndStatusConditions } from './stats-grouping';
import { queryRollupGroups } from './stats-rollups';
import {
  isGrouped,
  statsGroup,
  statsRow,
  type StatsGroup,
  type StatsQuery,
  type StatsRow,
} from '../domain/stats-query';
import { rowsSource, type StatsSource } from '../domain/stats-rollup-group';

export class UnknownStatsCursorError extends Error {}

const queueWait = millisecondsBetween(sql.fragment`pod_ready_timestamp`, sql.fragment`request_timestamp`);
const processing = millisecondsBetween(sql.fragment`processed_timestamp`, sql.fragment`pod_ready_timestamp`);
const total = millisecondsBetween(sql.fragment`processed_timestamp`, sql.fragment`request_timestamp`);
const firstToken = millisecondsBetween(sql.fragment`first_token_timestamp`, sql.fragment`request_timestamp`);
/** Seconds from the first token to the end, for a streamed attempt with a token count. */
const generationSeconds = sql.fragment`CASE WHEN tokens_out IS NOT NULL
  THEN extract(epoch FROM processed_timestamp - first_token_timestamp)::float8 END`;

/** The WHERE clause: dates are whole days in the query's time zone, `to` included. */
function conditions(query: StatsQuery): FragmentSqlToken {
  return sql.fragment`WHERE ${allOf([
    ...modelAndStatusConditions(query),
    ...withinDays(sql.fragment`request_timestamp`, query, query.tz),
    query.cursor
      ? sql.fragment`(request_timestamp, id) < (SELECT request_timestamp, id FROM request_stats WHERE id = ${query.cursor})`
      : null,
  ])}`;
}

/** Raw rows, newest first, keyset-ordered by (request_timestamp, id). */
function rowsSql(query: StatsQuery, limit: number | null): FragmentSqlToken {
  return sql.fragment`
    SELECT id::text, model_id AS model, request_id AS "requestId", attempt,
           CASE WHEN result_success THEN 'success' ELSE 'failure' END AS status,
           CASE WHEN priority IS NOT NULL THEN ${priorityName(sql.fragment`priority`)} END AS priority,
           ${iso(sql.fragment`deadline_at`)} AS deadline,
           ${iso(sql.fragment`request_timestamp`)} AS "requestTimestamp",
           ${iso(sql.fragment`pod_ready_timestamp`)} AS "podReadyTimestamp",
           ${iso(sql.fragment`processed_timestamp`)} AS "processedTimestamp",
           ${queueWait} AS "queueWaitMs", ${processing} AS "processingMs", ${total} AS "totalMs",
           ${firstToken} AS "firstTokenMs", tokens_in::float8 AS "tokensIn", tokens_out::float8 AS "tokensOut",
           tokens_out / NULLIF(${generationSeconds}, 0) AS "tokensPerSecond"
      FROM request_stats
      ${conditions(query)}
     ORDER BY request_timestamp DESC, id DESC
     ${limit === null ? sql.fragment`` : sql.fragment`LIMIT ${limit}`}`;
}

/**
 * One row per group of the combination asked for: time bucket (start, in UTC), model, status.
 * Each timing's percentiles come from one sort (percentile_cont over an array of fractions).
 */
function groupsSql(query: StatsQuery): FragmentSqlToken {
  const keys = groupKeys(query, sql.fragment`request_timestamp`);
  const timing = (name: string) => {
    const column = sql.identifier([name]);
    return sql.fragment`avg(${column}) AS ${sql.identifier([`${name}_avg`])},
      percentile_cont(ARRAY[0.5, 0.9, 0.99]::float8[]) WITHIN GROUP (ORDER BY ${column}) AS ${sql.identifier([`${name}_p`])},
      max(${column}) AS ${sql.identifier([`${name}_max`])}`;
  };
  const timingObject = (name: string, as: string) => {
    const avg = sql.identifier([`${name}_avg`]);
    const p = sql.identifier([`${name}_p`]);
    const max = sql.identifier([`${name}_max`]);
    return sql.fragment`json_build_object('avg', ${avg}, 'p50', ${p}[1], 'p90', ${p}[2], 'p99', ${p}[3], 'max', ${max}) AS ${sql.identifier([as])}`;
  };
  const columns = keyColumns(keys, 'grouped');
  return sql.fragment`
    WITH filtered AS (
      SELECT model_id, result_success, request_timestamp,
             ${queueWait} AS queue_wait, ${processing} AS processing, ${total} AS total,
             ${firstToken} AS first_token, tokens_in, tokens_out, ${generationSeconds} AS generation_seconds
        FROM request_stats
        ${conditions(query)}
    ), grouped AS (
      SELECT ${sql.join([...columns.inner, sql.fragment`count(*)::int AS count`], sql.fragment`, `)},
             (count(*) FILTER (WHERE result_success))::int AS success_count,
             ${timing('queue_wait')}, ${timing('processing')}, ${timing('total')}, ${timing('first_token')},
             COALESCE(sum(tokens_in), 0)::float8 AS tokens_in, COALESCE(sum(tokens_out), 0)::float8 AS tokens_out,
             (sum(tokens_out) FILTER (WHERE generation_seconds IS NOT NULL))
               / NULLIF(sum(generation_seconds), 0) AS tokens_per_second
        FROM filtered
       GROUP BY ${sql.join(
         keys.map((key) => sql.identifier([key.name])),
         sql.fragment`, `,
       )}
    )
    SELECT ${columns.select},
           count, success_count AS "successCount", count - success_count AS "failureCount",
           ${timingObject('queue_wait', 'queueWaitMs')}, ${timingObject('processing', 'processingMs')}, ${timingObject('total', 'totalMs')},
           ${timingObject('first_token', 'firstTokenMs')},
           tokens_in AS "tokensIn", tokens_out AS "tokensOut", tokens_per_second AS "tokensPerSecond"
      FROM grouped
     ORDER BY ${columns.names}`;
}

/** Every group, read from the rows themselves: exact, and O(rows) (the benchmark's baseline). */
export async function groupsFromRows(db: CommonQueryMethods, query: StatsQuery): Promise<readonly StatsGroup[]> {
  return db.any(sql.type(statsGroup)`${groupsSql(query)}`);
}

/** Throws UnknownStatsCursorError when the query's cursor names no stats row. */
export async function assertKnownCursor(db: CommonQueryMethods, query: StatsQuery): Promise<void> {
  if (query.cursor && !(await db.exists(sql.unsafe`SELECT 1 FROM request_stats WHERE id = ${query.cursor}`))) {
    throw new UnknownStatsCursorError(`unknown cursor ${query.cursor}`);
  }
}

/** The statement a query runs (for EXPLAIN in the benchmark): every row, or every group. */
export function statsStatement(query: StatsQuery): FragmentSqlToken {
  return isGrouped(query) ? groupsSql(query) : rowsSql(query, null);
}

export type StatsPage = { source: StatsSource } & (
  | { grouped: false; rows: readonly StatsRow[]; nextCursor: string | null }
  | { grouped: true; rows: readonly StatsGroup[]; nextCursor: null }
);

/**
 * One page of raw rows (with the cursor of the next), or every group: from the rollups when they
 * can answer (percentiles then within 1 %), else from the rows, saying why.
 */
export async function queryStats(db: CommonQueryMethods, query: StatsQuery): Promise<StatsPage> {
  if (isGrouped(query)) {
    const fromRollups = await queryRollupGroups(db, query);
    if (fromRollups.answered)
      return { source: fromRollups.source, grouped: true, rows: fromRollups.rows, nextCursor: null };
    return {
      source: rowsSource(fromRollups.reason),
      grouped: true,
      rows: await groupsFromRows(db, query),
      nextCursor: null,
    };
  }
  await assertKnownCursor(db, query);
  const rows = await db.any(sql.type(statsRow)`${rowsSql(query, query.limit + 1)}`);
  const page = rows.slice(0, query.limit);
  return {
    source: rowsSource(null),
    grouped: false,
    rows: page,
    nextCursor: rows.length > query.limit ? page.at(-1)!.id : null,
  };
}

/**
 * Every row the query selects — all pages from `cursor` on — as an object stream read through a
 * server-side cursor (pg-query-stream), with backpressure, so a CSV export of millions of rows
 * never sits in memory. Resolves when the rows have all been read. Check the cursor first
 * (assertKnownCursor): an unknown one simply selects nothing here.
 */
export async function streamStats(
  db: DatabasePool,
  query: StatsQuery,
  consume: (rows: Readable) => void,
): Promise<void> {
  // Untyped on purpose: validating each of a million rows with zod made enough short-lived
  // garbage to grow the heap by ~100 MB; the JSON pages validate the very same statement.
  await db.stream(sql.unsafe`${statsStatement(query)}`, (stream) => {
    consume(
      stream.pipe(
        new Transform({
          objectMode: true,
          transform: (chunk: { data: StatsRow | StatsGroup }, _encoding, done) => done(null, chunk.data),
        }),
      ),
    );
  });
}
