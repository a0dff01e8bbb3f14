import { ApplicationFailure } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { findModel } from '../db/models';
import { poolWorkflowId, type PoolSettings, type PoolWaiter } from '../domain/pool-plan';
import type { modelPool } from '../workflows/model-pool';

// A name, not an import: activities must not load workflow code.
const acquireInstanceSignalName = 'acquireInstance';

export function createPoolActivities({ pool, temporal, taskQueue }: { pool: DatabasePool; temporal: Client; taskQueue: string }) {
  return {
    async loadPoolSettings({ modelId }: { modelId: string }): Promise<PoolSettings & { startupTimeoutSeconds: number }> {
      const model = await findModel(pool, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      return {
        minInstances: model.minInstances,
        maxInstances: model.maxInstances,
        keepWarmSeconds: model.keepWarmSeconds,
        maxConcurrency: model.maxConcurrency,
        startupTimeoutSeconds: model.startupTimeoutSeconds,
      };
    },

    /**
     * A signal from one workflow to another, sent as a client call: the server hands it over at
     * once, where a workflow's own external signal waits for the server's transfer queue
     * (~150 ms per hop on the dev server, measured by test/bench/throughput).
     */
    async signalWorkflow({ workflowId, signalName, args }: { workflowId: string; signalName: string; args: unknown[] }): Promise<boolean> {
      try {
        await temporal.workflow.getHandle(workflowId).signal(signalName, ...args);
        return true;
      } catch (error) {
        if (error instanceof WorkflowNotFoundError) return false;
        throw error;
      }
    },

    /** Queues the request at its model's pool, starting the pool if it is not running. */
    async acquireFromPool({ modelId, ...waiter }: PoolWaiter & { modelId: string }): Promise<void> {
      await temporal.workflow.signalWithStart<typeof modelPool, [PoolWaiter]>('modelPool', {
        workflowId: poolWorkflowId(taskQueue, modelId),
        taskQueue,
        args: [{ modelId }],
        signal: acquireInstanceSignalName,
        signalArgs: [waiter],
      });
    },
  };
}
