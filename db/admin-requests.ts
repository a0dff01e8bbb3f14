import { sql, type CommonQueryMethods } from 'slonik';
import { priorityName } from './sql-fragments';
import { z } from 'zod';
import {
  adminRequestSummary,
  sensitiveRequest,
  type AdminRequestsQuery,
  type AdminRequestSummary,
} from '../domain/admin-views';
import { allOf, isoTimestamp, millisecondsBetween, withinDays } from './sql-fragments';

export class UnknownRequestCursorError extends Error {}

/** The columns of an admin's request summary (`r` = work_requests, `u` = users). */
const summaryColumns = sql.fragment`
  r.id, r.model_id AS model, r.status, ${priorityName(sql.fragment`r.priority`)} AS priority,
  ${isoTimestamp(sql.fragment`r.deadline_at`)} AS deadline, r.attempt, r.user_id AS "userId", u.username,
  r.session_id AS "sessionId", r.user_id IS NULL AS anonymous,
  ${isoTimestamp(sql.fragment`r.created_at`)} AS "createdAt", ${isoTimestamp(sql.fragment`r.started_at`)} AS "startedAt",
  ${isoTimestamp(sql.fragment`r.finished_at`)} AS "finishedAt", r.error ->> 'code' AS "errorCode",
  ${millisecondsBetween(sql.fragment`r.started_at`, sql.fragment`r.created_at`)} AS "waitMs",
  ${millisecondsBetween(sql.fragment`r.finished_at`, sql.fragment`r.started_at`)} AS "runMs",
  ${millisecondsBetween(sql.fragment`r.finished_at`, sql.fragment`r.created_at`)} AS "totalMs",
  r.instance_id AS "instanceId"`;

/** Every user's requests, newest first, keyset-paginated on (created_at, id). No input, result or error message. */
export async function listAdminRequests(
  db: CommonQueryMethods,
  query: AdminRequestsQuery,
): Promise<{ requests: readonly AdminRequestSummary[]; nextCursor: string | null }> {
  if (query.cursor && !(await db.exists(sql.unsafe`SELECT 1 FROM work_requests WHERE id = ${query.cursor}`))) {
    throw new UnknownRequestCursorError(`unknown cursor ${query.cursor}`);
  }
  const isUuid = query.user !== undefined && z.uuid().safeParse(query.user).success;
  const conditions = [
    query.user === undefined
      ? null
      : isUuid
        ? sql.fragment`r.user_id = ${query.user}`
        : sql.fragment`lower(u.username) = lower(${query.user})`,
    query.session ? sql.fragment`r.session_id = ${query.session}` : null,
    query.model ? sql.fragment`r.model_id = ${query.model}` : null,
    query.status ? sql.fragment`r.status = ${query.status}` : null,
    ...withinDays(sql.fragment`r.created_at`, query),
    query.cursor
      ? sql.fragment`(r.created_at, r.id) < (SELECT created_at, id FROM work_requests WHERE id = ${query.cursor})`
      : null,
  ];
  const rows = await db.any(sql.type(adminRequestSummary)`
    SELECT ${summaryColumns}
      FROM work_requests r LEFT JOIN users u ON u.id = r.user_id
     WHERE ${allOf(conditions)}
     ORDER BY r.created_at DESC, r.id DESC
     LIMIT ${query.limit + 1}`);
  const page = rows.slice(0, query.limit);
  return { requests: page, nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}

/** The requests an instance was assigned (its ASSIGNED log rows), in the order it got them. */
export async function requestsServedByInstance(
  db: CommonQueryMethods,
  instanceId: string,
): Promise<readonly AdminRequestSummary[]> {
  return db.any(sql.type(adminRequestSummary)`
    SELECT ${summaryColumns}
      FROM (SELECT request_id, min(occurred_at) AS assigned_at FROM model_instance_log
             WHERE instance_id = ${instanceId} AND event = 'ASSIGNED' GROUP BY request_id) served
      JOIN work_requests r ON r.id = served.request_id
      LEFT JOIN users u ON u.id = r.user_id
     ORDER BY served.assigned_at`);
}

/** A request's input, result and error: only ever read after an audit_log row says who asked. */
export async function findSensitiveRequest(db: CommonQueryMethods, id: string) {
  return db.maybeOne(sql.type(sensitiveRequest)`
    SELECT id, input, result, error, webhook_url AS "webhookUrl" FROM work_requests WHERE id = ${id}`);
}
