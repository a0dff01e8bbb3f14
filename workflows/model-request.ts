import {
  CancellationScope,
  condition,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { RequestError } from '../domain/work-request';
import { describeFailure } from './failures';
import { requestStatusKey } from './search-attributes';
import { poolWorkflowId, releaseInstanceSignal, withdrawRequestSignal } from './model-pool';
import {
  adminSetStatusSignal,
  cancelRequestSignal,
  instanceAssignedSignal,
  instanceUnavailableSignal,
  modelRequestStageQuery,
  type ModelRequestStage,
} from './request-signals';

export type ModelRequestInput = { requestId: string; modelId: string };
export type ModelRequestOutcome =
  | { status: 'COMPLETE' }
  | { status: 'FAILED'; error: RequestError }
  | { status: 'CANCELLED' }
  | { status: 'REQUEUED' };

type Interruption = { kind: 'CANCEL' } | { kind: 'ADMIN_FAIL'; reason: string } | { kind: 'REQUEUE'; reason: string };
type Assignment = { instanceId: string; endpoint: string };

// Short database and signalling steps run as local activities, inside the workflow task that
// asks for them: each regular activity costs two more workflow tasks, ~35 ms apiece on the dev
// server (test/bench/throughput). The first try of beginRequest may come before the API has
// committed the row (it starts the workflow inside its transaction): retry almost at once.
const bookkeeping = proxyLocalActivities<PodiumActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '10 milliseconds', backoffCoefficient: 2, maximumInterval: '5 seconds', maximumAttempts: 12 },
});
const webhooks = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 5 },
});

/**
 * Request runs that record this patch look at their pool after each startup timeout spent
 * queued: a pool that lost them (it ended, say) gets them again, a failing one fails them.
 */
export const requestWatchesPoolPatch = 'request-watches-pool';

/** An instance that stopped answering (its worker died, say) is replaced this many times. */
const maxInstanceReplacements = 2;

/**
 * Request runs that record this patch treat a cancellation of the workflow itself (`temporal
 * workflow cancel`, the Web UI's Cancel) as the owner's cancel: the request ends CANCELLED and
 * gives its instance back before the workflow ends Canceled.
 */
export const requestEndsOnWorkflowCancelPatch = 'request-ends-on-workflow-cancel';

/**
 * One work request: wait in the model's pool for an instance, run the inference on it, record
 * the outcome and its stats, give the instance back, then call the webhook if there is one.
 * The owner may cancel it and an admin may fail or re-queue it at any point.
 */
export async function modelRequest(input: ModelRequestInput): Promise<ModelRequestOutcome> {
  if (!patched(requestEndsOnWorkflowCancelPatch)) return serveRequest(input, () => undefined);
  // The work runs shielded from the workflow's cancellation, which arrives as a cancel instead.
  const root = CancellationScope.current();
  let cancellation: unknown = null;
  const outcome = await CancellationScope.nonCancellable(() =>
    serveRequest(input, (cancel) => {
      root.cancelRequested.catch((error: unknown) => {
        cancellation = error;
        cancel();
      });
    }),
  );
  if (cancellation && outcome.status === 'CANCELLED') throw cancellation;
  return outcome;
}

