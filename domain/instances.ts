import { z } from 'zod';
import type { AdminInstancesQuery, AdminRequestSummary } from './admin-views';
import type { PoolHealth } from './model-pool-health';

/**
 * Model instances as the admin pages see them: Podium's records (model_instances) joined with
 * what the instance runtime says is running now.
 */

/** What happens to an instance, in its log (model_instance_log). */
export const instanceEvent = z.enum([
  'CREATED',
  'SCHEDULED',
  'PENDING',
  'READY',
  'ASSIGNED',
  'RELEASED',
  'STOPPING',
  'TERMINATED',
  'FAILED',
]);
export type InstanceEvent = z.infer<typeof instanceEvent>;

/** One line of an instance's log. */
export const instanceLogEntry = z.object({
  event: instanceEvent,
  requestId: z.uuid().nullable(),
  detail: z.record(z.string(), z.unknown()),
  occurredAt: z.string(),
});
export type InstanceLogEntry = z.infer<typeof instanceLogEntry>;

/** An instance as Podium's records have it. */
export const instanceRecord = z.object({
  id: z.uuid(),
  modelId: z.string(),
  runtime: z.string(),
  runtimeRef: z.string().nullable(),
  status: z.string(),
  startedAt: z.string(),
  updatedAt: z.string(),
  assignedRequestId: z.uuid().nullable(),
});
export type InstanceRecord = z.infer<typeof instanceRecord>;

/** An instance as the runtime sees it now: a live pod or process. */
export const liveInstance = z.object({
  runtimeRef: z.string(),
  instanceId: z.string().nullable(),
  modelId: z.string().nullable(),
  /** Pod phase on Kubernetes (`Pending`, `Running`, …); `Running` for a local process. */
  phase: z.string(),
  ready: z.boolean(),
  node: z.string().nullable(),
  startedAt: z.string().nullable(),
  /** The request the instance was last assigned to (the `podium/request-id` annotation). */
  requestId: z.string().nullable(),
  /** Why it is not ready, when the runtime says (e.g. `Unschedulable: 0/3 nodes are available…`). */
  waiting: z.object({ reason: z.string(), message: z.string() }).nullable(),
  /** The runtime's raw events about it (Kubernetes Events), when asked for with `withEvents`. */
  events: z.array(z.unknown()).optional(),
});
export type LiveInstance = z.infer<typeof liveInstance>;

/** One of the runtime's events about an instance (a Kubernetes Event of its pod), as kept with the instance. */
export const runtimeEvent = z.object({
  uid: z.string(),
  type: z.string(),
  reason: z.string(),
  message: z.string(),
  source: z.string().nullable(),
  count: z.number().int().min(1),
  firstAt: z.string(),
  lastAt: z.string(),
});
export type RuntimeEvent = z.infer<typeof runtimeEvent>;

/** How many of its runtime events an instance keeps: the latest. */
export const runtimeEventsKept = 50;

const time = z.union([z.date(), z.string()]).nullish(); // client-node gives Dates; stored views give strings
const rawKubernetesEvent = z.object({
  metadata: z.object({ uid: z.string(), resourceVersion: z.string().nullish() }),
  type: z.string().nullish(),
  reason: z.string().nullish(),
  message: z.string().nullish(),
  source: z.object({ component: z.string().nullish() }).nullish(),
  reportingComponent: z.string().nullish(), // the newer API's name for the source: the scheduler's events have only this
  count: z.number().int().nullish(),
  firstTimestamp: time,
  lastTimestamp: time,
  eventTime: time,
});

/** A raw Kubernetes Event as Podium keeps it, and where it stands among others seen at once; null for anything else. */
function keptEventOf(raw: unknown): { event: RuntimeEvent; storedAs: number } | null {
  const parsed = rawKubernetesEvent.safeParse(raw);
  if (!parsed.success || !parsed.data.reason) return null;
  const {
    metadata,
    type,
    reason,
    message,
    source,
    reportingComponent,
    count,
    firstTimestamp,
    lastTimestamp,
    eventTime,
  } = parsed.data;
  const iso = (value: Date | string | null | undefined) =>
    value === undefined || value === null ? undefined : new Date(value).toISOString();
  const firstAt = iso(firstTimestamp) ?? iso(eventTime) ?? iso(lastTimestamp);
  if (!firstAt) return null;
  const event = {
    uid: metadata.uid,
    type: type ?? 'Normal',
    reason,
    message: message ?? '',
    source: source?.component || reportingComponent || null,
    count: Math.max(1, count ?? 1),
    firstAt,
    lastAt: iso(lastTimestamp) ?? firstAt,
  };
  return { event, storedAs: Number(metadata.resourceVersion) || 0 };
}

/** A raw Kubernetes Event as Podium keeps it, or null for anything else (a local process has none). Pure. */
export function runtimeEventOf(raw: unknown): RuntimeEvent | null {
  return keptEventOf(raw)?.event ?? null;
}

/**
 * Orders runtime events as they happened. Most events' times are to the second, and the
 * scheduler records its own late, in batches: within one second, its placing of the pod comes
 * before what the kubelet did with it. A stable sort keeps the callers' order past that. Pure.
 */
