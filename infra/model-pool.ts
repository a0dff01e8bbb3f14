import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { listModels } from '../db/models';
import { poolWorkflowSummary } from '../domain/workflow-summaries';
import { poolWorkflowId, workflowNames, type PodiumWorkflows } from '../workflows/contracts';

/**
 * Starts the pools of models that keep instances warm (min_instances > 0), so they are warm
 * before the first request; other pools start with their first request. Safe on every start.
 */
export async function startWarmPools(temporal: Client, db: DatabasePool, taskQueue: string): Promise<string[]> {
  const warm = (await listModels(db)).filter((model) => model.minInstances > 0);
  for (const model of warm) {
    await temporal.workflow.start<PodiumWorkflows['modelPool']>(workflowNames.modelPool, {
      workflowId: poolWorkflowId(taskQueue, model.id),
      taskQueue,
      args: [{ modelId: model.id }],
      ...poolWorkflowSummary(model.id),
      workflowIdConflictPolicy: 'USE_EXISTING',
    });
  }
  return warm.map((model) => model.id);
}
