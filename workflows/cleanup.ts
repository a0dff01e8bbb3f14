import { ApplicationFailure, log, patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import { checkOperatorPayload, isRetentionDays, operatorAudits } from './operator-signals';

/** Every run names who asks and why, and a retention of at least a day (issue 31). */
export const cleanupChecksItsInputPatch = 'cleanup-checks-its-input';

const cleanup = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '5 seconds', maximumAttempts: 5 },
});

const batchSize = 500;

/**
 * Run daily by the `podium-cleanup` Schedule: deletes ended requests past the retention, in
 * batches. An operator may run it now (`temporal workflow start`, docs/operations.md). Every run
 * names who asks and why (the Schedule names itself) and keeps at least a day: anyone who can
 * start a workflow could otherwise delete every request, unaudited. The run is audited first.
 */
export async function cleanupOldRequests(input: {
  retentionDays: number;
  actor?: string;
  reason?: string;
}): Promise<{ deleted: number }> {
  const { retentionDays, actor, reason } = input;
  if (patched(cleanupChecksItsInputPatch)) {
    const checked = checkOperatorPayload(input, { retentionDays: isRetentionDays });
    if (!checked.ok)
      throw ApplicationFailure.nonRetryable(`refused: ${checked.problems.join('; ')}`, 'INVALID_OPERATOR_INPUT');
    const detail = { retentionDays };
    await operatorAudits.recordOperatorAction({
      actor: checked.value.actor,
      reason: checked.value.reason,
      action: 'RETENTION_RUN',
      targetType: 'retention',
      targetId: workflowInfo().workflowId,
      detail,
    });
  } else if (actor !== undefined || reason !== undefined) {
    const checked = checkOperatorPayload({ actor, reason });
    if (!checked.ok)
      throw ApplicationFailure.nonRetryable(`refused: ${checked.problems.join('; ')}`, 'INVALID_OPERATOR_INPUT');
    const detail = { retentionDays };
    await operatorAudits.recordOperatorAction({
      ...checked.value,
      action: 'RETENTION_RUN',
      targetType: 'retention',
      targetId: workflowInfo().workflowId,
      detail,
    });
  }
  let deleted = 0;
  for (let more = true; more;) {
    const batch = await cleanup.deleteOldRequests({ retentionDays, batchSize });
    deleted += batch.deleted;
    more = batch.more;
  }
  log.info('cleanup done', { deleted, retentionDays });
  return { deleted };
}
