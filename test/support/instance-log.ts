import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const logEntry = z.object({ event: z.string(), detail: z.record(z.string(), z.unknown()) });

/**
 * The log of the model's first instance, with each entry's detail. A request looks again after
 * a failed start and may ask for a second instance before it hears that the first failed: the
 * first is the one a test can pin.
 */
export function firstInstanceLog(db: CommonQueryMethods, model: string) {
  return db.any(sql.type(logEntry)`
    SELECT l.event, l.detail FROM model_instance_log l
     WHERE l.instance_id = (SELECT id FROM model_instances WHERE model_id = ${model} ORDER BY created_at, id LIMIT 1)
     ORDER BY l.id`);
}

/** Why the model's first instance failed to start, as its FAILED event (on the admin pages) says. */
export async function firstInstanceFailure(db: CommonQueryMethods, model: string): Promise<string | undefined> {
  const failed = (await firstInstanceLog(db, model)).find((entry) => entry.event === 'FAILED');
  return failed ? String(failed.detail.message) : undefined;
}
