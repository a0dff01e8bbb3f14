import type { Client } from '@temporalio/client';
import { requestReconcilerWorkflowId } from '../activities/reconciler';
import type { requestReconciler } from '../workflows/request-reconciler';

/** Starts the task queue's request reconciler unless it runs already; every worker asks on start. */
export async function ensureRequestReconciler(temporal: Client, taskQueue: string): Promise<void> {
  await temporal.workflow.start<typeof requestReconciler>('requestReconciler', {
    workflowId: requestReconcilerWorkflowId(taskQueue),
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}
