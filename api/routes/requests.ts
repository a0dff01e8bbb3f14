import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import { ForeignKeyIntegrityConstraintViolationError, UniqueIntegrityConstraintViolationError, type DatabasePool } from 'slonik';
import { isDeepStrictEqual } from 'node:util';
import { listModels } from '../../db/models';
import {
  findByIdempotencyKey,
  findOwnWorkRequest,
  findWebhookStatus,
  insertWorkRequest,
  listOwnWorkRequests,
  ownerOf,
  UnknownCursorError,
  type RequestOwner,
} from '../../db/work-requests';
import { isFinal } from '../../domain/request-status';
import { idempotencyKey, listWorkRequestsQuery, submitWorkRequest, waitQuery, type SubmitWorkRequest, type WorkRequestView } from '../../domain/work-request';
import { requireSession, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';
import { ApiError } from '../errors';
import { idParam } from '../params';
import { workflowLink, type TemporalUi } from '../temporal-ui';
import type { RequestWorkflows } from '../request-workflows';
import { requireJsonBody } from './json-body';
import { requestWorkflowId } from '../../workflows/contracts';


export type RequestRouteDeps = {
  db: DatabasePool;
  workflows: RequestWorkflows;
  authenticate: Authenticate;
  /** The Temporal Web UI, for links to a request's workflow. */
  temporalUi?: TemporalUi;
};

/** 202 for a new request; 200 with Idempotent-Replayed for the one an Idempotency-Key made before. */
function answerSubmission(ctx: Context, request: WorkRequestView, status: 200 | 202) {
  ctx.status = status;
  if (status === 200) ctx.set('Idempotent-Replayed', 'true');
  ctx.set('Location', `/api/requests/${request.id}`);
  ctx.body = { id: request.id, status: request.status, model: request.model, createdAt: request.createdAt };
}

export function requestRoutes(deps: RequestRouteDeps) {
  const { db, workflows } = deps;
  const router = new Router<AuthState>();
  router.use('/api/requests', requireSession(deps.authenticate));

  async function ownRequest(ctx: { params: Record<string, string | undefined> }, owner: RequestOwner) {
    const id = idParam(ctx, 'request');
    const request = await findOwnWorkRequest(db, id, owner);
    if (!request) throw new ApiError(404, 'REQUEST_NOT_FOUND', `You have no request ${id}`);
    return request;
  }

  /** The same key and the same ask: the first request back. The same key, another ask: 422. */
  async function replay(owner: RequestOwner, key: string, body: SubmitWorkRequest) {
    const earlier = await findByIdempotencyKey(db, owner, key);
    if (!earlier) return null;
    const same = earlier.model === body.model && isDeepStrictEqual(earlier.input, body.input) && earlier.webhookUrl === (body.webhook ?? null);
    if (!same) {
      throw new ApiError(422, 'IDEMPOTENCY_KEY_REUSED', 'This Idempotency-Key was used for a different request; use a new key');
    }
    return findOwnWorkRequest(db, earlier.id, owner);
  }

  router.post('/api/requests', async (ctx) => {
    requireJsonBody(ctx);
    const body = submitWorkRequest.parse(ctx.request.body ?? {});
    const keyHeader = ctx.get('idempotency-key');
    const key = keyHeader ? idempotencyKey.parse(keyHeader) : undefined;
    const principal = ctx.state.principal!;
    const owner = ownerOf(principal);

    const replayed = key ? await replay(owner, key, body) : null;
    if (replayed) return answerSubmission(ctx, replayed, 200);

    const id = randomUUID();
    let created;
    try {
      // Row and workflow together: if the workflow cannot start, the insert is rolled back.
      created = await db.transaction(async (transaction) => {
        const row = await insertWorkRequest(transaction, {
          id,
          modelId: body.model,
          principal,
          input: body.input,
          workflowId: requestWorkflowId(id),
          webhookUrl: body.webhook,
          idempotencyKey: key,
        });
        try {
          await workflows.start(id, body.model);
        } catch (error) {
          throw new ApiError(503, 'WORKFLOW_START_FAILED', 'The request could not be scheduled; try again shortly', {
            reason: error instanceof Error ? error.message : String(error),
          });
        }
        return row;
      });
    } catch (error) {
      // The model is checked by the insert's foreign key: no read of the catalog per request.
      if (error instanceof ForeignKeyIntegrityConstraintViolationError) {
        const models = await listModels(db);
        throw new ApiError(400, 'UNKNOWN_MODEL', `There is no model "${body.model}"; GET /api/models lists them`, {
          available: models.map((model) => model.id),
        });
      }
      // The same key sent twice at once: the other one won; answer with its request.
      if (key && error instanceof UniqueIntegrityConstraintViolationError) {
        const winner = await replay(owner, key, body);
        if (winner) return answerSubmission(ctx, winner, 200);
      }
      throw error;
    }

    answerSubmission(ctx, created, 202);
  });

  router.get('/api/requests', async (ctx) => {
    const query = listWorkRequestsQuery.parse(ctx.query);
    try {
      ctx.body = await listOwnWorkRequests(db, ownerOf(ctx.state.principal!), query);
    } catch (error) {
      if (error instanceof UnknownCursorError) {
        throw new ApiError(400, 'INVALID_CURSOR', 'The cursor is not one of your requests; use nextCursor from the previous page');
      }
      throw error;
    }
  });

  /** One request; `?wait=N` holds the answer up to N seconds until the request has ended. */
  router.get('/api/requests/:id', async (ctx) => {
    const owner = ownerOf(ctx.state.principal!);
    const { wait = 0 } = waitQuery.parse(ctx.query);
    let request = await ownRequest(ctx, owner);
    if (wait > 0 && !isFinal(request.status)) {
      // Temporal tells us when the workflow ends: no polling, no added latency.
      await workflows.waitForEnd(request.id, wait * 1000);
      request = (await findOwnWorkRequest(db, request.id, owner))!;
    }
    const temporal = workflowLink(deps.temporalUi, requestWorkflowId(request.id));
    ctx.body = {
      ...request,
      webhook: await findWebhookStatus(db, request.id),
      links: {
        self: `/api/requests/${request.id}`,
        ...(temporal ? { temporal } : {}),
      },
    };
  });

  /** The owner stops a request: a queued one at once, a running one as its inference is cut. */
  router.post('/api/requests/:id/cancel', async (ctx) => {
    const request = await ownRequest(ctx, ownerOf(ctx.state.principal!));
    if (isFinal(request.status)) {
      throw new ApiError(409, 'REQUEST_ALREADY_ENDED', `The request has already ended ${request.status}`);
    }
    if (!(await workflows.cancel(request.id))) {
      throw new ApiError(409, 'REQUEST_ALREADY_ENDED', 'The request has just ended');
    }
    ctx.status = 202;
    ctx.body = { id: request.id, status: request.status, cancelling: true };
  });

  return router;
}
