/**
 * One pool per model and task queue: deployments (and test runs) that share a Temporal
 * namespace but not a task queue never share pools.
 */
export const poolWorkflowId = (taskQueue: string, modelId: string) => `pool-${modelId}.${taskQueue}`;

/** The pool's view of one instance of its model. */
export type PoolInstance = {
  instanceId: string;
  state: 'STARTING' | 'READY' | 'STOPPING';
  endpoint: string | null;
  /** When it last had no request (ms), for keep-warm. */
  idleSince: number | null;
  /** The requests it serves now: at most the model's max_concurrency. */
  requestIds: string[];
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

export type PoolSettings = { minInstances: number; maxInstances: number; keepWarmSeconds: number; maxConcurrency: number };

export type PoolAction =
  | { type: 'ASSIGN'; instanceId: string; waiter: PoolWaiter }
  | { type: 'START'; count: number }
  | { type: 'STOP'; instanceId: string; reason: 'KEEP_WARM_EXPIRED' };

/**
 * What a model pool should do now: hand free request slots of ready instances to waiting
 * requests (first come, first served; the busiest, then most recently used instance first, so
 * that the others can go idle and expire), start instances for the requests still waiting (up
 * to max) and to keep min warm, and stop instances idle longer than keep-warm. Also when to
 * look again, for the next keep-warm expiry.
 */
export function planPool(
  instances: readonly PoolInstance[],
  waiting: readonly PoolWaiter[],
  settings: PoolSettings,
  now: number,
): { actions: PoolAction[]; wakeAt: number | null } {
  const actions: PoolAction[] = [];
  const load = new Map(instances.map((i) => [i.instanceId, i.requestIds.length]));
  const ready = instances
    .filter((i) => i.state === 'READY')
    .sort((a, b) => b.requestIds.length - a.requestIds.length || (b.idleSince ?? now) - (a.idleSince ?? now));
  let served = 0;
  for (const waiter of waiting) {
    const instance = ready.find((i) => load.get(i.instanceId)! < settings.maxConcurrency);
    if (!instance) break;
    load.set(instance.instanceId, load.get(instance.instanceId)! + 1);
    actions.push({ type: 'ASSIGN', instanceId: instance.instanceId, waiter });
    served++;
  }

  let live = instances.filter((i) => i.state !== 'STOPPING').length;
  const startingSlots = instances.filter((i) => i.state === 'STARTING').length * settings.maxConcurrency;
  const unserved = Math.max(0, waiting.length - served - startingSlots);
  const forDemand = Math.min(Math.ceil(unserved / settings.maxConcurrency), Math.max(0, settings.maxInstances - live));
  const forMinimum = Math.max(0, settings.minInstances - live - forDemand);
  if (forDemand + forMinimum > 0) actions.push({ type: 'START', count: forDemand + forMinimum });
  live += forDemand + forMinimum;

  const keepWarmMs = settings.keepWarmSeconds * 1000;
  let wakeAt: number | null = null;
  const idle = ready.filter((i) => load.get(i.instanceId) === 0).sort((a, b) => (a.idleSince ?? now) - (b.idleSince ?? now));
  // Oldest idle first: those are the ones to let go.
  for (const instance of idle) {
    if (live <= settings.minInstances) break;
    const expiresAt = (instance.idleSince ?? now) + keepWarmMs;
    if (expiresAt <= now) {
      actions.push({ type: 'STOP', instanceId: instance.instanceId, reason: 'KEEP_WARM_EXPIRED' });
      live--;
    } else {
      wakeAt = wakeAt === null ? expiresAt : Math.min(wakeAt, expiresAt);
    }
  }
  return { actions, wakeAt };
}
