import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { startProcessing } from '../db/work-request-lifecycle';
import { loadInferenceWork, saveWorkRequestResult } from '../db/work-requests';
import { inferenceResponse } from '../domain/inference-protocol';
import type { InstanceRuntime } from './runtime/instance-runtime';

const heartbeatMs = 1_000;

async function errorText(response: Response): Promise<string> {
  const text = await response.text().catch(() => '');
  try {
    const body = JSON.parse(text) as { error?: unknown };
    if (typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: use the text itself
  }
  return text.slice(0, 500) || response.statusText;
}

export function createInferenceActivities({ db, runtime }: { db: DatabasePool; runtime: InstanceRuntime }) {
  return {
    /**
     * Marks the request PROCESSING on its assigned instance, sends it the input (Open Inference
     * Protocol v2) and stores the answer. Input and result stay between Postgres and the model:
     * never in workflow history. Heartbeats, so a cancel reaches it while the model works.
     */
    async runInference({ requestId, instanceId, endpoint }: { requestId: string; instanceId: string; endpoint: string }): Promise<void> {
      const context = Context.current();
      const work = await loadInferenceWork(db, requestId, instanceId);
      // The slot must still be this request's (a lost hand-over signal can offer one twice).
      if (!work?.holdsSlot) {
        throw ApplicationFailure.nonRetryable(`request ${requestId} does not hold a slot of instance ${instanceId}`, 'SLOT_NOT_HELD');
      }
      if (!(await startProcessing(db, requestId, instanceId))) {
        throw ApplicationFailure.nonRetryable(`request ${requestId} is no longer waiting`, 'REQUEST_NOT_WAITING');
      }
      const { modelId, input, runtimeRef } = work;
      // Marks the pod with its request (for people looking at the cluster) without delaying the
      // inference; a failure to mark is logged, never fatal.
      const marked = (runtimeRef ? runtime.recordAssignment(runtimeRef, requestId) : Promise.resolve())
        .catch((error: Error) => log.warn('could not mark the instance with its request', { instanceId, requestId, error: error.message }));
      // As a regular activity (a slow model) it heartbeats, so a cancel reaches it at once. A
      // local one has no heartbeat: Core would warn of an unknown activity.
      const heartbeat = () => {
        if (!context.info.isLocal) context.heartbeat();
      };
      heartbeat();
      const beat = setInterval(heartbeat, heartbeatMs);
      let response: Response;
      try {
        response = await fetch(`${endpoint}/v2/models/${encodeURIComponent(modelId)}/infer`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ ...input, id: requestId }),
          signal: context.cancellationSignal,
        });
      } catch (error) {
        if (context.cancellationSignal.aborted) throw error;
        throw ApplicationFailure.nonRetryable(`instance ${instanceId} did not answer: ${(error as Error).message}`, 'INSTANCE_UNREACHABLE');
      } finally {
        clearInterval(beat);
        await marked;
      }
      if (response.status >= 400 && response.status < 500) {
        throw ApplicationFailure.nonRetryable(`model ${modelId} rejected the input: ${await errorText(response)}`, 'MODEL_REJECTED_INPUT');
      }
      if (!response.ok) {
        throw ApplicationFailure.retryable(`model ${modelId} answered ${response.status}: ${await errorText(response)}`, 'MODEL_ERROR');
      }
      const parsed = inferenceResponse.safeParse(await response.json().catch(() => null));
      if (!parsed.success) {
        throw ApplicationFailure.nonRetryable(`model ${modelId} answered with something that is not an inference response`, 'MODEL_BAD_RESPONSE');
      }
      await saveWorkRequestResult(db, requestId, parsed.data);
    },
  };
}
