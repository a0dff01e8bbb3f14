import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { beginWarmRequest, finishWarmRequest } from '../db/warm-requests';
import type { RequestStart } from '../db/work-requests';
import type { Slot } from '../domain/model-pool';
import type { RequestEnd, RequestError } from '../domain/work-request';
import { observeRequestEnd } from '../lib/metrics';
import { retriedWhileDatabaseIsDown, untilStored } from './bookkeeping';
import { callOnInstance } from './instance-call';
import { requestEndLine } from './request-end-line';
import { requestRowMissing } from './work-request';
import type { PayloadStore } from '../lib/payload-store';
import type { InstanceRuntime } from './runtime/instance-runtime';
import { createSlotKeeper } from './slot-keeper';
import { watchInterrupts, type RequestInterrupts } from './request-interrupts';
import { localInferenceLimitSeconds } from '../domain/request-limits';
import type { SignalDeps } from './signal-deps';

/**
 * How the warm step went:
 * - ENDED: the request completed, or had ended before;
 * - ELSEWHERE: it goes on by the general path, with the slot that path gave it, or in line;
 * - CALL_FAILED: the call on its slot failed for good. The workflow replaces the instance or
 *   fails the request.
 */
export type WarmRequestAnswer =
  | { kind: 'ENDED'; settings: RequestStart; end: RequestEnd }
  | { kind: 'ELSEWHERE'; settings: RequestStart; slot: Slot | null }
  | { kind: 'CALL_FAILED'; settings: RequestStart; slot: Slot; failure: RequestError };

export function createWarmRequestActivities(
  deps: SignalDeps & { runtime: InstanceRuntime; payloads: PayloadStore; interrupts?: RequestInterrupts },
) {
  const { db, runtime } = deps;
  const { acquire, release } = createSlotKeeper(deps);

  return retriedWhileDatabaseIsDown({
    /**
     * A whole warm request in one local activity (the modelRequest2 workflow's first step): one
     * statement begins it on a free slot, the model is called, one transaction finishes it
     * (result, COMPLETE, RELEASED, stats row, lease). When there is no free slot or somebody
     * waits, it takes today's general path instead: queue (or the slot that path finds), and the
     * workflow goes on from there. Safe to retry at every point: the statements know a step
     * they have taken. Input and result stay between PostgreSQL and the model.
     */
    async serveWarmRequest({
      requestId,
      modelId,
      workflowId,
    }: {
      requestId: string;
      modelId: string;
      workflowId: string;
    }): Promise<WarmRequestAnswer> {
      const context = Context.current();
      // Watched from the start: an interrupt that comes while it begins still cuts the call.
      const interrupt = watchInterrupts(deps.interrupts, context.info.workflowType, requestId);
      try {
        return await serve(requestId, modelId, workflowId, context, interrupt.signal);
      } finally {
        interrupt.stop();
      }
    },
  });

  async function serve(
    requestId: string,
    modelId: string,
    workflowId: string,
    context: Context,
    interrupted: AbortSignal,
  ): Promise<WarmRequestAnswer> {
    const begun = await beginWarmRequest(db, {
      requestId,
      workflowId,
      maxRequestTimeoutSeconds: localInferenceLimitSeconds,
    });
    if (begun.outcome === 'NOT_VISIBLE') throw requestRowMissing(requestId, context.info.attempt);
    const { settings } = begun;
    if (begun.outcome === 'ENDED') {
      // A retried step whose finish was committed: its slot too must be given back.
      await release({ requestId, modelId }, true);
      const end: RequestEnd =
        begun.status === 'FAILED'
          ? { status: 'FAILED', error: begun.error ?? { code: 'MODEL_REQUEST_FAILED', message: 'the request failed' } }
          : { status: begun.status };
      return { kind: 'ENDED', settings, end };
    }
    if (begun.outcome === 'ELSEWHERE') {
      return {
        kind: 'ELSEWHERE',
        settings,
        slot: await acquire({ requestId, modelId, workflowId, requestedAt: settings.requestedAt }),
      };
    }

    const { slot, runtimeRef, servedModelName, input } = begun;
    const answer = await callOnInstance(
      { db, runtime, payloads: deps.payloads },
      {
        requestId,
        ...slot,
        runtimeRef,
        modelId,
        servedModelName,
        input,
        requestTimeoutSeconds: settings.requestTimeoutSeconds,
        deadlineAt: settings.deadlineAt,
      },
      context,
      interrupted,
    );
    if ('failure' in answer) {
      // Another try begins again on the slot it holds.
      if (answer.again) throw ApplicationFailure.retryable(answer.failure.message, answer.failure.code);
      return { kind: 'CALL_FAILED', settings, slot, failure: answer.failure };
    }

    const ended = await untilStored(() => finishWarmRequest(db, requestId, answer.result), context.cancellationSignal);
    if (!ended.ended) {
      // Its lease goes back whatever ended it: the general path's release does nothing when none is held.
      await release({ requestId, modelId }, true);
      // The finish committed and its answer was lost (the connection cut); the retry found it done.
      if (ended.status === 'COMPLETE') return { kind: 'ENDED', settings, end: { status: 'COMPLETE' } };
      throw ApplicationFailure.nonRetryable(`request ${requestId} ended while its answer came`, 'REQUEST_NOT_WAITING');
    }
    // Somebody waits, or the instance drains: the general path hands the slot over, or tells the pool.
    if (!ended.released) await release({ requestId, modelId }, true);
    observeRequestEnd(ended.modelId, 'COMPLETE', ended.timings);
    log.info(
      'request ended',
      requestEndLine(requestId, { modelId: ended.modelId, status: 'COMPLETE', timings: ended.timings }, null),
    );
    return { kind: 'ENDED', settings, end: { status: 'COMPLETE' } };
  }
}
