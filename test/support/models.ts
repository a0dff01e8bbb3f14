import { sql, type DatabasePool } from 'slonik';
import type { ModelSpec } from '../../domain/model-catalog';

/** A model of the test's own, a copy of `like` with other settings (pools read them at start). */
export async function addTestModel(
  db: DatabasePool,
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
    maxWaiting?: number;
    servedModelName?: string;
    readinessPath?: string;
    env?: ModelSpec['env'];
  },
): Promise<void> {
  await db.query(sql.unsafe`
    INSERT INTO models (id, display_name, description, local_command, container_image, resources, min_instances,
                        max_instances, keep_warm_seconds, max_concurrency, startup_timeout_seconds, request_timeout_seconds, max_waiting,
                        served_model_name, readiness_path, env)
    SELECT ${model.id}, ${model.id}, 'test model',
           ${model.localCommand ? sql.array(model.localCommand, 'text') : sql.fragment`local_command`},
           ${model.containerImage ?? sql.fragment`container_image`},
           ${model.resources ? sql.jsonb(model.resources) : sql.fragment`resources`},
           ${model.minInstances ?? 0}, ${model.maxInstances ?? 1}, ${model.keepWarmSeconds ?? 60}, ${model.maxConcurrency ?? 1},
           ${model.startupTimeoutSeconds ?? 30}, ${model.requestTimeoutSeconds ?? 30}, ${model.maxWaiting ?? 1000},
           ${model.servedModelName ?? null}::text, ${model.readinessPath ?? null}::text,
           ${model.env ? sql.jsonb(model.env) : sql.fragment`env`}
      FROM models WHERE id = ${model.like ?? 'echo'}`);
}

/** The echo model as the catalog has it, for tests that talk to a runtime directly. */
export const echoModel: ModelSpec = {
  id: 'echo',
  displayName: 'Echo',
  description: '',
  protocol: 'oip-v2',
  maxTokens: null,
  streams: false,
  binaryTensors: true,
  servedModelName: 'echo',
  runtime: 'podium-node',
  localCommand: ['node', 'models/echo/server.ts'],
  env: {},
  workingDir: null,
  containerImage: 'ghcr.io/podium/model-echo:0.1.0',
  containerCommand: null,
  containerArgs: null,
  containerEnv: {},
  containerPort: 8080,
  readinessPath: null,
  storageUri: null,
  portEnv: null,
  portArg: null,
  resources: { cpu: '100m', memory: '128Mi' },
  minInstances: 0,
  maxInstances: 1,
  keepWarmSeconds: 60,
  maxConcurrency: 1,
  startupTimeoutSeconds: 30,
  requestTimeoutSeconds: 30,
  maxWaiting: 1000,
  inputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
  outputs: [{ name: 'numbers', datatype: 'FP32', shape: [-1, -1] }],
};
