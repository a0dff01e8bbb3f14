import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import { judgePoolHealth, type PoolHealth } from '../domain/model-pool-health';
import { poolWorkflowId } from '../workflows/contracts';

/** Asks Temporal how the pool of `modelId` on `taskQueue` is doing (see domain/model-pool-health). */
export async function describePoolHealth(temporal: Client, taskQueue: string, modelId: string): Promise<PoolHealth> {
  const workflowId = poolWorkflowId(taskQueue, modelId);
  try {
    const description = await temporal.workflow.getHandle(workflowId).describe();
    return judgePoolHealth({
      modelId,
      workflowId,
      status: description.status.name,
      workflowTaskAttempt: description.raw.pendingWorkflowTask?.attempt ?? 0,
    });
  } catch (error) {
    if (error instanceof WorkflowNotFoundError)
      return judgePoolHealth({ modelId, workflowId, status: null, workflowTaskAttempt: 0 });
    throw error;
  }
}
