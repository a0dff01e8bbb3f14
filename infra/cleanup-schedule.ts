import { ScheduleAlreadyRunning, type Client } from '@temporalio/client';
import { cleanupScheduleId, workflowNames, type PodiumWorkflows } from '../workflows/contracts';

/**
 * The daily retention Schedule (a Temporal Schedule, so it can be paused, triggered and seen in
 * the Web UI). Created if missing, brought up to date if the retention changed; safe to call on
 * every start.
 */
export async function ensureCleanupSchedule(temporal: Client, options: { taskQueue: string; retentionDays: number }) {
  const scheduleId = cleanupScheduleId(options.taskQueue);
  const action = {
    type: 'startWorkflow' as const,
    workflowType: workflowNames.cleanupOldRequests,
    workflowId: `${scheduleId}.run`,
    taskQueue: options.taskQueue,
    // Every run names who asks and why (workflows/cleanup.ts): the Schedule, and its purpose.
    args: [
      { retentionDays: options.retentionDays, actor: `schedule:${scheduleId}`, reason: 'daily retention' },
    ] as Parameters<PodiumWorkflows['cleanupOldRequests']>,
  };
  try {
    await temporal.schedule.create({
      scheduleId,
      spec: { calendars: [{ hour: 3, minute: 17, comment: 'daily, 03:17 UTC' }] },
      action,
      policies: { overlap: 'SKIP', catchupWindow: '1 day' },
    });
    return 'created';
  } catch (error) {
    if (!(error instanceof ScheduleAlreadyRunning)) throw error;
    await temporal.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, action }));
    return 'updated';
  }
}
