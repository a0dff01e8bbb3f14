import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { startProcessing } from '../db/work-request-lifecycle';
import { loadInferenceWork, saveWorkRequestResult } from '../db/work-requests';
import { retriedWhileDatabaseIsDown, untilStored } from './bookkeeping';
import { callOnInstance } from './instance-call';
import { watchInterrupts, type RequestInterrupts } from './request-interrupts';
import type { PayloadStore } from '../lib/payload-store';
import type { InstanceRuntime } from './runtime/instance-runtime';

const heartbeatMs = 1_000;

export function createInferenceActivities({
  db,
  runtime,
  payloads,
  interrupts,
}: {
  db: DatabasePool;
  runtime: InstanceRuntime;
  payloads: PayloadStore;
  interrupts?: RequestInterrupts;
}) {
  return retriedWhileDatabaseIsDown({
    /**
     * Marks the request PROCESSING on its assigned instance, sends it the input (Open Inference
     * Protocol v2) and stores the answer. Input and result stay between Postgres and the model:
     * never in workflow history, and neither does what the model said when it failed (kept with
     * the request; the failure carries its code). The model's timeout covers the model alone: a
     * database that does not answer delays the steps around it, and the answer, once had, is
     * stored however long that takes, never asked for twice. Heartbeats, so a cancel reaches it
     * while the model works.
     */
    async runInference({
      requestId,
      instanceId,
      endpoint,
    }: {
      requestId: string;
      instanceId: string;
      endpoint: string;
    }): Promise<void> {
      const context = Context.current();
      // As a regular activity (a slow model) it heartbeats, so a cancel reaches it at once. A
      // local one has no heartbeat: Core would warn of an unknown activity.
      const heartbeat = () => {
        if (!context.info.isLocal) context.heartbeat();
      };
      heartbeat();
      const beat = setInterval(heartbeat, heartbeatMs);
      const interrupt = watchInterrupts(interrupts, context.info.workflowType, requestId);
      try {
        const work = await loadInferenceWork(db, requestId, instanceId);
        // The slot must still be this request's (a lost hand-over signal can offer one twice).
        if (!work?.holdsSlot) {
          throw ApplicationFailure.nonRetryable(
            `request ${requestId} does not hold a slot of instance ${instanceId}`,
            'SLOT_NOT_HELD',
          );
        }
        // Handed a slot as its deadline passed: it never starts (the workflow gives the slot back).
        if (work.deadlineAt !== null && work.deadlineAt <= Date.now() && context.info.attempt === 1) {
          throw ApplicationFailure.nonRetryable('the deadline passed before the request started', 'EXPIRED');
        }
        if (!(await startProcessing(db, requestId, instanceId))) {
          throw ApplicationFailure.nonRetryable(`request ${requestId} is no longer waiting`, 'REQUEST_NOT_WAITING');
        }
        const answer = await callOnInstance(
          { db, runtime, payloads },
          { requestId, instanceId, endpoint, ...work },
          context,
          interrupt.signal,
        );
        if ('failure' in answer)
          throw ApplicationFailure.create({
            type: answer.failure.code,
            message: answer.failure.message,
            nonRetryable: !answer.again,
          });
        await untilStored(() => saveWorkRequestResult(db, requestId, answer.result), context.cancellationSignal);
      } finally {
        clearInterval(beat);
        interrupt.stop();
      }
    },
  });
}
