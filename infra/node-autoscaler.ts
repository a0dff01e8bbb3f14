import type { Client } from '@temporalio/client';
import { wakeNodeAutoscaler } from '../activities/node-autoscaler';
import type { AutoscalerSettings } from '../domain/node-autoscaler';

/** Starts the node autoscaler of this task queue if it is not running (and wakes it if it is). */
export async function ensureNodeAutoscaler(
  temporal: Client,
  taskQueue: string,
  settings: AutoscalerSettings,
  scanIntervalMs?: number,
): Promise<string> {
  return wakeNodeAutoscaler(temporal, taskQueue, { settings, scanIntervalMs });
}
