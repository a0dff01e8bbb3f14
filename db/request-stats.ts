import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const requestTimings = z.object({
  queueWaitSeconds: z.number().nullable(),
  processingSeconds: z.number().nullable(),
  totalSeconds: z.number(),
});
/** The stats row's durations, in seconds (docs/stats.md): queue wait and processing are null without an instance. */
export type RequestTimings = z.infer<typeof requestTimings>;

/**
 * Records the stats row of a finished request attempt, once: request time from the request;
 * pod-ready time is when a ready instance was assigned to it (its ASSIGNED event: a warm instance
 * was ready long before the request came); processed time from the request. Returns its
 * durations; null when the row was there already.
 */
export async function recordRequestStats(
  db: CommonQueryMethods,
  requestId: string,
  resultSuccess: boolean,
): Promise<RequestTimings | null> {
  return db.maybeOne(sql.type(requestTimings)`
    INSERT INTO request_stats (model_id, request_id, attempt, result_success,
                               request_timestamp, pod_ready_timestamp, processed_timestamp)
    SELECT r.model_id, r.id, r.attempt, ${resultSuccess}, r.created_at,
           (SELECT max(l.occurred_at) FROM model_instance_log l
             WHERE l.request_id = r.id AND l.event = 'ASSIGNED'),
           COALESCE(r.processed_at, r.finished_at, clock_timestamp())
      FROM work_requests r
     WHERE r.id = ${requestId}
    ON CONFLICT (request_id, attempt) DO NOTHING
    RETURNING extract(epoch FROM pod_ready_timestamp - request_timestamp)::float8 AS "queueWaitSeconds",
              extract(epoch FROM processed_timestamp - pod_ready_timestamp)::float8 AS "processingSeconds",
              extract(epoch FROM processed_timestamp - request_timestamp)::float8 AS "totalSeconds"`);
}