export function compareRuntimeEvents(a: RuntimeEvent, b: RuntimeEvent): number {
  const placedFirst = (event: RuntimeEvent) => (event.source === 'default-scheduler' ? 0 : 1);
  return a.firstAt.slice(0, 19).localeCompare(b.firstAt.slice(0, 19)) || placedFirst(a) - placedFirst(b);
}

/** The events among `raws` as Podium keeps them, in the order they happened (ties: as the API server stored them). Pure. */
export function runtimeEventsInOrder(raws: readonly unknown[]): RuntimeEvent[] {
  return raws
    .flatMap((raw) => keptEventOf(raw) ?? [])
    .sort((a, b) => compareRuntimeEvents(a.event, b.event) || a.storedAs - b.storedAs)
    .map(({ event }) => event);
}

/**
 * What a worker's runtime ran when it last looked (runtime_views). A Kubernetes runtime sees
 * the cluster, the same from every worker; a local runtime sees its own processes only.
 */
export const runtimeView = z.object({
  workerId: z.string(),
  scope: z.enum(['cluster', 'process']),
  observedAt: z.string(),
  instances: z.array(liveInstance),
});
export type RuntimeView = z.infer<typeof runtimeView>;

/**
 * The live instances from the workers' views: the newest view of the cluster, or every
 * worker's own processes. Pure.
 */
export function mergeRuntimeViews(views: readonly RuntimeView[]): {
  instances: LiveInstance[];
  observedAt: string | null;
} {
  const newestFirst = [...views].sort((a, b) => b.observedAt.localeCompare(a.observedAt));
  const cluster = newestFirst.find((view) => view.scope === 'cluster');
  const chosen = cluster ? [cluster] : newestFirst;
  const oldest = chosen.map((view) => view.observedAt).sort()[0] ?? null;
  return { instances: chosen.flatMap((view) => view.instances), observedAt: oldest };
}

/** A live instance: Podium's record joined with what the runtime says of it (null if it has no such pod/process). */
export type AdminInstance = {
  id: string | null;
  model: string | null;
  status: string | null;
  startedAt: string | null;
  assignedRequestId: string | null;
  runtime: Omit<LiveInstance, 'instanceId' | 'modelId'> | null;
};

/** Joins the records with the runtime's view; a pod without a record is listed too (an orphan). */
export function joinInstances(records: readonly InstanceRecord[], live: readonly LiveInstance[]): AdminInstance[] {
  const byId = new Map(live.filter((l) => l.instanceId).map((l) => [l.instanceId!, l]));
  const strip = ({ instanceId: _i, modelId: _m, ...rest }: LiveInstance) => rest;
  const joined: AdminInstance[] = records.map((record) => {
    const runtime = byId.get(record.id);
    byId.delete(record.id);
    return {
      id: record.id,
      model: record.modelId,
      status: record.status,
      startedAt: record.startedAt,
      assignedRequestId: record.assignedRequestId ?? runtime?.requestId ?? null,
      runtime: runtime ? strip(runtime) : null,
    };
  });
  const unrecorded = live.filter((l) => !l.instanceId || byId.has(l.instanceId));
  return [
    ...joined,
    ...unrecorded.map((l) => ({
      id: l.instanceId,
      model: l.modelId,
      status: null,
      startedAt: l.startedAt,
      assignedRequestId: l.requestId,
      runtime: strip(l),
    })),
  ];
}

/** The query's filters on the joined list (start dates are UTC days, `to` included). */
export function filterInstances(instances: AdminInstance[], query: AdminInstancesQuery): AdminInstance[] {
  const from = query.from ? Date.parse(`${query.from}T00:00:00Z`) : -Infinity;
  const to = query.to ? Date.parse(`${query.to}T00:00:00Z`) + 86_400_000 : Infinity;
  const status = query.status?.toLowerCase();
  return instances.filter((instance) => {
    const started = instance.startedAt ? Date.parse(instance.startedAt) : NaN;
    if ((query.from || query.to) && !(started >= from && started < to)) return false;
    if (status && instance.status?.toLowerCase() !== status && instance.runtime?.phase.toLowerCase() !== status)
      return false;
    return true;
  });
}

/** A Temporal history event about an instance, as the instance page shows it (api/instance-history). */
export type ReadableEvent = { eventId: number; time: string; type: string; name: string | null; detail: unknown };

/** `GET /api/admin/instances`: the joined, filtered instances and the health of running pools. */
/** `runtimeObservedAt`: when the workers last looked at their runtime (null: no worker has, lately). */
export type AdminInstancesView = {
  instances: AdminInstance[];
  pools: PoolHealth[];
  at: string;
  runtimeObservedAt: string | null;
};

/** `GET /api/admin/instances/:id`: the record, its log, the requests it served, its pool's history about it. */
export type InstanceHistoryView = {
  instance: InstanceRecord;
  timeline: readonly InstanceLogEntry[];
  /** The runtime's events about it (its pod's Kubernetes Events), kept after the pod is gone; oldest first. */
  runtimeEvents: readonly RuntimeEvent[];
  requests: (AdminRequestSummary & { links: { temporal: string | null } })[];
  workflow: { id: string; link: string | null; events: ReadableEvent[] | null };
};
