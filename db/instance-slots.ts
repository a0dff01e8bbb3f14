import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import {
  assignFreeSlots,
  needsAnotherInstance,
  poolSettings,
  slotState,
  type PoolInstance,
  type PoolLoad,
  type PoolRound,
  type PoolSettings,
  type Slot,
} from '../domain/model-pool';
import { ownerKeyOf, tagStepOf } from './sql-fragments';
import { readPoolLoad } from './queue-estimate';

/**
 * The request path's slots (migration 009). A request leases a slot of a ready instance. When
 * there is none, it waits in line: by priority, then by its fair-share tag, then in the order
 * requests were submitted (`queueOrder`, migrations 033 and 034). When it is done, it hands its
 * slot to the first waiter.
 *
 * Every change here runs in a transaction that holds the model's advisory lock exclusively. So
 * the line's order is exact, and no hand-over is lost or made twice.
 *
 * While nobody waits, warm requests take the lock shared instead (lease_free_slot and
 * release_slot, migration 023), so they run side by side. The exclusive lock waits for them, so
 * it always reads a whole state.
 */

type Db = CommonQueryMethods & { transaction: <T>(handler: (t: CommonQueryMethods) => Promise<T>) => Promise<T> };

/**
 * The line's order: priority (high first), then the fair-share tag (owners take turns), then
 * submission, then id (a tie).
 */
const queueOrder = sql.fragment`priority, fair_tag, requested_at, request_id`;

/**
 * The tag a request joining the model's line now gets: one step (its owner's weight's,
 * tagStepOf) past the served clock and its owner's last tag.
 */
const nextTag = (modelId: string) => sql.fragment`GREATEST(
  COALESCE((SELECT c.served FROM queue_clocks c WHERE c.model_id = ${modelId}), 0),
  COALESCE((SELECT t.last FROM queue_owner_tags t WHERE t.model_id = ${modelId} AND t.owner_key = ${ownerKeyOf}), 0)) + ${tagStepOf}`;

/** A waiter whose deadline has not passed: the only kind a slot goes to (one past it is ending EXPIRED). */
const inTime = sql.fragment`(deadline_at IS NULL OR deadline_at > clock_timestamp())`;

/** A slot just given to a waiting request, whose workflow must be told. */
export type Handover = Slot & { requestId: string; workflowId: string };

