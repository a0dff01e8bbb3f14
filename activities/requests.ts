import { ApplicationFailure } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { findModel } from '../db/models';
import { recordRequestStats } from '../db/request-stats';
import { findWorkRequestStatus, finishWorkRequest, markWorkRequestProcessing } from '../db/work-requests';
import type { RequestError } from '../domain/work-request';

export type RequestTimeouts = { startupTimeoutSeconds: number; requestTimeoutSeconds: number };

export function createRequestActivities({ pool }: { pool: DatabasePool }) {
  return {
    /** REQUESTED → PROCESSING; returns the model's timeouts for the rest of the workflow. */
    async beginRequest({ requestId, modelId }: { requestId: string; modelId: string }): Promise<RequestTimeouts> {
      if (!(await markWorkRequestProcessing(pool, requestId))) {
        const status = await findWorkRequestStatus(pool, requestId);
        // The API commits the row right after starting the workflow: not visible yet, try again.
        if (status === null) throw ApplicationFailure.retryable(`request ${requestId} is not visible yet`, 'NOT_VISIBLE_YET');
        if (status !== 'PROCESSING') {
          throw ApplicationFailure.nonRetryable(`request ${requestId} is already ${status}`, 'REQUEST_ALREADY_FINAL');
        }
      }
      const model = await findModel(pool, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      return { startupTimeoutSeconds: model.startupTimeoutSeconds, requestTimeoutSeconds: model.requestTimeoutSeconds };
    },

    /** COMPLETE and its stats row, in one transaction, once. */
    async completeRequest({ requestId }: { requestId: string }): Promise<void> {
      await pool.transaction(async (transaction) => {
        if (await finishWorkRequest(transaction, { id: requestId, status: 'COMPLETE' })) {
          await recordRequestStats(transaction, requestId, true);
        }
      });
    },

    /** FAILED with the reason and its stats row, in one transaction, once. */
    async failRequest({ requestId, error }: { requestId: string; error: RequestError }): Promise<void> {
      await pool.transaction(async (transaction) => {
        if (await finishWorkRequest(transaction, { id: requestId, status: 'FAILED', error })) {
          await recordRequestStats(transaction, requestId, false);
        }
      });
    },
  };
}
