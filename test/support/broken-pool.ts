import type { WorkflowHandle } from '@temporalio/client';
import { eventually } from './eventually';
import { stopPoolInstanceSignal } from '../../workflows/contracts';

/**
 * Sends a model's pool a stop signal without its argument (an operator's slip might): every
 * workflow task of the pool throws from then on, and Temporal retries it forever. Resolves once
 * the pool counts as failing (domain/model-pool-health).
 */
export async function breakPool(pool: WorkflowHandle): Promise<void> {
  await pool.signal(stopPoolInstanceSignal, null as never);
  await eventually(
    async () => (await pool.describe()).raw.pendingWorkflowTask?.attempt ?? 0,
    (attempt) => attempt >= 3,
    30_000,
  );
}
