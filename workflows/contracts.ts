import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { LiveInstance } from '../domain/instances';
import type { AutoscalerMemory, AutoscalerSettings } from '../domain/node-autoscaler';
import type { Slot } from '../domain/model-pool';
import type { AdminStatusChange, RequestEnd, RequestError } from '../domain/work-request';

/**
 * What code outside a workflow (the API, activities, infra, tests) knows of Podium's workflows:
 * their registered names and signatures, their ids, and every signal and query.
 *
 * It holds definitions only, so importing it loads no workflow code. The workflows take their
 * inputs and handlers from here too, so both sides share one contract.
 * test/unit/workflow-contracts checks that `workflows/index` registers exactly these workflows,
 * with these signatures.
 */

export type WorkRequestInput = { requestId: string; modelId: string };

export type ModelPoolInput = {
  modelId: string;
  /** Continue as new past this many history events (tests set it low). */
  historyLimit?: number;
  /** An operator's min_instances until `until` (epoch ms), carried across continue-as-new. */
  minInstancesOverride?: { minInstances: number; until: number };
};

export type NodeAutoscalerInput = {
  settings: AutoscalerSettings;
  carried?: { memory: AutoscalerMemory; rounds: number; paused?: { actor: string; reason: string } };
  /** Look at the cluster at least this often without a signal. */
  scanIntervalMs?: number;
};

export type RequestReconcilerInput = { scanIntervalMs?: number };

/** Every workflow the worker registers, by its registered (history-recorded) name. */
export type PodiumWorkflows = {
  /** One work request, from submission to its end (workflows/work-request.ts; registered under its first name). */
  modelRequest: (input: WorkRequestInput) => Promise<RequestEnd>;
  /** A work request whose warm path is one local activity (workflows/model-request2.ts); new submissions start it. */
  modelRequest2: (input: WorkRequestInput) => Promise<RequestEnd>;
  /** The control plane of one model's instances (workflows/model-pool.ts). */
  modelPool: (input: ModelPoolInput) => Promise<void>;
  nodeAutoscaler: (input: NodeAutoscalerInput) => Promise<void>;
  requestReconciler: (input: RequestReconcilerInput) => Promise<void>;
  cleanupOldRequests: (input: {
    retentionDays: number;
    actor?: string;
    reason?: string;
  }) => Promise<{ deleted: number }>;
  describeLiveInstances: (filter: { modelId?: string }) => Promise<LiveInstance[]>;
};

/**
 * The names to start them by: `temporal.workflow.start<PodiumWorkflows['modelPool']>(workflowNames.modelPool, …)`.
 * Registered names are in every recorded history: renaming one is a new workflow type.
 */
export const workflowNames = {
  modelRequest: 'modelRequest',
  modelRequest2: 'modelRequest2',
  modelPool: 'modelPool',
  nodeAutoscaler: 'nodeAutoscaler',
  requestReconciler: 'requestReconciler',
  cleanupOldRequests: 'cleanupOldRequests',
  describeLiveInstances: 'describeLiveInstances',
} as const satisfies { [name in keyof PodiumWorkflows]: name };

// Workflow ids. Pools, autoscaler and reconciler are one per task queue: deployments (and test
// runs) that share a Temporal namespace but not a task queue never share them.
export const requestWorkflowId = (requestId: string) => `request-${requestId}`;
/** The request workflow types: the first drains while the second takes new submissions (docs/workflow-changes.md). */
export const requestWorkflowTypes: readonly string[] = [workflowNames.modelRequest, workflowNames.modelRequest2];
export const poolWorkflowId = (taskQueue: string, modelId: string) => `pool-${modelId}.${taskQueue}`;
export const nodeAutoscalerWorkflowId = (taskQueue: string) => `node-autoscaler.${taskQueue}`;
export const requestReconcilerWorkflowId = (taskQueue: string) => `request-reconciler.${taskQueue}`;
/** One look at the runtime's instances (`queryId` unique per look: the caller's UUID). */
export const liveInstancesWorkflowId = (queryId: string) => `live-instances-${queryId}`;
/** The Schedule that runs `cleanupOldRequests` daily; each of its runs has the id `<schedule>.run`. */
export const cleanupScheduleId = (taskQueue: string) => `podium-cleanup.${taskQueue}`;

// Work request signals and query.
/** A slot handed over by the request before it in line: this instance's slot is yours. */
export const instanceAssignedSignal = defineSignal<[Slot]>('instanceAssigned');
/** From the model's pool: no instance could be started for you. */
export const instanceUnavailableSignal = defineSignal<[RequestError]>('instanceUnavailable');
/** From the owner (API), or a cancel of the workflow itself: stop waiting or working, end CANCELLED. */
export const cancelRequestSignal = defineSignal<[]>('cancelRequest');
/** From an admin (API): REQUESTED re-queues as a new attempt; FAILED ends it with the reason. */
export const adminSetStatusSignal = defineSignal<[AdminStatusChange]>('adminSetStatus');

/**
 * The failure type of a model call cut because its request was interrupted (a cancel, an admin's
 * fail or re-queue; activities/request-interrupts.ts): the workflow learns what to do from the
 * signal sent before the interrupt.
 */
export const interruptedCallType = 'REQUEST_INTERRUPTED';
/** The failure type of a start whose instance went with the worker that started it (activities/instances.ts). */
export const instanceLostType = 'INSTANCE_LOST';

export type WorkRequestStage = 'STARTING' | 'QUEUED' | 'INFERRING' | 'FINISHING' | 'DONE';
export const workRequestStageQuery = defineQuery<{ stage: WorkRequestStage; instanceId: string | null }>(
  'workRequestStage',
);

// Model pool signals.
/** Look again now: requests wait beyond the starting slots, or an instance turned unhealthy. */
export const wakePoolSignal = defineSignal<[]>('wakePool');
/** From an admin (API): stop this instance; its requests find out when their calls fail. */
export const stopPoolInstanceSignal = defineSignal<[{ instanceId: string; reason: string }]>('stopPoolInstance');
/**
 * From an admin (API) or the node autoscaler emptying a node: replace this instance. It takes no
 * new request, a replacement starts, and it stops once the requests it serves have finished.
 */
export const replacePoolInstanceSignal = defineSignal<[{ instanceId: string; reason: string }]>('replacePoolInstance');

// Node autoscaler signal.
/** A model pod could not be scheduled: look at the cluster now. */
export const podsUnschedulableSignal = defineSignal<[]>('podsUnschedulable');
