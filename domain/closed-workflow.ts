import type { RequestError } from './work-request';

/** How Temporal closed a request's workflow without the workflow ending its request. */
export const closedWorkflowStatuses = ['TERMINATED', 'TIMED_OUT', 'FAILED', 'CANCELLED'] as const;
export type ClosedWorkflowStatus = (typeof closedWorkflowStatuses)[number];

/**
 * Pure: how the reconciler ends a request still open in the database whose workflow Temporal
 * closed (an operator's terminate, a workflow timeout, a workflow that failed, a cancel the
 * workflow could not act on).
 */
export function endOfClosedWorkflow(
  closed: ClosedWorkflowStatus,
  workflowId: string,
): { status: 'CANCELLED' } | { status: 'FAILED'; error: RequestError } {
  switch (closed) {
    case 'CANCELLED':
      return { status: 'CANCELLED' };
    case 'TERMINATED':
      return {
        status: 'FAILED',
        error: { code: 'WORKFLOW_TERMINATED', message: `the request's workflow ${workflowId} was terminated` },
      };
    case 'TIMED_OUT':
      return {
        status: 'FAILED',
        error: { code: 'WORKFLOW_TIMED_OUT', message: `the request's workflow ${workflowId} timed out` },
      };
    case 'FAILED':
      return {
        status: 'FAILED',
        error: { code: 'WORKFLOW_FAILED', message: `the request's workflow ${workflowId} failed` },
      };
  }
}
