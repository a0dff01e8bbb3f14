import { proxyLocalActivities } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { RequestEnd } from '../domain/work-request';
import type { WorkRequestInput } from './contracts';
import { runRequest } from './work-request';
import { databasePatienceSeconds, localInferenceLimitSeconds } from '../domain/request-limits';

// As the first workflow's steps (workflows/work-request.ts): retried at once while the API's
// commit is not visible yet, and for as long as the database does not answer. It calls only
// models that answer within the local limit, and waits on the database as the inference does.
const { serveWarmRequest } = proxyLocalActivities<PodiumActivities>({
  startToCloseTimeout: `${localInferenceLimitSeconds + databasePatienceSeconds} seconds`,
  retry: { initialInterval: '10 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds' },
});

/**
 * One work request, version 2 (issue 30). A warm request is one workflow task and one local
 * activity (activities/warm-request.ts). That activity begins the request on a free slot, calls
 * the model and finishes the request. So the history holds only the start, the activity's
 * marker, the final status's search attribute and the end.
 *
 * A request that finds no free slot, or others waiting, goes on as the first version does
 * (workRequest), from the slot or the place in line it was given.
 */
export async function modelRequest2(input: WorkRequestInput): Promise<RequestEnd> {
  return runRequest(
    input,
    { failsVisibly: true, earlyHandover: true },
    async ({ requestId, modelId, workflowId, inferenceScope }) => {
      const answer = await inferenceScope.run(() =>
        serveWarmRequest.executeWithOptions(
          { summary: `serve on a free slot of a warm ${modelId} instance, or queue` },
          [{ requestId, modelId, workflowId }],
        ),
      );
      switch (answer.kind) {
        case 'ENDED':
          return { settings: answer.settings, ended: answer.end };
        case 'ELSEWHERE':
          return { settings: answer.settings, offered: answer.slot };
        case 'CALL_FAILED':
          return { settings: answer.settings, failed: { slot: answer.slot, failure: answer.failure } };
      }
    },
  );
}
