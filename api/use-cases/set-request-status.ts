import type { DatabasePool } from 'slonik';
import { writeAuditLog } from '../../db/audit-log';
import { requeueWorkRequest } from '../../db/work-request-lifecycle';
import { findWorkRequestView } from '../../db/work-requests';
import { isFinal, requeueableStatuses } from '../../domain/request-status';
import type { AdminStatusChange } from '../../domain/work-request';
import { ApiError } from '../http/errors';
import type { RequestWorkflows } from '../request-workflows';

/**
 * An admin re-queues a request (REQUESTED: a new attempt under the same id) or fails it with a
 * reason. Audited first. A request still on its way gets a signal; an ended one (whose workflow
 * may be closing this instant) is re-run once its workflow has closed.
 */
export async function setRequestStatus(
  { db, workflows }: { db: DatabasePool; workflows: RequestWorkflows },
  admin: { userId: string },
  id: string,
  change: AdminStatusChange,
): Promise<{ id: string; requestedStatus: AdminStatusChange['status']; previousStatus: string }> {
  const request = await findWorkRequestView(db, id);
  if (!request) throw new ApiError(404, 'REQUEST_NOT_FOUND', `No request ${id}`);
  if (change.status === 'REQUESTED' && !requeueableStatuses.includes(request.status)) {
    throw new ApiError(409, 'REQUEST_NOT_REQUEUEABLE', `A ${request.status} request cannot be re-queued`);
  }
  if (change.status === 'FAILED' && isFinal(request.status)) {
    throw new ApiError(
      409,
      'REQUEST_ALREADY_ENDED',
      `Request ${id} has already ended (${request.status}): it cannot be failed now`,
    );
  }

  await writeAuditLog(db, {
    actorUserId: admin.userId,
    action: 'REQUEST_STATUS_SET',
    targetType: 'work_request',
    targetId: request.id,
    detail: { from: request.status, to: change.status, reason: change.reason, attempt: request.attempt },
  });

  const signalled = !isFinal(request.status) && (await workflows.setStatus(request.id, change));
  if (!signalled) {
    if (!(await workflows.waitUntilClosed(request.id, 2_000))) {
      throw new ApiError(
        409,
        'REQUEST_STILL_CLOSING',
        `Request ${id} has ended, but its workflow is still finishing (delivering its webhook, for one); try again shortly`,
        {
          retryAfterSeconds: 5,
        },
      );
    }
    if (change.status === 'FAILED') throw new ApiError(409, 'REQUEST_ALREADY_ENDED', 'The request has just ended');
    // The new attempt and its workflow together, as a submission: if Temporal refuses the
    // start, the row stays as it was (never REQUESTED with no workflow).
    await db.transaction(async (transaction) => {
      const requeued = await requeueWorkRequest(transaction, request.id);
      if (!requeued) throw new ApiError(409, 'REQUEST_NOT_REQUEUEABLE', 'The request changed meanwhile; look again');
      await workflows.start(request.id, request.model, { rerun: true });
    });
  }
  return { id: request.id, requestedStatus: change.status, previousStatus: request.status };
}
