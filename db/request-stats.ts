import { sql, type CommonQueryMethods } from 'slonik';

/**
 * Records the stats row of a finished request attempt, once: request time from the request;
 * pod-ready time is when a ready instance was assigned to it (its ASSIGNED event: a warm instance
 * was ready long before the request came); processed time from the request.
 */
export async function recordRequestStats(
  db: CommonQueryMethods,
  requestId: string,
  resultSuccess: boolean,
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO request_stats (model_id, request_id, attempt, result_success,
                               request_timestamp, pod_ready_timestamp, processed_timestamp)
    SELECT r.model_id, r.id, r.attempt, ${resultSuccess}, r.created_at,
           (SELECT max(l.occurred_at) FROM model_instance_log l
             WHERE l.request_id = r.id AND l.event = 'ASSIGNED'),
           COALESCE(r.processed_at, r.finished_at, clock_timestamp())
      FROM work_requests r
     WHERE r.id = ${requestId}
    ON CONFLICT (request_id, attempt) DO NOTHING`);
}
