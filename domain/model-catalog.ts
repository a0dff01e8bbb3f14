import { z } from 'zod';
import { tensorDatatype } from './inference-protocol';
import { runtimeKind, runtimeTakesBinaryTensors } from './model-runtime';
import { auditedEnvironment, redactedEnvironment, secretKeyRef, workerSecretRef } from './model-secrets';

/** A tensor a model takes or gives, as OIP v2 model metadata lists it (-1: any length). */
export const tensorMetadata = z.strictObject({
  name: z.string().min(1).max(256),
  datatype: tensorDatatype,
  shape: z.array(z.number().int().min(-1)).max(16),
});

/** What the model's server speaks: OIP v2 (`/v2/models/{name}/infer`) or the OpenAI API (`/v1/chat/completions`…, streaming). */
export const modelProtocol = z.enum(['oip-v2', 'openai']);
export type ModelProtocol = z.infer<typeof modelProtocol>;

export const modelId = z
  .string()
  .regex(/^[a-z0-9][a-z0-9-]{0,62}$/, 'model ids are lower-case letters, digits and dashes');

/** A row of the `models` catalog: how to run the model and how it behaves. */
export const modelSpec = z.object({
  id: modelId,
  displayName: z.string(),
  description: z.string(),
  protocol: modelProtocol,
  /** The name the model server serves it under (`/v2/models/{name}/infer`); the id unless set. */
  servedModelName: z.string(),
  runtime: runtimeKind,
  /** argv run by the local runtime (from `workingDir`, else the repository root); `node` means the project's Node. */
  localCommand: z.array(z.string()).min(1),
  env: z.record(z.string(), z.union([z.string(), workerSecretRef])),
  workingDir: z.string().nullable(),
  containerImage: z.string(),
  containerCommand: z.array(z.string()).nullable(),
  containerArgs: z.array(z.string()).nullable(),
  containerEnv: z.record(z.string(), z.union([z.string(), secretKeyRef])),
  containerPort: z.number().int(),
  /** Null: `/v2/models/{name}/ready`. */
  readinessPath: z.string().nullable(),
  storageUri: z.string().nullable(),
  /** `custom` runtimes: the environment variable or argument that takes the port. */
  portEnv: z.string().nullable(),
  portArg: z.string().nullable(),
  resources: z.record(z.string(), z.string()),
  minInstances: z.number().int(),
  maxInstances: z.number().int(),
  keepWarmSeconds: z.number().int(),
  /** Requests one instance serves at once (KServe's containerConcurrency). */
  maxConcurrency: z.number().int(),
  startupTimeoutSeconds: z.number().int(),
  requestTimeoutSeconds: z.number().int(),
  /** Requests that may wait (REQUESTED) for the model at once; more are refused, 429 MODEL_QUEUE_FULL. */
  maxWaiting: z.number().int(),
  inputs: z.array(tensorMetadata),
  outputs: z.array(tensorMetadata),
  /** The most tokens one request may ask for (OpenAI models); null: no limit but the model's own. */
  maxTokens: z.number().int().nullable(),
  /** Its output may stream: OpenAI models always; an OIP model whose server has generate_stream. */
  streams: z.boolean(),
  /** Its server takes OIP's binary tensor data extension: tensors kept as bytes go to it in binary, not converted to JSON. */
  binaryTensors: z.boolean(),
});
export type ModelSpec = z.infer<typeof modelSpec>;

/** How a model is run: hidden from `GET /api/models` (commands and environments may hold secrets). */
const howItRuns = {
  localCommand: true,
  env: true,
  workingDir: true,
  containerCommand: true,
  containerArgs: true,
  containerEnv: true,
  storageUri: true,
  portEnv: true,
  portArg: true,
} as const;

/** What `GET /api/models` shows of a model. */
export const publicModelSpec = modelSpec.omit(howItRuns);

export function publicModelView(model: ModelSpec) {
  return publicModelSpec.parse(model);
}
export type PublicModelView = ReturnType<typeof publicModelView>;

const argv = z.array(z.string().min(1).max(4_096)).max(64);
const environmentName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]{0,127}$/, 'an environment variable name');
/** Up to 64 variables, each a value or a reference to where its secret is (domain/model-secrets.ts). */
const environmentWith = <R extends z.ZodType>(reference: R) =>
  z
    .record(environmentName, z.union([z.string().max(8_192), reference]))
    .refine((env) => Object.keys(env).length <= 64, 'at most 64 variables')
    .default({});

/**
 * What an admin registers a model with (`PUT /api/admin/models/:id`): the catalog row but its id,
 * with defaults a newcomer will not trip on (a minute of keep-warm, one instance, one request at
 * a time, a minute to start and to answer).
 */
