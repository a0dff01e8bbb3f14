import { sql, type CommonQueryMethods } from 'slonik';
import { modelSpec, type ModelSpec } from '../domain/model-catalog';

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
