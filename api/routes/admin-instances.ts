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
import { json, errors, bearer, idParameter } from '../http/openapi-parts';
import { autoscalerDecision } from '../../domain/autoscaler-decision';

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

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const adminInstancePaths = {
  '/api/admin/instances': {
    get: {
      summary: 'Live model instances: records joined with the runtime (pod phase, node, raw Kubernetes events) (ADMIN)',
      description:
        "`pools` lists the running pool workflows of the catalog's models with their health: `FAILING` when the pool's " +
        'workflow task keeps failing (its queued requests then fail `MODEL_POOL_FAILING`), with a message naming the workflow.',
      security: bearer,
      parameters: [
        { name: 'model', schema: { type: 'string' } },
        {
          name: 'from',
          description: 'instance started on or after this UTC day',
          schema: { type: 'string', format: 'date' },
        },
        {
          name: 'to',
          description: 'instance started on or before this UTC day',
          schema: { type: 'string', format: 'date' },
        },
        { name: 'status', description: 'pod phase or instance status, any case', schema: { type: 'string' } },
      ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
      responses: { 200: { description: '{ instances, pools, at }' }, ...errors(400, 401, 403) },
    },
  },
  '/api/admin/instances/autoscaler/decisions': {
    get: {
      summary: "The node autoscaler's latest decisions, newest first: what it saw, planned and did, and why (ADMIN)",
      security: bearer,
      parameters: [
        {
          name: 'limit',
          in: 'query',
          required: false,
          description: 'how many (default 20)',
          schema: { type: 'integer', minimum: 1, maximum: 200 },
        },
      ],
      responses: {
        200: { description: 'decisions', content: json(z.object({ decisions: z.array(autoscalerDecision) })) },
        ...errors(401, 403),
      },
    },
  },
  '/api/admin/instances/{id}': {
    get: {
      summary:
        "An instance's history: log, its pod's Kubernetes events (kept after the pod is gone), requests served, its pool workflow's events about it (ADMIN)",
      security: bearer,
      parameters: [idParameter],
      responses: { 200: { description: 'history' }, ...errors(400, 401, 403, 404) },
    },
  },
  '/api/admin/instances/{id}/stop': {
    post: {
      summary: "Stops an instance through its model's pool (ADMIN, audited)",
      security: bearer,
      parameters: [idParameter],
      responses: { 202: { description: 'stopping' }, ...errors(400, 401, 403, 404, 409) },
    },
  },
  '/api/admin/instances/{id}/replace': {
    post: {
      summary:
        "Replaces an instance through its model's pool, interrupting no request: a replacement starts, new requests go elsewhere, and it stops once those it serves have finished (ADMIN, audited)",
      security: bearer,
      parameters: [idParameter],
      responses: { 202: { description: 'replacing' }, ...errors(400, 401, 403, 404, 409) },
    },
  },
};
