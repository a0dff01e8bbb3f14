import type { KubeConfig } from '@kubernetes/client-node';
import { z } from 'zod';
import type { PodiumConfig } from '../../domain/config';
import type { AutoscalerSettings, NodeTypeSpec } from '../../domain/node-autoscaler';
import { parseQuantity } from '../../domain/quantity';
import type { AutoscalerDependencies } from '../node-autoscaler';
import { ClusterApiNodeProvider } from './cluster-api-provider';
import type { NodeProvider } from './node-provider';

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

/**
 * The node types NODE_TYPES allows; unset, the `defaults` (the simulated cluster's, for kwok).
 * A real provider has no defaults: it must be told what machines it may buy.
 */
export function parseNodeTypes(json: string | undefined, defaults?: NodeTypeSpec[]): NodeTypeSpec[] {
  if (!json) {
    if (defaults) return defaults;
    throw new Error(
      'NODE_TYPES is required with a real node provider: the machine types it may add (see docs/node-autoscaling.md)',
    );
  }
  const entries = z.array(nodeTypeEntry).min(1).safeParse(JSON.parse(json));
  if (!entries.success)
    throw new Error(`NODE_TYPES: ${entries.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return entries.data.map((t) => ({
    name: t.name,
    capacity: { cpu: parseQuantity(t.cpu), memory: parseQuantity(t.memory), gpu: t.gpu, pods: t.pods },
    hourlyPrice: t.hourlyPrice,
    maxNodes: t.maxNodes,
  }));
}

export function autoscalerSettings(config: PodiumConfig, defaultNodeTypes?: NodeTypeSpec[]): AutoscalerSettings {
  return {
    nodeTypes: parseNodeTypes(config.NODE_TYPES, defaultNodeTypes),
    maxNodesTotal: config.AUTOSCALER_MAX_NODES,
    batchWindowMs: config.AUTOSCALER_BATCH_WINDOW_MS,
    batchMaxMs: config.AUTOSCALER_BATCH_MAX_MS,
    provisioningTimeoutMs: config.AUTOSCALER_PROVISIONING_TIMEOUT_SECONDS * 1000,
    minNodeLifetimeMs: config.AUTOSCALER_MIN_NODE_LIFETIME_SECONDS * 1000,
    scaleDownDelayMs: config.AUTOSCALER_SCALE_DOWN_DELAY_SECONDS * 1000,
    consolidation: {
      enabled: config.AUTOSCALER_CONSOLIDATION,
      utilisationThreshold: config.AUTOSCALER_CONSOLIDATION_UTILISATION,
      maxNodesAtOnce: config.AUTOSCALER_CONSOLIDATION_MAX_NODES,
      cooldownMs: config.AUTOSCALER_CONSOLIDATION_COOLDOWN_SECONDS * 1000,
    },
  };
}

/**
 * NODE_PROVIDER=kwok's parts: its provider and default node types. They live with the simulated
 * cluster (infra/test-cluster/kwok-provider.ts), which production code never imports: the
 * entry points load them on demand (infra/simulated-cluster.ts) and pass them here.
 */
export type KwokNodes = {
  createProvider: (kubeConfig: KubeConfig, owner: string) => NodeProvider;
  nodeTypes: NodeTypeSpec[];
};

/** The node autoscaler's dependencies for NODE_PROVIDER, or undefined for `none`. */
export function createAutoscaler(
  config: PodiumConfig,
  kubeConfig: KubeConfig,
  kwok?: KwokNodes,
): AutoscalerDependencies | undefined {
  const kind = config.NODE_PROVIDER ?? 'none';
  if (kind === 'none') return undefined;
  const namespace = config.KUBERNETES_NAMESPACE;
  if (kind === 'kwok') {
    if (!kwok)
      throw new Error('NODE_PROVIDER=kwok: the kwok provider was not loaded (it comes with the simulated cluster)');
    return {
      kubeConfig,
      provider: kwok.createProvider(kubeConfig, namespace),
      namespace,
      settings: autoscalerSettings(config, kwok.nodeTypes),
    };
  }
  const settings = autoscalerSettings(config); // NODE_TYPES checked before the cluster is touched
  const provider = new ClusterApiNodeProvider(kubeConfig, {
    namespace: config.CLUSTER_API_NAMESPACE,
    prefix: config.CLUSTER_API_PREFIX,
  });
  return { kubeConfig, provider, namespace, settings };
}
