import { continueAsNew, proxyActivities, sleep } from '@temporalio/workflow';
import type { PodiumActivities } from '../activities';
import type { RequestReconcilerInput } from './contracts';

const reconcile = proxyActivities<PodiumActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', maximumInterval: '10 seconds' },
});

/** Scans per run before continuing as new (each is a handful of events). */
const scansPerRun = 200;

/**
 * Keeps requests true to their workflows: one per task queue (fixed id), long-running. Every
 * scan interval it ends the requests whose workflows Temporal closed without them (see
 * `reconcileClosedRequests`), looking back far enough that a missed scan (a worker down for a
 * while, visibility lagging) is caught by a later one.
 */
export async function requestReconciler({ scanIntervalMs = 10_000 }: RequestReconcilerInput): Promise<void> {
  const lookbackSeconds = Math.max(600, (scanIntervalMs / 1000) * 6);
  for (let scan = 0; scan < scansPerRun; scan++) {
    await reconcile.reconcileClosedRequests({ lookbackSeconds });
    await sleep(scanIntervalMs);
  }
  await continueAsNew<typeof requestReconciler>({ scanIntervalMs });
}
