import { ApplicationFailure } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { endWorkRequest, requeueWorkRequest } from '../db/work-request-lifecycle';
import { findModel } from '../db/models';
import { findRequestStart } from '../db/work-requests';
import type { RequestError } from '../domain/work-request';

export type RequestSettings = { requestTimeoutSeconds: number; startupTimeoutSeconds: number; hasWebhook: boolean; requestedAt: number };
type Held = { requestId: string; instanceId?: string };

export function createRequestActivities({ pool }: { pool: DatabasePool }) {
  return {
    /** Checks the request is there and waiting; returns the model's timeouts and whether to call back. */
    async beginRequest({ requestId, modelId }: { requestId: string; modelId: string }): Promise<RequestSettings> {
      const row = await findRequestStart(pool, requestId);
      // The API commits the row right after starting the workflow: not visible yet, try again.
      if (!row) throw ApplicationFailure.retryable(`request ${requestId} is not visible yet`, 'NOT_VISIBLE_YET');
      const model = await findModel(pool, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      return {
        requestTimeoutSeconds: model.requestTimeoutSeconds,
        startupTimeoutSeconds: model.startupTimeoutSeconds,
        hasWebhook: row.hasWebhook,
        requestedAt: row.requestedAt,
      };
    },

    async completeRequest({ requestId, instanceId }: Held): Promise<void> {
      await endWorkRequest(pool, { requestId, instanceId, status: 'COMPLETE' });
    },

    async failRequest({ requestId, instanceId, error }: Held & { error: RequestError }): Promise<void> {
      await endWorkRequest(pool, { requestId, instanceId, status: 'FAILED', error });
    },

    async cancelRequest({ requestId, instanceId }: Held): Promise<void> {
      await endWorkRequest(pool, { requestId, instanceId, status: 'CANCELLED' });
    },

    async requeueRequest({ requestId, instanceId }: Held): Promise<void> {
      await requeueWorkRequest(pool, requestId, instanceId);
    },
  };
}
