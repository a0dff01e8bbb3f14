import { sql, type CommonQueryMethods } from 'slonik';
import { binaryTensorsWith, modelSpec, streamsWith, type ModelSettings, type ModelSpec } from '../domain/model-catalog';

const selectModel = sql.fragment`
  SELECT id,
         display_name AS "displayName",
         description,
         protocol,
         COALESCE(served_model_name, id) AS "servedModelName",
         runtime,
         local_command AS "localCommand",
         env,
         working_dir AS "workingDir",
         container_image AS "containerImage",
         container_command AS "containerCommand",
         container_args AS "containerArgs",
         container_env AS "containerEnv",
         container_port AS "containerPort",
         readiness_path AS "readinessPath",
         storage_uri AS "storageUri",
         port_env AS "portEnv",
         port_arg AS "portArg",
         resources,
         min_instances AS "minInstances",
         max_instances AS "maxInstances",
         keep_warm_seconds AS "keepWarmSeconds",
         max_concurrency AS "maxConcurrency",
         startup_timeout_seconds AS "startupTimeoutSeconds",
         request_timeout_seconds AS "requestTimeoutSeconds",
         max_waiting AS "maxWaiting",
         inputs,
         outputs,
         max_tokens AS "maxTokens",
         streams,
         binary_tensors AS "binaryTensors"
    FROM models`;

/** The catalog: every model but the deleted ones. */
export async function listModels(db: CommonQueryMethods): Promise<readonly ModelSpec[]> {
  return db.any(sql.type(modelSpec)`${selectModel} WHERE deleted_at IS NULL ORDER BY id`);
}

/** A model of the catalog; null when there is none, or it was deleted. */
export async function findModel(db: CommonQueryMethods, id: string): Promise<ModelSpec | null> {
  return db.maybeOne(sql.type(modelSpec)`${selectModel} WHERE id = ${id} AND deleted_at IS NULL`);
}

/** A model as its pool runs it: a deleted one too, while the requests it already had finish. */
export async function findModelToServe(db: CommonQueryMethods, id: string): Promise<ModelSpec | null> {
  return db.maybeOne(sql.type(modelSpec)`${selectModel} WHERE id = ${id}`);
}

/**
 * Takes the model out of the catalog; its pool drains (keeps nothing warm) and its rows stay for
 * the requests and stats that name it. False when there was no such model.
 */
export async function deleteModel(db: CommonQueryMethods, id: string): Promise<boolean> {
  const deleted = await db.maybeOne(sql.unsafe`
    UPDATE models SET deleted_at = clock_timestamp() WHERE id = ${id} AND deleted_at IS NULL RETURNING id`);
  return deleted !== null;
}

function optionalArray(values: string[] | undefined) {
  return values ? sql.array(values, 'text') : null;
}

/**
 * Creates the model or replaces its settings (the id stays; a deleted model comes back). Pools
 * read the settings each round, so a change applies from their next round on.
 */
export async function upsertModel(db: CommonQueryMethods, id: string, settings: ModelSettings): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO models (id, display_name, description, protocol, max_tokens, streams, binary_tensors, served_model_name, runtime, local_command, env, working_dir,
                        container_image, container_command, container_args, container_env, container_port,
                        readiness_path, storage_uri, port_env, port_arg,
                        resources, min_instances, max_instances, keep_warm_seconds, max_concurrency,
                        startup_timeout_seconds, request_timeout_seconds, max_waiting, inputs, outputs)
    VALUES (${id}, ${settings.displayName}, ${settings.description}, ${settings.protocol}, ${settings.maxTokens ?? null},
            ${streamsWith(settings)}, ${binaryTensorsWith(settings)},
            ${settings.servedModelName ?? null}, ${settings.runtime},
            ${sql.array(settings.localCommand, 'text')}, ${sql.jsonb(settings.env)}, ${settings.workingDir ?? null},
            ${settings.containerImage}, ${optionalArray(settings.containerCommand)}, ${optionalArray(settings.containerArgs)},
            ${sql.jsonb(settings.containerEnv)}, ${settings.containerPort},
            ${settings.readinessPath ?? null}, ${settings.storageUri ?? null}, ${settings.portEnv ?? null}, ${settings.portArg ?? null},
            ${sql.jsonb(settings.resources)}, ${settings.minInstances}, ${settings.maxInstances}, ${settings.keepWarmSeconds},
            ${settings.maxConcurrency}, ${settings.startupTimeoutSeconds}, ${settings.requestTimeoutSeconds}, ${settings.maxWaiting},
            ${sql.jsonb(settings.inputs)}, ${sql.jsonb(settings.outputs)})
    ON CONFLICT (id) DO UPDATE SET
      display_name = EXCLUDED.display_name, description = EXCLUDED.description,
      protocol = EXCLUDED.protocol, max_tokens = EXCLUDED.max_tokens, streams = EXCLUDED.streams, binary_tensors = EXCLUDED.binary_tensors, served_model_name = EXCLUDED.served_model_name,
      runtime = EXCLUDED.runtime, local_command = EXCLUDED.local_command, env = EXCLUDED.env, working_dir = EXCLUDED.working_dir,
      container_image = EXCLUDED.container_image, container_command = EXCLUDED.container_command,
      container_args = EXCLUDED.container_args, container_env = EXCLUDED.container_env, container_port = EXCLUDED.container_port,
      readiness_path = EXCLUDED.readiness_path, storage_uri = EXCLUDED.storage_uri,
      port_env = EXCLUDED.port_env, port_arg = EXCLUDED.port_arg,
      resources = EXCLUDED.resources, min_instances = EXCLUDED.min_instances, max_instances = EXCLUDED.max_instances,
      keep_warm_seconds = EXCLUDED.keep_warm_seconds, max_concurrency = EXCLUDED.max_concurrency,
      startup_timeout_seconds = EXCLUDED.startup_timeout_seconds, request_timeout_seconds = EXCLUDED.request_timeout_seconds,
      max_waiting = EXCLUDED.max_waiting, inputs = EXCLUDED.inputs, outputs = EXCLUDED.outputs, deleted_at = NULL`);
}
