import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { requestsServedByInstance } from '../../db/admin-requests';
import { listAutoscalerDecisions } from '../../db/autoscaler-decisions';
import { instanceTimeline } from '../../db/model-instances';
import { instanceRuntimeEvents } from '../../db/runtime-views';
import { adminInstancesQuery } from '../../domain/admin-views';
import type { InstanceHistoryView } from '../../domain/instances';
import { poolWorkflowId, requestWorkflowId } from '../../workflows/contracts';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { fetchInstanceHistory } from '../instance-history';
import { idParam } from '../http/params';
import { workflowLink, type TemporalUi } from '../http/temporal-ui';
import { adminInstanceRecord, listAdminInstances, replaceInstance, stopInstance } from '../use-cases/admin-instances';

/** Admins' view of model instances: live list (with raw runtime events), stop, and history. */
export function adminInstanceRoutes(deps: {
  db: DatabasePool;
  temporal: Client;
  taskQueue: string;
  authenticate: Authenticate;
  temporalUi?: TemporalUi;
}) {
  const { db, temporal, taskQueue } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/instances', requireSession(deps.authenticate), requirePermission('ADMIN'));

  router.get('/api/admin/instances', async (ctx) => {
    ctx.body = await listAdminInstances(deps, adminInstancesQuery.parse(ctx.query));
  });

  router.post('/api/admin/instances/:id/stop', async (ctx) => {
    const record = await stopInstance(deps, signedInUser(ctx), idParam(ctx, 'instance'));
    ctx.status = 202;
    ctx.body = { id: record.id, stopping: true };
  });

  router.post('/api/admin/instances/:id/replace', async (ctx) => {
    const record = await replaceInstance(deps, signedInUser(ctx), idParam(ctx, 'instance'));
    ctx.status = 202;
    ctx.body = { id: record.id, replacing: true };
  });

  /** The node autoscaler's latest decisions: plan, reasons and what was done. */
  router.get('/api/admin/instances/autoscaler/decisions', async (ctx) => {
    const { limit } = z.strictObject({ limit: z.coerce.number().int().min(1).max(200).default(20) }).parse(ctx.query);
    ctx.body = { decisions: await listAutoscalerDecisions(db, limit) };
  });

  router.get('/api/admin/instances/:id', async (ctx) => {
    const record = await adminInstanceRecord(db, idParam(ctx, 'instance'));
    const poolId = poolWorkflowId(taskQueue, record.modelId);
    const [timeline, runtimeEvents, requests, workflowEvents] = await Promise.all([
      instanceTimeline(db, record.id),
      instanceRuntimeEvents(db, record.id),
      requestsServedByInstance(db, record.id),
      fetchInstanceHistory(temporal, poolId, record.id),
    ]);
    ctx.body = {
      instance: record,
      timeline,
      runtimeEvents,
      requests: requests.map((r) => ({
        ...r,
        links: { temporal: workflowLink(deps.temporalUi, requestWorkflowId(r.id)) },
      })),
      workflow: { id: poolId, events: workflowEvents, link: workflowLink(deps.temporalUi, poolId) },
    } satisfies InstanceHistoryView;
  });

  return router;
}
