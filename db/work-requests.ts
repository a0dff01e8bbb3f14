import { sql, type CommonQueryMethods } from 'slonik';
import { ownerKeyOf, principalOwnerKey, priorityName } from './sql-fragments';
import { z } from 'zod';
import type { Principal } from '../domain/accounts';
import { priorityRank, requestPriority, type RequestPriority } from '../domain/request-priority';
import { finalStatuses, requestStatus } from '../domain/request-status';
import {
  requestError,
  protocolOf,
  requestInput,
  requestResult,
  workRequestView,
  type ListWorkRequestsQuery,
  type RequestError,
  type RequestInput,
  type RequestResult,
  type WorkRequestSummary,
  type WorkRequestView,
} from '../domain/work-request';

/** Whose requests: a signed-in user's (across sessions) or one anonymous session's. */
export type RequestOwner = { userId: string } | { sessionId: string };

export function ownerOf(principal: Principal): RequestOwner {
  return principal.kind === 'user' ? { userId: principal.userId } : { sessionId: principal.sessionId };
}

/** The owner's id: `COALESCE(user_id, session_id)` of their rows (user and session ids never collide). */
export const ownerId = (owner: RequestOwner) => ('userId' in owner ? owner.userId : owner.sessionId);

function ownedBy(owner: RequestOwner) {
  return 'userId' in owner
    ? sql.fragment`user_id = ${owner.userId}`
    : sql.fragment`session_id = ${owner.sessionId} AND user_id IS NULL`;
}

const isoTimestamp = z.number().transform((ms) => new Date(ms).toISOString());

const workRequestRow = workRequestView.extend({
  deadline: isoTimestamp.nullable(),
  createdAt: isoTimestamp,
  startedAt: isoTimestamp.nullable(),
  finishedAt: isoTimestamp.nullable(),
});

/**
 * A request as its owner sees it (with `, result` for the full view). The failure shows once the
 * request has FAILED: while it is PROCESSING the model's error is only an attempt's, and may
 * be retried.
 */
const viewColumns = sql.fragment`
  id, model_id AS model, status, ${priorityName(sql.fragment`priority`)} AS priority,
  deadline_at AS deadline, created_at AS "createdAt", started_at AS "startedAt", finished_at AS "finishedAt",
  CASE WHEN status = 'FAILED' THEN error END AS error, attempt`;

/**
 * The new request's row, unless its model already has `max_waiting` requests waiting, its owner
 * already has `maxInFlight` on their way, or there is no such model (speaking the input's
 * protocol): null then. One statement,
 * so the checks cost the submission no round trip; two submissions at the same moment may both
 * pass them (the caps are not exact to the request).
 */
export async function insertWorkRequest(
  db: CommonQueryMethods,
  request: {
    id: string;
    modelId: string;
    principal: Principal;
    input: RequestInput;
    workflowId: string;
    webhookUrl?: string;
    idempotencyKey?: string;
    priority: RequestPriority;
    /** Epoch ms; null or absent: no deadline. */
    deadlineAt?: number | null;
    /** The owner's requests REQUESTED or PROCESSING at once. */
    maxInFlight: number;
  },
): Promise<WorkRequestView | null> {
  const userId = request.principal.kind === 'user' ? request.principal.userId : null;
  // The request's lock, held until this transaction ends: an eagerly started workflow that looks
  // for the row before the commit waits on it (begin_warm_request) instead of retrying.
  return db.maybeOne(sql.type(workRequestRow)`
    WITH announced AS MATERIALIZED (SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/request/' || ${request.id})))
    INSERT INTO work_requests (id, model_id, session_id, user_id, input, workflow_id, webhook_url, idempotency_key, priority, deadline_at)
    SELECT ${request.id}::uuid, ${request.modelId}, ${request.principal.sessionId}::uuid, ${userId}::uuid, ${sql.jsonb(request.input)},
           ${request.workflowId}, ${request.webhookUrl ?? null}::text, ${request.idempotencyKey ?? null}::text,
           ${priorityRank(request.priority)}, to_timestamp(${request.deadlineAt ? request.deadlineAt / 1000 : null}::float8)
      FROM announced
     WHERE (SELECT count(*) FROM work_requests WHERE model_id = ${request.modelId} AND status = 'REQUESTED')
         < (SELECT max_waiting FROM models WHERE id = ${request.modelId} AND deleted_at IS NULL
                                                AND protocol = ${protocolOf(request.input)})
       AND (SELECT count(*) FROM work_requests
             WHERE COALESCE(user_id, session_id) = ${ownerId(ownerOf(request.principal))}::uuid
               AND status IN ('REQUESTED', 'PROCESSING')) < ${request.maxInFlight}
       AND (SELECT mine < share FROM (${queueShareOf(request.modelId, request.principal)}) q)
    RETURNING ${viewColumns}, result`);
}

