import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { PodiumConfig } from '../../domain/config';
import type { AutoscalerSettings, NodeTypeSpec } from '../../domain/node-autoscaling';
import { parseQuantity } from '../../domain/quantity';
import { nodeTypes as simulatedNodeTypes } from '../../infra/test-cluster/nodes';
import type { AutoscalerDependencies } from '../node-autoscaler';
import { ClusterApiNodeProvider } from './cluster-api-provider';
import { KwokNodeProvider } from './kwok-provider';

/** One entry of NODE_TYPES: `{"name":"gpu-a10","cpu":"8","memory":"32Gi","gpu":1,"pods":110,"hourlyPrice":1.01,"maxNodes":4}`. */
const nodeTypeEntry = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,40}$/),
  cpu: z.string(),
  memory: z.string(),
  gpu: z.number().int().min(0).default(0),
  pods: z.number().int().positive().default(110),
  hourlyPrice: z.number().positive(),
  maxNodes: z.number().int().positive().default(10),
});

export function parseNodeTypes(json: string | undefined): NodeTypeSpec[] {
  if (!json) {
    return Object.values(simulatedNodeTypes).map((type) => ({
      name: type.name,
      capacity: {
        cpu: parseQuantity(type.capacity.cpu),
        memory: parseQuantity(type.capacity.memory),
        gpu: 'nvidia.com/gpu' in type.capacity ? parseQuantity(type.capacity['nvidia.com/gpu']!) : 0,
        pods: parseQuantity(type.capacity.pods),
      },
      hourlyPrice: type.hourlyPrice,
      maxNodes: 10,
    }));
  }
  const entries = z.array(nodeTypeEntry).min(1).safeParse(JSON.parse(json));
  if (!entries.success) throw new Error(`NODE_TYPES: ${entries.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return entries.data.map((t) => ({
    name: t.name,
    capacity: { cpu: parseQuantity(t.cpu), memory: parseQuantity(t.memory), gpu: t.gpu, pods: t.pods },
    hourlyPrice: t.hourlyPrice,
    maxNodes: t.maxNodes,
  }));
}

export function autoscalerSettings(config: PodiumConfig): AutoscalerSettings {
  return {
    nodeTypes: parseNodeTypes(config.NODE_TYPES),
    maxNodesTotal: config.AUTOSCALER_MAX_NODES,
    batchWindowMs: config.AUTOSCALER_BATCH_WINDOW_MS,
    batchMaxMs: config.AUTOSCALER_BATCH_MAX_MS,
    provisioningTimeoutMs: config.AUTOSCALER_PROVISIONING_TIMEOUT_SECONDS * 1000,
    minNodeLifetimeMs: config.AUTOSCALER_MIN_NODE_LIFETIME_SECONDS * 1000,
    scaleDownDelayMs: config.AUTOSCALER_SCALE_DOWN_DELAY_SECONDS * 1000,
  };
}

/** The node autoscaler's dependencies for NODE_PROVIDER, or undefined for `none`. */
export function createAutoscaler(config: PodiumConfig, kubeConfig: KubeConfig): AutoscalerDependencies | undefined {
  const kind = config.NODE_PROVIDER ?? 'none';
  if (kind === 'none') return undefined;
  const namespace = config.KUBERNETES_NAMESPACE;
  const provider =
    kind === 'kwok'
      ? new KwokNodeProvider(kubeConfig, namespace)
      : new ClusterApiNodeProvider(kubeConfig, { namespace: config.CLUSTER_API_NAMESPACE, prefix: config.CLUSTER_API_PREFIX });
  return { kubeConfig, provider, namespace, settings: autoscalerSettings(config) };
}
