import { sql, type CommonQueryMethods } from 'slonik';
import {
  compareRuntimeEvents,
  runtimeEvent,
  runtimeEventsInOrder,
  runtimeEventsKept,
  runtimeView,
  type LiveInstance,
  type RuntimeEvent,
  type RuntimeView,
} from '../domain/instances';
import { isoTimestamp } from './sql-fragments';

/** A worker's view of its runtime, replacing its last one (observed now, by the database's clock). */
export async function saveRuntimeView(
  db: CommonQueryMethods,
  view: { workerId: string; scope: RuntimeView['scope']; instances: readonly LiveInstance[] },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO runtime_views (worker_id, scope, observed_at, instances)
    VALUES (${view.workerId}, ${view.scope}, now(), ${sql.jsonb(view.instances as never)})
    ON CONFLICT (worker_id) DO UPDATE SET scope = EXCLUDED.scope, observed_at = EXCLUDED.observed_at, instances = EXCLUDED.instances`);
}

/** A worker that stops takes its view with it. */
export async function deleteRuntimeView(db: CommonQueryMethods, workerId: string): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM runtime_views WHERE worker_id = ${workerId}`);
}

/** The views of workers that died without a word a day ago or more: a worker clears them as it starts reporting. */
export async function deleteStaleRuntimeViews(db: CommonQueryMethods): Promise<void> {
  await db.query(sql.unsafe`DELETE FROM runtime_views WHERE observed_at < now() - interval '1 day'`);
}

/** The views observed within the last `maxAgeSeconds`: a worker that died without a word drops out of the page once its view is that old. */
export async function freshRuntimeViews(
  db: CommonQueryMethods,
  maxAgeSeconds: number,
): Promise<readonly RuntimeView[]> {
  return db.any(sql.type(runtimeView)`
    SELECT worker_id AS "workerId", scope, ${isoTimestamp(sql.fragment`observed_at`)} AS "observedAt", instances
      FROM runtime_views
     WHERE observed_at >= now() - make_interval(secs => ${maxAgeSeconds})`);
}

/**
 * Keeps the runtime's events of the live instances with their records (instance_runtime_events),
 * the latest `runtimeEventsKept` of each. An event seen again updates its count and last time; an
 * instance this schema has no record of (another installation's pod) is skipped.
 */
export async function recordRuntimeEvents(db: CommonQueryMethods, instances: readonly LiveInstance[]): Promise<void> {
  const rows = instances.flatMap(({ instanceId, events }) =>
    instanceId ? runtimeEventsInOrder(events ?? []).map((event) => ({ instanceId, ...event })) : [],
  );
  if (rows.length === 0) return;
  const written = await db.query(sql.unsafe`
    INSERT INTO instance_runtime_events (instance_id, event_uid, type, reason, message, source, count, first_at, last_at)
    SELECT e.instance_id, e.event_uid, e.type, e.reason, e.message, e.source, e.count, e.first_at, e.last_at
      FROM jsonb_to_recordset(${sql.jsonb(
        rows.map((row, ordinal) => ({
          ordinal,
          instance_id: row.instanceId,
          event_uid: row.uid,
          type: row.type,
          reason: row.reason,
          message: row.message,
          source: row.source,
          count: row.count,
          first_at: row.firstAt,
          last_at: row.lastAt,
        })),
      )}) AS e(instance_id uuid, event_uid text, type text, reason text, message text, source text, count integer, first_at timestamptz, last_at timestamptz, ordinal integer)
     WHERE EXISTS (SELECT 1 FROM model_instances i WHERE i.id = e.instance_id)
     ORDER BY e.ordinal
    ON CONFLICT (instance_id, event_uid) DO UPDATE SET count = EXCLUDED.count, last_at = EXCLUDED.last_at, message = EXCLUDED.message
      WHERE instance_runtime_events.count <> EXCLUDED.count OR instance_runtime_events.last_at <> EXCLUDED.last_at`);
  // Most looks see nothing new: no event past the limit then.
  if (written.rowCount === 0) return;
  const ids = [...new Set(rows.map((row) => row.instanceId))];
  await db.query(sql.unsafe`
    DELETE FROM instance_runtime_events e
     USING (SELECT instance_id, event_uid, row_number() OVER (PARTITION BY instance_id ORDER BY last_at DESC, event_uid DESC) AS n
              FROM instance_runtime_events WHERE instance_id = ANY(${sql.array(ids, 'uuid')})) ranked
     WHERE e.instance_id = ranked.instance_id AND e.event_uid = ranked.event_uid AND ranked.n > ${runtimeEventsKept}`);
}

/** An instance's kept runtime events, oldest first (ties: as first recorded). */
export async function instanceRuntimeEvents(
  db: CommonQueryMethods,
  instanceId: string,
): Promise<readonly RuntimeEvent[]> {
  const recorded = await db.any(sql.type(runtimeEvent)`
    SELECT event_uid AS uid, type, reason, message, source, count,
           ${isoTimestamp(sql.fragment`first_at`)} AS "firstAt", ${isoTimestamp(sql.fragment`last_at`)} AS "lastAt"
      FROM instance_runtime_events WHERE instance_id = ${instanceId}
     ORDER BY seen`);
  return [...recorded].sort(compareRuntimeEvents);
}
