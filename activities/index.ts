import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { createCleanupActivities } from './cleanup';
import { createInferenceActivities } from './inference';
import { createInstanceActivities } from './instances';
import { createNodeAutoscalerActivities, type AutoscalerDependencies } from './node-autoscaler';
import { createOperatorAuditActivities } from './operator-audit';
import { createPoolActivities } from './model-pool';
import { createReconcilerActivities } from './reconciler';
import { createRequestActivities } from './work-request';
import type { RequestInterrupts } from './request-interrupts';
import type { PayloadStore } from '../lib/payload-store';
import type { InstanceRuntime } from './runtime/instance-runtime';
import { createWarmRequestActivities } from './warm-request';
import { createWebhookActivities } from './webhooks';

export type ActivityDependencies = {
  db: DatabasePool;
  runtime: InstanceRuntime;
  /** Where payloads' bytes live (PAYLOAD_STORE). */
  payloads: PayloadStore;
  /** UPLOAD_TTL_HOURS: uploads no request named are deleted after this long. */
  uploadHours: number;
  /** POOL_SCALING: `load` sizes pools on the measured load; otherwise a slot per waiter. */
  poolScaling?: 'load' | 'waiters';
  /** For activities that signal workflows (a slot handed over, a pool woken). */
  temporal: Client;
  taskQueue: string;
  webhookSecret: string;
  /** CIDRs webhooks may reach although they are not public (WEBHOOK_ALLOWED_ADDRESSES). */
  webhookAllowedAddresses?: readonly string[];
  /** Cuts a running model call the moment its request is interrupted (none: at the signal's pace). */
  interrupts?: RequestInterrupts;
  /** Set when a node provider is configured: the node autoscaler's cluster access and settings. */
  autoscaler?: AutoscalerDependencies;
};

/**
 * Every activity a Podium worker runs, made from what they share: the database, the instance
 * runtime, the Temporal client and the settings. Workflows know them by type only
 * (PodiumActivities).
 */
export function createActivities(deps: ActivityDependencies) {
  const nodeAutoscaler = createNodeAutoscalerActivities(deps);
  return {
    ...createRequestActivities(deps),
    ...createWarmRequestActivities(deps),
    ...createPoolActivities(deps),
    ...createInstanceActivities({ ...deps, onUnschedulable: nodeAutoscaler.signalPodsUnschedulable }),
    ...createInferenceActivities(deps),
    ...createWebhookActivities(deps),
    ...createCleanupActivities(deps),
    ...createReconcilerActivities(deps),
    ...createOperatorAuditActivities(deps),
    ...nodeAutoscaler,
  };
}

export type PodiumActivities = ReturnType<typeof createActivities>;
