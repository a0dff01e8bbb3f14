import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

/** Requests waiting for an instance, per model (the partial index on REQUESTED answers it). */
export async function countWaitingByModel(db: CommonQueryMethods): Promise<readonly { model: string; count: number }[]> {
  return db.any(sql.type(z.object({ model: z.string(), count: z.number() }))`
    SELECT model_id AS model, count(*)::int AS count FROM work_requests WHERE status = 'REQUESTED' GROUP BY model_id`);
}

/** Instances not terminated, per model and state. */
export async function countInstancesByState(db: CommonQueryMethods): Promise<readonly { model: string; state: string; count: number }[]> {
  return db.any(sql.type(z.object({ model: z.string(), state: z.string(), count: z.number() }))`
    SELECT model_id AS model, status AS state, count(*)::int AS count
      FROM model_instances WHERE status <> 'TERMINATED' GROUP BY model_id, status`);
}
