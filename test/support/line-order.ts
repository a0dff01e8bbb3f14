import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const overtakeRow = z.object({ first: z.string(), overtakenBy: z.string() });

/**
 * Pairs of a model's requests that waited at the same time where the one later in the line's
 * order (priority, fair-share tag, submission; db/instance-slots.ts) got its slot first. None,
 * when the line was served exactly in its order.
 */
export function lineOvertakes(db: CommonQueryMethods, modelId: string) {
  return db.any(sql.type(overtakeRow)`
    SELECT a.request_id AS first, b.request_id AS "overtakenBy"
      FROM instance_leases a JOIN instance_leases b
        ON a.model_id = b.model_id
       AND (a.priority, a.fair_tag, a.requested_at, a.request_id) < (b.priority, b.fair_tag, b.requested_at, b.request_id)
     WHERE a.model_id = ${modelId} AND a.queued_at IS NOT NULL AND b.queued_at IS NOT NULL
       AND a.queued_at < b.leased_at AND b.queued_at < a.leased_at -- both waiting at once
       AND b.leased_at < a.leased_at`);
}
