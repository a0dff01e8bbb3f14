import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { requeueableStatuses, statusesBefore } from '../domain/request-status';
import { requestError, type RequestError } from '../domain/work-request';
import { recordInstanceEvent } from './model-instances';
import { recordRequestStats, type RequestTimings } from './request-stats';

/**
 * REQUESTED → PROCESSING on the instance the pool assigned, which is logged ASSIGNED. A request
 * already PROCESSING moves to a new instance when its own one died (the workflow got another).
 * True also when this very assignment was already recorded (a retried activity).
 */
export async function startProcessing(db: CommonQueryMethods, requestId: string, instanceId: string): Promise<boolean> {
  const started = await db.query(sql.unsafe`
    UPDATE work_requests
       SET status = 'PROCESSING', started_at = COALESCE(started_at, clock_timestamp()), instance_id = ${instanceId}
     WHERE id = ${requestId}
       AND instance_id IS DISTINCT FROM ${instanceId}
       AND status = ANY(${sql.array([...statusesBefore('PROCESSING'), 'PROCESSING'], 'text')})`);
  if (started.rowCount === 1) {
    await recordInstanceEvent(db, { instanceId, event: 'ASSIGNED', requestId });
    return true;
  }
  return db.exists(sql.unsafe`
    SELECT 1 FROM work_requests WHERE id = ${requestId} AND status = 'PROCESSING' AND instance_id = ${instanceId}`);
}

/**
 * REQUESTED/PROCESSING → COMPLETE, FAILED or CANCELLED, once: the instance is logged RELEASED and
 * (for COMPLETE and FAILED) the attempt's stats row is written, all in one transaction.
 * Returns null when the request had already ended.
 */
export async function endWorkRequest(
  db: CommonQueryMethods & { transaction: <T>(handler: (t: CommonQueryMethods) => Promise<T>) => Promise<T> },
  end: RequestEndRecord,
): Promise<RequestEnded | null> {
  return db.transaction((transaction) => recordRequestEnd(transaction, end));
}

export type RequestEndRecord = {
  requestId: string;
  status: 'COMPLETE' | 'FAILED' | 'CANCELLED';
  instanceId?: string;
  error?: RequestError;
};
/** A request that just ended: its model, how, and its stats row's durations (null when CANCELLED). */
export type RequestEnded = { modelId: string; status: RequestEndRecord['status']; timings: RequestTimings | null };

const modelIdLeasedInstanceIdRow = z.object({ modelId: z.string(), leasedInstanceId: z.string().nullable() });

/** endWorkRequest inside the caller's transaction (the request path's, which also releases its slot). */
export async function recordRequestEnd(
  transaction: CommonQueryMethods,
  end: RequestEndRecord,
): Promise<RequestEnded | null> {
  const error = end.error ? sql.jsonb(requestError.parse(end.error)) : null;
  const ended = await transaction.maybeOne(sql.type(modelIdLeasedInstanceIdRow)`
    UPDATE work_requests r
       SET status = ${end.status},
           -- the message the inference kept (see saveInferenceFailure) wins over the workflow's code-only one
           error = CASE WHEN error ->> 'code' = ${end.error?.code ?? null} THEN error ELSE ${error}::jsonb END,
           processed_at = COALESCE(processed_at, clock_timestamp()), finished_at = clock_timestamp()
     WHERE id = ${end.requestId} AND status = ANY(${sql.array(statusesBefore(end.status), 'text')})
    RETURNING model_id AS "modelId",
              (SELECT l.instance_id FROM instance_leases l
                WHERE l.request_id = r.id AND l.instance_id = r.instance_id AND l.released_at IS NULL) AS "leasedInstanceId"`);
  if (!ended) return null;
  // A workflow whose step was cancelled mid-way may not know the instance it was assigned: the
  // lease on it says.
  const instanceId = end.instanceId ?? ended.leasedInstanceId;
  if (instanceId) await recordInstanceEvent(transaction, { instanceId, event: 'RELEASED', requestId: end.requestId });
  const timings =
    end.status === 'CANCELLED' ? null : await recordRequestStats(transaction, end.requestId, end.status === 'COMPLETE');
  return { modelId: ended.modelId, status: end.status, timings };
}

const attemptRow = z.object({ attempt: z.number() });

/** Back to REQUESTED as a new attempt (admin re-queue); the old attempt's outcome is cleared. */
export async function requeueWorkRequest(
  db: CommonQueryMethods,
  requestId: string,
  instanceId?: string,
): Promise<{ attempt: number } | null> {
  const requeued = await db.maybeOne(sql.type(attemptRow)`
    UPDATE work_requests
       SET status = 'REQUESTED', attempt = attempt + 1, result = NULL, error = NULL, instance_id = NULL,
           started_at = NULL, processed_at = NULL, finished_at = NULL
     WHERE id = ${requestId} AND status = ANY(${sql.array([...requeueableStatuses], 'text')})
     RETURNING attempt`);
  if (requeued && instanceId) await recordInstanceEvent(db, { instanceId, event: 'RELEASED', requestId });
  return requeued;
}

const openRequestRow = z.object({ id: z.string(), modelId: z.string(), instanceId: z.string().nullable() });

/**
 * Ends the still open request of a workflow that Temporal closed (see domain/closed-workflow),
 * releasing its instance. Returns the request's id and model, or null when it had ended already.
 */
export async function endRequestOfClosedWorkflow(
  db: CommonQueryMethods & { transaction: <T>(handler: (t: CommonQueryMethods) => Promise<T>) => Promise<T> },
  workflowId: string,
  end: { status: 'CANCELLED' } | { status: 'FAILED'; error: RequestError },
): Promise<{ requestId: string; ended: RequestEnded } | null> {
  const open = await db.maybeOne(sql.type(openRequestRow)`
    SELECT id, model_id AS "modelId", instance_id AS "instanceId" FROM work_requests
     WHERE workflow_id = ${workflowId} AND status = ANY(${sql.array(statusesBefore(end.status), 'text')})`);
  if (!open) return null;
  const ended = await endWorkRequest(db, { requestId: open.id, instanceId: open.instanceId ?? undefined, ...end });
  return ended ? { requestId: open.id, ended } : null;
}
