import { sql, type DatabasePool } from 'slonik';

/** A model of the test's own, a copy of `like` with other settings (pools read them at start). */
export async function addTestModel(
  pool: DatabasePool,
  model: {
    id: string;
    like?: string;
    localCommand?: string[];
    containerImage?: string;
    resources?: Record<string, string>;
    minInstances?: number;
    maxInstances?: number;
    keepWarmSeconds?: number;
    maxConcurrency?: number;
    startupTimeoutSeconds?: number;
    requestTimeoutSeconds?: number;
  },
): Promise<void> {
  await pool.query(sql.unsafe`
    INSERT INTO models (id, display_name, description, local_command, container_image, resources, min_instances,
                        max_instances, keep_warm_seconds, max_concurrency, startup_timeout_seconds, request_timeout_seconds)
    SELECT ${model.id}, ${model.id}, 'test model',
           ${model.localCommand ? sql.array(model.localCommand, 'text') : sql.fragment`local_command`},
           ${model.containerImage ?? sql.fragment`container_image`},
           ${model.resources ? sql.jsonb(model.resources) : sql.fragment`resources`},
           ${model.minInstances ?? 0}, ${model.maxInstances ?? 1}, ${model.keepWarmSeconds ?? 60}, ${model.maxConcurrency ?? 1},
           ${model.startupTimeoutSeconds ?? 30}, ${model.requestTimeoutSeconds ?? 30}
      FROM models WHERE id = ${model.like ?? 'echo'}`);
}
