import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { describePoolHealth } from '../../lib/model-pool-health';
import { writeAuditLog } from '../../db/audit-log';
import { listModels } from '../../db/models';
import { findInstanceRecord, listLiveInstanceRecords } from '../../db/model-instances';
import { freshRuntimeViews } from '../../db/runtime-views';
import type { AdminInstancesQuery } from '../../domain/admin-views';
import {
  filterInstances,
  joinInstances,
  mergeRuntimeViews,
  type AdminInstancesView,
  type InstanceRecord,
} from '../../domain/instances';
import type { PoolHealth } from '../../domain/model-pool-health';
import { poolWorkflowId, replacePoolInstanceSignal, stopPoolInstanceSignal } from '../../workflows/contracts';
import { ApiError } from '../http/errors';

const endedStatuses = ['TERMINATED', 'FAILED'];

export type AdminInstanceDeps = { db: DatabasePool; temporal: Client; taskQueue: string };

/** A view older than this is a worker's that has gone: it reports every 2 s (infra/runtime-reporter.ts). */
const runtimeViewMaxAgeSeconds = 30;

/**
 * The live instances: Podium's records joined with what the workers' runtimes last ran (only
 * workers hold the runtime and, on Kubernetes, its credentials; they write what it runs to
 * runtime_views, so a view of this page starts no workflow), filtered; and the health of each
 * pool that runs.
 */
export async function listAdminInstances(
  { db, temporal, taskQueue }: AdminInstanceDeps,
  query: AdminInstancesQuery,
): Promise<AdminInstancesView> {
  const [records, views, pools] = await Promise.all([
    listLiveInstanceRecords(db, query.model),
    freshRuntimeViews(db, runtimeViewMaxAgeSeconds),
    runningPools({ db, temporal, taskQueue }, query.model),
  ]);
  const runtime = mergeRuntimeViews(views);
  const live = runtime.instances.filter((instance) => !query.model || instance.modelId === query.model);
  return {
    instances: filterInstances(joinInstances(records, live), query),
    pools,
    at: new Date().toISOString(),
    runtimeObservedAt: runtime.observedAt,
  };
}

/** The health of each catalog model's pool that runs (a failing one among them). */
async function runningPools(
  { db, temporal, taskQueue }: AdminInstanceDeps,
  modelId: string | undefined,
): Promise<PoolHealth[]> {
  const models = (await listModels(db)).map((model) => model.id).filter((id) => !modelId || id === modelId);
  const pools = await Promise.all(models.map((id) => describePoolHealth(temporal, taskQueue, id)));
  return pools.filter((health) => health.state !== 'NOT_RUNNING');
}

/** The instance's record, or 404. */
export async function adminInstanceRecord(db: DatabasePool, id: string): Promise<InstanceRecord> {
  const record = await findInstanceRecord(db, id);
  if (!record) throw new ApiError(404, 'INSTANCE_NOT_FOUND', `No instance ${id}`);
  return record;
}

type PoolInstanceAction = {
  audit: 'INSTANCE_STOP' | 'INSTANCE_REPLACE';
  verb: string;
  signal: typeof stopPoolInstanceSignal;
  reason: string;
};

/**
 * An admin acts on an instance: audited first, then carried out by its model's pool (so the
 * pool's own state stays true).
 */
async function askPool(
  { db, temporal, taskQueue }: AdminInstanceDeps,
  admin: { userId: string },
  id: string,
  action: PoolInstanceAction,
): Promise<InstanceRecord> {
  const record = await adminInstanceRecord(db, id);
  if (endedStatuses.includes(record.status))
    throw new ApiError(
      409,
      'INSTANCE_NOT_RUNNING',
      `Instance ${id} has already ended (${record.status}): there is nothing to ${action.verb}`,
    );
  await writeAuditLog(db, {
    actorUserId: admin.userId,
    action: action.audit,
    targetType: 'model_instance',
    targetId: record.id,
    detail: { model: record.modelId, status: record.status, runtimeRef: record.runtimeRef },
  });
  try {
    await temporal.workflow
      .getHandle(poolWorkflowId(taskQueue, record.modelId))
      .signal(action.signal, { instanceId: record.id, reason: action.reason });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new ApiError(
        409,
        'POOL_NOT_RUNNING',
        `The pool of ${record.modelId} is not running; its next start stops this instance as an orphan`,
      );
    }
    throw error;
  }
  return record;
}

/** An admin stops an instance now; its requests find out when their calls fail. */
export function stopInstance(
  deps: AdminInstanceDeps,
  admin: { userId: string; username: string },
  id: string,
): Promise<InstanceRecord> {
  return askPool(deps, admin, id, {
    audit: 'INSTANCE_STOP',
    verb: 'stop',
    signal: stopPoolInstanceSignal,
    reason: `ADMIN_STOP by ${admin.username}`,
  });
}

/**
 * An admin replaces an instance (to move it off a node, say): a replacement starts, new
 * requests go elsewhere, and it stops once the requests it serves have finished. None fails.
 */
export function replaceInstance(
  deps: AdminInstanceDeps,
  admin: { userId: string; username: string },
  id: string,
): Promise<InstanceRecord> {
  return askPool(deps, admin, id, {
    audit: 'INSTANCE_REPLACE',
    verb: 'replace',
    signal: replacePoolInstanceSignal,
    reason: `ADMIN_REPLACE by ${admin.username}`,
  });
}
