import { z } from 'zod';

/**
 * The pure decisions about a model's instances: which waiting requests get which free slots,
 * whether a queued request should wake the pool, and what the pool does in one round. The
 * snapshots they decide on are read under the model's lock (db/instance-slots.ts).
 */

/**
 * Where an instance stands for the request path (model_instances.slot_state). DRAINING: being
 * replaced (to empty its node, or an admin's move): no new request, a replacement started, and
 * stopped once it serves none.
 */
export const slotState = z.enum(['STARTING', 'READY', 'DRAINING', 'UNHEALTHY', 'STOPPING']);
export type SlotState = z.infer<typeof slotState>;

/** An instance of the model as the slot tables record it. */
export type PoolInstance = {
  instanceId: string;
  state: SlotState;
  /** Requests holding one of its slots now: at most the model's max_concurrency. */
  leases: number;
  /** When it last had no lease (ms), for keep-warm; null while busy. */
  idleSince: number | null;
};

/** A model's catalog settings that its pool and slots decide by. */
export const poolSettings = z.object({
  minInstances: z.number(),
  maxInstances: z.number(),
  keepWarmSeconds: z.number(),
  maxConcurrency: z.number(),
});
export type PoolSettings = z.infer<typeof poolSettings>;

/** A slot a request holds: the instance and how to reach it. */
export type Slot = { instanceId: string; endpoint: string };

/** Who holds or waits for a slot: the request, as the slot tables and the request workflow know it. */
export type SlotHolder = { requestId: string; modelId: string; workflowId: string; requestedAt: number };

/** A request waiting for a slot, oldest first as they are read. */
export type SlotWaiter = { requestId: string; workflowId: string };

/**
 * Free slots of ready instances to waiting requests, first come first served, filling the
 * busiest (then the most recently used) instance first so that the others can go idle and
 * expire. `waiters` come oldest first.
 */
export function assignFreeSlots<W extends SlotWaiter>(
  instances: readonly PoolInstance[],
  waiters: readonly W[],
  maxConcurrency: number,
): { instanceId: string; waiter: W }[] {
  const load = new Map(instances.map((i) => [i.instanceId, i.leases]));
  const ready = instances
    .filter((i) => i.state === 'READY')
    .sort((a, b) => b.leases - a.leases || (b.idleSince ?? Infinity) - (a.idleSince ?? Infinity));
  const assignments: { instanceId: string; waiter: W }[] = [];
  for (const waiter of waiters) {
    const instance = ready.find((i) => load.get(i.instanceId)! < maxConcurrency);
    if (!instance) break;
    load.set(instance.instanceId, load.get(instance.instanceId)! + 1);
    assignments.push({ instanceId: instance.instanceId, waiter });
  }
  return assignments;
}

const isLive = (instance: PoolInstance) => instance.state === 'STARTING' || instance.state === 'READY';

/**
 * Whether a request that found no slot should wake its pool: only when the requests waiting
 * outnumber the slots of instances already starting and the model may have another instance.
 * At steady load this is false, so the pool hears nothing from requests.
 */
export function needsAnotherInstance(
  instances: readonly PoolInstance[],
  waiting: number,
  settings: PoolSettings,
): boolean {
  const startingSlots = instances.filter((i) => i.state === 'STARTING').length * settings.maxConcurrency;
  return waiting > startingSlots && instances.filter(isLive).length < settings.maxInstances;
}

/**
 * The load a model is under, as measured now: requests submitted per second lately, and the
 * mean time it took over its latest answers (null before any).
 */
export type PoolLoad = { arrivalsPerSecond: number; serviceSeconds: number | null };

/** The share of its slots a pool plans to keep busy: fuller, and a line builds at the measured rate. */
export const targetUtilisation = 0.8;

/** A line is planned to be worked off within this, beside the arrivals. */
export const backlogSeconds = 3;

/**
 * The instances a model with requests waiting needs, from its measured load: by Little's law,
 * the arrivals keep `arrivals a second × service time` slots busy, and the line ahead
 * `waiting × service time / backlogSeconds` more; at the target utilisation, at least one,
 * within max_instances. Null before a service time is measured.
 */
export function instancesForLoad(load: PoolLoad | undefined, waiting: number, settings: PoolSettings): number | null {
  if (!load || load.serviceSeconds === null) return null;
  const busySlots = (load.arrivalsPerSecond + waiting / backlogSeconds) * load.serviceSeconds;
  const needed = Math.ceil(busySlots / (settings.maxConcurrency * targetUtilisation));
  return Math.min(settings.maxInstances, Math.max(1, needed));
}

