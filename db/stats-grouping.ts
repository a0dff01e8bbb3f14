import { sql, type FragmentSqlToken, type ListSqlToken } from 'slonik';
import { isoTimestamp } from './sql-fragments';
import type { StatsQuery } from '../domain/stats-query';

/** Stats timestamps keep their microseconds. */
export const iso = (column: FragmentSqlToken) => isoTimestamp(column, 'us');

/** The start of the query's time bucket (`hour` or `day` in its time zone) that `column` falls in. */
export const bucketStart = (column: FragmentSqlToken, query: Pick<StatsQuery, 'tz'> & { bucket: 'hour' | 'day' }) =>
  sql.fragment`(date_trunc(${query.bucket}, (${column}) AT TIME ZONE ${query.tz}) AT TIME ZONE ${query.tz})`;

export type GroupKey = { name: string; raw: FragmentSqlToken; output: (column: FragmentSqlToken) => FragmentSqlToken };

/**
 * The keys a grouped query groups by, in output order (bucket, model, status): each formed on a
 * raw value (a timestamp, a boolean) and formatted only in the few result rows. `timestamp` is
 * the column the bucket is taken from; model and status are `model_id` and `result_success`.
 */
export function groupKeys(query: StatsQuery, timestamp: FragmentSqlToken): GroupKey[] {
  const keys: GroupKey[] = [];
  if (query.bucket)
    keys.push({ name: 'bucket', raw: bucketStart(timestamp, { ...query, bucket: query.bucket }), output: iso });
  if (query.rollup.includes('model'))
    keys.push({ name: 'model', raw: sql.fragment`model_id`, output: (column) => column });
  if (query.rollup.includes('status')) {
    keys.push({
      name: 'status',
      raw: sql.fragment`result_success`,
      // false sorts before true, as 'failure' before 'success'
      output: (column) => sql.fragment`CASE WHEN ${column} THEN 'success' ELSE 'failure' END`,
    });
  }
  return keys;
}

/** The filters rollups and rows share: models and outcome. */
export function modelAndStatusConditions(query: StatsQuery): FragmentSqlToken[] {
  return [
    query.model.length > 0 ? sql.fragment`model_id = ANY(${sql.array(query.model, 'text')})` : null,
    query.status ? sql.fragment`result_success = ${query.status === 'success'}` : null,
  ].filter((part) => part !== null);
}

/**
 * The keys as statement parts: `inner`, each raw key named (for the rows being grouped), and, over
 * those rows as `from`: `select` (the keys formatted) and `names` (for GROUP BY and ORDER BY).
 */
export function keyColumns(
  keys: GroupKey[],
  from: string,
): { inner: FragmentSqlToken[]; select: ListSqlToken; names: ListSqlToken } {
  return {
    inner: keys.map((key) => sql.fragment`${key.raw} AS ${sql.identifier([key.name])}`),
    select: sql.join(
      keys.map(
        (key) =>
          sql.fragment`${key.output(sql.fragment`${sql.identifier([from, key.name])}`)} AS ${sql.identifier([key.name])}`,
      ),
      sql.fragment`, `,
    ),
    names: sql.join(
      keys.map((key) => sql.identifier([from, key.name])),
      sql.fragment`, `,
    ),
  };
}
