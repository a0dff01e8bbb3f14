import { ApplicationFailure, Context, log } from '@temporalio/activity';
import { recordRequestEnd, requeueWorkRequest } from '../db/work-request-lifecycle';
import { observeRequestEnd } from '../lib/metrics';
import type { PayloadStore } from '../lib/payload-store';
import { removePayloads, resultPayloads } from '../db/payloads';
import { requestEndLine } from './request-end-line';
import { findRequestStart, type RequestStart } from '../db/work-requests';
import type { RequestEnd } from '../domain/work-request';
import { describePoolHealth } from '../lib/model-pool-health';
import { createSlotKeeper } from './slot-keeper';
import { retriedWhileDatabaseIsDown } from './bookkeeping';
import type { Slot, SlotHolder } from '../domain/model-pool';
import type { SignalDeps } from './signal-deps';

/** A waiting request's look at its pool (see checkSlot). */
export type PoolLook = { state: 'RUNNING' | 'FAILING'; message: string | null };
/** How long a request's look at its pool may take: a busy pool answers late. */
const poolLookDeadlineMs = 3_000;
/**
 * How many times a request's workflow looks for its row before deciding it was never committed:
 * about a minute with the steps' backoff (10 ms doubling to 5 s, workflows/work-request.ts). A
 * local activity's info carries only its current attempt's schedule time, so attempts count.
 */
const requestRowAttempts = 20;

/**
 * The failure for a request row not found as its workflow begins. The API commits the row right
 * after it starts the workflow, so the row may not be visible yet: try again at once. A row still
 * missing long after was never committed, because the API's transaction failed.
 */
export function requestRowMissing(requestId: string, attempt: number): ApplicationFailure {
  if (attempt >= requestRowAttempts)
    return ApplicationFailure.nonRetryable(`request ${requestId} does not exist`, 'REQUEST_NOT_FOUND');
  return ApplicationFailure.retryable(`request ${requestId} is not visible yet`, 'NOT_VISIBLE_YET');
}

export function createRequestActivities({
  db,
  temporal,
  taskQueue,
  payloads,
}: SignalDeps & { payloads: PayloadStore }) {
  const { acquire, release, signals } = createSlotKeeper({ db, temporal, taskQueue });

  return retriedWhileDatabaseIsDown({
    /**
     * The request's first step, in its first workflow task: checks the row is there and
     * waiting, and takes a free slot of a warm instance (or queues). Returns the model's
     * timeouts, whether to call back, and the slot if there was one.
     */
    async startRequest({
      requestId,
      modelId,
      workflowId,
    }: {
      requestId: string;
      modelId: string;
      workflowId: string;
    }): Promise<{
      settings: RequestStart;
      slot: Slot | null;
    }> {
      const row = await findRequestStart(db, requestId);
      if (!row) throw requestRowMissing(requestId, Context.current().info.attempt);
      const { requestedAt } = row;
      return { settings: row, slot: await acquire({ requestId, modelId, workflowId, requestedAt }) };
    },

    /** The request's settings, without taking a slot (a workflow whose first step was cancelled). */
    async readRequestSettings({ requestId }: { requestId: string }): Promise<RequestStart | null> {
      return findRequestStart(db, requestId);
    },

    /** Takes a slot or queues (again): after a replacement, or to check on a long wait. */
    acquireSlot: acquire,

    /**
     * A waiting request's check after each startup timeout: the slot it was handed (if the
     * signal was lost), else how its pool is doing: a pool that is not running is started, a
     * failing one (its workflow task keeps failing) is reported, with a log line.
     */
    async checkSlot(holder: SlotHolder): Promise<{ slot: Slot | null; pool: PoolLook }> {
      const slot = await acquire(holder);
      const running: PoolLook = { state: 'RUNNING', message: null };
      if (slot) return { slot, pool: running };
      const health = await temporal
        .withDeadline(Date.now() + poolLookDeadlineMs, () => describePoolHealth(temporal, taskQueue, holder.modelId))
        .catch(() => null); // cannot tell now: look again next time
      if (health?.state === 'NOT_RUNNING') await signals.wakePool(holder.modelId);
      if (health?.state !== 'FAILING') return { slot: null, pool: running };
      log.warn('model pool failing', {
        workflowId: health.workflowId,
        workflowTaskAttempt: health.workflowTaskAttempt,
        requestId: holder.requestId,
      });
      return { slot: null, pool: { state: 'FAILING', message: health.message } };
    },

    /** Gives the slot back (or leaves the queue): the next waiter gets it at once. */
    async releaseSlot({
      requestId,
      modelId,
      healthy,
    }: {
      requestId: string;
      modelId: string;
      healthy: boolean;
    }): Promise<void> {
      await release({ requestId, modelId }, healthy);
    },

    /**
     * Records how the request ended (with its stats row, once) and lets go of its slot or queue
     * place, in one step. `healthy` false: the instance takes no more requests.
     */
    async finishRequest({
      requestId,
      modelId,
      instanceId,
      end,
      healthy,
    }: {
      requestId: string;
      modelId: string;
      instanceId?: string;
      end: RequestEnd;
      healthy: boolean;
    }): Promise<void> {
      const ended = await release({ requestId, modelId }, healthy, async (t) => {
        if (end.status !== 'REQUEUED') return recordRequestEnd(t, { requestId, instanceId, ...end });
        await requeueWorkRequest(t, requestId, instanceId);
        return null;
      });
      // Counted once it is committed; a retried step finds it ended already and counts nothing.
      if (!ended) return;
      // A request that did not complete keeps no output (a try's, written before it failed).
      if (ended.status !== 'COMPLETE') await removePayloads(db, payloads, await resultPayloads(db, requestId));
      observeRequestEnd(ended.modelId, ended.status, ended.timings);
      log.info('request ended', requestEndLine(requestId, ended, end.status === 'FAILED' ? end.error.code : null));
    },
  });
}
