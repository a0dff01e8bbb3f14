import { log, type Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { saveInferenceFailure } from '../db/work-requests';
import type { RequestError, RequestResult } from '../domain/work-request';
import { untilStored } from './bookkeeping';
import { callModel, modelErrorAttempts } from './model-call';
import { createChunkRelay } from './chunk-relay';
import type { PayloadStore } from '../lib/payload-store';
import type { InstanceRuntime } from './runtime/instance-runtime';

/**
 * One call to the model on an instance the request holds, as every path makes it: the pod is
 * marked with its request meanwhile (for people looking at the cluster; never delaying the call,
 * a failure to mark only logged), and what the model said when it failed is kept with the
 * request, never in history. The answer, or the failure and whether another try is worth it.
 */
export async function callOnInstance(
  { db, runtime, payloads }: { db: DatabasePool; runtime: InstanceRuntime; payloads: PayloadStore },
  work: Parameters<typeof callModel>[0] & { runtimeRef: string | null },
  context: Context,
  interrupted: AbortSignal,
): Promise<{ result: RequestResult } | { failure: RequestError; again: boolean }> {
  const { requestId, instanceId, runtimeRef } = work;
  const marked = (runtimeRef ? runtime.recordAssignment(runtimeRef, requestId) : Promise.resolve()).catch(
    (error: Error) =>
      log.warn('could not mark the instance with its request', { instanceId, requestId, error: error.message }),
  );
  const answer = await callModel(work, context, interrupted, () => createChunkRelay(db, requestId), {
    db,
    payloads,
  }).finally(() => marked);
  if ('result' in answer) return answer;
  const { code, message, detail, retryable } = answer.failure;
  await untilStored(() => saveInferenceFailure(db, requestId, { code, message: detail }), context.cancellationSignal);
  return { failure: { code, message }, again: retryable && context.info.attempt < modelErrorAttempts };
}
