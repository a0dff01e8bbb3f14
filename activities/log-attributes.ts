import type { ActivityInterceptorsFactory } from '@temporalio/worker';
import { requestWorkflowTypes } from '../workflows/contracts';

/**
 * Every log line of a request's activities names its request (`requestId`, beside the
 * `workflowId` the SDK adds), so one request's lines are found with one filter.
 */
export const requestLogAttributes: ActivityInterceptorsFactory = (context) => {
  const { workflowType, workflowExecution } = context.info;
  const ids =
    workflowType && requestWorkflowTypes.includes(workflowType) && workflowExecution
      ? { requestId: workflowExecution.workflowId.replace(/^request-/, '') }
      : {};
  return { outbound: { getLogAttributes: (input, next) => next({ ...input, ...ids }) } };
};
