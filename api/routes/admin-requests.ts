import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { UnknownRequestCursorError, findSensitiveRequest, listAdminRequests } from '../../db/admin-requests';
import { writeAuditLog } from '../../db/audit-log';
import { requeueWorkRequest } from '../../db/work-request-lifecycle';
import { findWorkRequestView } from '../../db/work-requests';
import { isFinal, requeueableStatuses } from '../../domain/request-status';
import { adminRequestsQuery } from '../../domain/admin-views';
import { adminStatusChange } from '../../domain/work-request';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';
import { ApiError } from '../errors';
import { workflowLink, type TemporalUi } from '../temporal-ui';
import type { RequestWorkflows } from '../request-workflows';
import { requireJsonBody } from './json-body';
import { requestWorkflowId } from '../../workflows/contracts';

const requestIdParam = z.uuid();

/** Admin actions on any request. Every one is written to audit_log before it is carried out. */
export function adminRequestRoutes(deps: {
  pool: DatabasePool;
  workflows: RequestWorkflows;
  authenticate: Authenticate;
  temporalUi?: TemporalUi;
}) {
  const { pool, workflows } = deps;
  const router = new Router<AuthState>();
  router.use('/api/admin/requests', requireSession(deps.authenticate), requirePermission('ADMIN'));

  /** Every user's requests, filtered and paginated; never their input, result or error message. */
  router.get('/api/admin/requests', async (ctx) => {
    const query = adminRequestsQuery.parse(ctx.query);
    try {
      const page = await listAdminRequests(pool, query);
      ctx.body = { ...page, requests: page.requests.map((r) => ({ ...r, links: { temporal: workflowLink(deps.temporalUi, requestWorkflowId(r.id)) } })) };
    } catch (error) {
      if (error instanceof UnknownRequestCursorError) {
        throw new ApiError(400, 'INVALID_CURSOR', 'The cursor names no request; use nextCursor from the previous page');
      }
      throw error;
    }
  });

  /** Input, result and error of one request. The audit row is written first: no row, no data. */
  router.get('/api/admin/requests/:id/sensitive', async (ctx) => {
    const id = requestIdParam.safeParse(ctx.params.id);
    if (!id.success) throw new ApiError(400, 'INVALID_REQUEST_ID', 'Request ids are UUIDs');
    const exists = await findWorkRequestView(pool, id.data);
    if (!exists) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id.data}`);
    await writeAuditLog(pool, {
      actorUserId: signedInUser(ctx).userId,
      action: 'REQUEST_SENSITIVE_VIEWED',
      targetType: 'work_request',
      targetId: id.data,
    });
    const sensitive = await findSensitiveRequest(pool, id.data);
    if (!sensitive) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id.data}`);
    ctx.set('Cache-Control', 'no-store');
    ctx.body = sensitive;
  });

  /**
   * REQUESTED re-queues the request as a new attempt (same id); FAILED ends it with the reason.
   * A running workflow gets a signal; an ended one is re-run for REQUESTED.
   */
  router.post('/api/admin/requests/:id/status', async (ctx) => {
    requireJsonBody(ctx);
    const id = requestIdParam.safeParse(ctx.params.id);
    if (!id.success) throw new ApiError(400, 'INVALID_REQUEST_ID', 'Request ids are UUIDs');
    const change = adminStatusChange.parse(ctx.request.body);
    const request = await findWorkRequestView(pool, id.data);
    if (!request) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id.data}`);
    if (change.status === 'REQUESTED' && !requeueableStatuses.includes(request.status)) {
      throw new ApiError(409, 'REQUEST_NOT_REQUEUEABLE', `A ${request.status} request cannot be re-queued`);
    }
    if (change.status === 'FAILED' && isFinal(request.status)) {
      throw new ApiError(409, 'REQUEST_ALREADY_ENDED', `The request has already ended ${request.status}`);
    }

    const admin = signedInUser(ctx);
    await writeAuditLog(pool, {
      actorUserId: admin.userId,
      action: 'REQUEST_STATUS_SET',
      targetType: 'work_request',
      targetId: request.id,
      detail: { from: request.status, to: change.status, reason: change.reason, attempt: request.attempt },
    });

    // A request still on its way gets a signal; an ended one (whose workflow may be closing
    // this instant) is re-run once its workflow has closed.
    const signalled = !isFinal(request.status) && (await workflows.setStatus(request.id, change));
    if (!signalled) {
      await workflows.waitUntilClosed(request.id, 10_000);
      if (change.status === 'FAILED') throw new ApiError(409, 'REQUEST_ALREADY_ENDED', 'The request has just ended');
      const requeued = await requeueWorkRequest(pool, request.id);
      if (!requeued) throw new ApiError(409, 'REQUEST_NOT_REQUEUEABLE', 'The request changed meanwhile; look again');
      await workflows.start(request.id, request.model, { rerun: true });
    }
    ctx.status = 202;
    ctx.body = { id: request.id, requestedStatus: change.status, previousStatus: request.status };
  });

  return router;
}