export const modelSettings = z
  .strictObject({
    displayName: z.string().min(1).max(100),
    description: z.string().max(2_000).default(''),
    servedModelName: z
      .string()
      .regex(
        /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/,
        'letters, digits, dots, dashes and underscores, as model servers name models',
      )
      .optional()
      .describe('the name the model server serves it under; the id when absent'),
    protocol: modelProtocol
      .default('oip-v2')
      .describe('what the server speaks: oip-v2, or openai for vLLM, llama.cpp, TGI, Ollama (they stream)'),
    runtime: runtimeKind.default('podium-node').describe('how the server takes its port, name and settings'),
    localCommand: argv.min(1).describe('argv the local runtime runs (from workingDir, else the repository root)'),
    env: environmentWith(workerSecretRef).describe(
      'environment of the local process; a secret as { "secret": "<name>" }, the worker\'s PODIUM_MODEL_SECRET_<NAME>',
    ),
    workingDir: z
      .string()
      .min(1)
      .max(1_024)
      .optional()
      .describe('where the local process runs, relative to the repository root'),
    containerImage: z.string().min(1).max(512),
    containerCommand: argv.min(1).optional().describe("the container's command; the image's entrypoint when absent"),
    containerArgs: argv.optional().describe("the container's arguments, before those the runtime adds"),
    containerEnv: environmentWith(secretKeyRef).describe(
      'environment of the model\'s container; a secret as { "secretKeyRef": { "name", "key" } } of a Secret in the models\' namespace',
    ),
    containerPort: z.number().int().min(1).max(65_533).default(8080),
    readinessPath: z
      .string()
      .regex(/^\/[\x21-\x7e]{0,511}$/, 'a path starting with /, no spaces')
      .optional()
      .describe(
        'answers 200 once the model is loaded; {name} is the served model name; /v2/models/{name}/ready when absent',
      ),
    storageUri: z
      .string()
      .min(1)
      .max(2_048)
      .optional()
      .describe('where the model artifacts are, passed to runtimes that take one'),
    portEnv: environmentName
      .optional()
      .describe('custom runtime: the environment variable that takes the port (PORT when neither is set)'),
    portArg: z
      .string()
      .regex(/^-{1,2}[A-Za-z0-9][A-Za-z0-9_-]*$/, 'an option such as --port')
      .optional()
      .describe('custom runtime: the argument that takes the port'),
    resources: z.record(z.string().min(1).max(64), z.string().min(1).max(64)).default({ cpu: '100m', memory: '128Mi' }),
    minInstances: z.number().int().min(0).max(100).default(0),
    maxInstances: z.number().int().min(1).max(100).default(1),
    keepWarmSeconds: z.number().int().min(0).max(86_400).default(60),
    maxConcurrency: z.number().int().min(1).max(1_000).default(1),
    startupTimeoutSeconds: z.number().int().min(1).max(3_600).default(60),
    requestTimeoutSeconds: z.number().int().min(1).max(3_600).default(60),
    maxWaiting: z.number().int().min(1).max(100_000).default(1_000),
    inputs: z.array(tensorMetadata).max(64).default([]).describe('the tensors the model takes, for OIP model metadata'),
    outputs: z
      .array(tensorMetadata)
      .max(64)
      .default([])
      .describe('the tensors the model gives, for OIP model metadata'),
    maxTokens: z
      .number()
      .int()
      .min(1)
      .max(10_000_000)
      .optional()
      .describe('openai models: the most tokens a request may ask for (more is refused; none asked: this many)'),
    streams: z
      .boolean()
      .optional()
      .describe(
        "oip-v2 models: the server has OIP's generate_stream (MLServer's predict_stream); openai models always stream",
      ),
    binaryTensors: z
      .boolean()
      .optional()
      .describe(
        "oip-v2 models: the server takes OIP's binary tensor data extension (default: triton and kserve do, the others do not)",
      ),
  })
  .refine((settings) => settings.minInstances <= settings.maxInstances, {
    path: ['minInstances'],
    message: 'must not be more than maxInstances',
  })
  .refine((settings) => settings.runtime === 'custom' || settings.portEnv === undefined, {
    path: ['portEnv'],
    message: 'only the custom runtime takes portEnv; the presets know how their server takes its port',
  })
  .refine((settings) => settings.runtime === 'custom' || settings.portArg === undefined, {
    path: ['portArg'],
    message: 'only the custom runtime takes portArg; the presets know how their server takes its port',
  });
export type ModelSettings = z.infer<typeof modelSettings>;

/** Whether a model with these settings may stream: a model that speaks the OpenAI API always may. */
export function streamsWith(settings: Pick<ModelSettings, 'protocol' | 'streams'>): boolean {
  return settings.protocol === 'openai' || (settings.streams ?? false);
}

/** Whether a model with these settings is sent tensors in binary: as it says, else as its runtime does. */
export function binaryTensorsWith(settings: Pick<ModelSettings, 'runtime' | 'binaryTensors'>): boolean {
  return settings.binaryTensors ?? runtimeTakesBinaryTensors(settings.runtime);
}

/** The catalog row that settings make: what `GET /api/admin/models/:id` shows once they are saved. */
export function modelSpecFrom(id: string, settings: ModelSettings): ModelSpec {
  return {
    ...settings,
    id,
    servedModelName: settings.servedModelName ?? id,
    workingDir: settings.workingDir ?? null,
    containerCommand: settings.containerCommand ?? null,
    containerArgs: settings.containerArgs ?? null,
    readinessPath: settings.readinessPath ?? null,
    storageUri: settings.storageUri ?? null,
    portEnv: settings.portEnv ?? null,
    portArg: settings.portArg ?? null,
    maxTokens: settings.maxTokens ?? null,
    streams: streamsWith(settings),
    binaryTensors: binaryTensorsWith(settings),
  };
}

/** A model as the admin API shows it: secret-looking literal values as `[redacted]`, references as they are. */
export function redactedModel(model: ModelSpec): ModelSpec {
  return { ...model, env: redactedEnvironment(model.env), containerEnv: redactedEnvironment(model.containerEnv) };
}

/** Settings as an audit row keeps them: no literal environment value, references as they are. */
export function auditedSettings(settings: ModelSettings): ModelSettings {
  return {
    ...settings,
    env: auditedEnvironment(settings.env),
    containerEnv: auditedEnvironment(settings.containerEnv),
  };
}

/** What a model's settings look like to edit (a model file, the admin page): the catalog row's fields that are set. */
export function settingsOf(model: ModelSpec): Record<string, unknown> {
  const { id: _id, ...settings } = model;
  return Object.fromEntries(Object.entries(settings).filter(([, value]) => value !== null));
}
