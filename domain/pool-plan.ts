/**
 * One pool per model and task queue: deployments (and test runs) that share a Temporal
 * namespace but not a task queue never share pools.
 */
export const poolWorkflowId = (taskQueue: string, modelId: string) => `pool-${modelId}.${taskQueue}`;

/** The pool's view of one instance of its model. */
export type PoolInstance = {
  instanceId: string;
  state: 'STARTING' | 'IDLE' | 'BUSY' | 'STOPPING';
  endpoint: string | null;
  /** When it last became idle (ms), for keep-warm. */
  idleSince: number | null;
  requestId: string | null;
};

/** A request waiting for an instance; `requestedAt` (ms) is when it was submitted. */
export type PoolWaiter = { requestId: string; workflowId: string; requestedAt: number };

/**
 * Queues a waiter in submission order (not signal arrival order, which concurrent workflows
 * may shuffle), once.
 */
export function enqueueWaiter(waiting: PoolWaiter[], waiter: PoolWaiter): void {
  if (waiting.some((w) => w.requestId === waiter.requestId)) return;
  const after = waiting.findIndex((w) => w.requestedAt > waiter.requestedAt);
  if (after < 0) waiting.push(waiter);
  else waiting.splice(after, 0, waiter);
}

export type PoolSettings = { minInstances: number; maxInstances: number; keepWarmSeconds: number };

export type PoolAction =
  | { type: 'ASSIGN'; instanceId: string; waiter: PoolWaiter }
  | { type: 'START'; count: number }
  | { type: 'STOP'; instanceId: string; reason: 'KEEP_WARM_EXPIRED' };

/**
 * What a model pool should do now: hand idle instances to waiting requests (first come, first
 * served; the most recently used instance first, so the others can expire), start instances for
 * the requests still waiting (up to max) and to keep min warm, and stop instances idle longer
 * than keep-warm. Also when to look again, for the next keep-warm expiry.
 */
export function planPool(
  instances: readonly PoolInstance[],
  waiting: readonly PoolWaiter[],
  settings: PoolSettings,
  now: number,
): { actions: PoolAction[]; wakeAt: number | null } {
  const actions: PoolAction[] = [];
  const idle = instances.filter((i) => i.state === 'IDLE').sort((a, b) => (b.idleSince ?? 0) - (a.idleSince ?? 0));
  let served = 0;
  for (const waiter of waiting) {
    const instance = idle.shift();
    if (!instance) break;
    actions.push({ type: 'ASSIGN', instanceId: instance.instanceId, waiter });
    served++;
  }

  let live = instances.filter((i) => i.state !== 'STOPPING').length;
  const starting = instances.filter((i) => i.state === 'STARTING').length;
  const stillWaiting = waiting.length - served;
  const forDemand = Math.max(0, Math.min(stillWaiting - starting, settings.maxInstances - live));
  const forMinimum = Math.max(0, settings.minInstances - live - forDemand);
  if (forDemand + forMinimum > 0) actions.push({ type: 'START', count: forDemand + forMinimum });
  live += forDemand + forMinimum;

  const keepWarmMs = settings.keepWarmSeconds * 1000;
  let wakeAt: number | null = null;
  // Oldest idle first: those are the ones to let go.
  for (const instance of [...idle].reverse()) {
    const expiresAt = (instance.idleSince ?? now) + keepWarmMs;
    if (live <= settings.minInstances) break;
    if (expiresAt <= now) {
      actions.push({ type: 'STOP', instanceId: instance.instanceId, reason: 'KEEP_WARM_EXPIRED' });
      live--;
    } else {
      wakeAt = wakeAt === null ? expiresAt : Math.min(wakeAt, expiresAt);
    }
  }
  return { actions, wakeAt };
}
