import { ServiceError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { RequestPriority } from '../domain/request-priority';
import type { SignalDefinition } from '@temporalio/common';
import { modelNameKey, requestStatusKey } from '../workflows/search-attributes';
import type { AdminStatusChange } from '../domain/work-request';
import { withTimeLimit } from '../domain/time-limit';
import { requestWorkflowSummary } from '../domain/workflow-summaries';
import { budgetLeft, setAside } from './http/request-budget';
import { ApiError } from './http/errors';
import {
  adminSetStatusSignal,
  cancelRequestSignal,
  requestWorkflowId,
  workflowNames,
  type PodiumWorkflows,
} from '../workflows/contracts';

/**
 * See `start`; continued runs (re-queues) keep it. Temporal's default: a cancel no longer
 * depends on it (`interrupt` cuts a running call at once), and a short one made every workflow
 * task of a worker starved of CPU time out and run again, the load feeding itself.
 */
export const requestWorkflowTaskTimeout = '10 seconds';

/** How long a call to Temporal may take before the API answers 503 TEMPORAL_UNAVAILABLE. */
const temporalDeadlineMs = 1_500;
/** gRPC's DEADLINE_EXCEEDED and UNAVAILABLE: Temporal did not answer, or cannot be reached. */
const outageCodes = new Set([4, 14]);

/** The API's side of the request workflows: start, and signal while they run. */
export function requestWorkflows(
  temporal: Client,
  taskQueue: string,
  {
    eagerStart,
    interrupt = async () => undefined,
  }: {
    eagerStart: boolean;
    /** After a signal that stops a request: cut its running model call now (db/request-interrupts.ts). */
    interrupt?: (requestId: string) => Promise<void>;
  },
) {
  /**
   * A call to Temporal that, when Temporal is down, fails with a coded 503 within the deadline.
   * The race keeps the time even when the client's own retries overrun the call's deadline (by
   * up to ~0.7 s while a restarting Temporal refuses connections).
   */
  async function reach<T>(call: () => Promise<T>): Promise<T> {
    const unavailable = () => new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'Temporal does not answer; try again shortly');
    const ms = budgetLeft(temporalDeadlineMs);
    try {
      return await withTimeLimit(temporal.withDeadline(Date.now() + ms, call), ms, () => {
        throw unavailable();
      });
    } catch (error) {
      const code = (error as { cause?: { code?: unknown } }).cause?.code;
      if (error instanceof ServiceError && typeof code === 'number' && outageCodes.has(code)) throw unavailable();
      throw error;
    }
  }

  /**
   * Signals the running workflow to stop its request; false when it is not running (any more).
   * The signal is the durable word; the interrupt after it only makes a running call stop now,
   * and a failed one changes nothing.
   */
  async function signalStop<Args extends unknown[]>(
    requestId: string,
    definition: SignalDefinition<Args>,
    ...args: Args
  ): Promise<boolean> {
    try {
      await reach(() => temporal.workflow.getHandle(requestWorkflowId(requestId)).signal(definition, ...args));
      await interrupt(requestId).catch(() => undefined);
      return true;
    } catch (error) {
      if (error instanceof WorkflowNotFoundError) return false;
      throw error;
    }
  }

  return {
    /**
     * Starts the request's workflow: a 503 TEMPORAL_UNAVAILABLE when Temporal does not answer
     * within the deadline, WORKFLOW_START_FAILED when it refuses. The callers start it inside
     * the transaction that writes the row, so either way nothing is left changed.
     */
    async start(
      requestId: string,
      modelId: string,
      options: {
        ownerKind?: 'user' | 'anonymous';
        priority?: RequestPriority;
        deadlineAt?: number | null;
        rerun?: boolean;
      } = {},
    ) {
      await reach(() =>
        temporal.workflow.start<PodiumWorkflows['modelRequest2']>(workflowNames.modelRequest2, {
          workflowId: requestWorkflowId(requestId),
          taskQueue,
          args: [{ requestId, modelId }],
          // What the Web UI's list says of it: the model and who asked, never the input.
          ...requestWorkflowSummary({ requestId, modelId, ...options }),
          typedSearchAttributes: [
            { key: modelNameKey, value: modelId },
            { key: requestStatusKey, value: 'REQUESTED' },
          ],
          workflowTaskTimeout: requestWorkflowTaskTimeout,
          // A re-queue after the last run ended starts a new run under the same id.
          workflowIdReusePolicy: options.rerun ? 'ALLOW_DUPLICATE' : 'REJECT_DUPLICATE',
          requestEagerStart: eagerStart,
        }),
      ).catch((error: unknown) => {
        if (error instanceof ApiError) throw error;
        throw new ApiError(
          503,
          'WORKFLOW_START_FAILED',
          'The request could not be scheduled; nothing changed, try again shortly',
          {
            reason: error instanceof Error ? error.message : String(error),
          },
        );
      });
    },

    /**
     * Waits up to `timeoutMs` for the request's workflow run to close (one finishing right now, or
     * still delivering its webhook): true once it has. The wait is set aside from the route's
     * budget, as a long poll's is: its looks at the workflow, dozens under load, ate the budget
     * and left the re-queue's start a 503 that blamed Temporal.
     */
    async waitUntilClosed(requestId: string, timeoutMs: number): Promise<boolean> {
      const handle = temporal.workflow.getHandle(requestWorkflowId(requestId));
      const deadline = Date.now() + timeoutMs;
      const pauseMs = 50;
      setAside(timeoutMs);
      for (;;) {
        if ((await reach(() => handle.describe())).status.name !== 'RUNNING') return true;
        if (Date.now() + pauseMs > deadline) return false;
        await new Promise((resolve) => setTimeout(resolve, pauseMs));
      }
    },

    /** The owner's cancel; false when the workflow is not running (any more). */
    cancel: (requestId: string) => signalStop(requestId, cancelRequestSignal),
    /** An admin's fail or re-queue; false when the workflow is not running (any more). */
    setStatus: (requestId: string, change: AdminStatusChange) => signalStop(requestId, adminSetStatusSignal, change),
  };
}
export type RequestWorkflows = ReturnType<typeof requestWorkflows>;
