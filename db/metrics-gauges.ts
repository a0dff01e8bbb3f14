import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const gaugeRow = z.object({
  kind: z.enum(['waiting', 'instances']),
  model: z.string(),
  state: z.string().nullable(),
  count: z.number(),
});

/**
 * What a metrics scrape reads from PostgreSQL, in one round trip: requests waiting for an
 * instance per model (the partial index on REQUESTED answers it), and instances not terminated
 * per model and state (the partial index on live instances).
 */
export async function readGauges(db: CommonQueryMethods): Promise<readonly z.infer<typeof gaugeRow>[]> {
  return db.any(sql.type(gaugeRow)`
    SELECT 'waiting' AS kind, model_id AS model, NULL AS state, count(*)::int AS count
      FROM work_requests WHERE status = 'REQUESTED' GROUP BY model_id
    UNION ALL
    SELECT 'instances', model_id, status, count(*)::int
      FROM model_instances WHERE status <> 'TERMINATED' GROUP BY model_id, status`);
}
