import { ApplicationFailure, log } from '@temporalio/activity';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { findModel } from '../db/models';
import { poolWorkflowId, type PoolInstance, type PoolSettings, type PoolWaiter } from '../domain/pool-plan';
import { describePoolHealth } from './pool-health';
import type { modelPool } from '../workflows/model-pool';

// Names, not imports: activities must not load workflow code.
const acquireInstanceSignalName = 'acquireInstance';
const poolStateQueryName = 'poolState';
type PoolState = { instances: PoolInstance[]; waiting: PoolWaiter[] };

export type PoolQueueState = { state: 'QUEUED' | 'MISSING' | 'FAILING'; message: string | null };
/** How long a request's look at its pool may take (see inspectPoolQueue). */
const inspectionDeadlineMs = 3_000;

type Signal = { workflowId: string; signalName: string; args: unknown[] };

export function createPoolActivities({ pool, temporal, taskQueue }: { pool: DatabasePool; temporal: Client; taskQueue: string }) {
  /** Sends one signal: true once delivered, false when the workflow is gone; other errors throw. */
  async function deliver({ workflowId, signalName, args }: Signal): Promise<boolean> {
    try {
      await temporal.workflow.getHandle(workflowId).signal(signalName, ...args);
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

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
    signalWorkflow: deliver,

    /**
     * Several signals at once (the model pool's outbox), each to its own workflow: true where
     * delivered, false where the workflow is gone or could not be reached. Never throws, so a
     * retry can never send a delivered signal twice.
     */
    async signalWorkflows({ signals }: { signals: Signal[] }): Promise<boolean[]> {
      return Promise.all(
        signals.map((signal) =>
          deliver(signal).catch((error: Error) => {
            log.warn('signal not delivered', { workflowId: signal.workflowId, signalName: signal.signalName, error: error.message });
            return false;
          }),
        ),
      );
    },

    /**
     * Where a request that has waited its model's startup timeout stands at the pool: still
     * QUEUED (or assigned, the signal on its way), MISSING (the pool is not running, or has lost
     * it: queue again), or FAILING (the pool's workflow task keeps failing: a log line says so).
     */
    async inspectPoolQueue({ modelId, requestId }: { modelId: string; requestId: string }): Promise<PoolQueueState> {
      // A busy pool answers queries late: the request must not wait on the answer (it holds up
      // the request's workflow, which may have its instance by then), so each look is bounded,
      // and one that runs out means "cannot tell now: look again next time".
      const bounded = <T>(look: () => Promise<T>) => temporal.withDeadline(Date.now() + inspectionDeadlineMs, look);
      const unknown: PoolQueueState = { state: 'QUEUED', message: null };
      const health = await bounded(() => describePoolHealth(temporal, taskQueue, modelId)).catch(() => null);
      if (!health) return unknown;
      if (health.state === 'NOT_RUNNING') return { state: 'MISSING', message: null };
      if (health.state === 'FAILING') {
        log.warn('model pool failing', { workflowId: health.workflowId, workflowTaskAttempt: health.workflowTaskAttempt, requestId });
        return { state: 'FAILING', message: health.message };
      }
      try {
        const state = await bounded(() => temporal.workflow.getHandle(health.workflowId).query<PoolState>(poolStateQueryName));
        const known = state.waiting.some((w) => w.requestId === requestId) || state.instances.some((i) => i.requestIds.includes(requestId));
        return { state: known ? 'QUEUED' : 'MISSING', message: null };
      } catch {
        return unknown;
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
