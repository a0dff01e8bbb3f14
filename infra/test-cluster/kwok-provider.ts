import { CoreV1Api, type KubeConfig } from '@kubernetes/client-node';
import { isApiStatus } from '../../activities/runtime/kubernetes/kubernetes-api';
import type { NodeTypeSpec } from '../../domain/node-autoscaler';
import { kwokNode, nodeTypes } from './nodes';
import { autoscalerOwnerAnnotation, extraCapacityLabel, type NodeProvider } from '../../activities/nodes/node-provider';
import { parseQuantity } from '../../domain/quantity';

const Gi = 1024 ** 3;

/**
 * Nodes as kwok Node objects: created with the type's capacity, labels and (for GPU types) the
 * GPU taint; kwok makes them Ready and runs what the scheduler binds to them. For the test
 * cluster and the local simulation.
 */
export class KwokNodeProvider implements NodeProvider {
  readonly kind = 'kwok' as const;
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly owner: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  async addNodes(type: NodeTypeSpec, names: string[], decisionId: string): Promise<void> {
    const capacity = {
      cpu: String(type.capacity.cpu),
      memory: `${Math.round(type.capacity.memory / Gi)}Gi`,
      pods: String(type.capacity.pods),
      ...(type.capacity.gpu > 0 ? { 'nvidia.com/gpu': String(type.capacity.gpu) } : {}),
    };
    const annotations = { [autoscalerOwnerAnnotation]: this.owner, 'podium.dev/decision': decisionId };
    await Promise.all(
      names.map((name) =>
        this.core
          .createNode({
            body: kwokNode(name, { name: type.name, capacity, hourlyPrice: type.hourlyPrice }, annotations, {
              [extraCapacityLabel.key]: extraCapacityLabel.value,
            }),
          })
          .catch((error) => {
            if (!isApiStatus(error, 409)) throw error; // already there: added before a retry
          }),
      ),
    );
  }

  async removeNode(name: string): Promise<void> {
    await this.core.deleteNode({ name }).catch((error) => {
      if (!isApiStatus(error, 404)) throw error;
    });
  }
}

/** The simulated cluster's node types as the autoscaler sees them: its NODE_TYPES when unset. */
export const simulatedNodeTypes: NodeTypeSpec[] = Object.values(nodeTypes).map((type) => ({
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

/** What `createAutoscaler` needs for NODE_PROVIDER=kwok; loaded only by simulated setups. */
export const kwokNodes = {
  createProvider: (kubeConfig: KubeConfig, owner: string) => new KwokNodeProvider(kubeConfig, owner),
  nodeTypes: simulatedNodeTypes,
};
