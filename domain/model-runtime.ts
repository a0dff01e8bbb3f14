import { z } from 'zod';
import type { SecretKeyRef, WorkerSecretRef } from './model-secrets';

/**
 * How a model server takes its port, model name and settings. Podium assigns the ports (free
 * local ports; the container port on Kubernetes) and passes them the way the runtime expects.
 */
export const runtimeKind = z.enum(['podium-node', 'mlserver', 'kserve', 'triton', 'custom']);
export type RuntimeKind = z.infer<typeof runtimeKind>;

/** The catalog fields a launch is planned from. */
export type RuntimeSettings = {
  runtime: RuntimeKind;
  servedModelName: string;
  localCommand: string[];
  env: Record<string, string | WorkerSecretRef>;
  workingDir: string | null;
  containerCommand: string[] | null;
  containerArgs: string[] | null;
  containerEnv: Record<string, string | SecretKeyRef>;
  containerPort: number;
  readinessPath: string | null;
  storageUri: string | null;
  portEnv: string | null;
  portArg: string | null;
};

/** The ports one instance listens on; only `http` is spoken to, the others keep runtimes apart. */
export type InstancePorts = { http: number; grpc: number; metrics: number };

export type ProcessLaunch = {
  argv: string[];
  /** The worker's secrets still as references: the runtime reads them as it starts the process. */
  env: Record<string, string | WorkerSecretRef>;
  /** Relative to the repository root; null: the root. */
  workingDir: string | null;
  /** Where the server listens: a port given to it, or learnt from its `{"event":"listening"}` line. */
  port: number | 'stdout';
  /** Run under a watcher that stops it with its worker: it does not watch its stdin itself. */
  watched: boolean;
};

export type ContainerLaunch = {
  command: string[] | undefined;
  args: string[] | undefined;
  env: Record<string, string | SecretKeyRef>;
  /** Every port the container listens on, `http` first. */
  ports: { name: string; containerPort: number }[];
};

export const defaultReadinessPath = '/v2/models/{name}/ready';

/** The path that answers 200 once the model is loaded, not just once the server is up. */
export function readinessPathOf(model: Pick<RuntimeSettings, 'readinessPath' | 'servedModelName'>): string {
  return (model.readinessPath ?? defaultReadinessPath).replaceAll('{name}', encodeURIComponent(model.servedModelName));
}

/** What each runtime is told: environment first, then arguments appended to the command. */
function presetFor(
  model: RuntimeSettings,
  host: string,
  ports: InstancePorts,
): { env: Record<string, string>; args: string[] } {
  const name = model.servedModelName;
  switch (model.runtime) {
    case 'podium-node':
      return { env: { HOST: host, PORT: String(ports.http) }, args: [] };
    case 'mlserver':
      // Parallel workers crash under the uvloop MLServer ships with (MACHINE-NOTES); one process
      // per instance is Podium's unit of scale anyway.
      return {
        env: {
          MLSERVER_HOST: host,
          MLSERVER_HTTP_PORT: String(ports.http),
          MLSERVER_GRPC_PORT: String(ports.grpc),
          MLSERVER_METRICS_PORT: String(ports.metrics),
          MLSERVER_PARALLEL_WORKERS: '0',
          MLSERVER_MODEL_NAME: name,
          ...(model.storageUri ? { MLSERVER_MODEL_URI: model.storageUri } : {}),
        },
        args: [],
      };
    case 'kserve':
      return {
        env: {},
        args: [
          `--http_port=${ports.http}`,
          `--grpc_port=${ports.grpc}`,
          `--model_name=${name}`,
          ...(model.storageUri ? [`--model_dir=${model.storageUri}`] : []),
        ],
      };
    case 'triton':
      return {
        env: {},
        args: [
          `--http-port=${ports.http}`,
          `--grpc-port=${ports.grpc}`,
          `--metrics-port=${ports.metrics}`,
          ...(model.storageUri ? [`--model-repository=${model.storageUri}`] : []),
        ],
      };
    case 'custom':
      return {
        env: model.portArg && !model.portEnv ? {} : { [model.portEnv ?? 'PORT']: String(ports.http) },
        args: model.portArg ? [model.portArg, String(ports.http)] : [],
      };
  }
}

/**
 * Podium's own servers pick a free port themselves and print it, and leave when their stdin
 * closes; any other server is given its ports and run under a watcher.
 */
export function isPodiumServer(model: Pick<RuntimeSettings, 'runtime'>): boolean {
  return model.runtime === 'podium-node';
}

/**
 * A local process for the model: its own command with the preset's arguments appended, the
 * model's `env` under Podium's (the port and name settings always win). `ports` are unused by
 * Podium's own servers (see isPodiumServer), which are given port 0.
 */
export function processLaunch(model: RuntimeSettings, ports: InstancePorts): ProcessLaunch {
  const own = isPodiumServer(model);
  const preset = presetFor(model, '127.0.0.1', own ? { ...ports, http: 0 } : ports);
  return {
    argv: [...model.localCommand, ...preset.args],
    env: { ...model.env, PODIUM_MODEL_NAME: model.servedModelName, ...preset.env },
    workingDir: model.workingDir,
    port: own ? 'stdout' : ports.http,
    watched: !own,
  };
}

/**
 * The model's container: the image's own entrypoint unless `containerCommand` is set, with
 * `containerArgs` and the preset's arguments; gRPC and metrics on the two ports after `http`.
 */
export function containerLaunch(model: RuntimeSettings): ContainerLaunch {
  const ports = { http: model.containerPort, grpc: model.containerPort + 1, metrics: model.containerPort + 2 };
  const preset = presetFor(model, '0.0.0.0', ports);
  const args = [...(model.containerArgs ?? []), ...preset.args];
  const extraPorts =
    model.runtime === 'mlserver' || model.runtime === 'triton'
      ? [
          { name: 'grpc', containerPort: ports.grpc },
          { name: 'metrics', containerPort: ports.metrics },
        ]
      : model.runtime === 'kserve'
        ? [{ name: 'grpc', containerPort: ports.grpc }]
        : [];
  // The container's root filesystem is read-only (pod-manifest.ts): MLServer's metrics go to /tmp, not its working directory.
  const readOnlyRoot: Record<string, string> =
    model.runtime === 'mlserver' ? { MLSERVER_METRICS_DIR: '/tmp/mlserver-metrics' } : {};
  return {
    command: model.containerCommand ?? undefined,
    args: args.length > 0 ? args : undefined,
    env: { ...readOnlyRoot, ...model.containerEnv, PODIUM_MODEL_NAME: model.servedModelName, ...preset.env },
    ports: [{ name: 'http', containerPort: ports.http }, ...extraPorts],
  };
}

/**
 * Whether a runtime's server takes OIP's binary tensor data extension on its REST infer: Triton
 * and KServe's Python server (since 0.13) do; MLServer does not. A custom server, or a demo
 * model, says so itself (catalog `binaryTensors`).
 */
export function runtimeTakesBinaryTensors(runtime: z.infer<typeof runtimeKind>): boolean {
  return runtime === 'triton' || runtime === 'kserve';
}
