import { log, proxyActivities } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';

const cleanup = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

const batchSize = 500;

/** Run daily by the `podium-cleanup` Schedule: deletes ended requests past the retention, in batches. */
export async function cleanupOldRequests({ retentionDays }: { retentionDays: number }): Promise<{ deleted: number }> {
  let deleted = 0;
  for (let more = true; more; ) {
    const batch = await cleanup.deleteOldRequests({ retentionDays, batchSize });
    deleted += batch.deleted;
    more = batch.more;
  }
  log.info('cleanup done', { deleted, retentionDays });
  return { deleted };
}