async function serveRequest(
  { requestId, modelId }: ModelRequestInput,
  onWorkflowCancel: (cancel: () => void) => void,
): Promise<ModelRequestOutcome> {
  let stage: ModelRequestStage = 'STARTING';
  let assignment: Assignment | null = null;
  let unavailable: RequestError | null = null;
  let interruption: Interruption | null = null;
  const inferenceScope = new CancellationScope();
  const watchesPool = patched(requestWatchesPoolPatch);
  const poolId = poolWorkflowId(workflowInfo().taskQueue, modelId);
  const signalPool = (signalName: string, arg: unknown) =>
    bookkeeping.signalWorkflow({ workflowId: poolId, signalName, args: [arg] }).catch(() => false);
  const giveBack = (held: Assignment, healthy: boolean) =>
    signalPool(releaseInstanceSignal.name, { instanceId: held.instanceId, requestId, healthy });

  setHandler(modelRequestStageQuery, () => ({ stage, instanceId: assignment?.instanceId ?? null }));
  setHandler(instanceAssignedSignal, (assigned) => {
    // An instance that arrives after the request stopped waiting goes straight back.
    if (interruption || stage !== 'QUEUED' || assignment) void giveBack(assigned, true);
    else assignment = assigned;
  });
  setHandler(instanceUnavailableSignal, (error) => {
    unavailable = error;
  });
  const cancel = () => {
    interruption ??= { kind: 'CANCEL' };
    inferenceScope.cancel();
  };
  setHandler(cancelRequestSignal, cancel);
  onWorkflowCancel(cancel);
  setHandler(adminSetStatusSignal, ({ status, reason }) => {
    interruption = status === 'FAILED' ? { kind: 'ADMIN_FAIL', reason } : { kind: 'REQUEUE', reason };
    inferenceScope.cancel();
  });

  const model = await bookkeeping.beginRequest({ requestId, modelId });
  const inference = proxyActivities<PodiumActivities>({
    startToCloseTimeout: `${model.requestTimeoutSeconds} seconds`,
    heartbeatTimeout: '5 seconds',
    retry: {
      initialInterval: '200 milliseconds',
      backoffCoefficient: 2,
      maximumAttempts: 3,
      nonRetryableErrorTypes: ['MODEL_REJECTED_INPUT', 'MODEL_BAD_RESPONSE', 'INSTANCE_UNREACHABLE'],
    },
  });

  let outcome: ModelRequestOutcome | null = null;
  let held: Assignment | null = null;
  let healthy = true;
  for (let replacement = 0; outcome === null && !interruption; replacement++) {
    stage = 'QUEUED';
    assignment = null;
    const waiter = { modelId, requestId, workflowId: workflowInfo().workflowId, requestedAt: model.requestedAt };
    await bookkeeping.acquireFromPool(waiter);
    const answered = () => assignment !== null || unavailable !== null || interruption !== null;
    if (!watchesPool) await condition(answered);
    // Each startup timeout without an answer: is the pool still holding this request?
    while (watchesPool && !(await condition(answered, `${model.startupTimeoutSeconds} seconds`))) {
      const queue = await bookkeeping.inspectPoolQueue({ modelId, requestId });
      if (queue.state === 'FAILING') unavailable = { code: 'MODEL_POOL_FAILING', message: queue.message! };
      else if (queue.state === 'MISSING') await bookkeeping.acquireFromPool(waiter);
    }
    if (interruption) break;
    if (unavailable) {
      outcome = { status: 'FAILED', error: unavailable };
      break;
    }
    held = assignment!;
    healthy = true;
    stage = 'INFERRING';
    upsertSearchAttributes([{ key: requestStatusKey, value: 'PROCESSING' }]);
    try {
      await inferenceScope.run(() => inference.runInference({ requestId, ...held! }));
      outcome = { status: 'COMPLETE' };
    } catch (error) {
      if (interruption && isCancellation(error)) break;
      const failure = describeFailure(error, {
        code: 'REQUEST_TIMEOUT',
        message: `the model did not answer within ${model.requestTimeoutSeconds} s`,
      });
      // A timed-out or unreachable instance is not trusted with another request.
      healthy = failure.code !== 'REQUEST_TIMEOUT' && failure.code !== 'INSTANCE_UNREACHABLE';
      if (failure.code === 'INSTANCE_UNREACHABLE' && replacement < maxInstanceReplacements) {
        await giveBack(held, false);
        held = null;
        continue;
      }
      outcome = { status: 'FAILED', error: failure };
    }
  }

  stage = 'FINISHING';
  const instanceId = held?.instanceId;
  outcome = await CancellationScope.nonCancellable(async () => {
    if (!held) await signalPool(withdrawRequestSignal.name, { requestId });
    const final = await finish(requestId, instanceId, interruption, outcome);
    // A cancelled call leaves the instance clean; one an admin had to stop may be stuck.
    if (held) await giveBack(held, healthy && (interruption === null || interruption.kind === 'CANCEL'));
    return final;
  });
  upsertSearchAttributes([{ key: requestStatusKey, value: outcome.status === 'REQUEUED' ? 'REQUESTED' : outcome.status }]);
  if (outcome.status === 'REQUEUED') return continueAsNew<typeof modelRequest>({ requestId, modelId });
  if (model.hasWebhook) {
    // Every try is recorded in webhook_deliveries; a receiver that never answers does not
    // change how the request ended.
    await webhooks.deliverWebhook({ requestId }).catch(() => undefined);
  }
  stage = 'DONE';
  return outcome;
}

/** Records how the request ended: the interruption wins over what the inference did. */
async function finish(
  requestId: string,
  instanceId: string | undefined,
  interruption: Interruption | null,
  outcome: ModelRequestOutcome | null,
): Promise<ModelRequestOutcome> {
  // A result already stored stands: an interruption that came too late changes nothing.
  if (outcome?.status === 'COMPLETE') {
    await bookkeeping.completeRequest({ requestId, instanceId });
    return outcome;
  }
  if (interruption?.kind === 'CANCEL') {
    await bookkeeping.cancelRequest({ requestId, instanceId });
    return { status: 'CANCELLED' };
  }
  if (interruption?.kind === 'REQUEUE') {
    await bookkeeping.requeueRequest({ requestId, instanceId });
    return { status: 'REQUEUED' };
  }
  if (interruption?.kind === 'ADMIN_FAIL') {
    const error = { code: 'FAILED_BY_ADMIN', message: interruption.reason };
    await bookkeeping.failRequest({ requestId, instanceId, error });
    return { status: 'FAILED', error };
  }
  const error = outcome?.status === 'FAILED' ? outcome.error : { code: 'MODEL_REQUEST_FAILED', message: 'no outcome' };
  await bookkeeping.failRequest({ requestId, instanceId, error });
  return { status: 'FAILED', error };
}
