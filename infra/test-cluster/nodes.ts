import type { V1Node } from '@kubernetes/client-node';

/** A kind of machine the simulated cluster has, as a cloud instance type would be. */
export type NodeType = {
  name: string;
  /** cpu, memory and pods, and any extended resources such as `nvidia.com/gpu`. */
  capacity: { cpu: string; memory: string; pods: string } & Record<string, string>;
  /** Dollars per hour, for the autoscaler's cheapest-fit choice. */
  hourlyPrice: number;
};

export const nodeTypes = {
  'cpu-small': { name: 'cpu-small', capacity: { cpu: '4', memory: '16Gi', pods: '110' }, hourlyPrice: 0.17 },
  'cpu-large': { name: 'cpu-large', capacity: { cpu: '16', memory: '64Gi', pods: '110' }, hourlyPrice: 0.68 },
  'cpu-xlarge': { name: 'cpu-xlarge', capacity: { cpu: '32', memory: '128Gi', pods: '110' }, hourlyPrice: 1.36 },
  'gpu-a10': {
    name: 'gpu-a10',
    capacity: { cpu: '8', memory: '32Gi', pods: '110', 'nvidia.com/gpu': '1' },
    hourlyPrice: 1.01,
  },
} satisfies Record<string, NodeType>;

export const nodeTypeLabel = 'node.kubernetes.io/instance-type';
export const nodePoolLabel = 'podium.dev/node-pool';
/** kwok manages only nodes with this annotation (its `--manage-nodes-with-annotation-selector`). */
export const kwokNodeAnnotation = { key: 'kwok.x-k8s.io/node', value: 'fake' } as const;

/**
 * A fake node of the given type. kwok fills in its status (Ready, addresses, heartbeats) and
 * runs the pods scheduled to it. GPU nodes carry the usual `nvidia.com/gpu` taint.
 */
export function kwokNode(
  name: string,
  type: NodeType,
  annotations: Record<string, string> = {},
  labels: Record<string, string> = {},
): V1Node {
  const gpu = type.capacity['nvidia.com/gpu'] !== undefined;
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name,
      annotations: {
        [kwokNodeAnnotation.key]: kwokNodeAnnotation.value,
        'node.alpha.kubernetes.io/ttl': '0',
        ...annotations,
      },
      labels: {
        'kubernetes.io/hostname': name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        [nodeTypeLabel]: type.name,
        [nodePoolLabel]: type.name,
        type: 'kwok',
        ...labels,
      },
    },
    spec: { taints: gpu ? [{ key: 'nvidia.com/gpu', value: 'present', effect: 'NoSchedule' }] : undefined },
    status: { capacity: { ...type.capacity }, allocatable: { ...type.capacity } },
  };
}

/** The default test cluster: two small CPU nodes and one GPU node. */
export const defaultNodes: Array<{ name: string; type: NodeType }> = [
  { name: 'kwok-cpu-small-1', type: nodeTypes['cpu-small'] },
  { name: 'kwok-cpu-small-2', type: nodeTypes['cpu-small'] },
  { name: 'kwok-gpu-a10-1', type: nodeTypes['gpu-a10'] },
];
