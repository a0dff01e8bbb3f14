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
 * The control plane of one model's instances. Requests lease slots in Postgres on their own and
 * hand them to each other (db/instance-slots.ts); the pool only wakes when a request needs an
 * instance that is not starting yet, an instance turned unhealthy, an admin stops one, or a
 * keep-warm may have run out. Each round it starts instances for the queue (up to max) and to
 * keep min warm, and stops unhealthy ones and those idle past keep-warm (scale to zero).
 */
export async function modelPool({
  modelId,
  historyLimit = defaultHistoryLimit,
  minInstancesOverride,
}: ModelPoolInput): Promise<void> {
  const lostStartsAreNoNews = patched(startLostWithWorkerPatch);
  let woken = true;
  // An operator's min_instances for a while (operatorSetMinInstances); the catalog's after it.
  let override = minInstancesOverride ?? null;
  const adminStops: { instanceId: string; reason: string }[] = [];
  const drains: string[] = [];
  const inFlight = new Set<Promise<void>>();
  // A launch or stop that failed for good leaves its instance recorded as it was; the next
  // fresh pool stops it as an orphan.
  const track = (work: Promise<void>) => {
    const settled = work
      .catch(() => undefined)
      .finally(() => {
        inFlight.delete(settled);
        woken = true;
      });
    inFlight.add(settled);
  };

  setHandler(wakePoolSignal, () => {
    woken = true;
  });
  setHandler(stopPoolInstanceSignal, ({ instanceId, reason }) => {
    adminStops.push({ instanceId, reason });
    woken = true;
  });
  setHandler(replacePoolInstanceSignal, ({ instanceId }) => {
    drains.push(instanceId);
    woken = true;
  });
  // An operator's `temporal workflow signal` (docs/operations.md): checked, acted on, audited.
  setHandler(operatorStopInstanceSignal, async (payload) => {
    const note = acceptOperatorPayload<{ instanceId: string }>('operatorStopInstance', payload, {
      instanceId: isInstanceId,
    });
    if (!note) return;
    const { actor, reason, instanceId } = note;
    adminStops.push({ instanceId, reason: `OPERATOR_STOP by ${actor}` });
    woken = true;
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
    override = { minInstances, until: Date.now() + forSeconds * 1000 };
    woken = true;
    const detail = { minInstances, forSeconds, until: new Date(override.until).toISOString() };
    await operatorAudits.recordOperatorAction({
      actor,
      reason,
      action: 'POOL_MIN_INSTANCES_SET',
      targetType: 'model',
      targetId: modelId,
      detail,
    });
  });

  // A fresh pool owns nothing: any instance the records call alive is an orphan (its pool was
  // terminated, say). A continued run keeps everything: all of it is in Postgres.
  if (!workflowInfo().continuedFromExecutionRunId) await bookkeeping.stopOrphanInstances({ modelId, keep: [] });

  for (;;) {
    woken = false;
    if (override && override.until <= Date.now()) override = null;
    const replacing = drains.splice(0);
    const round = await rounds.runPoolRound({
      modelId,
      stops: adminStops.splice(0),
      ...(replacing.length > 0 ? { drains: replacing } : {}),
      ...(override ? { minInstances: override.minInstances } : {}),
    });
    for (const instanceId of round.started)
      track(launch(modelId, instanceId, round.startupTimeoutSeconds, lostStartsAreNoNews));
    for (const { instanceId, reason } of round.stop)
      track(
        bookkeeping.stopInstance.executeWithOptions({ summary: `stop instance ${instanceId} (${reason})` }, [
          { instanceId, reason },
        ]),
      );

    const idle = inFlight.size === 0 && !woken;
    if (idle && (workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit)) {
      await condition(allHandlersFinished);
      if (!woken)
        return continueAsNew<typeof modelPool>({
          modelId,
          historyLimit,
          ...(override ? { minInstancesOverride: override } : {}),
        });
    }
    if (woken) continue;
    // An override's end is a wake-up too: the catalog's minimum applies from then.
    const wakeAt = override ? Math.min(round.wakeAt ?? override.until, override.until) : round.wakeAt;
    if (wakeAt === null) await condition(() => woken);
    else await condition(() => woken, Math.max(1, wakeAt - Date.now()));
  }
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