async function underModelLock<T>(db: Db, modelId: string, work: (t: CommonQueryMethods) => Promise<T>): Promise<T> {
  return db.transaction(async (t) => {
    // Keyed by schema too: test runs (and deployments) in other schemas never wait on it.
    await t.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext(current_schema() || '/slots/' || ${modelId}))`);
    return work(t);
  });
}

const instanceRow = z.object({
  instanceId: z.string(),
  state: slotState,
  leases: z.number(),
  idleSince: z.number().nullable(),
  endpoint: z.string().nullable(),
});
type InstanceRow = z.infer<typeof instanceRow>;

/** The model's slot-holding instances with their unreleased leases, as one json array. */
const instancesJson = (modelId: string) => sql.fragment`
  COALESCE((SELECT json_agg(json_build_object(
                 'instanceId', i.id, 'state', i.slot_state, 'endpoint', i.endpoint,
                 'idleSince', extract(epoch FROM i.idle_since) * 1000,
                 'leases', (SELECT count(*) FROM instance_leases l WHERE l.instance_id = i.id AND l.released_at IS NULL))
               ORDER BY i.created_at, i.id)
              FROM model_instances i WHERE i.model_id = ${modelId} AND i.slot_state IS NOT NULL), '[]')`;

const waiterRow = z.object({ requestId: z.string(), workflowId: z.string() });

const heldRow = z.object({ instanceId: z.string(), endpoint: z.string() });

const poolView = z.object({
  settings: poolSettings,
  instances: z.array(instanceRow),
  waiting: z.number(),
  waiters: z.array(waiterRow),
  held: heldRow.nullable(),
  earlier: z.boolean(),
  /** The request's deadline has passed: it takes no slot and no place in line. */
  expired: z.boolean(),
});
type PoolView = z.infer<typeof poolView>;

/**
 * Everything a slot decision reads, in one round trip (each costs ~1 ms on the request path):
 * the model's settings, its instances, how many wait and the oldest waiters that its free slots
 * could serve; for a `request`, the slot it holds and whether anyone submitted earlier waits.
 */
async function readPool(
  t: CommonQueryMethods,
  modelId: string,
  request?: { requestId: string; requestedAt: number },
): Promise<PoolView> {
  const held = request
    ? sql.fragment`(SELECT json_build_object('instanceId', l.instance_id, 'endpoint', i.endpoint)
                      FROM instance_leases l JOIN model_instances i ON i.id = l.instance_id
                     WHERE l.request_id = ${request.requestId} AND l.released_at IS NULL)`
    : sql.fragment`NULL`;
  // Someone ahead of the request in the line: of it as it waits, or as it would join now.
  const earlier = request
    ? sql.fragment`EXISTS (SELECT 1 FROM slot_waiters o,
                          (SELECT COALESCE(w.priority, r.priority, 1) AS priority, COALESCE(w.fair_tag, ${nextTag(modelId)}) AS tag
                             FROM (SELECT ${request.requestId}::uuid AS id) asked
                             LEFT JOIN work_requests r ON r.id = asked.id
                             LEFT JOIN slot_waiters w ON w.request_id = asked.id) me
                    WHERE o.model_id = ${modelId} AND o.request_id <> ${request.requestId} AND ${inTime}
                      AND (o.priority, o.fair_tag, o.requested_at, o.request_id)
                        < (me.priority, me.tag, to_timestamp(${request.requestedAt / 1000}), ${request.requestId}::uuid))`
    : sql.fragment`false`;
  const expired = request
    ? sql.fragment`EXISTS (SELECT 1 FROM work_requests r WHERE r.id = ${request.requestId} AND r.deadline_at <= clock_timestamp())`
    : sql.fragment`false`;
  return t.one(sql.type(poolView)`
    SELECT json_build_object(-- A deleted model drains: its requests finish, nothing is kept warm after them.
                             'minInstances', CASE WHEN m.deleted_at IS NULL THEN m.min_instances ELSE 0 END,
                             'maxInstances', m.max_instances,
                             'keepWarmSeconds', CASE WHEN m.deleted_at IS NULL THEN m.keep_warm_seconds ELSE 0 END,
                             'maxConcurrency', m.max_concurrency) AS settings,
           ${instancesJson(modelId)} AS instances,
           (SELECT count(*)::int FROM slot_waiters WHERE model_id = ${modelId} AND ${inTime}) AS waiting,
           COALESCE((SELECT json_agg(json_build_object('requestId', w.request_id, 'workflowId', w.workflow_id))
                       FROM (SELECT request_id, workflow_id FROM slot_waiters WHERE model_id = ${modelId} AND ${inTime}
                              ORDER BY ${queueOrder}
                              LIMIT (SELECT max_concurrency FROM models WHERE id = ${modelId})
                                  * (SELECT count(*) FROM model_instances WHERE model_id = ${modelId} AND slot_state = 'READY')) w),
                    '[]') AS waiters,
           ${held} AS held,
           ${earlier} AS earlier,
           ${expired} AS expired
      FROM models m WHERE m.id = ${modelId}`);
}

const instancesRow = z.object({ instances: z.array(instanceRow) });

async function readInstances(t: CommonQueryMethods, modelId: string): Promise<InstanceRow[]> {
  return (await t.one(sql.type(instancesRow)`SELECT ${instancesJson(modelId)} AS instances`)).instances;
}

/**
 * The request holds a slot of the instance from now (the lowest free slot number, which
 * lease_free_slot claims too); if it was waiting, it leaves the queue.
 */
async function lease(
  t: CommonQueryMethods,
  modelId: string,
  request: { requestId: string; workflowId: string; requestedAt?: number },
  instanceId: string,
) {
  await t.query(sql.unsafe`
    WITH waited AS (DELETE FROM slot_waiters WHERE request_id = ${request.requestId}
                    RETURNING requested_at, queued_at, priority, fair_tag),
         -- A request served from the line moves the clock to its tag; owners' tags it has passed go.
         clocked AS (
           INSERT INTO queue_clocks AS c (model_id, served) SELECT ${modelId}, fair_tag FROM waited
           ON CONFLICT (model_id) DO UPDATE SET served = GREATEST(c.served, EXCLUDED.served)
           RETURNING served),
         pruned AS (
           DELETE FROM queue_owner_tags t WHERE t.model_id = ${modelId} AND t.last <= (SELECT served FROM clocked)),
         leased AS (
           INSERT INTO instance_leases (request_id, instance_id, model_id, workflow_id, requested_at, queued_at, priority, fair_tag, slot)
           SELECT ${request.requestId}, ${instanceId}, ${modelId}, ${request.workflowId},
                  COALESCE((SELECT requested_at FROM waited), to_timestamp(${(request.requestedAt ?? 0) / 1000})),
                  (SELECT queued_at FROM waited),
                  (SELECT priority FROM waited), (SELECT fair_tag FROM waited),
                  (SELECT min(s) FROM generate_series(1, 1 + (SELECT count(*) FROM instance_leases h
                                                                WHERE h.instance_id = ${instanceId} AND h.released_at IS NULL)::int) s
                    WHERE NOT EXISTS (SELECT 1 FROM instance_leases h
                                       WHERE h.instance_id = ${instanceId} AND h.slot = s AND h.released_at IS NULL)))
    UPDATE model_instances SET idle_since = NULL WHERE id = ${instanceId} AND idle_since IS NOT NULL`);
}

/** Gives every free slot of a ready instance to the oldest waiters (see assignFreeSlots). */
async function handOutFreeSlots(t: CommonQueryMethods, view: PoolView, modelId: string): Promise<Handover[]> {
  const handovers: Handover[] = [];
  for (const { instanceId, waiter } of assignFreeSlots(view.instances, view.waiters, view.settings.maxConcurrency)) {
    await lease(t, modelId, waiter, instanceId);
    handovers.push({
      ...waiter,
      instanceId,
      endpoint: view.instances.find((i) => i.instanceId === instanceId)!.endpoint!,
    });
  }
  return handovers;
}

/** Instances left with no lease start counting keep-warm from now. */
async function markIdle(t: CommonQueryMethods, instanceIds: readonly string[]) {
  await t.query(sql.unsafe`
    UPDATE model_instances i SET idle_since = clock_timestamp()
     WHERE i.id = ANY(${sql.array(instanceIds, 'uuid')}) AND i.slot_state = 'READY' AND i.idle_since IS NULL
       AND NOT EXISTS (SELECT 1 FROM instance_leases l WHERE l.instance_id = i.id AND l.released_at IS NULL)`);
}

const askedRow = z.object({ asked: z.boolean() });

/**
 * True when nobody has asked the pool for an instance since its last round (or the ask is so
 * old that its signal was surely lost): this request is the one to ask.
 */
async function askPoolOnce(t: CommonQueryMethods, modelId: string): Promise<boolean> {
  const asked = await t.maybeOneFirst(sql.type(askedRow)`
    INSERT INTO pool_wake_requests AS w (model_id) VALUES (${modelId})
    ON CONFLICT (model_id) DO UPDATE SET requested_at = clock_timestamp()
     WHERE w.requested_at < clock_timestamp() - make_interval(secs => ${staleWakeSeconds})
    RETURNING true AS asked`);
  return asked === true;
}
/** An unanswered ask older than this is asked again. */
const staleWakeSeconds = 5;

export type SlotAnswer = { slot: Slot; demand: false } | { slot: null; demand: boolean };

/**
 * A slot for the request: the one it already holds, else a free one if nobody submitted earlier
 * is waiting, else a place in the queue (kept if it has one). `demand` says the pool should
 * start another instance (see needsAnotherInstance). Safe to repeat: it is also how a waiting
 * request checks whether a slot was handed to it.
 */
export async function acquireSlot(
  db: Db,
  request: { modelId: string; requestId: string; workflowId: string; requestedAt: number },
): Promise<SlotAnswer> {
  const { modelId, requestId } = request;
  return underModelLock(db, modelId, async (t) => {
    const view = await readPool(t, modelId, request);
    if (view.held) return { slot: view.held, demand: false };
    // Its workflow's wait ends at the deadline at once, and the request with it (EXPIRED).
    if (view.expired) return { slot: null, demand: false };
    const [free] = view.earlier ? [] : assignFreeSlots(view.instances, [request], view.settings.maxConcurrency);
    if (free) {
      await lease(t, modelId, request, free.instanceId);
      return {
        slot: {
          instanceId: free.instanceId,
          endpoint: view.instances.find((i) => i.instanceId === free.instanceId)!.endpoint!,
        },
        demand: false,
      };
    }
    // Joins the line with its tag, and the tag becomes its owner's last.
    const queued = await t.query(sql.unsafe`
      WITH queued AS (
        INSERT INTO slot_waiters (request_id, model_id, workflow_id, requested_at, priority, owner_key, fair_tag, deadline_at)
        SELECT ${requestId}, ${modelId}, ${request.workflowId}, to_timestamp(${request.requestedAt / 1000}),
               COALESCE(r.priority, 1), COALESCE(${ownerKeyOf}, ''), ${nextTag(modelId)}, r.deadline_at
          FROM (SELECT ${requestId}::uuid AS id) asked LEFT JOIN work_requests r ON r.id = asked.id
        ON CONFLICT (request_id) DO NOTHING
        RETURNING owner_key, fair_tag)
      INSERT INTO queue_owner_tags AS t (model_id, owner_key, last) SELECT ${modelId}, owner_key, fair_tag FROM queued
      ON CONFLICT (model_id, owner_key) DO UPDATE SET last = GREATEST(t.last, EXCLUDED.last)`);
    if (queued.rowCount > 0) await keepOwnerInSubmissionOrder(t, modelId, requestId);
    const waiting = view.waiting + queued.rowCount;
    const demand = needsAnotherInstance(view.instances, waiting, view.settings) && (await askPoolOnce(t, modelId));
    return { slot: null, demand };
  });
}

/**
 * An owner's waiting requests hold their tags in the order they were submitted. A request joins
 * the line when its workflow gets there, which for two submitted at once may be in either
 * order: one submitted earlier than some of its owner's waiting requests takes the lowest of
 * their tags, and they move up one each (the same tags, dealt out again by submission).
 */
async function keepOwnerInSubmissionOrder(t: CommonQueryMethods, modelId: string, requestId: string) {
  await t.query(sql.unsafe`
    WITH me AS (SELECT owner_key, requested_at FROM slot_waiters WHERE request_id = ${requestId}),
         mine AS (
           SELECT w.request_id, w.fair_tag, w.requested_at FROM slot_waiters w, me
            WHERE w.model_id = ${modelId} AND w.owner_key = me.owner_key
              AND EXISTS (SELECT 1 FROM slot_waiters later
                           WHERE later.model_id = ${modelId} AND later.owner_key = me.owner_key
                             AND (later.requested_at, later.request_id) > (me.requested_at, ${requestId}::uuid))),
         by_submission AS (SELECT request_id, row_number() OVER (ORDER BY requested_at, request_id) AS n FROM mine),
         by_tag AS (SELECT fair_tag, row_number() OVER (ORDER BY fair_tag, requested_at, request_id) AS n FROM mine)
    UPDATE slot_waiters w SET fair_tag = by_tag.fair_tag
      FROM by_submission JOIN by_tag USING (n)
     WHERE w.request_id = by_submission.request_id AND w.fair_tag <> by_tag.fair_tag`);
}

const instanceIdRow = z.object({ instanceId: z.string() });

/**
 * The request lets go of whatever it holds: its place in the queue, or its slot, which goes
 * straight to the oldest waiter. An unhealthy instance takes no more requests (the pool stops
 * it). Safe to repeat.
 */
export async function releaseSlot<Settled = undefined>(
  db: Db,
  { modelId, requestId, healthy }: { modelId: string; requestId: string; healthy: boolean },
  /** Committed with the release: how the request ended (one transaction, no window between); its answer is `settled`. */
  settle?: (t: CommonQueryMethods) => Promise<Settled>,
): Promise<{
  instanceId: string | null;
  handovers: Handover[];
  unhealthy: boolean;
  drained: boolean;
  settled: Settled | undefined;
}> {
  return underModelLock(db, modelId, async (t) => {
    const settled = await settle?.(t);
    const instanceId = await t.maybeOneFirst(sql.type(instanceIdRow)`
      WITH unqueued AS (DELETE FROM slot_waiters WHERE request_id = ${requestId})
      UPDATE instance_leases SET released_at = clock_timestamp()
       WHERE request_id = ${requestId} AND released_at IS NULL RETURNING instance_id AS "instanceId"`);
    if (!instanceId) return { instanceId: null, handovers: [], unhealthy: false, drained: false, settled };
    let unhealthy = false;
    if (!healthy) unhealthy = (await markUnhealthy(t, [instanceId])) > 0;
    const view = await readPool(t, modelId);
    const handovers = await handOutFreeSlots(t, view, modelId);
    const released = view.instances.find((i) => i.instanceId === instanceId);
    const stillLeased = (released?.leases ?? 0) + handovers.filter((h) => h.instanceId === instanceId).length;
    if (stillLeased === 0) await markIdle(t, [instanceId]);
    // The last request of an instance being replaced has finished: its pool can stop it now.
    const drained = stillLeased === 0 && released?.state === 'DRAINING';
    return { instanceId, handovers, unhealthy, drained, settled };
  });
}

/**
 * A STARTING instance too: its process can die between its last readiness check and the opening
 * of its slots (its worker killed), and openInstanceSlots opens only STARTING ones.
 */
async function markUnhealthy(t: CommonQueryMethods, instanceIds: readonly string[]): Promise<number> {
  const marked = await t.query(sql.unsafe`
    UPDATE model_instances SET slot_state = 'UNHEALTHY'
     WHERE id = ANY(${sql.array(instanceIds, 'uuid')}) AND slot_state IN ('STARTING', 'READY')`);
  return marked.rowCount;
}

/** Instances found unreachable or dead take no more requests; those still starting never open. */
export async function markInstancesUnhealthy(db: Db, modelId: string, instanceIds: readonly string[]): Promise<void> {
  if (instanceIds.length) await underModelLock(db, modelId, (t) => markUnhealthy(t, instanceIds));
}

/** The instance answers: its slots open, and go to the oldest waiters at once. */
export async function openInstanceSlots(
  db: Db,
  { modelId, instanceId, endpoint }: Slot & { modelId: string },
): Promise<Handover[]> {
  return underModelLock(db, modelId, async (t) => {
    const opened = await t.query(sql.unsafe`
      UPDATE model_instances SET slot_state = 'READY', endpoint = ${endpoint}, idle_since = clock_timestamp()
       WHERE id = ${instanceId} AND slot_state = 'STARTING'`);
    if (opened.rowCount === 0) return [];
    const handovers = await handOutFreeSlots(t, await readPool(t, modelId), modelId);
    await markIdle(t, [instanceId]);
    return handovers;
  });
}

const requestIdWorkflowIdRow = z.object({ requestId: z.string(), workflowId: z.string() });

/**
 * The instance never became ready: it leaves the pool, and the request first in line
 * is taken out of the queue to be told (when other starts cover it, it simply stays).
 */
export async function abandonInstanceStart(db: Db, { modelId, instanceId }: { modelId: string; instanceId: string }) {
  return underModelLock(db, modelId, async (t) => {
    await t.query(sql.unsafe`UPDATE model_instances SET slot_state = 'STOPPING' WHERE id = ${instanceId}`);
    return t.maybeOne(sql.type(requestIdWorkflowIdRow)`
      DELETE FROM slot_waiters WHERE request_id = (
        SELECT request_id FROM slot_waiters WHERE model_id = ${modelId} AND ${inTime} ORDER BY ${queueOrder} LIMIT 1)
      RETURNING request_id AS "requestId", workflow_id AS "workflowId"`);
  });
}

export type PoolSnapshot = { instances: PoolInstance[]; waiting: number; settings: PoolSettings; load: PoolLoad };

const idRow = z.object({ id: z.string() });

/**
 * One round of the pool, atomically: free slots go to waiters, `decide` sees the snapshot, the
 * instances it starts are recorded STARTING (so requests stop asking for them) and those it
 * stops STOPPING (a keep-warm stop only while the instance is still idle, which the lock
 * guarantees).
 */
export async function runPoolRound(
  db: Db,
  modelId: string,
  decide: (snapshot: PoolSnapshot) => PoolRound & { drain?: string[] },
  reserve: (t: CommonQueryMethods, count: number) => Promise<string[]>,
): Promise<{ round: PoolRound; started: string[]; handovers: Handover[] }> {
  return underModelLock(db, modelId, async (t) => {
    await t.query(sql.unsafe`DELETE FROM pool_wake_requests WHERE model_id = ${modelId}`);
    // release_slot's look for the last lease can miss side by side; here nothing runs beside.
    await markIdle(
      t,
      await t.anyFirst(sql.type(idRow)`
      SELECT id FROM model_instances WHERE model_id = ${modelId} AND slot_state = 'READY' AND idle_since IS NULL`),
    );
    const before = await readPool(t, modelId);
    const handovers = await handOutFreeSlots(t, before, modelId);
    // The round sees the slots and the queue as the hand-overs left them.
    const view = handovers.length ? await readPool(t, modelId) : before;
    const instances = view.instances.map(({ endpoint: _, ...i }) => i);
    const load = view.waiting > 0 ? await readPoolLoad(t, modelId) : { arrivalsPerSecond: 0, serviceSeconds: null };
    const round = decide({ instances, waiting: view.waiting, settings: view.settings, load });
    const started = await reserve(t, round.start);
    if (round.drain?.length) {
      await t.query(
        sql.unsafe`UPDATE model_instances SET slot_state = 'DRAINING' WHERE id = ANY(${sql.array(round.drain, 'uuid')}) AND slot_state = 'READY'`,
      );
    }
    const stopping = round.stop.map((s) => s.instanceId);
    if (stopping.length) {
      await t.query(
        sql.unsafe`UPDATE model_instances SET slot_state = 'STOPPING' WHERE id = ANY(${sql.array(stopping, 'uuid')})`,
      );
    }
    return { round, started, handovers };
  });
}

/** Every instance of the model leaves the pool's slots (a pool starting afresh owns none). */
export async function closeAllSlots(db: Db, modelId: string): Promise<void> {
  await underModelLock(db, modelId, (t) =>
    t.query(
      sql.unsafe`UPDATE model_instances SET slot_state = 'STOPPING' WHERE model_id = ${modelId} AND slot_state IS NOT NULL`,
    ),
  );
}

const requestIdInstanceIdRow = z.object({ requestId: z.string(), instanceId: z.string() });

const requestIdRow = z.object({ requestId: z.string() });

/** The model's slots as they are now, for admin views and tests. */
export async function describeSlots(db: CommonQueryMethods, modelId: string) {
  const instances = await readInstances(db, modelId);
  const leases = await db.any(sql.type(requestIdInstanceIdRow)`
    SELECT request_id AS "requestId", instance_id AS "instanceId" FROM instance_leases
     WHERE model_id = ${modelId} AND released_at IS NULL ORDER BY leased_at`);
  const waiting = await db.anyFirst(sql.type(requestIdRow)`
    SELECT request_id AS "requestId" FROM slot_waiters WHERE model_id = ${modelId} ORDER BY ${queueOrder}`);
  return { instances, leases, waiting };
}
export type SlotsView = Awaited<ReturnType<typeof describeSlots>>;

const positionRow = z.object({ position: z.number() });

/**
 * A waiting request's place in its model's line (1: next), in the line's order; null when it
 * is not in the line (it holds a slot, has ended, or has not joined yet).
 */
export async function queuePosition(db: CommonQueryMethods, requestId: string): Promise<number | null> {
  return db.maybeOneFirst(sql.type(positionRow)`
    SELECT 1 + (SELECT count(*)::int FROM slot_waiters o
                 WHERE o.model_id = me.model_id
                   AND (o.priority, o.fair_tag, o.requested_at, o.request_id)
                     < (me.priority, me.fair_tag, me.requested_at, me.request_id)) AS position
      FROM slot_waiters me WHERE me.request_id = ${requestId}`);
}
