import { sql, type FragmentSqlToken } from 'slonik';
import type { Principal } from '../domain/accounts';

/**
 * A timestamptz as ISO 8601 text in UTC, to the millisecond (`ms`) or microsecond (`us`):
 * exact, and the same in JSON and CSV, where a JS Date would drop the microseconds.
 */
export function isoTimestamp(column: FragmentSqlToken, precision: 'ms' | 'us' = 'ms'): FragmentSqlToken {
  return precision === 'us'
    ? sql.fragment`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`
    : sql.fragment`to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * Milliseconds from `earlier` to `later` as float8. date_part, not extract: extract returns
 * numeric since PostgreSQL 14, and numeric arithmetic on every row was a third of a rolled-up
 * stats query's time on 10M rows.
 */
export function millisecondsBetween(later: FragmentSqlToken, earlier: FragmentSqlToken): FragmentSqlToken {
  return sql.fragment`date_part('epoch', ${later} - ${earlier}) * 1000`;
}

/** Every condition given (nulls left out) joined with AND; `true` for none. */
export function allOf(conditions: ReadonlyArray<FragmentSqlToken | null>): FragmentSqlToken {
  const present = conditions.filter((condition) => condition !== null);
  return present.length === 0 ? sql.fragment`true` : sql.fragment`(${sql.join(present, sql.fragment` AND `)})`;
}

/** The instants where whole calendar days `from`…`to` (both included) in `timeZone` begin and end. */
export function dayBounds(
  days: { from?: string; to?: string },
  timeZone = 'UTC',
): { start: FragmentSqlToken | null; end: FragmentSqlToken | null } {
  return {
    start: days.from ? sql.fragment`((${days.from}::date)::timestamp AT TIME ZONE ${timeZone})` : null,
    end: days.to ? sql.fragment`((${days.to}::date + 1)::timestamp AT TIME ZONE ${timeZone})` : null,
  };
}

/** `column` within whole calendar days `from`…`to` (both included, either optional) in `timeZone`. */
export function withinDays(
  column: FragmentSqlToken,
  days: { from?: string; to?: string },
  timeZone = 'UTC',
): FragmentSqlToken[] {
  const { start, end } = dayBounds(days, timeZone);
  return [start ? sql.fragment`${column} >= ${start}` : null, end ? sql.fragment`${column} < ${end}` : null].filter(
    (condition) => condition !== null,
  );
}

/** A stored priority rank (0, 1, 2; migration 033) as its name (domain/request-priority.ts). */
export const priorityName = (rank: FragmentSqlToken) => sql.fragment`(ARRAY['high', 'normal', 'low'])[${rank} + 1]`;

/**
 * Whose turn a request takes in a model's line, and whose share of its `max_waiting`: its user,
 * else the client its anonymous session was opened from (an IPv6 address by its /64), else the
 * session. For `r`, a work_requests row.
 */
export const ownerKeyOf = sql.fragment`COALESCE(r.user_id::text,
  (SELECT s.client_key FROM sessions s WHERE s.id = r.session_id AND r.user_id IS NULL), r.session_id::text)`;

/** The owner key (as ownerKeyOf) of requests the principal submits. */
export const principalOwnerKey = (principal: Principal) =>
  principal.kind === 'user'
    ? sql.fragment`${principal.userId}::text`
    : sql.fragment`COALESCE((SELECT client_key FROM sessions WHERE id = ${principal.sessionId}), ${principal.sessionId}::text)`;

/**
 * How far past the larger of the model's served clock and its owner's last tag a waiting
 * request's tag goes (migration 036): 2520 over its user's weight, 2520 for anyone else. For `r`,
 * a work_requests row.
 */
export const tagStepOf = sql.fragment`(2520 / COALESCE((SELECT u.queue_weight FROM users u WHERE u.id = r.user_id), 1))`;

/** The tag step (as tagStepOf) of requests the principal submits. */
export const principalTagStep = (principal: Principal) =>
  principal.kind === 'user'
    ? sql.fragment`(2520 / COALESCE((SELECT u.queue_weight FROM users u WHERE u.id = ${principal.userId}), 1))`
    : sql.fragment`2520`;
