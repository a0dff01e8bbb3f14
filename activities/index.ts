import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { createCleanupActivities } from './cleanup';
import { createInferenceActivities } from './inference';
import { createInstanceActivities } from './instances';
import { createPoolActivities } from './pools';
import { createRequestActivities } from './requests';
import type { InstanceRuntime } from './runtime/instance-runtime';
import { createWebhookActivities } from './webhooks';

export type ActivityDependencies = {
  pool: DatabasePool;
  runtime: InstanceRuntime;
  /** For activities that signal workflows (a request queueing at its model's pool). */
  temporal: Client;
  taskQueue: string;
  webhookSecret: string;
};

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createRequestActivities(deps),
    ...createPoolActivities(deps),
    ...createInstanceActivities(deps),
    ...createInferenceActivities(deps),
    ...createWebhookActivities(deps),
    ...createCleanupActivities(deps),
  };
}

export type PodiumActivities = ReturnType<typeof createActivities>;
