import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import type { Principal } from '../domain/accounts';
import { lineFacts, type LineFacts } from '../domain/queue-estimate';
import type { PoolLoad } from '../domain/model-pool';
import { priorityRank, type RequestPriority } from '../domain/request-priority';
import { principalOwnerKey, principalTagStep } from './sql-fragments';

/** The latest answers and instance starts an estimate averages over. */
const serviceSamples = 50;
const startupSamples = 5;

/** The mean time of the model's latest successful answers, in seconds; null before any. */
const serviceSecondsOf = (modelId: string) => sql.fragment`
  (SELECT avg(date_part('epoch', s.processed_timestamp - s.pod_ready_timestamp))
     FROM (SELECT processed_timestamp, pod_ready_timestamp FROM request_stats
            WHERE model_id = ${modelId} AND result_success AND pod_ready_timestamp IS NOT NULL
            ORDER BY request_timestamp DESC LIMIT ${serviceSamples}) s)`;

/** The model's line as domain/queue-estimate.ts reads it, in one statement. */
const factsOf = (modelId: string) => sql.fragment`
  SELECT ${serviceSecondsOf(modelId)} AS "serviceSeconds",
         (SELECT count(*) FROM model_instances i WHERE i.model_id = ${modelId} AND i.slot_state = 'READY')::int
           * m.max_concurrency AS "readySlots",
         (SELECT count(*) FROM instance_leases l JOIN model_instances i ON i.id = l.instance_id
           WHERE l.model_id = ${modelId} AND l.released_at IS NULL AND i.slot_state = 'READY')::int AS "busySlots",
         (SELECT count(*) FROM model_instances i WHERE i.model_id = ${modelId} AND i.slot_state = 'STARTING')::int
           * m.max_concurrency AS "startingSlots",
         m.max_concurrency AS "maxConcurrency",
         (SELECT avg(date_part('epoch', started.ready_at - started.created_at))
            FROM (SELECT i.created_at,
                         (SELECT min(g.occurred_at) FROM model_instance_log g
                           WHERE g.instance_id = i.id AND g.event = 'READY') AS ready_at
                    FROM model_instances i WHERE i.model_id = ${modelId}
                   ORDER BY i.created_at DESC LIMIT ${startupSamples * 4}) started
           WHERE started.ready_at IS NOT NULL) AS "startupSeconds",
         m.startup_timeout_seconds AS "startupTimeoutSeconds"
    FROM models m WHERE m.id = ${modelId}`;

/** The model's line now; null when there is no such model. */
export async function readLineFacts(db: CommonQueryMethods, modelId: string): Promise<LineFacts | null> {
  return db.maybeOne(sql.type(lineFacts)`${factsOf(modelId)}`);
}

const joiningRow = lineFacts.extend({ position: z.number() });

/**
 * Where a request the principal submits now at `priority` would stand in the model's line (1:
 * next), with the line's facts: behind every waiter of a higher priority, and every one of its
 * own priority whose fair-share tag is not after the tag it would get (db/instance-slots.ts).
 */
export async function readJoiningPosition(
  db: CommonQueryMethods,
  modelId: string,
  principal: Principal,
  priority: RequestPriority,
): Promise<(LineFacts & { position: number }) | null> {
  return db.maybeOne(sql.type(joiningRow)`
    WITH facts AS (${factsOf(modelId)}),
         tag AS (SELECT GREATEST(
                   COALESCE((SELECT c.served FROM queue_clocks c WHERE c.model_id = ${modelId}), 0),
                   COALESCE((SELECT t.last FROM queue_owner_tags t
                              WHERE t.model_id = ${modelId} AND t.owner_key = ${principalOwnerKey(principal)}), 0))
                 + ${principalTagStep(principal)} AS tag)
    SELECT facts.*,
           1 + (SELECT count(*)::int FROM slot_waiters o, tag
                 WHERE o.model_id = ${modelId}
                   AND (o.deadline_at IS NULL OR o.deadline_at > clock_timestamp())
                   AND (o.priority, o.fair_tag) <= (${priorityRank(priority)}, tag.tag)) AS position
      FROM facts`);
}

/**
 * The windows over which a pool measures its model's arrival rate: the larger of the two rates
 * counts, so that a step up shows within seconds and a lull does not forget the load at once.
 */
const arrivalWindowsSeconds = [3, 15] as const;

const poolLoad = z.object({ arrivalsPerSecond: z.number(), serviceSeconds: z.number().nullable() });

/** The load the model is under (domain/model-pool.ts, instancesForLoad), in one statement. */
export async function readPoolLoad(db: CommonQueryMethods, modelId: string): Promise<PoolLoad> {
  const [short, long] = arrivalWindowsSeconds;
  return db.one(sql.type(poolLoad)`
    SELECT GREATEST(count(*) FILTER (WHERE created_at > clock_timestamp() - make_interval(secs => ${short}))::float8 / ${short},
                    count(*)::float8 / ${long}) AS "arrivalsPerSecond",
           ${serviceSecondsOf(modelId)} AS "serviceSeconds"
      FROM work_requests
     WHERE model_id = ${modelId} AND created_at > clock_timestamp() - make_interval(secs => ${long})`);
}
