import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { modelSpec, type ModelSettings, type ModelSpec } from '../domain/model-catalog';

const selectModel = sql.fragment`
  SELECT id,
         display_name AS "displayName",
         description,
         protocol,
         COALESCE(served_model_name, id) AS "servedModelName",
         local_command AS "localCommand",
         container_image AS "containerImage",
         container_port AS "containerPort",
         resources,
         min_instances AS "minInstances",
         max_instances AS "maxInstances",
         keep_warm_seconds AS "keepWarmSeconds",
         max_concurrency AS "maxConcurrency",
         startup_timeout_seconds AS "startupTimeoutSeconds",
         request_timeout_seconds AS "requestTimeoutSeconds",
         max_waiting AS "maxWaiting"
    FROM models`;

export async function listModels(db: CommonQueryMethods): Promise<readonly ModelSpec[]> {
  return db.any(sql.type(modelSpec)`${selectModel} ORDER BY id`);
}

export async function findModel(db: CommonQueryMethods, id: string): Promise<ModelSpec | null> {
  return db.maybeOne(sql.type(modelSpec)`${selectModel} WHERE id = ${id}`);
}

/**
 * Creates the model or replaces its settings (the id stays); whether it was new. Pools read the
 * settings each round, so a change applies from their next round on.
 */
export async function upsertModel(db: CommonQueryMethods, id: string, settings: ModelSettings): Promise<{ created: boolean }> {
  return db.one(sql.type(z.object({ created: z.boolean() }))`
    INSERT INTO models (id, display_name, description, served_model_name, local_command, container_image, container_port,
                        resources, min_instances, max_instances, keep_warm_seconds, max_concurrency,
                        startup_timeout_seconds, request_timeout_seconds, max_waiting)
    VALUES (${id}, ${settings.displayName}, ${settings.description}, ${settings.servedModelName ?? null},
            ${sql.array(settings.localCommand, 'text')}, ${settings.containerImage}, ${settings.containerPort},
            ${sql.jsonb(settings.resources)}, ${settings.minInstances}, ${settings.maxInstances}, ${settings.keepWarmSeconds},
            ${settings.maxConcurrency}, ${settings.startupTimeoutSeconds}, ${settings.requestTimeoutSeconds}, ${settings.maxWaiting})
    ON CONFLICT (id) DO UPDATE SET
      display_name = EXCLUDED.display_name, description = EXCLUDED.description, served_model_name = EXCLUDED.served_model_name,
      local_command = EXCLUDED.local_command, container_image = EXCLUDED.container_image, container_port = EXCLUDED.container_port,
      resources = EXCLUDED.resources, min_instances = EXCLUDED.min_instances, max_instances = EXCLUDED.max_instances,
      keep_warm_seconds = EXCLUDED.keep_warm_seconds, max_concurrency = EXCLUDED.max_concurrency,
      startup_timeout_seconds = EXCLUDED.startup_timeout_seconds, request_timeout_seconds = EXCLUDED.request_timeout_seconds,
      max_waiting = EXCLUDED.max_waiting
    RETURNING (xmax = 0) AS created`);
}
