import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineSignal,
  patched,
  proxyActivities,
  setHandler,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import { enqueueWaiter, planPool, type PoolInstance, type PoolWaiter } from '../domain/pool-plan';
import type { RequestError } from '../domain/work-request';
import { describeFailure } from './failures';
import { createConcurrentSignals, createSignalOutbox, type SignalSender } from './signal-outbox';
import { instanceAssignedSignal, instanceUnavailableSignal } from './request-signals';

export type ModelPoolInput = {
  modelId: string;
  carried?: { instances: PoolInstance[]; waiting: PoolWaiter[] };
  /** Continue as new past this many history events (tests set it low). */
  historyLimit?: number;
};

export { poolWorkflowId } from '../domain/pool-plan';
export const acquireInstanceSignal = defineSignal<[PoolWaiter]>('acquireInstance');
export const releaseInstanceSignal = defineSignal<[{ instanceId: string; requestId: string; healthy: boolean }]>('releaseInstance');
export const withdrawRequestSignal = defineSignal<[{ requestId: string }]>('withdrawRequest');
export const stopPoolInstanceSignal = defineSignal<[{ instanceId: string; reason: string }]>('stopPoolInstance');
export const poolStateQuery = defineQuery<{ instances: PoolInstance[]; waiting: PoolWaiter[] }>('poolState');

const bookkeeping = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '200 milliseconds', maximumInterval: '5 seconds', maximumAttempts: 10 },
});

/** Pool runs that record this patch signal requests through the outbox (see signal-outbox.ts). */
export const signalOutboxPatch = 'pool-signal-outbox';

/**
 * Pool runs that record this patch, told an instance was unhealthy, probe their other ready
 * instances before handing any out (after a worker restart all of a local runtime's are gone).
 */
export const probeOnUnhealthyPatch = 'pool-probes-on-unhealthy';

/** Past this many events the pool continues as new, carrying its instances and queue over. */
const defaultHistoryLimit = 4_000;

/**
 * Owns the instances of one model: hands a ready idle instance to each waiting request (in
 * arrival order), starts instances up to the model's max, keeps min warm, and stops instances
 * idle longer than keep-warm (scale to zero). Long-running, with continue-as-new.
 */