/**
 * The submitter's share of the model's line: at most `max_waiting` over (owners waiting + 2),
 * rounded up, so that however many owners wait there is always room for one more. Owners as
 * the line knows them (ownerKeyOf). `waiting` counts all, `mine` the submitter's. (Exported for
 * test/bench/fairness.ts, which measures what it costs the insert.)
 */
export const queueShareOf = (modelId: string, principal: Principal) => {
  const me = principalOwnerKey(principal);
  return sql.fragment`
    SELECT count(k)::int AS waiting, count(k) FILTER (WHERE k = me.key)::int AS mine,
           count(DISTINCT k) FILTER (WHERE k <> me.key)::int AS others,
           ceil((SELECT max_waiting FROM models WHERE id = ${modelId})::numeric
                / (count(DISTINCT k) FILTER (WHERE k <> me.key) + 2))::int AS share
      FROM (SELECT ${me} AS key) me
      LEFT JOIN (SELECT ${ownerKeyOf} AS k FROM work_requests r WHERE r.model_id = ${modelId} AND r.status = 'REQUESTED') w ON true
     GROUP BY me.key`;
};

const queueShareRow = z.object({ waiting: z.number(), mine: z.number(), others: z.number(), share: z.number() });
export type QueueShare = z.infer<typeof queueShareRow>;

/** How the model's line is shared now, as the submitter sees it (why a submission was refused). */
export async function readQueueShare(
  db: CommonQueryMethods,
  modelId: string,
  principal: Principal,
): Promise<QueueShare> {
  return db.one(sql.type(queueShareRow)`${queueShareOf(modelId, principal)}`);
}

/** A request by id, whoever owns it (for the webhook body and admins). */
export async function findWorkRequestView(db: CommonQueryMethods, id: string): Promise<WorkRequestView | null> {
  return db.maybeOne(sql.type(workRequestRow)`
    SELECT ${viewColumns}, result
      FROM work_requests
     WHERE id = ${id}`);
}

/** A request as its owner sees it; anyone else's request is indistinguishable from none. */
export async function findOwnWorkRequest(
  db: CommonQueryMethods,
  id: string,
  owner: RequestOwner,
): Promise<WorkRequestView | null> {
  return db.maybeOne(sql.type(workRequestRow)`
    SELECT ${viewColumns}, result
      FROM work_requests
     WHERE id = ${id} AND ${ownedBy(owner)}`);
}

const webhookDelivery = z.object({
  attempt: z.number(),
  statusCode: z.number().nullable(),
  error: z.string().nullable(),
  attemptedAt: isoTimestamp,
});

const workRequestWithWebhookRow = workRequestRow.extend({
  /** The request's webhook and every try to deliver it, oldest first; null without a webhook. */
  webhook: z.object({ url: z.string(), deliveries: z.array(webhookDelivery) }).nullable(),
});

/** The owner's request with its webhook's deliveries, in one statement (`GET /api/requests/:id`). */
export async function findOwnWorkRequestWithWebhook(db: CommonQueryMethods, id: string, owner: RequestOwner) {
  return db.maybeOne(sql.type(workRequestWithWebhookRow)`
    SELECT ${viewColumns}, result,
           CASE WHEN webhook_url IS NOT NULL THEN json_build_object(
             'url', webhook_url,
             'deliveries', (SELECT COALESCE(json_agg(json_build_object(
                                'attempt', d.attempt, 'statusCode', d.status_code, 'error', d.error,
                                'attemptedAt', extract(epoch FROM d.attempted_at) * 1000) ORDER BY d.id), '[]')
                              FROM webhook_deliveries d WHERE d.request_id = w.id))
           END AS webhook
      FROM work_requests w
     WHERE id = ${id} AND ${ownedBy(owner)}`);
}

const workRequestSummaryRow = workRequestRow.omit({ result: true });

export class UnknownCursorError extends Error {}

/**
 * An owner's requests, newest first. The cursor is the last id of the previous page: the
 * next page starts strictly after that row's (created_at, id), so pages never overlap or skip.
 */
