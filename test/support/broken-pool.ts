import type { WorkflowHandle } from '@temporalio/client';
import { eventually } from './eventually';

/**
 * Sends a model's pool a signal its code cannot handle (an operator's typo might): every
 * workflow task of the pool throws from then on, and Temporal retries it forever. Resolves once
 * the pool counts as failing (domain/pool-health).
 */
export async function breakPool(pool: WorkflowHandle): Promise<void> {
  await pool.signal('stopPoolInstance', null);
  await eventually(async () => (await pool.describe()).raw.pendingWorkflowTask?.attempt ?? 0, (attempt) => attempt >= 3, 30_000);
}
