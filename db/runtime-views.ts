import { sql, type CommonQueryMethods } from 'slonik';
import { runtimeView, type LiveInstance, type RuntimeView } from '../domain/instances';
import { isoTimestamp } from './sql-fragments';

/** A worker's view of its runtime, replacing its last one (observed now, by the database's clock). */
export async function saveRuntimeView(db: CommonQueryMethods, view: { workerId: string; scope: RuntimeView['scope']; instances: readonly LiveInstance[] }): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO runtime_views (worker_id, scope, observed_at, instances)
    VALUES (${view.workerId}, ${view.scope}, now(), ${sql.jsonb(view.instances as never)})
    ON CONFLICT (worker_id) DO UPDATE SET scope = EXCLUDED.scope, observed_at = EXCLUDED.observed_at, instances = EXCLUDED.instances`);
}

/** A worker that stops takes its view with it. */
export async function deleteRuntimeView(db: CommonQueryMethods, workerId: string): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM runtime_views WHERE worker_id = ${workerId}`);
}

/**
 * The views observed within the last `maxAgeSeconds`: a worker that died without a word drops
 * out of the page once its view is that old (and is deleted a day later).
 */
export async function freshRuntimeViews(db: CommonQueryMethods, maxAgeSeconds: number): Promise<readonly RuntimeView[]> {
  await db.query(sql.unsafe`DELETE FROM runtime_views WHERE observed_at < now() - interval '1 day'`);
  return db.any(sql.type(runtimeView)`
    SELECT worker_id AS "workerId", scope, ${isoTimestamp(sql.fragment`observed_at`)} AS "observedAt", instances
      FROM runtime_views
     WHERE observed_at >= now() - make_interval(secs => ${maxAgeSeconds})`);
}
