import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { describePoolHealth } from '../../activities/pool-health';
import type { LiveInstance } from '../../activities/runtime/instance-runtime';
import { requestsServedByInstance } from '../../db/admin-requests';
import { writeAuditLog } from '../../db/audit-log';
import { listAutoscalerDecisions } from '../../db/autoscaler-decisions';
import { listModels } from '../../db/models';
import { findInstanceRecord, instanceTimeline, listLiveInstanceRecords, type InstanceRecord } from '../../db/model-instances';
import { adminInstancesQuery, type AdminInstancesQuery } from '../../domain/admin-views';
import type { PoolHealth } from '../../domain/pool-health';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';
import { ApiError } from '../errors';
import { fetchInstanceHistory } from '../instance-history';
import { workflowLink, type TemporalUi } from '../temporal-ui';
import { poolWorkflowId, requestWorkflowId, stopPoolInstanceSignal, workflowNames, type PodiumWorkflows } from '../../workflows/contracts';

const instanceIdParam = z.uuid();
const endedStatuses = ['TERMINATED', 'FAILED'];

/** A live instance: Podium's record joined with what the runtime says of it (null if it has no such pod/process). */
export type AdminInstance = {
  id: string | null;
  model: string | null;
  status: string | null;
  startedAt: string | null;
  assignedRequestId: string | null;
  runtime: Omit<LiveInstance, 'instanceId' | 'modelId'> | null;
};

/** Joins the records with the runtime's view; a pod without a record is listed too (an orphan). Pure. */
export function joinInstances(records: readonly InstanceRecord[], live: readonly LiveInstance[]): AdminInstance[] {
  const byId = new Map(live.filter((l) => l.instanceId).map((l) => [l.instanceId!, l]));
  const strip = ({ instanceId: _i, modelId: _m, ...rest }: LiveInstance) => rest;
  const joined: AdminInstance[] = records.map((record) => {
    const runtime = byId.get(record.id);
    byId.delete(record.id);
    return {
      id: record.id,
      model: record.modelId,
      status: record.status,
      startedAt: record.startedAt,
      assignedRequestId: record.assignedRequestId ?? runtime?.requestId ?? null,
      runtime: runtime ? strip(runtime) : null,
    };
  });
  const unrecorded = live.filter((l) => !l.instanceId || byId.has(l.instanceId));
  return [
    ...joined,
    ...unrecorded.map((l) => ({ id: l.instanceId, model: l.modelId, status: null, startedAt: l.startedAt, assignedRequestId: l.requestId, runtime: strip(l) })),
  ];
}

/** The query's filters on the joined list (start dates are UTC days, `to` included). Pure. */
export function filterInstances(instances: AdminInstance[], query: AdminInstancesQuery): AdminInstance[] {
  const from = query.from ? Date.parse(`${query.from}T00:00:00Z`) : -Infinity;
  const to = query.to ? Date.parse(`${query.to}T00:00:00Z`) + 86_400_000 : Infinity;
  const status = query.status?.toLowerCase();
  return instances.filter((instance) => {
    const started = instance.startedAt ? Date.parse(instance.startedAt) : NaN;
    if ((query.from || query.to) && !(started >= from && started < to)) return false;
    if (status && instance.status?.toLowerCase() !== status && instance.runtime?.phase.toLowerCase() !== status) return false;
    return true;
  });
}

