import type { Client } from '@temporalio/client';
import { requestReconcilerWorkflowId, workflowNames, type PodiumWorkflows } from '../workflows/contracts';

/** Starts the task queue's request reconciler unless it runs already; every worker asks on start. */
export async function ensureRequestReconciler(temporal: Client, taskQueue: string): Promise<void> {
  await temporal.workflow.start<PodiumWorkflows['requestReconciler']>(workflowNames.requestReconciler, {
    workflowId: requestReconcilerWorkflowId(taskQueue),
    taskQueue,
    args: [{}],
    workflowIdConflictPolicy: 'USE_EXISTING',
  });
}
