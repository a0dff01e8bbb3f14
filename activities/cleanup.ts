import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { deleteEndedRequestsOlderThan } from '../db/work-requests';

/** Requests that ended before the retention are deleted; their stats rows stay. */
export function createCleanupActivities({ db, temporal }: { db: DatabasePool; temporal: Client }) {
  return {
    /**
     * Deletes one batch of ended requests older than the retention (and their webhook
     * deliveries), then their workflow histories, which nothing needs any more.
     */
    async deleteOldRequests({ retentionDays, batchSize }: { retentionDays: number; batchSize: number }) {
      const deleted = await deleteEndedRequestsOlderThan(db, { retentionDays, batchSize });
      const namespace = temporal.options.namespace;
      await Promise.all(
        deleted.map((workflowId) =>
          temporal.workflowService
            .deleteWorkflowExecution({ namespace, workflowExecution: { workflowId } })
            // Already gone (the namespace's own retention got there first) is fine.
            .catch((error: Error) =>
              Context.current().log.warn('workflow history not deleted', { workflowId, error: error.message }),
            ),
        ),
      );
      return { deleted: deleted.length, more: deleted.length === batchSize };
    },
  };
}