export type PoolRound = {
  /** How many instances to start now (for waiters beyond the starting slots, and min_instances). */
  start: number;
  /** Why, for the instance log: KEEP_WARM_EXPIRED, UNHEALTHY, or an admin's stop. */
  stop: { instanceId: string; reason: string }[];
  /** When to look again (ms), or null when only a signal can change anything. */
  wakeAt: number | null;
};

/**
 * One round of the pool's control loop: start instances for the requests still waiting (up to
 * max) and to keep min warm, stop unhealthy instances and those idle longer than keep-warm,
 * and look again when the next one could expire. A busy instance cannot expire before
 * now + keep-warm, so that is when to look at it again.
 *
 * While requests wait and the model's service time is measured, it starts what the measured
 * `load` needs (instancesForLoad), not a slot per waiter: a line that forms under a rising rate
 * gets the instances for the rate at once, and a burst that a few instances work off quickly
 * does not start many. Without waiters the load starts nothing, so a quiet model still scales
 * to zero.
 */
export function planPoolRound(
  instances: readonly PoolInstance[],
  waiting: number,
  settings: PoolSettings,
  now: number,
  load?: PoolLoad,
): PoolRound {
  const stop: PoolRound['stop'] = instances
    .filter((i) => i.state === 'UNHEALTHY')
    .map((i) => ({ instanceId: i.instanceId, reason: 'UNHEALTHY' }));
  // A draining instance goes once the requests it serves have finished (a release wakes the pool).
  for (const instance of instances.filter((i) => i.state === 'DRAINING' && i.leases === 0))
    stop.push({ instanceId: instance.instanceId, reason: 'REPLACED' });

  let live = instances.filter(isLive).length;
  const startingSlots = instances.filter((i) => i.state === 'STARTING').length * settings.maxConcurrency;
  const unserved = Math.max(0, waiting - startingSlots);
  const forLoad = waiting > 0 ? instancesForLoad(load, waiting, settings) : null;
  const forDemand =
    forLoad === null
      ? Math.min(Math.ceil(unserved / settings.maxConcurrency), Math.max(0, settings.maxInstances - live))
      : Math.max(0, forLoad - live);
  const forMinimum = Math.max(0, settings.minInstances - live - forDemand);
  const start = forDemand + forMinimum;
  live += start;

  const keepWarmMs = settings.keepWarmSeconds * 1000;
  const minRecheckMs = 1_000;
  let wakeAt: number | null = null;
  const later = (at: number) => (wakeAt = wakeAt === null ? at : Math.min(wakeAt, at));
  const ready = instances.filter((i) => i.state === 'READY');
  // A busy instance may turn idle and expire: look again then, but not in a tight loop when
  // keep-warm is 0 (a deleted model's pool drains with keep-warm 0).
  if (ready.some((i) => i.leases > 0)) later(now + Math.max(keepWarmMs, minRecheckMs));
  // Oldest idle first: those are the ones to let go.
  const idle = ready.filter((i) => i.leases === 0).sort((a, b) => (a.idleSince ?? now) - (b.idleSince ?? now));
  for (const instance of idle) {
    if (live <= settings.minInstances) break;
    const expiresAt = (instance.idleSince ?? now) + keepWarmMs;
    if (expiresAt <= now) {
      stop.push({ instanceId: instance.instanceId, reason: 'KEEP_WARM_EXPIRED' });
      live--;
    } else {
      later(expiresAt);
    }
  }
  return { start, stop, wakeAt };
}

/**
 * A round that also begins replacing instances (`drains`: the node autoscaler emptying a node,
 * or an admin): each asked instance that is READY turns DRAINING and gets a replacement started
 * now, within max_instances, before it goes (planPoolRound stops it once it serves nobody).
 * New requests go to the other instances and the replacement; none is interrupted.
 */
export function planPoolRoundWithDrains(
  instances: readonly PoolInstance[],
  waiting: number,
  settings: PoolSettings,
  now: number,
  drains: readonly string[],
  load?: PoolLoad,
): PoolRound & { drain: string[] } {
  const drain = instances.filter((i) => i.state === 'READY' && drains.includes(i.instanceId)).map((i) => i.instanceId);
  const marked = instances.map((i) => (drain.includes(i.instanceId) ? { ...i, state: 'DRAINING' as const } : i));
  const round = planPoolRound(marked, waiting, settings, now, load);
  const liveAfter = marked.filter(isLive).length + round.start;
  const replacements = Math.min(drain.length, Math.max(0, settings.maxInstances - liveAfter));
  return { ...round, start: round.start + replacements, drain };
}
