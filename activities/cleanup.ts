import { Context } from '@temporalio/activity';
import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { expiredPayloads, removePayloads } from '../db/payloads';
import { deleteEndedRequestsOlderThan } from '../db/work-requests';
import { finalStatuses } from '../domain/request-status';
import type { PayloadStore } from '../lib/payload-store';

/** Requests that ended before the retention are deleted, with their payloads; their stats rows stay. */
export function createCleanupActivities({
  db,
  temporal,
  payloads,
  uploadHours,
}: {
  db: DatabasePool;
  temporal: Client;
  payloads: PayloadStore;
  uploadHours: number;
}) {
  return {
    /**
     * Deletes one batch of ended requests older than the retention (and their webhook
     * deliveries), then their workflow histories, which nothing needs any more.
     */
    async deleteOldRequests({ retentionDays, batchSize }: { retentionDays: number; batchSize: number }) {
      // Payloads first, bytes before rows: the requests' rows would take the payload rows with
      // them, and leave an S3 store's objects behind. Uploads no request named, and payloads
      // left incomplete, go too. Run again after a failure, it removes the rest.
      for (;;) {
        const expired = await expiredPayloads(db, { retentionDays, uploadHours, batchSize, finalStatuses });
        for (const store of new Set(expired.map((payload) => payload.store))) {
          if (store !== payloads.name) {
            Context.current().log.warn('payloads in another store are left alone', { store, current: payloads.name });
          }
        }
        const ours = expired.filter((payload) => payload.store === payloads.name).map((payload) => payload.id);
        await removePayloads(db, payloads, ours);
        if (ours.length < batchSize) break;
      }
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