export async function listOwnWorkRequests(
  db: CommonQueryMethods,
  owner: RequestOwner,
  query: ListWorkRequestsQuery,
): Promise<{ requests: readonly WorkRequestSummary[]; nextCursor: string | null }> {
  if (query.cursor) {
    const known = await db.exists(sql.unsafe`
      SELECT 1 FROM work_requests WHERE id = ${query.cursor} AND ${ownedBy(owner)}`);
    if (!known) throw new UnknownCursorError(`unknown cursor ${query.cursor}`);
  }
  const conditions = [
    ownedBy(owner),
    query.status ? sql.fragment`status = ${query.status}` : null,
    query.cursor
      ? sql.fragment`(created_at, id) < (SELECT created_at, id FROM work_requests WHERE id = ${query.cursor})`
      : null,
  ].filter((condition) => condition !== null);
  const rows = await db.any(sql.type(workRequestSummaryRow)`
    SELECT ${viewColumns}
      FROM work_requests
     WHERE ${sql.join(conditions, sql.fragment` AND `)}
     ORDER BY created_at DESC, id DESC
     LIMIT ${query.limit + 1}`);
  const page = rows.slice(0, query.limit);
  return { requests: page, nextCursor: rows.length > query.limit ? page.at(-1)!.id : null };
}

/**
 * What an inference needs, in one read: the request's model and input, the instance's runtime
 * reference and whether the request holds a slot of that instance now (a lost hand-over signal
 * can offer one twice). Null when the request or the instance is gone.
 */
export async function loadInferenceWork(db: CommonQueryMethods, requestId: string, instanceId: string) {
  const work = z.object({
    modelId: z.string(),
    servedModelName: z.string(),
    input: requestInput,
    runtimeRef: z.string().nullable(),
    holdsSlot: z.boolean(),
    requestTimeoutSeconds: z.number(),
    deadlineAt: z.number().nullable(),
  });
  return db.maybeOne(sql.type(work)`
    SELECT r.model_id AS "modelId", COALESCE(m.served_model_name, m.id) AS "servedModelName", r.input, i.runtime_ref AS "runtimeRef",
           EXISTS (SELECT 1 FROM instance_leases l
                    WHERE l.request_id = r.id AND l.instance_id = i.id AND l.released_at IS NULL) AS "holdsSlot",
           m.request_timeout_seconds AS "requestTimeoutSeconds", r.deadline_at AS "deadlineAt"
      FROM work_requests r
      JOIN models m ON m.id = r.model_id
      JOIN model_instances i ON i.id = ${instanceId}
     WHERE r.id = ${requestId}`);
}

/** Stores the model's answer; the request stays PROCESSING until it is finished. */
export async function saveWorkRequestResult(db: CommonQueryMethods, id: string, result: RequestResult) {
  await db.query(sql.unsafe`
    UPDATE work_requests
       SET result = ${sql.jsonb(requestResult.parse(result))}, processed_at = clock_timestamp()
     WHERE id = ${id} AND status = 'PROCESSING'`);
}

/**
 * Keeps what the model said when it failed (it may echo the input) with the request, which is
 * still PROCESSING: workflow history carries only the failure's code, and the request's end
 * keeps this message when it ends with the same code (recordRequestEnd).
 */
export async function saveInferenceFailure(db: CommonQueryMethods, id: string, error: RequestError) {
  await db.query(sql.unsafe`
    UPDATE work_requests SET error = ${sql.jsonb(requestError.parse(error))}
     WHERE id = ${id} AND status = 'PROCESSING'`);
}

const idempotentRequestRow = z.object({
  id: z.uuid(),
  model: z.string(),
  input: z.unknown(),
  webhookUrl: z.string().nullable(),
  priority: requestPriority,
});

/** The owner's request made with this idempotency key, with what it was asked, if any. */
export async function findByIdempotencyKey(db: CommonQueryMethods, owner: RequestOwner, key: string) {
  return db.maybeOne(sql.type(idempotentRequestRow)`
    SELECT id, model_id AS model, input, webhook_url AS "webhookUrl", ${priorityName(sql.fragment`priority`)} AS priority FROM work_requests
     WHERE COALESCE(user_id, session_id) = ${ownerId(owner)}
       AND ${'userId' in owner ? sql.fragment`user_id IS NOT NULL` : sql.fragment`user_id IS NULL`}
       AND idempotency_key = ${key}`);
}

