import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  TimeoutFailure,
  defineQuery,
  proxyActivities,
  setHandler,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { RequestError } from '../domain/work-request';

export type ModelRequestInput = { requestId: string; modelId: string };
export type ModelRequestStage = 'STARTING' | 'STARTING_INSTANCE' | 'AWAITING_READY' | 'INFERRING' | 'FINISHING' | 'DONE';
export type ModelRequestOutcome = { status: 'COMPLETE' } | { status: 'FAILED'; error: RequestError };

export const modelRequestStageQuery = defineQuery<{ stage: ModelRequestStage; instanceId: string | null }>(
  'modelRequestStage',
);

const bookkeeping = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '100 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 10 },
});

/** The failure's own code and message, without Temporal's wrapping. */
function describeFailure(error: unknown, stage: ModelRequestStage): RequestError {
  const cause = error instanceof ActivityFailure ? error.cause : error;
  if (cause instanceof TimeoutFailure) {
    const code = stage === 'INFERRING' ? 'REQUEST_TIMEOUT' : 'INSTANCE_STARTUP_TIMEOUT';
    return { code, message: `timed out while ${stage.toLowerCase().replaceAll('_', ' ')} (${cause.timeoutType})` };
  }
  if (cause instanceof ApplicationFailure) return { code: cause.type ?? 'MODEL_REQUEST_FAILED', message: cause.message };
  if (cause instanceof Error) return { code: 'MODEL_REQUEST_FAILED', message: cause.message };
  return { code: 'MODEL_REQUEST_FAILED', message: String(cause) };
}

/**
 * One work request: get an instance of the model, wait for it to be ready, run the inference,
 * record the outcome and its stats, stop the instance.
 */
export async function modelRequest({ requestId, modelId }: ModelRequestInput): Promise<ModelRequestOutcome> {
  let stage: ModelRequestStage = 'STARTING';
  let instanceId: string | null = null;
  setHandler(modelRequestStageQuery, () => ({ stage, instanceId }));

  const timeouts = await bookkeeping.beginRequest({ requestId, modelId });
  const instances = proxyActivities<PodiumActivities>({
    startToCloseTimeout: `${timeouts.startupTimeoutSeconds} seconds`,
    heartbeatTimeout: '10 seconds',
    retry: { maximumAttempts: 1 },
  });
  const inference = proxyActivities<PodiumActivities>({
    startToCloseTimeout: `${timeouts.requestTimeoutSeconds} seconds`,
    retry: {
      initialInterval: '200 milliseconds',
      backoffCoefficient: 2,
      maximumAttempts: 3,
      nonRetryableErrorTypes: ['MODEL_REJECTED_INPUT', 'MODEL_BAD_RESPONSE'],
    },
  });

  // Stopping waits out the model's grace period before it kills.
  const teardown = proxyActivities<PodiumActivities>({
    startToCloseTimeout: '30 seconds',
    retry: { initialInterval: '1 second', maximumAttempts: 5 },
  });

  try {
    stage = 'STARTING_INSTANCE';
    const instance = await instances.startInstance({ requestId, modelId });
    instanceId = instance.instanceId;
    stage = 'AWAITING_READY';
    await instances.awaitInstanceReady({ ...instance, requestId });
    stage = 'INFERRING';
    await inference.runInference({ requestId, endpoint: instance.endpoint });
    stage = 'FINISHING';
    await bookkeeping.completeRequest({ requestId });
    return { status: 'COMPLETE' };
  } catch (error) {
    const reason = describeFailure(error, stage);
    stage = 'FINISHING';
    await bookkeeping.failRequest({ requestId, error: reason });
    return { status: 'FAILED', error: reason };
  } finally {
    const toStop = instanceId;
    if (toStop) await CancellationScope.nonCancellable(() => teardown.stopInstance({ instanceId: toStop, requestId }));
    stage = 'DONE';
  }
}
