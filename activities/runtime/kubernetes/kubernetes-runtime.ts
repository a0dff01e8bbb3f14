import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import {
  InstanceFailedError,
  InstanceStartupTimeoutError,
  instanceIdAnnotation,
  requestIdAnnotation,
  type AwaitReadyOptions,
  type InstanceRuntime,
  type InstanceSpec,
  type PlacedInstance,
} from '../instance-runtime';
import { isApiStatus, keepWatching, mergePatch } from './kubernetes-api';
import { podEndpoint, type EndpointSource } from './pod-endpoint';
import { managedByLabel, modelLabel, modelPod } from './pod-manifest';
import { podReadiness } from './pod-status';
import { imageProblems, imageRefusal, type ImagePolicy } from '../../../domain/image-policy';
import type { LiveInstance } from '../../../domain/instances';

const isNotFound = (error: unknown) => isApiStatus(error, 404);

/**
 * Model instances as pods, through the Kubernetes API. Readiness is awaited with a watch, so
 * a pod is used the moment the kubelet marks it Ready rather than at the next poll.
 */
export class KubernetesRuntime implements InstanceRuntime {
  readonly kind = 'kubernetes' as const;
  private readonly core: CoreV1Api;
  private readonly watcher: Watch;
  readonly namespace: string;
  private readonly endpointSource: EndpointSource;
  readonly kubeConfig: KubeConfig;
  private readonly imagePolicy: ImagePolicy;

  /** `imagePolicy` unset: any image (a test's own cluster). */
  constructor(options: {
    kubeConfig: KubeConfig;
    namespace: string;
    endpointSource: EndpointSource;
    imagePolicy?: ImagePolicy;
  }) {
    this.imagePolicy = options.imagePolicy ?? { registries: [], requireDigest: false };
    this.kubeConfig = options.kubeConfig;
    this.core = options.kubeConfig.makeApiClient(CoreV1Api);
    this.watcher = new Watch(options.kubeConfig);
    this.namespace = options.namespace;
    this.endpointSource = options.endpointSource;
  }

  async start(spec: InstanceSpec): Promise<PlacedInstance> {
    // Checked here too, whoever wrote the catalog row: the API checks it at registration.
    const refused = imageProblems(spec.model.containerImage, this.imagePolicy);
    if (refused.length > 0) throw new Error(imageRefusal(spec.model.containerImage, refused));
    const created = await this.core.createNamespacedPod({ namespace: this.namespace, body: modelPod(spec) });
    return { runtimeRef: created.metadata!.name!, endpoint: null };
  }

  awaitReady(
    { runtimeRef }: PlacedInstance,
    { timeoutMs, signal, onProgress }: AwaitReadyOptions,
  ): Promise<{ endpoint: string }> {
    return new Promise((resolve, reject) => {
      let settled = false;
      let stopWatching = () => undefined as void;
      let scheduledOn: string | null | undefined;
      let lastWaiting: { reason: string; message: string } | null = null;

      const finish = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal.removeEventListener('abort', onAbort);
        stopWatching();
        outcome();
      };
      const onAbort = () => finish(() => reject(signal.reason));
      const timer = setTimeout(() => {
        const why = lastWaiting ? `; last state ${lastWaiting.reason}: ${lastWaiting.message}` : '';
        finish(() =>
          reject(new InstanceStartupTimeoutError(`pod ${runtimeRef} was not ready within ${timeoutMs} ms${why}`)),
        );
      }, timeoutMs);
      signal.addEventListener('abort', onAbort);

      const onPod = (type: string, pod: V1Pod) => {
        if (type === 'DELETED')
          return finish(() => reject(new InstanceFailedError(`pod ${runtimeRef} was deleted before it was ready`)));
        if (type !== 'ADDED' && type !== 'MODIFIED') return;
        const readiness = podReadiness(pod);
        if (readiness.node !== null && scheduledOn === undefined) {
          scheduledOn = readiness.node;
          onProgress({ event: 'SCHEDULED', detail: { node: readiness.node } });
        }
        if (readiness.waiting && readiness.waiting.reason !== lastWaiting?.reason) {
          onProgress({ event: 'PENDING', detail: readiness.waiting });
        }
        lastWaiting = readiness.waiting ?? lastWaiting;
        if (readiness.fatal) {
          const why = readiness.waiting
            ? `${readiness.waiting.reason}: ${readiness.waiting.message}`
            : `phase ${readiness.phase}`;
          return finish(() => reject(new InstanceFailedError(`pod ${runtimeRef} cannot start: ${why}`)));
        }
        if (readiness.ready) {
          const endpoint = podEndpoint(pod, this.endpointSource);
          if (endpoint) finish(() => resolve({ endpoint }));
        }
      };

      // The watch's first answer is the pod as it is: one ready before we watched is seen at once.
      stopWatching = keepWatching(
        this.watcher,
        `/api/v1/namespaces/${this.namespace}/pods`,
        { fieldSelector: `metadata.name=${runtimeRef}` },
        onPod,
      );
    });
  }

  async stop(runtimeRef: string): Promise<void> {
    try {
      await this.core.deleteNamespacedPod({ name: runtimeRef, namespace: this.namespace });
    } catch (error) {
      if (!isNotFound(error)) throw error;
    }
  }

  async stopAll(): Promise<void> {
    // Pods belong to their model's pool, not to this worker process: they outlive it.
  }

  async list(filter: { modelId?: string; withEvents?: boolean } = {}): Promise<LiveInstance[]> {
    const labelSelector = [`${managedByLabel}=podium`, filter.modelId && `${modelLabel}=${filter.modelId}`]
      .filter(Boolean)
      .join(',');
    const [pods, events] = await Promise.all([
      this.core.listNamespacedPod({ namespace: this.namespace, labelSelector }),
      // One call for the events of every pod, grouped below, rather than one per pod.
      filter.withEvents
        ? this.core.listNamespacedEvent({ namespace: this.namespace, fieldSelector: 'involvedObject.kind=Pod' })
        : null,
    ]);
    const eventsOf = (pod: V1Pod) =>
      events?.items.filter((event) => event.involvedObject.uid === pod.metadata?.uid) ?? [];
    return pods.items
      .filter((pod) => !pod.metadata?.deletionTimestamp)
      .map((pod) => {
        const readiness = podReadiness(pod);
        return {
          runtimeRef: pod.metadata!.name!,
          instanceId: pod.metadata?.annotations?.[instanceIdAnnotation] ?? null,
          modelId: pod.metadata?.labels?.[modelLabel] ?? null,
          phase: readiness.phase,
          ready: readiness.ready,
          node: readiness.node,
          startedAt: pod.metadata?.creationTimestamp ? new Date(pod.metadata.creationTimestamp).toISOString() : null,
          requestId: pod.metadata?.annotations?.[requestIdAnnotation] ?? null,
          waiting: readiness.waiting,
          ...(filter.withEvents ? { events: eventsOf(pod) } : {}),
        };
      });
  }

  async events(runtimeRef: string): Promise<unknown[]> {
    const events = await this.core.listNamespacedEvent({
      namespace: this.namespace,
      fieldSelector: `involvedObject.kind=Pod,involvedObject.name=${runtimeRef}`,
    });
    return events.items;
  }

  async recordAssignment(runtimeRef: string, requestId: string): Promise<void> {
    try {
      await this.core.patchNamespacedPod(
        {
          name: runtimeRef,
          namespace: this.namespace,
          body: { metadata: { annotations: { [requestIdAnnotation]: requestId } } },
        },
        mergePatch,
      );
    } catch (error) {
      if (!isNotFound(error)) throw error; // a pod already gone serves no one
    }
  }
}
