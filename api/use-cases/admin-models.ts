import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { writeAuditLog } from '../../db/audit-log';
import { findModel, upsertModel } from '../../db/models';
import type { ModelSettings, ModelSpec } from '../../domain/model-catalog';
import { poolWorkflowId, wakePoolSignal } from '../../workflows/contracts';
import { budgetLeft } from '../request-budget';

type AdminModelDeps = { db: DatabasePool; temporal: Client; taskQueue: string };

const wakeDeadlineMs = 1_000;

/**
 * Registers the model or replaces its settings, with its audit row, in one transaction; then
 * wakes its pool if it runs, so the change applies at once (the pool reads the settings each
 * round). Returns the model as the catalog now has it, and whether it is new.
 */
export async function putModel(
  { db, temporal, taskQueue }: AdminModelDeps,
  admin: { userId: string },
  id: string,
  settings: ModelSettings,
): Promise<{ model: ModelSpec; created: boolean }> {
  const { created } = await db.transaction(async (t) => {
    const outcome = await upsertModel(t, id, settings);
    await writeAuditLog(t, {
      actorUserId: admin.userId,
      action: outcome.created ? 'MODEL_CREATE' : 'MODEL_UPDATE',
      targetType: 'model',
      targetId: id,
      detail: { settings },
    });
    return outcome;
  });
  // Best effort: with no pool yet, the first request starts one that reads the settings; a
  // Temporal out of reach leaves them for the pool's next round. The change is saved either way.
  await temporal
    .withDeadline(Date.now() + budgetLeft(wakeDeadlineMs), () => temporal.workflow.getHandle(poolWorkflowId(taskQueue, id)).signal(wakePoolSignal))
    .catch(() => undefined);
  return { model: (await findModel(db, id))!, created };
}
