import { log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { releaseSlot, type Handover } from '../db/instance-slots';
import { poolWorkflowSummary } from '../domain/workflow-summaries';
import {
  instanceAssignedSignal,
  poolWorkflowId,
  wakePoolSignal,
  workflowNames,
  type PodiumWorkflows,
} from '../workflows/contracts';
import type { SignalDeps } from './signal-deps';

/**
 * What the slot activities tell workflows: a request that was handed a slot, and a pool that
 * should look again. Signals go out as client calls, after the transaction that decided them.
 */
export function createSlotSignals({ db, temporal, taskQueue }: SignalDeps) {
  /**
   * Tells each request the slot it now holds. A request whose workflow is gone (terminated, say)
   * never will use it: the slot goes on to the next waiter. Any other failure is only logged: a
   * waiting request also finds its slot when it next checks (each startup timeout).
   */
  async function tellHandovers(modelId: string, handovers: readonly Handover[]): Promise<void> {
    await Promise.all(
      handovers.map(async ({ requestId, workflowId, instanceId, endpoint }) => {
        try {
          await temporal.workflow.getHandle(workflowId).signal(instanceAssignedSignal, { instanceId, endpoint });
        } catch (error) {
          if (!(error instanceof WorkflowNotFoundError)) {
            log.warn('could not tell a request its slot', { requestId, workflowId, error: (error as Error).message });
            return;
          }
          const next = await releaseSlot(db, { modelId, requestId, healthy: true });
          await tellHandovers(modelId, next.handovers);
        }
      }),
    );
  }

  /** Wakes the model's pool, starting it if it is not running. */
  async function wakePool(modelId: string): Promise<void> {
    await temporal.workflow.signalWithStart<PodiumWorkflows['modelPool'], []>(workflowNames.modelPool, {
      workflowId: poolWorkflowId(taskQueue, modelId),
      taskQueue,
      args: [{ modelId }],
      ...poolWorkflowSummary(modelId),
      signal: wakePoolSignal,
      signalArgs: [],
    });
  }

  return { tellHandovers, wakePool };
}
