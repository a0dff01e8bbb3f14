import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { listModels } from '../../db/models';
import { findOwnWorkRequest, insertWorkRequest, listOwnWorkRequests, ownerOf, UnknownCursorError } from '../../db/work-requests';
import { listWorkRequestsQuery, submitWorkRequest, workflowIdForRequest } from '../../domain/work-request';
import type { modelRequest } from '../../workflows/model-request';
import { requireSession, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';
import { ApiError } from '../errors';
import { requireJsonBody } from './json-body';

const requestIdParam = z.uuid();

export function requestRoutes(deps: { pool: DatabasePool; temporal: Client; taskQueue: string; authenticate: Authenticate }) {
  const { pool, temporal, taskQueue } = deps;
  const router = new Router<AuthState>();
  router.use('/api/requests', requireSession(deps.authenticate));

  router.post('/api/requests', async (ctx) => {
    requireJsonBody(ctx);
    const body = submitWorkRequest.parse(ctx.request.body ?? {});
    const models = await listModels(pool);
    if (!models.some((model) => model.id === body.model)) {
      throw new ApiError(400, 'UNKNOWN_MODEL', `There is no model "${body.model}"; GET /api/models lists them`, {
        available: models.map((model) => model.id),
      });
    }

    const id = randomUUID();
    const workflowId = workflowIdForRequest(id);
    // Row and workflow together: if the workflow cannot start, the insert is rolled back.
    const created = await pool.transaction(async (transaction) => {
      const row = await insertWorkRequest(transaction, {
        id,
        modelId: body.model,
        principal: ctx.state.principal!,
        input: body.input,
        workflowId,
      });
      try {
        await temporal.workflow.start<typeof modelRequest>('modelRequest', {
          workflowId,
          taskQueue,
          args: [{ requestId: id, modelId: body.model }],
        });
      } catch (error) {
        throw new ApiError(503, 'WORKFLOW_START_FAILED', 'The request could not be scheduled; try again shortly', {
          reason: error instanceof Error ? error.message : String(error),
        });
      }
      return row;
    });

    ctx.status = 202;
    ctx.set('Location', `/api/requests/${id}`);
    ctx.body = { id: created.id, status: created.status, model: created.model, createdAt: created.createdAt };
  });

  router.get('/api/requests', async (ctx) => {
    const query = listWorkRequestsQuery.parse(ctx.query);
    try {
      ctx.body = await listOwnWorkRequests(pool, ownerOf(ctx.state.principal!), query);
    } catch (error) {
      if (error instanceof UnknownCursorError) {
        throw new ApiError(400, 'INVALID_CURSOR', 'The cursor is not one of your requests; use nextCursor from the previous page');
      }
      throw error;
    }
  });

  router.get('/api/requests/:id', async (ctx) => {
    const id = requestIdParam.safeParse(ctx.params.id);
    if (!id.success) throw new ApiError(400, 'INVALID_REQUEST_ID', 'Request ids are UUIDs');
    const request = await findOwnWorkRequest(pool, id.data, ownerOf(ctx.state.principal!));
    if (!request) throw new ApiError(404, 'REQUEST_NOT_FOUND', `You have no request ${id.data}`);
    ctx.body = request;
  });

  return router;
}
