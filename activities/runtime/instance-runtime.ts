import type { ModelSpec } from '../../domain/model-catalog';

export type InstanceSpec = {
  instanceId: string;
  model: ModelSpec;
  /** Recorded on the instance (pod annotations on Kubernetes, environment + row locally). */
  annotations: Record<string, string>;
  /** How long the runtime may take to place the instance before it gives up. */
  startupTimeoutMs: number;
};

export type PlacedInstance = {
  /** The runtime's own handle: a pid locally, a pod name on Kubernetes. */
  runtimeRef: string;
  /** Base URL of the instance's Open Inference Protocol v2 server. */
  endpoint: string;
};

/** Where model instances run. `local` (child processes) now; `kubernetes` (pods) next. */
export interface InstanceRuntime {
  readonly kind: 'local' | 'kubernetes';
  start(spec: InstanceSpec): Promise<PlacedInstance>;
  /** Idempotent: stopping an instance that is already gone succeeds. */
  stop(runtimeRef: string): Promise<void>;
  /** Stops every instance this runtime started, for a clean shutdown. */
  stopAll(): Promise<void>;
}

export const poolAnnotation = 'podium.dev/pool';
export const instanceIdAnnotation = 'podium.dev/instance-id';

/** The instance did not come up within the model's startup timeout. */
export class InstanceStartupTimeoutError extends Error {}
