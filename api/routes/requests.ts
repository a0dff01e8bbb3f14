import Router from '@koa/router';
import { queuePosition } from '../../db/instance-slots';
import { readLineFacts } from '../../db/queue-estimate';
import { secondsUntilStart } from '../../domain/queue-estimate';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import {
  findOwnWorkRequestWithWebhook,
  listOwnWorkRequests,
  ownerOf,
  UnknownCursorError,
  type RequestOwner,
} from '../../db/work-requests';
import { isFinal } from '../../domain/request-status';
import {
  listWorkRequestsQuery,
  submitWorkRequest,
  submittedWorkRequest,
  type SubmittedWorkRequest,
  waitQuery,
  workRequestDetail,
  workRequestPage,
  type WorkRequestView,
} from '../../domain/work-request';
import { requireSession, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { ApiError } from '../http/errors';
import { cancelAfterHeader, idempotencyKeyHeader, idParam } from '../http/params';
import { workflowLink, type TemporalUi } from '../http/temporal-ui';
import type { RequestEnds } from '../request-ends';
import type { RequestQuotas } from '../auth/request-quotas';
import type { RequestWorkflows } from '../request-workflows';
import { submitRequest, withCancelAfter } from '../use-cases/submit-request';
import { requireJsonBody } from './json-body';
import { presentResult, type PayloadResultDeps } from '../payload-results';
import type { PayloadStore } from '../../lib/payload-store';
import { requestWorkflowId } from '../../workflows/contracts';
import { schema, json, errors, bearer, idParameter } from '../http/openapi-parts';

export type RequestRouteDeps = PayloadResultDeps & {
  db: DatabasePool;
  payloads: PayloadStore;
  workflows: RequestWorkflows;
  ends: RequestEnds;
  quotas: RequestQuotas;
  authenticate: Authenticate;
  /** The Temporal Web UI, for links to a request's workflow. */
  temporalUi?: TemporalUi;
};

/** 202 for a new request; 200 with Idempotent-Replayed for the one an Idempotency-Key made before. */
function answerSubmission(ctx: Context, request: WorkRequestView, status: 200 | 202) {
  ctx.status = status;
  if (status === 200) ctx.set('Idempotent-Replayed', 'true');
  ctx.set('Location', `/api/requests/${request.id}`);
  const { id, status: state, model, priority, deadline, createdAt } = request;
  // The deadline as a time, also when it was asked for as a duration (Cancel-After).
  ctx.body = { id, status: state, model, priority, deadline, createdAt } satisfies SubmittedWorkRequest;
}

/**
 * A caller's own requests: submit one, list them, read one (or wait for its end with `?wait`),
 * and cancel one. A session sees only its own requests, and a user those of all their sessions.
 * Anyone else's request is a 404, so a caller cannot tell it exists.
 */
export function requestRoutes(deps: RequestRouteDeps) {
  const { db, workflows, ends } = deps;
  const router = new Router<AuthState>();
  router.use('/api/requests', requireSession(deps.authenticate));

  /** The owner's request with its webhook's deliveries; 404 for anyone else's. */
  async function ownRequest(ctx: { params: Record<string, string | undefined> }, owner: RequestOwner) {
    const id = idParam(ctx, 'request');
    const request = await findOwnWorkRequestWithWebhook(db, id, owner);
    if (!request) throw new ApiError(404, 'REQUEST_NOT_FOUND', `You have no request ${id}`);
    return request;
  }

  router.post('/api/requests', async (ctx) => {
    requireJsonBody(ctx);
    const body = withCancelAfter(submitWorkRequest.parse(ctx.request.body ?? {}), cancelAfterHeader(ctx));
    const { request, replayed } = await submitRequest(deps, ctx.state.principal!, body, idempotencyKeyHeader(ctx));
    answerSubmission(ctx, request, replayed ? 200 : 202);
  });

  router.get('/api/requests', async (ctx) => {
    const query = listWorkRequestsQuery.parse(ctx.query);
    try {
      ctx.body = await listOwnWorkRequests(db, ownerOf(ctx.state.principal!), query);
    } catch (error) {
      if (error instanceof UnknownCursorError) {
        throw new ApiError(
          400,
          'INVALID_CURSOR',
          'The cursor is not one of your requests; use nextCursor from the previous page',
        );
      }
      throw error;
    }
  });

  /** One request; `?wait=N` holds the answer up to N seconds until the request has ended. */
  router.get('/api/requests/:id', async (ctx) => {
    const owner = ownerOf(ctx.state.principal!);
    const { wait = 0 } = waitQuery.parse(ctx.query);
    // PostgreSQL tells when the request ends, as the end commits (api/request-ends.ts).
    const request = await ends.readUntilEnded(idParam(ctx, 'request'), wait * 1000, () => ownRequest(ctx, owner));
    const temporal = workflowLink(deps.temporalUi, requestWorkflowId(request.id));
    // A waiting request says where it is in its model's line (docs/scheduling.md).
    const queue = request.status === 'REQUESTED' ? await queueView(db, request.id, request.model) : null;
    ctx.body = {
      ...request,
      ...(queue === null ? {} : { queue }),
      result: await presentResult(deps, request.result),
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
      throw new ApiError(
        409,
        'REQUEST_ALREADY_ENDED',
        `Request ${request.id} has already ended (${request.status}): there is nothing to cancel`,
      );
    }
    if (!(await workflows.cancel(request.id))) {
      throw new ApiError(409, 'REQUEST_ALREADY_ENDED', 'The request has just ended');
    }
    ctx.status = 202;
    ctx.body = { id: request.id, status: request.status, cancelling: true };
  });

  return router;
}

const queryParameters = Object.entries(listWorkRequestsQuery.shape).map(([name, type]) => ({
  name,
  in: 'query',
  required: false,
  schema: schema(type),
}));

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const requestPaths = {
  '/api/requests': {
    post: {
      summary: 'Submit a work request (input: an Open Inference Protocol v2 inference request)',
      security: bearer,
      parameters: [
        {
          name: 'Idempotency-Key',
          in: 'header',
          required: false,
          schema: { type: 'string', maxLength: 255 },
          description: 'the same key gets the same request back (200, Idempotent-Replayed: true)',
        },
      ],
      requestBody: { required: true, content: json(submitWorkRequest) },
      responses: {
        202: {
          description: 'accepted; poll the Location',
          content: json(submittedWorkRequest),
        },
        200: { description: 'replayed: the request made earlier with this Idempotency-Key' },
        ...errors(400, 401, 422, 429, 503),
      },
    },
    get: {
      summary: "This session's requests, newest first",
      security: bearer,
      parameters: queryParameters,
      responses: {
        200: {
          description: 'a page',
          content: json(workRequestPage),
        },
        ...errors(400, 401),
      },
    },
  },
  '/api/requests/{id}': {
    get: {
      summary: 'One request with its status, its result or error once ended, webhook deliveries and links',
      security: bearer,
      parameters: [
        idParameter,
        {
          name: 'wait',
          in: 'query',
          required: false,
          schema: { type: 'integer', minimum: 0, maximum: 300 },
          description: 'long-poll up to N seconds for the request to end',
        },
      ],
      responses: {
        200: {
          description:
            "the request; while it waits for a slot, `queue.position` is its place in its model's line (1: next) and `queue.estimatedStartAt` when it should start (null until the model's times are measured)",
          content: json(workRequestDetail),
        },
        ...errors(400, 401, 404),
      },
    },
  },
  '/api/requests/{id}/cancel': {
    post: {
      summary: 'Cancel your request: a queued one at once, a running one as its inference is cut',
      security: bearer,
      parameters: [idParameter],
      responses: { 202: { description: 'cancelling' }, ...errors(400, 401, 404, 409, 503) },
    },
  },
};

/**
 * A waiting request's place in its model's line and, once the model's times are measured, when
 * it should start (docs/scheduling.md); null when it is not in the line.
 */
async function queueView(db: DatabasePool, requestId: string, modelId: string) {
  const position = await queuePosition(db, requestId);
  if (position === null) return null;
  const facts = await readLineFacts(db, modelId);
  const seconds = facts ? secondsUntilStart(position, facts) : null;
  return {
    position,
    estimatedStartAt: seconds === null ? null : new Date(Date.now() + seconds * 1000).toISOString(),
  };
}
