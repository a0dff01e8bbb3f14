import type { DatabasePool } from 'slonik';
import { createInferenceActivities } from './inference';
import { createInstanceActivities } from './instances';
import { createRequestActivities } from './requests';
import type { InstanceRuntime } from './runtime/instance-runtime';

export type ActivityDependencies = { pool: DatabasePool; runtime: InstanceRuntime };

export function createActivities(deps: ActivityDependencies) {
  return {
    ...createRequestActivities(deps),
    ...createInstanceActivities(deps),
    ...createInferenceActivities(deps),
  };
}

export type PodiumActivities = ReturnType<typeof createActivities>;
