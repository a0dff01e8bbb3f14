import type { V1Pod } from '@kubernetes/client-node';
import { pullPolicyFor } from '../../../domain/image-policy';
import { containerLaunch, readinessPathOf } from '../../../domain/model-runtime';
import { extraCapacityLabel } from '../../nodes/node-provider';
import type { InstanceSpec } from '../instance-runtime';

export const managedByLabel = 'app.kubernetes.io/managed-by';
export const modelLabel = 'podium/model';
export const instanceLabel = 'podium/instance-id';
export const gpuResource = 'nvidia.com/gpu';

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
  const launch = containerLaunch(model);
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
      // Pod Security Admission's `restricted` profile, which the models' namespace enforces
      // (infra/k8s/base/namespaces.yaml): a model image runs as a non-root user, writes only /tmp.
      securityContext: { runAsNonRoot: true, seccompProfile: { type: 'RuntimeDefault' } },
      volumes: [{ name: 'tmp', emptyDir: { sizeLimit: '1Gi' } }],
      containers: [
        {
          name: 'model',
          image: model.containerImage,
          imagePullPolicy: pullPolicyFor(model.containerImage),
          command: launch.command,
          args: launch.args,
          // The runtime preset decides how the server takes its ports and name (see domain/model-runtime.ts).
          ports: launch.ports,
          // A secret stays in its Secret: the pod spec names it, the kubelet reads it.
          env: Object.entries(launch.env).map(([name, value]) =>
            typeof value === 'string' ? { name, value } : { name, valueFrom: value },
          ),
          resources: { requests: { ...model.resources }, limits },
          securityContext: {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          },
          volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
          // Ready once the model is loaded, not merely once the server is up.
          readinessProbe: {
            httpGet: { path: readinessPathOf(model), port: 'http' },
            periodSeconds: 2,
            failureThreshold: 3,
          },
        },
      ],
      // GPU nodes are tainted so that only pods asking for a GPU land there.
      tolerations: wantsGpu ? [{ key: gpuResource, operator: 'Exists', effect: 'NoSchedule' }] : undefined,
      affinity: {
        // Base nodes first: a node the autoscaler added (for a model that needed it) takes a
        // pod only when the base nodes cannot, so it empties and goes when its model does.
        nodeAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              preference: {
                matchExpressions: [
                  { key: extraCapacityLabel.key, operator: 'NotIn', values: [extraCapacityLabel.value] },
                ],
              },
            },
          ],
        },
        // Among those, pack Podium's pods onto the nodes that already run some, so the node
        // autoscaler finds whole nodes empty and can remove them.
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