/** Admins' view of model instances: live list (with raw runtime events), stop, and history. */
export function adminInstanceRoutes(deps: {
  pool: DatabasePool;
  temporal: Client;
  taskQueue: string;
  authenticate: Authenticate;
  temporalUi?: TemporalUi;
}) {
  const { pool, temporal, taskQueue } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/instances', requireSession(deps.authenticate), requirePermission('ADMIN'));

  /** The health of each catalog model's pool that runs (a failing one among them). */
  async function runningPools(modelId: string | undefined): Promise<PoolHealth[]> {
    const models = (await listModels(pool)).map((model) => model.id).filter((id) => !modelId || id === modelId);
    const pools = await Promise.all(models.map((id) => describePoolHealth(temporal, taskQueue, id)));
    return pools.filter((health) => health.state !== 'NOT_RUNNING');
  }

  router.get('/api/admin/instances', async (ctx) => {
    const query = adminInstancesQuery.parse(ctx.query);
    const [records, live, pools] = await Promise.all([
      listLiveInstanceRecords(pool, query.model),
      // Only workers hold the runtime (and, on Kubernetes, its credentials): ask one.
      temporal.workflow.execute<PodiumWorkflows['describeLiveInstances']>(workflowNames.describeLiveInstances, {
        taskQueue,
        workflowId: `live-instances-${randomUUID()}`,
        args: [{ modelId: query.model }],
        workflowExecutionTimeout: '30 seconds',
      }),
      runningPools(query.model),
    ]);
    ctx.body = { instances: filterInstances(joinInstances(records, live), query), pools, at: new Date().toISOString() };
  });

  /** Stops an instance through its model's pool, so the pool's own state stays true. Audited first. */
  router.post('/api/admin/instances/:id/stop', async (ctx) => {
    const id = instanceIdParam.safeParse(ctx.params.id);
    if (!id.success) throw new ApiError(400, 'INVALID_INSTANCE_ID', 'Instance ids are UUIDs');
    const record = await findInstanceRecord(pool, id.data);
    if (!record) throw new ApiError(404, 'INSTANCE_NOT_FOUND', `No instance ${id.data}`);
    if (endedStatuses.includes(record.status)) throw new ApiError(409, 'INSTANCE_NOT_RUNNING', `The instance has already ended ${record.status}`);
    const admin = signedInUser(ctx);
    await writeAuditLog(pool, {
      actorUserId: admin.userId,
      action: 'INSTANCE_STOP',
      targetType: 'model_instance',
      targetId: record.id,
      detail: { model: record.modelId, status: record.status, runtimeRef: record.runtimeRef },
    });
    try {
      await temporal.workflow
        .getHandle(poolWorkflowId(taskQueue, record.modelId))
        .signal(stopPoolInstanceSignal, { instanceId: record.id, reason: `ADMIN_STOP by ${admin.username}` });
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) {
        throw new ApiError(409, 'POOL_NOT_RUNNING', `The pool of ${record.modelId} is not running; its next start stops this instance as an orphan`);
      }
      throw error;
    }
    ctx.status = 202;
    ctx.body = { id: record.id, stopping: true };
  });

  /** The node autoscaler's latest decisions: plan, reasons and what was done. */
  router.get('/api/admin/instances/autoscaler/decisions', async (ctx) => {
    const { limit } = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) }).parse(ctx.query);
    ctx.body = { decisions: await listAutoscalerDecisions(pool, limit) };
  });

  router.get('/api/admin/instances/:id', async (ctx) => {
    const id = instanceIdParam.safeParse(ctx.params.id);
    if (!id.success) throw new ApiError(400, 'INVALID_INSTANCE_ID', 'Instance ids are UUIDs');
    const record = await findInstanceRecord(pool, id.data);
    if (!record) throw new ApiError(404, 'INSTANCE_NOT_FOUND', `No instance ${id.data}`);
    const poolId = poolWorkflowId(taskQueue, record.modelId);
    const [timeline, requests, workflowEvents] = await Promise.all([
      instanceTimeline(pool, record.id),
      requestsServedByInstance(pool, record.id),
      fetchInstanceHistory(temporal, poolId, record.id),
    ]);
    ctx.body = {
      instance: record,
      timeline,
      requests: requests.map((r) => ({ ...r, links: { temporal: workflowLink(deps.temporalUi, requestWorkflowId(r.id)) } })),
      workflow: { id: poolId, events: workflowEvents, link: workflowLink(deps.temporalUi, poolId) },
    };
  });

  return router;
}
