import type { V1Pod } from '@kubernetes/client-node';
import type { InstanceSpec } from '../instance-runtime';

export const managedByLabel = 'app.kubernetes.io/managed-by';
export const modelLabel = 'podium/model';
export const instanceLabel = 'podium/instance-id';
export const gpuResource = 'nvidia.com/gpu';
export const readinessPath = '/v2/health/ready';

export function podName(spec: Pick<InstanceSpec, 'instanceId' | 'model'>): string {
  return `${spec.model.id}-${spec.instanceId}`;
}

/**
 * The pod for one model instance, from the catalog. CPU is requested but not limited (a limit
 * only throttles a busy model); memory and extended resources such as GPUs are requested and
 * limited alike, as Kubernetes requires for extended resources.
 */
export function modelPod(spec: InstanceSpec): V1Pod {
  const { model } = spec;
  const limits = Object.fromEntries(Object.entries(model.resources).filter(([name]) => name !== 'cpu'));
  const wantsGpu = gpuResource in model.resources;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: podName(spec),
      labels: { [managedByLabel]: 'podium', [modelLabel]: model.id, [instanceLabel]: spec.instanceId },
      annotations: { ...spec.annotations },
    },
    spec: {
      // A model server holds no state worth a long goodbye.
      terminationGracePeriodSeconds: 10,
      enableServiceLinks: false,
      automountServiceAccountToken: false,
      containers: [
        {
          name: 'model',
          image: model.containerImage,
          ports: [{ name: 'http', containerPort: model.containerPort }],
          env: [
            { name: 'PODIUM_MODEL_NAME', value: model.servedModelName },
            { name: 'HOST', value: '0.0.0.0' },
            { name: 'PORT', value: String(model.containerPort) },
          ],
          resources: { requests: { ...model.resources }, limits },
          readinessProbe: { httpGet: { path: readinessPath, port: 'http' }, periodSeconds: 2, failureThreshold: 3 },
        },
      ],
      // GPU nodes are tainted so that only pods asking for a GPU land there.
      tolerations: wantsGpu ? [{ key: gpuResource, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
      affinity: {
        // Pack Podium's pods onto the nodes that already run some, so the node autoscaler
        // finds whole nodes empty and can remove them.
        podAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: {
                labelSelector: { matchLabels: { [managedByLabel]: 'podium' } },
                topologyKey: 'kubernetes.io/hostname',
              },
            },
          ],
        },
      },
    },
  };
}
