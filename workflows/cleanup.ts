import { ApplicationFailure, log, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import { checkOperatorPayload, operatorAudits } from './operator-signals';

const cleanup = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

const batchSize = 500;

/**
 * Run daily by the `podium-cleanup` Schedule: deletes ended requests past the retention, in
 * batches. An operator may run it now (`temporal workflow start`, docs/operations.md), naming
 * themselves and why: the run is audited first, and one that names only half is refused.
 */
export async function cleanupOldRequests({ retentionDays, actor, reason }: { retentionDays: number; actor?: string; reason?: string }): Promise<{ deleted: number }> {
  if (actor !== undefined || reason !== undefined) {
    const checked = checkOperatorPayload({ actor, reason });
    if (!checked.ok) throw ApplicationFailure.nonRetryable(`refused: ${checked.problems.join('; ')}`, 'INVALID_OPERATOR_INPUT');
    const detail = { retentionDays };
    await operatorAudits.recordOperatorAction({ ...checked.value, action: 'RETENTION_RUN', targetType: 'retention', targetId: workflowInfo().workflowId, detail });
  }
  let deleted = 0;
  for (let more = true; more; ) {
    const batch = await cleanup.deleteOldRequests({ retentionDays, batchSize });
    deleted += batch.deleted;
    more = batch.more;
  }
  log.info('cleanup done', { deleted, retentionDays });
  return { deleted };
}
