import { existsSync } from 'node:fs';
import path from 'node:path';
import { CoreV1Api, Watch, type KubeConfig, type V1Pod } from '@kubernetes/client-node';
import { isApiStatus, keepWatching, mergePatch } from '../../activities/runtime/kubernetes/kubernetes-api';
import { simulatedEndpointAnnotation } from '../../activities/runtime/kubernetes/pod-endpoint';
import { spawnModelServer, stopModelServer, type ModelProcess } from '../../activities/runtime/model-process';

// The simulated container runtime writes `simulatedEndpointAnnotation` (defined by the runtime
// that reads it) once the pod's model server answers its readiness check; kwok marks the pod
// Ready only after that, and Podium's runtime reads the endpoint from it when
// `KUBERNETES_ENDPOINT=simulated` (kwok's pod IPs lead nowhere).
/** A pod with this annotation is only scheduled, never run (benchmarks that place hundreds of pods). */
export const noContainerAnnotation = 'sim.podium.dev/no-container';

const projectRoot = path.resolve(__dirname, '../..');

/**
 * The model server a container image stands for: the release's `[registry/]podium-model-<name>`
 * (infra/release/images.ts) or `…/model-<name>`, with a tag or a digest, runs
 * `models/<name>/server.ts`. Any other image is "not in the registry". Pure.
 */
export function modelServerForImage(image: string, exists: (file: string) => boolean = existsSync): string | null {
  const name = /(?:^|\/)(?:podium-)?model-([a-z0-9-]+)(?::[\w.-]+|@sha256:[0-9a-f]{64})?$/.exec(image)?.[1];
  if (!name) return null;
  const script = path.join('models', name, 'server.ts');
  return exists(path.join(projectRoot, script)) ? script : null;
}

/**
 * Plays the kubelet's container runtime for Podium's pods in the kwok cluster: when the
 * scheduler binds a pod to a node, it runs the pod's model server as a local process, waits
 * until it listens, and records its address on the pod; kwok then marks the pod Ready (its
 * stage is gated on that annotation, as a readiness probe gates a real pod). An image it does
 * not know ends as ImagePullBackOff with an Event, as a missing image would. Deleting the pod
 * stops the process.
 */
export async function startPodSimulation(
  kubeConfig: KubeConfig,
  log: (line: string) => void,
): Promise<{ stop: () => Promise<void> }> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const watcher = new Watch(kubeConfig);
  const running = new Map<string, Promise<ModelProcess | null>>();

  async function runContainer(pod: V1Pod): Promise<ModelProcess | null> {
    const { name, namespace } = pod.metadata as { name: string; namespace: string };
    const container = pod.spec!.containers[0]!;
    const script = modelServerForImage(container.image ?? '');
    if (!script) {
      await failImagePull(pod, container.name, container.image ?? '');
      return null;
    }
    // What a kubelet says on the way: the image pulled (from the simulated registry), the container made and started.
    await kubeletEvent(pod, container.name, { reason: 'Pulling', message: `Pulling image "${container.image}"` });
    await kubeletEvent(pod, container.name, {
      reason: 'Pulled',
      message: `Successfully pulled image "${container.image}" (from the simulated registry)`,
    });
    await kubeletEvent(pod, container.name, { reason: 'Created', message: `Created container ${container.name}` });
    const env = Object.fromEntries(
      (container.env ?? []).filter((e) => e.name === 'PODIUM_MODEL_NAME').map((e) => [e.name, e.value ?? '']),
    );
    const server = await spawnModelServer(['node', script], env, 30_000);
    await kubeletEvent(pod, container.name, { reason: 'Started', message: `Started container ${container.name}` });
    try {
      await core.patchNamespacedPod(
        {
          name,
          namespace,
          body: { metadata: { annotations: { [simulatedEndpointAnnotation]: `http://127.0.0.1:${server.port}` } } },
        },
        mergePatch,
      );
    } catch (error) {
      await stopModelServer(server.child); // the pod went away meanwhile
      throw error;
    }
    return server;
  }

  /** An Event about the pod's container, as a kubelet records it. */
  async function kubeletEvent(
    pod: V1Pod,
    containerName: string,
    event: { reason: string; message: string; type?: 'Normal' | 'Warning' },
  ) {
    const { name, namespace, uid } = pod.metadata as { name: string; namespace: string; uid: string };
    const now = new Date();
    await core.createNamespacedEvent({
      namespace,
      body: {
        metadata: { generateName: `${name}.`, namespace },
        involvedObject: {
          kind: 'Pod',
          name,
          namespace,
          uid,
          apiVersion: 'v1',
          fieldPath: `spec.containers{${containerName}}`,
        },
        reason: event.reason,
        message: event.message,
        type: event.type ?? 'Normal',
        source: { component: 'kubelet', host: pod.spec?.nodeName },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
      },
    });
  }

  async function failImagePull(pod: V1Pod, containerName: string, image: string) {
    const { name, namespace } = pod.metadata as { name: string; namespace: string };
    const message = `Back-off pulling image "${image}": not found in the simulated registry`;
    await core.patchNamespacedPodStatus(
      {
        name,
        namespace,
        body: {
          status: {
            containerStatuses: [
              {
                name: containerName,
                image,
                imageID: '',
                ready: false,
                restartCount: 0,
                started: false,
                state: { waiting: { reason: 'ImagePullBackOff', message } },
              },
            ],
          },
        },
      },
      mergePatch,
    );
    await kubeletEvent(pod, containerName, {
      reason: 'Failed',
      message: `Failed to pull image "${image}": not found in the simulated registry`,
      type: 'Warning',
    });
  }

  function release(uid: string) {
    const server = running.get(uid);
    running.delete(uid);
    void server?.then((s) => s && stopModelServer(s.child)).catch(() => undefined);
  }

  function onPod(type: string, pod: V1Pod) {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    if (type === 'DELETED' || pod.metadata?.deletionTimestamp) return release(uid);
    if (!pod.spec?.nodeName || running.has(uid) || pod.metadata?.annotations?.[simulatedEndpointAnnotation]) return;
    if (pod.metadata?.annotations?.[noContainerAnnotation] === 'true') return;
    running.set(
      uid,
      runContainer(pod).catch((error: Error) => {
        // A pod deleted while its container started is no news.
        if (!isApiStatus(error, 404)) log(`simulated container of pod ${pod.metadata?.name} failed: ${error.message}`);
        return null;
      }),
    );
  }

  const stopWatching = keepWatching(
    watcher,
    '/api/v1/pods',
    { labelSelector: 'app.kubernetes.io/managed-by=podium' },
    onPod,
  );

  return {
    stop: async () => {
      stopWatching();
      await Promise.all([...running.keys()].map(async (uid) => release(uid)));
    },
  };
}
