import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { isoTimestamp } from './sql-fragments';
import { instanceLogEntry, instanceRecord, type InstanceEvent, type InstanceRecord } from '../domain/instances';

/** A new instance row and its CREATED event; idempotent for a retried activity. */
export async function insertModelInstance(
  db: CommonQueryMethods,
  instance: {
    id: string;
    modelId: string;
    runtime: 'local' | 'kubernetes';
    annotations: Record<string, string>;
    slotState?: 'STARTING';
  },
) {
  const inserted = await db.query(sql.unsafe`
    INSERT INTO model_instances (id, model_id, runtime, annotations, status, slot_state)
    VALUES (${instance.id}, ${instance.modelId}, ${instance.runtime}, ${sql.jsonb(instance.annotations)}, 'CREATED', ${instance.slotState ?? null})
    ON CONFLICT (id) DO NOTHING`);
  if (inserted.rowCount === 0) return;
  await db.query(sql.unsafe`
    INSERT INTO model_instance_log (instance_id, event, detail)
    VALUES (${instance.id}, 'CREATED', ${sql.jsonb({ annotations: instance.annotations })})`);
}

const idRuntimeRefRow = z.object({ id: z.uuid(), runtimeRef: z.string().nullable() });

/** Instances of a model that the records call alive (not yet TERMINATED or FAILED). */
export async function listLiveModelInstances(db: CommonQueryMethods, modelId: string) {
  return db.any(sql.type(idRuntimeRefRow)`
    SELECT id, runtime_ref AS "runtimeRef" FROM model_instances
     WHERE model_id = ${modelId} AND status NOT IN ('TERMINATED', 'FAILED')`);
}

/** Where the runtime put the instance (pid or pod name) and how to reach it. */
export async function setModelInstanceLocation(
  db: CommonQueryMethods,
  location: { id: string; runtimeRef: string; endpoint: string | null },
) {
  await db.query(sql.unsafe`
    UPDATE model_instances
       SET runtime_ref = ${location.runtimeRef}, endpoint = ${location.endpoint}, updated_at = clock_timestamp()
     WHERE id = ${location.id}`);
}

/**
 * Appends a transition to the instance log and makes it the instance's current status, unless the
 * instance has ended: a request that held a slot of an instance stopped under it (its worker
 * killed) may log ASSIGNED or RELEASED after TERMINATED, and must not bring it back to life.
 */
export async function recordInstanceEvent(
  db: CommonQueryMethods,
  event: { instanceId: string; event: InstanceEvent; requestId?: string; detail?: Record<string, unknown> },
) {
  await db.query(sql.unsafe`
    WITH logged AS (
      INSERT INTO model_instance_log (instance_id, event, request_id, detail)
      VALUES (${event.instanceId}, ${event.event}, ${event.requestId ?? null}, ${sql.jsonb((event.detail ?? {}) as never)})
      RETURNING instance_id, occurred_at
    )
    UPDATE model_instances i
       SET status = ${event.event}, updated_at = logged.occurred_at,
           -- An ended instance has left its pool's slots (db/instance-slots.ts).
           slot_state = CASE WHEN ${event.event} IN ('TERMINATED', 'FAILED') THEN NULL ELSE i.slot_state END,
           assigned_request_id = CASE ${event.event}
                                   WHEN 'ASSIGNED' THEN ${event.requestId ?? null}::uuid
                                   WHEN 'RELEASED' THEN NULL
                                   ELSE i.assigned_request_id END
      FROM logged
     WHERE i.id = logged.instance_id AND i.status NOT IN ('TERMINATED', 'FAILED')`);
}

const runtimeRefRow = z.object({ runtimeRef: z.string().nullable() });

export async function findModelInstanceRef(db: CommonQueryMethods, id: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(runtimeRefRow)`
    SELECT runtime_ref AS "runtimeRef" FROM model_instances WHERE id = ${id}`);
}

const isoText = (column: string) => isoTimestamp(sql.fragment`${sql.identifier([column])}`);

const instanceRecordColumns = sql.fragment`
  id, model_id AS "modelId", runtime, runtime_ref AS "runtimeRef", status,
  ${isoText('created_at')} AS "startedAt", ${isoText('updated_at')} AS "updatedAt", assigned_request_id AS "assignedRequestId"`;

/** Instances the records call alive (not TERMINATED or FAILED), newest first, optionally of one model. */
export async function listLiveInstanceRecords(
  db: CommonQueryMethods,
  modelId?: string,
): Promise<readonly InstanceRecord[]> {
  return db.any(sql.type(instanceRecord)`
    SELECT ${instanceRecordColumns} FROM model_instances
     WHERE status NOT IN ('TERMINATED', 'FAILED') ${modelId ? sql.fragment`AND model_id = ${modelId}` : sql.fragment``}
     ORDER BY created_at DESC`);
}

export async function findInstanceRecord(db: CommonQueryMethods, id: string): Promise<InstanceRecord | null> {
  return db.maybeOne(sql.type(instanceRecord)`SELECT ${instanceRecordColumns} FROM model_instances WHERE id = ${id}`);
}

/** The instance's log, oldest first: created → scheduled → ready → assigned → released → terminated. */
export async function instanceTimeline(db: CommonQueryMethods, id: string) {
  return db.any(sql.type(instanceLogEntry)`
    SELECT event, request_id AS "requestId", detail, ${isoText('occurred_at')} AS "occurredAt"
      FROM model_instance_log WHERE instance_id = ${id} ORDER BY occurred_at, id`);
}
