import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { UnknownRequestCursorError, findSensitiveRequest, listAdminRequests } from '../../db/admin-requests';
import { writeAuditLog } from '../../db/audit-log';
import { findWorkRequestView } from '../../db/work-requests';
import { adminRequestsQuery, adminRequestSummary } from '../../domain/admin-views';
import { adminStatusChange } from '../../domain/work-request';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { ApiError } from '../http/errors';
import { idParam } from '../http/params';
import { workflowLink, type TemporalUi } from '../http/temporal-ui';
import type { RequestWorkflows } from '../request-workflows';
import { presentResult, type PayloadResultDeps } from '../payload-results';
import { setRequestStatus } from '../use-cases/set-request-status';
import { requireJsonBody } from './json-body';
import { requestWorkflowId } from '../../workflows/contracts';
import { json, errors, bearer, idParameter } from '../http/openapi-parts';
import { z } from 'zod';

/** Admin actions on any request. Every one is written to audit_log before it is carried out. */
export function adminRequestRoutes(
  deps: PayloadResultDeps & {
    db: DatabasePool;
    workflows: RequestWorkflows;
    authenticate: Authenticate;
    temporalUi?: TemporalUi;
  },
) {
  const { db } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/requests', requireSession(deps.authenticate), requirePermission('ADMIN'));

  /** Every user's requests, filtered and paginated; never their input, result or error message. */
  router.get('/api/admin/requests', async (ctx) => {
    const query = adminRequestsQuery.parse(ctx.query);
    try {
      const page = await listAdminRequests(db, query);
      ctx.body = {
        ...page,
        requests: page.requests.map((r) => ({
          ...r,
          links: { temporal: workflowLink(deps.temporalUi, requestWorkflowId(r.id)) },
        })),
      };
    } catch (error) {
      if (error instanceof UnknownRequestCursorError) {
        throw new ApiError(400, 'INVALID_CURSOR', 'The cursor names no request; use nextCursor from the previous page');
      }
      throw error;
    }
  });

  /** Input, result and error of one request. The audit row is written first: no row, no data. */
  router.get('/api/admin/requests/:id/sensitive', async (ctx) => {
    const id = idParam(ctx, 'request');
    const exists = await findWorkRequestView(db, id);
    if (!exists) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id}`);
    await writeAuditLog(db, {
      actorUserId: signedInUser(ctx).userId,
      action: 'REQUEST_SENSITIVE_VIEWED',
      targetType: 'work_request',
      targetId: id,
    });
    const sensitive = await findSensitiveRequest(db, id);
    if (!sensitive) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id}`);
    ctx.set('Cache-Control', 'no-store');
    // Outputs kept as payloads as the owner reads them: inline when small, else signed links.
    ctx.body = { ...sensitive, result: await presentResult(deps, sensitive.result) };
  });

  /** REQUESTED re-queues the request as a new attempt (same id); FAILED ends it (see setRequestStatus). */
  router.post('/api/admin/requests/:id/status', async (ctx) => {
    requireJsonBody(ctx);
    const id = idParam(ctx, 'request');
    const change = adminStatusChange.parse(ctx.request.body);
    ctx.body = await setRequestStatus(deps, signedInUser(ctx), id, change);
    ctx.status = 202;
  });

  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const adminRequestPaths = {
  '/api/admin/requests': {
    get: {
      summary: "Every user's requests, newest first (ADMIN). Never input, result or error message.",
      security: bearer,
      parameters: [
        { name: 'user', description: 'user id or username', schema: { type: 'string' } },
        {
          name: 'session',
          description: 'session id (e.g. an anonymous one)',
          schema: { type: 'string', format: 'uuid' },
        },
        { name: 'model', schema: { type: 'string' } },
        { name: 'status', schema: { type: 'string' } },
        { name: 'from', description: 'first UTC day included', schema: { type: 'string', format: 'date' } },
        { name: 'to', description: 'last UTC day included', schema: { type: 'string', format: 'date' } },
        { name: 'cursor', schema: { type: 'string', format: 'uuid' } },
        { name: 'limit', schema: { type: 'integer', minimum: 1, maximum: 100, default: 50 } },
      ].map((parameter) => ({ in: 'query', required: false, ...parameter })),
      responses: {
        200: {
          description: 'a page',
          content: json(z.object({ requests: z.array(adminRequestSummary), nextCursor: z.string().nullable() })),
        },
        ...errors(400, 401, 403),
      },
    },
  },
  '/api/admin/requests/{id}/status': {
    post: {
      summary: 'ADMIN: re-queue (REQUESTED, a new attempt) or fail (FAILED) any request; audit-logged',
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(adminStatusChange) },
      responses: { 202: { description: 'accepted' }, ...errors(400, 401, 403, 404, 409, 503) },
    },
  },
  '/api/admin/requests/{id}/sensitive': {
    get: {
      summary: "A request's input, result and error (ADMIN). Writes an audit_log row first; no row, no data.",
      security: bearer,
      parameters: [idParameter],
      responses: { 200: { description: 'the sensitive fields' }, ...errors(400, 401, 403, 404) },
    },
  },
};
