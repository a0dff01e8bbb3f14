import type { Client } from '@temporalio/client';
import type { DatabasePool } from 'slonik';
import { writeAuditLog } from '../../db/audit-log';
import { deleteModel, findModel, upsertModel } from '../../db/models';
import { countOpenRequestsOfModel } from '../../db/work-requests';
import { auditedSettings, type ModelSettings, type ModelSpec } from '../../domain/model-catalog';
import { redactedValue, restoredEnvironment } from '../../domain/model-secrets';
import { poolWorkflowId, wakePoolSignal } from '../../workflows/contracts';
import { ApiError } from '../http/errors';
import { budgetLeft } from '../http/request-budget';

/** `temporal` null: no pool is told (the CLI with Temporal out of reach); pools read the change on their next round. */
type AdminModelDeps = { db: DatabasePool; temporal: Client | null; taskQueue: string };

/** Who changes the catalog: a signed-in admin, or an operator at the CLI (no account). */
export type CatalogActor = { userId: string } | { cliUser: string };

const wakeDeadlineMs = 1_000;

function auditEntry(actor: CatalogActor, action: string, id: string, detail: Record<string, unknown>) {
  return 'userId' in actor
    ? { actorUserId: actor.userId, action, targetType: 'model', targetId: id, detail }
    : {
        actorUserId: null,
        action,
        targetType: 'model',
        targetId: id,
        detail: { ...detail, actor: `cli:${actor.cliUser}` },
      };
}

/**
 * Wakes the model's pool so a change applies at once (the pool reads the settings each round).
 * Best effort: with no pool yet, the first request starts one that reads them; with Temporal out
 * of reach, the pool's next round does. The change is saved either way.
 */
async function wakePool({ temporal, taskQueue }: AdminModelDeps, id: string): Promise<void> {
  await temporal
    ?.withDeadline(Date.now() + budgetLeft(wakeDeadlineMs), () =>
      temporal.workflow.getHandle(poolWorkflowId(taskQueue, id)).signal(wakePoolSignal),
    )
    .catch(() => undefined);
}

/**
 * The settings with each `[redacted]` value (what a read showed of a secret) put back to the
 * stored one; 400 SECRET_NOT_STORED for one that has none.
 */
function withStoredSecrets(settings: ModelSettings, existing: ModelSpec | null): ModelSettings {
  const env = restoredEnvironment(settings.env, existing?.env);
  const containerEnv = restoredEnvironment(settings.containerEnv, existing?.containerEnv);
  const missing = [
    ...env.missing.map((name) => `env.${name}`),
    ...containerEnv.missing.map((name) => `containerEnv.${name}`),
  ];
  if (missing.length > 0) {
    throw new ApiError(
      400,
      'SECRET_NOT_STORED',
      `${missing.join(', ')}: ${redactedValue} keeps the stored value, and there is none; send the value, or a reference to where it is`,
      {
        issues: missing.map((path) => ({ path: path.split('.'), message: 'no stored value to keep' })),
      },
    );
  }
  return { ...settings, env: env.env, containerEnv: containerEnv.env };
}

/**
 * Registers the model, or (with `replace`) replaces its settings, with its audit row, in one
 * transaction; a deleted model's id may be registered again. Returns the model as the catalog
 * now has it, and whether it is new. Without `replace`, a model that exists is 409 MODEL_EXISTS.
 */
export async function registerModel(
  deps: AdminModelDeps,
  actor: CatalogActor,
  id: string,
  settings: ModelSettings,
  { replace }: { replace: boolean },
): Promise<{ model: ModelSpec; created: boolean }> {
  const model = await deps.db.transaction(async (t) => {
    const existing = await findModel(t, id);
    if (existing && !replace) {
      throw new ApiError(
        409,
        'MODEL_EXISTS',
        `There is already a model ${id}; PUT /api/admin/models/${id} replaces its settings`,
      );
    }
    const kept = withStoredSecrets(settings, existing);
    await upsertModel(t, id, kept);
    await writeAuditLog(
      t,
      auditEntry(actor, existing ? 'MODEL_UPDATE' : 'MODEL_CREATE', id, { settings: auditedSettings(kept) }),
    );
    return { model: (await findModel(t, id))!, created: !existing };
  });
  await wakePool(deps, id);
  return model;
}

/**
 * Deletes the model, audited: new requests for it get UNKNOWN_MODEL from now on, while those it
 * has (waiting or running) finish on its pool, which keeps nothing warm after them. Returns how
 * many requests are left to finish.
 */
export async function removeModel(
  deps: AdminModelDeps,
  actor: CatalogActor,
  id: string,
): Promise<{ waiting: number; processing: number }> {
  const draining = await deps.db.transaction(async (t) => {
    if (!(await deleteModel(t, id))) throw new ApiError(404, 'MODEL_NOT_FOUND', `No model ${id} in the catalog`);
    const open = await countOpenRequestsOfModel(t, id);
    await writeAuditLog(t, auditEntry(actor, 'MODEL_DELETE', id, { draining: open }));
    return open;
  });
  await wakePool(deps, id);
  return draining;
}
