import type { DatabasePool } from 'slonik';
import { listLiveInstanceRecords } from '../db/model-instances';
import { isProcessAlive } from './runtime/model-process';
import { createSlotSignals } from './slot-signals';
import { describeSlots, markInstancesUnhealthy } from '../db/instance-slots';
import type { SignalDeps } from './signal-deps';

const probeTimeoutMs = 2_000;

/**
 * Those of the given instances that do not answer at all (no HTTP answer within
 * `probeTimeoutMs`): gone with a restarted worker, OOM-killed, deleted by hand. Any answer,
 * even an error status, counts as alive.
 */
export async function findUnreachableInstances(
  instances: readonly { instanceId: string; endpoint: string }[],
): Promise<string[]> {
  const reachable = await Promise.all(
    instances.map(({ endpoint }) =>
      fetch(`${endpoint}/v2/health/live`, { signal: AbortSignal.timeout(probeTimeoutMs) }).then(
        async (response) => (await response.body?.cancel(), true),
        () => false,
      ),
    ),
  );
  return instances.filter((_, i) => !reachable[i]).map(({ instanceId }) => instanceId);
}

/**
 * After one instance of the model turned out unreachable: its other ready instances that do not
 * answer either take no more requests (a restarted worker takes all its local processes along).
 */
export async function markUnreachableInstances(db: DatabasePool, modelId: string): Promise<void> {
  const { instances } = await describeSlots(db, modelId);
  const ready = instances
    .filter((i) => i.state === 'READY' && i.endpoint)
    .map((i) => ({ instanceId: i.instanceId, endpoint: i.endpoint! }));
  await markInstancesUnhealthy(db, modelId, await findUnreachableInstances(ready));
}

/**
 * When a worker starts: the local runtime's instances (processes on this machine) that the
 * records call alive but whose process is gone, taken with a worker that died, take no more
 * requests, and their pools are woken to stop them and start others. Without this they would
 * wait for a request to find them gone, or for their keep-warm to run out. Returns how many.
 */
export async function reapDeadLocalInstances(deps: SignalDeps): Promise<number> {
  const dead = (await listLiveInstanceRecords(deps.db)).filter(
    (instance) =>
      instance.runtime === 'local' && instance.runtimeRef !== null && !isProcessAlive(Number(instance.runtimeRef)),
  );
  const signals = createSlotSignals(deps);
  for (const modelId of new Set(dead.map((instance) => instance.modelId))) {
    await markInstancesUnhealthy(
      deps.db,
      modelId,
      dead.filter((instance) => instance.modelId === modelId).map((instance) => instance.id),
    );
    await signals.wakePool(modelId);
  }
  return dead.length;
}
