import {
  allHandlersFinished,
  condition,
  continueAsNew,
  patched,
  proxyActivities,
  proxyLocalActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { RequestError } from '../domain/work-request';
import { describeFailure, lostWithItsWorker } from './failures';
import { replacePoolInstanceSignal, stopPoolInstanceSignal, wakePoolSignal, type ModelPoolInput } from './contracts';
import {
  acceptOperatorPayload,
  isInstanceId,
  isMinInstances,
  isSeconds,
  operatorAudits,
  operatorSetMinInstancesSignal,
  operatorStopInstanceSignal,
} from './operator-signals';

/**
 * Pool bookkeeping waits out an outage as the request path does: no attempt limit. With one,
 * a stop that failed for a minute of PostgreSQL restart left its instance running for good.
 */
export const poolBookkeepingRetry = { initialInterval: '200 milliseconds', maximumInterval: '5 seconds' } as const;
const bookkeeping = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: poolBookkeepingRetry,
});
// The round runs inside the workflow task that asks for it: a queued request's wake-up reaches
// a starting instance without two more workflow tasks. Never more than one at a time (a
// round is awaited before the next): concurrent local activities make workflow code that
// creates timers nondeterministic (docs/workflow-changes.md, test/replay/local-activity-grouping).
const rounds = proxyLocalActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '100 milliseconds', maximumInterval: '5 seconds' },
});

/** Runs with it do not tell a waiting request about an instance start lost with its worker. */
export const startLostWithWorkerPatch = 'pool-start-lost-with-worker';

/** Past this many events the pool continues as new (it carries nothing: its state is in Postgres). */
const defaultHistoryLimit = 4_000;

/**
 * The control plane of one model's instances. Requests lease slots in Postgres by themselves and
 * hand them to each other (db/instance-slots.ts), so the pool is not on their path.
 *
 * The pool wakes when a request needs an instance that is not starting yet, when an instance
 * turns unhealthy, when an admin stops one, or when a keep-warm may have run out. Each round it
 * starts instances for the line (up to the maximum) and to keep the minimum warm. It stops
 * unhealthy instances, and those idle past their keep-warm (scale to zero).
 */
export async function modelPool({
  modelId,
  historyLimit = defaultHistoryLimit,
  minInstancesOverride,
}: ModelPoolInput): Promise<void> {
  const lostStartsAreNoNews = patched(startLostWithWorkerPatch);
  const state: PoolState = { woken: true, override: minInstancesOverride ?? null, adminStops: [], drains: [] };
  handlePoolSignals(state, modelId);
  const inFlight = new Set<Promise<void>>();
  // A launch or stop that failed for good leaves its instance recorded as it was; the next
  // fresh pool stops it as an orphan.
  const track = (work: Promise<void>) => {
    const settled = work
      .catch(() => undefined)
      .finally(() => {
        inFlight.delete(settled);
        state.woken = true;
      });
    inFlight.add(settled);
  };

  // A fresh pool owns nothing: any instance the records call alive is an orphan (its pool was
  // terminated, say). A continued run keeps everything: all of it is in Postgres.
  if (!workflowInfo().continuedFromExecutionRunId) await bookkeeping.stopOrphanInstances({ modelId, keep: [] });

  for (;;) {
    state.woken = false;
    if (state.override && state.override.until <= Date.now()) state.override = null;
    const replacing = state.drains.splice(0);
    const round = await rounds.runPoolRound({
      modelId,
      stops: state.adminStops.splice(0),
      ...(replacing.length > 0 ? { drains: replacing } : {}),
      ...(state.override ? { minInstances: state.override.minInstances } : {}),
    });
    for (const instanceId of round.started)
      track(launch(modelId, instanceId, round.startupTimeoutSeconds, lostStartsAreNoNews));
    for (const { instanceId, reason } of round.stop)
      track(
        bookkeeping.stopInstance.executeWithOptions({ summary: `stop instance ${instanceId} (${reason})` }, [
          { instanceId, reason },
        ]),
      );

    const idle = inFlight.size === 0 && !state.woken;
    if (idle && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit)) {
      await condition(allHandlersFinished);
      if (!state.woken)
        return continueAsNew<typeof modelPool>({
          modelId,
          historyLimit,
          ...(state.override ? { minInstancesOverride: state.override } : {}),
        });
    }
    if (state.woken) continue;
    // An override's end is a wake-up too: the catalog's minimum applies from then.
    const wakeAt = state.override ? Math.min(round.wakeAt ?? state.override.until, state.override.until) : round.wakeAt;
    if (wakeAt === null) await condition(() => state.woken);
    else await condition(() => state.woken, Math.max(1, wakeAt - Date.now()));
  }
}