export async function modelPool({ modelId, carried, historyLimit = defaultHistoryLimit }: ModelPoolInput): Promise<void> {
  const instances = new Map<string, PoolInstance>((carried?.instances ?? []).map((i) => [i.instanceId, i]));
  const waiting: PoolWaiter[] = [...(carried?.waiting ?? [])];
  let changed = true;
  const touch = () => (changed = true);

  // Signals sent and not yet confirmed hold back a continue-as-new; each confirmation may let
  // one go ahead.
  const signals: SignalSender = patched(signalOutboxPatch) ? createSignalOutbox(touch) : createConcurrentSignals(touch);
  const probesOnUnhealthy = patched(probeOnUnhealthyPatch);
  let probing = false;

  setHandler(poolStateQuery, () => ({ instances: [...instances.values()], waiting: [...waiting] }));
  setHandler(acquireInstanceSignal, (waiter) => {
    enqueueWaiter(waiting, waiter);
    touch();
  });
  setHandler(withdrawRequestSignal, ({ requestId }) => {
    const index = waiting.findIndex((w) => w.requestId === requestId);
    if (index >= 0) waiting.splice(index, 1);
    // Assigned while the request was being withdrawn: it will never use the instance.
    for (const instance of instances.values()) {
      if (instance.requestIds.includes(requestId)) release(instance, requestId, true);
    }
    touch();
  });
  setHandler(releaseInstanceSignal, ({ instanceId, requestId, healthy }) => {
    const instance = instances.get(instanceId);
    if (instance?.requestIds.includes(requestId)) release(instance, requestId, healthy);
    touch();
  });
  setHandler(stopPoolInstanceSignal, ({ instanceId, reason }) => {
    const instance = instances.get(instanceId);
    if (instance && instance.state !== 'STOPPING') void stop(instance, reason);
    touch();
  });

  function release(instance: PoolInstance, requestId: string, healthy: boolean) {
    instance.requestIds = instance.requestIds.filter((id) => id !== requestId);
    // Requests still on an unhealthy instance find out when their call fails, and are moved.
    if (!healthy && instance.state !== 'STOPPING') {
      if (probesOnUnhealthy) void probeReadyInstances();
      return void stop(instance, 'UNHEALTHY');
    }
    if (instance.requestIds.length === 0) instance.idleSince = Date.now();
  }

  /** Stops the ready instances that no longer answer; nothing is handed out meanwhile. */
  async function probeReadyInstances() {
    if (probing) return;
    probing = true;
    try {
      const ready = [...instances.values()].filter((i) => i.state === 'READY' && i.endpoint);
      const gone = await bookkeeping.findUnreachableInstances({ instances: ready.map((i) => ({ instanceId: i.instanceId, endpoint: i.endpoint! })) });
      for (const instanceId of gone) {
        const instance = instances.get(instanceId);
        if (instance && instance.state !== 'STOPPING') void stop(instance, 'UNREACHABLE');
      }
    } finally {
      probing = false;
      touch();
    }
  }

  async function stop(instance: PoolInstance, reason: string) {
    instance.state = 'STOPPING';
    try {
      await bookkeeping.stopInstance({ instanceId: instance.instanceId, reason });
    } finally {
      instances.delete(instance.instanceId);
      touch();
    }
  }

  async function launch(startupTimeoutSeconds: number) {
    const instanceId = uuid4();
    const instance: PoolInstance = { instanceId, state: 'STARTING', endpoint: null, idleSince: null, requestIds: [] };
    instances.set(instanceId, instance);
    // The runtime enforces the startup timeout itself, with a clearer message; the activity
    // timeout is the backstop.
    const startup = proxyActivities<PodiumActivities>({
      startToCloseTimeout: `${startupTimeoutSeconds + 10} seconds`,
      heartbeatTimeout: '10 seconds',
      retry: { maximumAttempts: 1 },
    });
    try {
      const started = await startup.startInstance({ instanceId, modelId });
      instance.endpoint = (await startup.awaitInstanceReady(started)).endpoint;
      instance.state = 'READY';
      instance.idleSince = Date.now();
    } catch (error) {
      // The instance never became ready: tell the request that has waited longest.
      const failure: RequestError = describeFailure(error, {
        code: 'INSTANCE_STARTUP_TIMEOUT',
        message: `the instance of ${modelId} did not become ready within ${startupTimeoutSeconds} s`,
      });
      const head = waiting.shift();
      if (head) {
        const told = signals.send(head.workflowId, instanceUnavailableSignal, failure);
        signals.flush();
        await told;
      }
      await stop(instance, 'STARTUP_FAILED');
    } finally {
      touch();
    }
  }

  const settings = await bookkeeping.loadPoolSettings({ modelId });
  // First run: nothing is known to be ours, so any instance the records call alive is an orphan.
  if (!carried) await bookkeeping.stopOrphanInstances({ modelId, keep: [] });

  for (;;) {
    if (probing) await condition(() => !probing);
    changed = false;
    const plan = planPool([...instances.values()], waiting, settings, Date.now());
    for (const action of plan.actions) {
      if (action.type === 'ASSIGN') {
        const instance = instances.get(action.instanceId)!;
        instance.requestIds.push(action.waiter.requestId);
        waiting.splice(waiting.indexOf(action.waiter), 1);
        // Not awaited: every assignment of this round goes out in one batch (flushed below).
        void signals.send(action.waiter.workflowId, instanceAssignedSignal, {
          instanceId: instance.instanceId,
          endpoint: instance.endpoint!,
        }).then((delivered) => {
          if (delivered) return;
          release(instance, action.waiter.requestId, true); // the request is gone
          touch();
        });
      } else if (action.type === 'START') {
        for (let i = 0; i < action.count; i++) void launch(settings.startupTimeoutSeconds);
      } else {
        void stop(instances.get(action.instanceId)!, action.reason);
      }
    }
    signals.flush();

    const settled = signals.idle && [...instances.values()].every((i) => i.state === 'READY');
    if ((workflowInfo().continueAsNewSuggested || workflowInfo().historyLength > historyLimit) && settled && !changed) {
      await condition(() => allHandlersFinished() && signals.idle);
      if (!changed) {
        return continueAsNew<typeof modelPool>({ modelId, historyLimit, carried: { instances: [...instances.values()], waiting } });
      }
    }
    const sleepMs = plan.wakeAt === null ? undefined : Math.max(1, plan.wakeAt - Date.now());
    if (changed) continue;
    if (sleepMs === undefined) await condition(() => changed);
    else await condition(() => changed, sleepMs);
  }
}