export const requestStart = z.object({
  hasWebhook: z.boolean(),
  requestedAt: z.number(),
  requestTimeoutSeconds: z.number(),
  startupTimeoutSeconds: z.number(),
  /**
   * Epoch ms; null: no deadline. Absent from the settings of runs recorded before deadlines
   * (issue 35), which replay as runs without one.
   */
  deadlineAt: z.number().nullable().optional(),
});
/** What a request's workflow needs to know as it begins: the model's timeouts, whether to call back, when it was asked, its deadline. */
export type RequestStart = z.infer<typeof requestStart>;

/** What a request's workflow needs to know as it begins; null while the row is not visible. */
export async function findRequestStart(db: CommonQueryMethods, id: string): Promise<RequestStart | null> {
  return db.maybeOne(sql.type(requestStart)`
    SELECT r.webhook_url IS NOT NULL AS "hasWebhook", r.created_at AS "requestedAt",
           m.request_timeout_seconds AS "requestTimeoutSeconds", m.startup_timeout_seconds AS "startupTimeoutSeconds",
           r.deadline_at AS "deadlineAt"
      FROM work_requests r JOIN models m ON m.id = r.model_id
     WHERE r.id = ${id}`);
}

const webhookUrlRow = z.object({ url: z.string() });

export async function findWebhookUrl(db: CommonQueryMethods, requestId: string): Promise<string> {
  return db.oneFirst(sql.type(webhookUrlRow)`
    SELECT webhook_url AS url FROM work_requests WHERE id = ${requestId}`);
}

export async function recordWebhookDelivery(
  db: CommonQueryMethods,
  delivery: { requestId: string; attempt: number; url: string; statusCode: number | null; error: string | null },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO webhook_deliveries (request_id, attempt, url, status_code, error)
    VALUES (${delivery.requestId}, ${delivery.attempt}, ${delivery.url}, ${delivery.statusCode}, ${delivery.error})`);
}

const workflowIdRow = z.object({ workflowId: z.string() });

/**
 * Deletes one batch of ended requests created before the retention (their webhook deliveries
 * and slot leases go with them; stats rows stay); returns their workflow ids.
 */
export async function deleteEndedRequestsOlderThan(
  db: CommonQueryMethods,
  batch: { retentionDays: number; batchSize: number },
): Promise<readonly string[]> {
  return db.anyFirst(sql.type(workflowIdRow)`
    WITH gone AS (
      DELETE FROM work_requests
       WHERE id IN (SELECT id FROM work_requests
                     WHERE created_at < now() - make_interval(secs => ${batch.retentionDays * 86_400})
                       AND status = ANY(${sql.array([...finalStatuses], 'text')})
                     ORDER BY created_at
                     LIMIT ${batch.batchSize})
      RETURNING id, workflow_id
    ), released AS (
      DELETE FROM instance_leases l USING gone WHERE l.request_id = gone.id AND l.released_at IS NOT NULL
    )
    SELECT workflow_id AS "workflowId" FROM gone`);
}

const countRow = z.object({ n: z.number() });

/** How many of the owner's requests are on their way (REQUESTED or PROCESSING). */
export async function countOpenRequests(db: CommonQueryMethods, owner: RequestOwner): Promise<number> {
  return db.oneFirst(sql.type(countRow)`
    SELECT count(*)::int AS n FROM work_requests
     WHERE COALESCE(user_id, session_id) = ${ownerId(owner)}
       AND status IN ('REQUESTED', 'PROCESSING')`);
}

const waitingProcessingRow = z.object({ waiting: z.number(), processing: z.number() });

/** A model's requests on their way: waiting for an instance, and being served. */
export async function countOpenRequestsOfModel(
  db: CommonQueryMethods,
  modelId: string,
): Promise<{ waiting: number; processing: number }> {
  return db.one(sql.type(waitingProcessingRow)`
    SELECT count(*) FILTER (WHERE status = 'REQUESTED')::int AS waiting,
           count(*) FILTER (WHERE status = 'PROCESSING')::int AS processing
      FROM work_requests
     WHERE model_id = ${modelId} AND status IN ('REQUESTED', 'PROCESSING')`);
}

const requestStateRow = z.object({ status: requestStatus, error: requestError.nullable() });

/** The owner's request's status, and its error once FAILED: what a reader of its events polls. */
export async function findOwnRequestState(db: CommonQueryMethods, id: string, owner: RequestOwner) {
  return db.maybeOne(sql.type(requestStateRow)`
    SELECT status, CASE WHEN status = 'FAILED' THEN error END AS error
      FROM work_requests
     WHERE id = ${id} AND ${ownedBy(owner)}`);
}
