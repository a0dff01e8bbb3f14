import { log } from '@temporalio/activity';
import { endRequestOfClosedWorkflow } from '../db/work-request-lifecycle';
import { observeRequestEnd } from '../lib/metrics';
import { closedWorkflowStatuses, endOfClosedWorkflow, type ClosedWorkflowStatus } from '../domain/closed-workflow';
import { releaseSlot } from '../db/instance-slots';
import { requestWorkflowTypes } from '../workflows/contracts';
import { createSlotSignals } from './slot-signals';
import type { SignalDeps } from './signal-deps';

// Temporal's visibility names for the statuses of domain/closed-workflow.
const visibilityStatus: Record<ClosedWorkflowStatus, string> = {
  TERMINATED: 'Terminated',
  TIMED_OUT: 'TimedOut',
  FAILED: 'Failed',
  CANCELLED: 'Canceled',
};

/**
 * The visibility query of request workflows of `taskQueue` closed by Temporal since `since`. It
 * must work on every visibility store Podium runs on (SQLite, PostgreSQL: visibility-queries.test.ts).
 */
export function closedRequestsQuery(taskQueue: string, since: Date): string {
  const statuses = closedWorkflowStatuses.map((status) => `'${visibilityStatus[status]}'`).join(', ');
  return (
    `WorkflowType IN (${requestWorkflowTypes.map((type) => `'${type}'`).join(', ')}) AND TaskQueue = '${taskQueue}' ` +
    `AND ExecutionStatus IN (${statuses}) AND CloseTime > '${since.toISOString()}'`
  );
}

/** What keeps requests true to their workflows when Temporal closes one behind Podium's back. */
export function createReconcilerActivities({ db, temporal, taskQueue }: SignalDeps) {
  const slots = createSlotSignals({ db, temporal, taskQueue });
  return {
    /**
     * Request workflows of this task queue that closed in the last `lookbackSeconds` without
     * ending their request (terminated, timed out, failed, or cancelled before they could act):
     * each request ends (FAILED `WORKFLOW_TERMINATED`/`WORKFLOW_TIMED_OUT`/`WORKFLOW_FAILED`, or
     * CANCELLED) and lets go of its slot or queue place. Idempotent: an ended request is left alone.
     */
    async reconcileClosedRequests({ lookbackSeconds }: { lookbackSeconds: number }): Promise<{ ended: number }> {
      const query = closedRequestsQuery(taskQueue, new Date(Date.now() - lookbackSeconds * 1000));
      let ended = 0;
      for await (const execution of temporal.workflow.list({ query })) {
        // The client names statuses as domain/closed-workflow does.
        const closed = closedWorkflowStatuses.find((status) => status === execution.status.name);
        if (!closed) continue;
        const request = await endRequestOfClosedWorkflow(
          db,
          execution.workflowId,
          endOfClosedWorkflow(closed, execution.workflowId),
        );
        if (!request) continue;
        ended++;
        const { modelId, status, timings } = request.ended;
        observeRequestEnd(modelId, status, timings);
        log.warn('request ended for its closed workflow', {
          workflowId: execution.workflowId,
          closed,
          requestId: request.requestId,
        });
        // Its slot goes to the next in line, or its place in the queue is freed.
        await slots.tellHandovers(
          modelId,
          (await releaseSlot(db, { modelId, requestId: request.requestId, healthy: true })).handovers,
        );
      }
      return { ended };
    },
  };
}