/** What the pool's handlers and its rounds share. */
type PoolState = {
  /** Something happened since the round began: run another. */
  woken: boolean;
  /** An operator's min_instances for a while (operatorSetMinInstances); the catalog's after it. */
  override: { minInstances: number; until: number } | null;
  /** Instances admins and operators asked to stop, for the next round. */
  adminStops: { instanceId: string; reason: string }[];
  /** Instances to replace: drained, then stopped once their requests have finished. */
  drains: string[];
};

/**
 * The pool's signals: a wake-up, an admin's stop or replace, and an operator's stop or minimum,
 * checked and audited as the API audits them. Each wakes the pool for another round.
 */
function handlePoolSignals(state: PoolState, modelId: string): void {
  setHandler(wakePoolSignal, () => {
    state.woken = true;
  });
  setHandler(stopPoolInstanceSignal, ({ instanceId, reason }) => {
    state.adminStops.push({ instanceId, reason });
    state.woken = true;
  });
  setHandler(replacePoolInstanceSignal, ({ instanceId }) => {
    state.drains.push(instanceId);
    state.woken = true;
  });
  // An operator's `temporal workflow signal` (docs/operations.md): checked, acted on, audited.
  setHandler(operatorStopInstanceSignal, async (payload) => {
    const note = acceptOperatorPayload<{ instanceId: string }>('operatorStopInstance', payload, {
      instanceId: isInstanceId,
    });
    if (!note) return;
    const { actor, reason, instanceId } = note;
    state.adminStops.push({ instanceId, reason: `OPERATOR_STOP by ${actor}` });
    state.woken = true;
    await operatorAudits.recordOperatorAction({
      actor,
      reason,
      action: 'INSTANCE_STOP',
      targetType: 'model_instance',
      targetId: instanceId,
      detail: { model: modelId },
    });
  });
  setHandler(operatorSetMinInstancesSignal, async (payload) => {
    const note = acceptOperatorPayload<{ minInstances: number; forSeconds: number }>(
      'operatorSetMinInstances',
      payload,
      {
        minInstances: isMinInstances,
        forSeconds: isSeconds,
      },
    );
    if (!note) return;
    const { actor, reason, minInstances, forSeconds } = note;
    state.override = { minInstances, until: Date.now() + forSeconds * 1000 };
    state.woken = true;
    const detail = { minInstances, forSeconds, until: new Date(state.override.until).toISOString() };
    await operatorAudits.recordOperatorAction({
      actor,
      reason,
      action: 'POOL_MIN_INSTANCES_SET',
      targetType: 'model',
      targetId: modelId,
      detail,
    });
  });
}

/** Starts one instance the round recorded STARTING; on failure the longest waiter is told why. */
async function launch(
  modelId: string,
  instanceId: string,
  startupTimeoutSeconds: number,
  lostStartsAreNoNews: boolean,
): Promise<void> {
  // The runtime enforces the startup timeout itself, with a clearer message; the activity
  // timeout is the backstop. Both steps heartbeat every 2 s: a start lost with its worker is
  // noticed in 5 s.
  const startup = proxyActivities<PodiumActivities>({
    startToCloseTimeout: `${startupTimeoutSeconds + 10} seconds`,
    heartbeatTimeout: '5 seconds',
    retry: { maximumAttempts: 1 },
  });
  try {
    const started = await startup.startInstance.executeWithOptions(
      { summary: `start instance ${instanceId} of ${modelId}` },
      [{ instanceId, modelId }],
    );
    const { endpoint } = await startup.awaitInstanceReady.executeWithOptions(
      { summary: `wait until instance ${instanceId} is ready` },
      [started],
    );
    await bookkeeping.openInstanceSlots.executeWithOptions(
      { summary: `open the slots of instance ${instanceId} to waiting requests` },
      [{ modelId, instanceId, endpoint }],
    );
  } catch (error) {
    const failure: RequestError = describeFailure(error, {
      code: 'INSTANCE_STARTUP_TIMEOUT',
      message: `the instance of ${modelId} did not become ready within ${startupTimeoutSeconds} s`,
    });
    // A start lost with its worker is no news for the waiters: the next round starts another.
    if (!(lostStartsAreNoNews && lostWithItsWorker(error)))
      await bookkeeping.abandonInstanceStart({ modelId, instanceId, failure });
    await bookkeeping.stopInstance.executeWithOptions({ summary: `stop instance ${instanceId} (STARTUP_FAILED)` }, [
      { instanceId, reason: 'STARTUP_FAILED' },
    ]);
  }
}
