import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

/** Requests that ended before the retention are deleted; their stats rows stay. */
export function createCleanupActivities({ pool, temporal }: { pool: DatabasePool; temporal: Client }) {
  return {
    /**
     * Deletes one batch of ended requests older than the retention (and their webhook
     * deliveries), then their workflow histories, which nothing needs any more.
     */
    async deleteOldRequests({ retentionDays, batchSize }: { retentionDays: number; batchSize: number }) {
      const deleted = await pool.anyFirst(sql.type(z.object({ workflowId: z.string() }))`
        DELETE FROM work_requests
         WHERE id IN (SELECT id FROM work_requests
                       WHERE created_at < now() - make_interval(secs => ${retentionDays * 86_400})
                         AND status IN ('COMPLETE', 'FAILED', 'CANCELLED')
                       ORDER BY created_at
                       LIMIT ${batchSize})
        RETURNING workflow_id AS "workflowId"`);
      const namespace = temporal.options.namespace;
      await Promise.all(
        deleted.map((workflowId) =>
          temporal.workflowService
            .deleteWorkflowExecution({ namespace, workflowExecution: { workflowId } })
            // Already gone (the namespace's own retention got there first) is fine.
            .catch((error: Error) => Context.current().log.warn('workflow history not deleted', { workflowId, error: error.message })),
        ),
      );
      return { deleted: deleted.length, more: deleted.length === batchSize };
    },
  };
}
