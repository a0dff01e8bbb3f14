import type { ModelSpec } from '../../domain/model-catalog';
import type { LiveInstance } from '../../domain/instances';

export type InstanceSpec = {
  instanceId: string;
  model: ModelSpec;
  /** Recorded on the instance (pod annotations on Kubernetes, environment + row locally). */
  annotations: Record<string, string>;
  /** How long the runtime may take to place the instance before it gives up. */
  startupTimeoutMs: number;
  /** Aborted when the start is given up on (its activity cancelled or timed out): stop what was started. */
  signal?: AbortSignal;
};

export type PlacedInstance = {
  /** The runtime's own handle: a pid locally, a pod name on Kubernetes. */
  runtimeRef: string;
  /** Base URL of the instance's Open Inference Protocol v2 server, once known. */
  endpoint: string | null;
  /** The path that answers 200 once the model is loaded (absent in instances placed before it was kept). */
  readinessPath?: string;
};

/** What happened to an instance on its way to ready, for the instance log. */
export type InstanceProgress =
  | { event: 'SCHEDULED'; detail: { node: string | null } }
  /** Not ready yet, and the runtime says why (e.g. `Unschedulable`, `ImagePullBackOff`). */
  | { event: 'PENDING'; detail: { reason: string; message: string } };

export type AwaitReadyOptions = {
  timeoutMs: number;
  signal: AbortSignal;
  onProgress: (progress: InstanceProgress) => void;
};

/** Where model instances run: child processes (`local`) or pods (`kubernetes`). */
export interface InstanceRuntime {
  readonly kind: 'local' | 'kubernetes';
  /** Creates the instance and returns once the runtime has accepted it (not when it is ready). */
  start(spec: InstanceSpec): Promise<PlacedInstance>;
  /**
   * Resolves with the instance's endpoint once it is ready, reporting progress on the way.
   * Rejects with InstanceStartupTimeoutError (naming the last reason it was waiting on) or
   * InstanceFailedError.
   */
  awaitReady(placed: PlacedInstance, options: AwaitReadyOptions): Promise<{ endpoint: string }>;
  /** Idempotent: stopping an instance that is already gone succeeds. */
  stop(runtimeRef: string): Promise<void>;
  /** Releases what this process holds at shutdown (local children; pods belong to their pools). */
  stopAll(): Promise<void>;
  /** Live instances, optionally of one model, optionally each with its raw events. */
  list(filter?: { modelId?: string; withEvents?: boolean }): Promise<LiveInstance[]>;
  /** The runtime's own raw events about the instance (Kubernetes Events for a pod). */
  events(runtimeRef: string): Promise<unknown[]>;
  /** Marks the instance with the request it now serves. */
  recordAssignment(runtimeRef: string, requestId: string): Promise<void>;
}

export const poolAnnotation = 'podium/pool';
export const instanceIdAnnotation = 'podium/instance-id';
export const requestIdAnnotation = 'podium/request-id';

/** The instance did not become ready within the model's startup timeout. */
export class InstanceStartupTimeoutError extends Error {}
/**
 * The instance's process is gone with the worker that started it (a local instance whose start
 * another worker was waiting for): no fault of the model's, so no waiting request is failed for it.
 */
export class InstanceLostError extends Error {}
/** The runtime says the instance cannot start (e.g. an invalid image name). */
export class InstanceFailedError extends Error {}
