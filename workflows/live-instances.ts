import { proxyActivities } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';

const runtime = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '20 seconds',
  retry: { maximumAttempts: 2 },
});

/**
 * What the runtime runs right now (pods with their raw Kubernetes events, or local processes),
 * asked of a worker: only workers hold a runtime and its credentials, not the API. A short
 * workflow rather than a query, because the answer comes from an activity.
 */
export async function describeLiveInstances(filter: { modelId?: string }) {
  return runtime.listRuntimeInstances(filter);
}
