import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { mergePatch } from '../runtime/kubernetes/kubernetes-api';
import type { NodeTypeSpec } from '../../domain/node-autoscaler';
import type { NodeProvider } from './node-provider';

const group = 'cluster.x-k8s.io';
const version = 'v1beta1';
/** Cluster API deletes Machines carrying this annotation first when a MachineDeployment shrinks. */
const deleteMachineAnnotation = 'cluster.x-k8s.io/delete-machine';
/** The last decision applied to a MachineDeployment, so a retried activity does not add twice. */
const lastDecisionAnnotation = 'podium.dev/last-scale-up';

type MachineDeployment = {
  metadata: { name: string; annotations?: Record<string, string> };
  spec: { replicas?: number };
};
type Machine = {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: { nodeRef?: { name: string } };
  spec?: { clusterName?: string };
};

/**
 * Real clusters through Cluster API: one MachineDeployment per node type, named
 * `<prefix><type>` in `namespace` (e.g. `podium-gpu-a10`). Adding nodes raises its replicas;
 * removing a node marks that node's Machine for deletion and lowers the replicas, which Cluster
 * API turns into draining and deleting exactly that machine. Node names are chosen by the
 * infrastructure, so `names` only counts.
 *
 * Needs (in the management cluster): get/patch on machinedeployments, list/patch on machines.
 * Not exercised by the tests here (there is no Cluster API on these machines); see
 * docs/node-autoscaling.md.
 */
export class ClusterApiNodeProvider implements NodeProvider {
  readonly kind = 'cluster-api' as const;
  private readonly api: CustomObjectsApi;

  constructor(
    kubeConfig: KubeConfig,
    private readonly options: { namespace: string; prefix: string },
  ) {
    this.api = kubeConfig.makeApiClient(CustomObjectsApi);
  }

  private deploymentName(type: string) {
    return `${this.options.prefix}${type}`;
  }

  private async deployment(name: string): Promise<MachineDeployment> {
    return (await this.api.getNamespacedCustomObject({
      group,
      version,
      namespace: this.options.namespace,
      plural: 'machinedeployments',
      name,
    })) as MachineDeployment;
  }

  async addNodes(type: NodeTypeSpec, names: string[], decisionId: string): Promise<void> {
    const name = this.deploymentName(type.name);
    const current = await this.deployment(name);
    if (current.metadata.annotations?.[lastDecisionAnnotation] === decisionId) return; // applied before a retry
    await this.api.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace: this.options.namespace,
        plural: 'machinedeployments',
        name,
        body: {
          metadata: { annotations: { [lastDecisionAnnotation]: decisionId } },
          spec: { replicas: (current.spec.replicas ?? 0) + names.length },
        },
      },
      mergePatch,
    );
  }

  async removeNode(nodeName: string): Promise<void> {
    const machines = (await this.api.listNamespacedCustomObject({
      group,
      version,
      namespace: this.options.namespace,
      plural: 'machines',
    })) as {
      items: Array<Machine & { metadata: { labels?: Record<string, string> } }>;
    };
    const machine = machines.items.find((m) => m.status?.nodeRef?.name === nodeName);
    // Gone already, or marked (and its deployment lowered) by an earlier try of this call.
    if (!machine || machine.metadata.annotations?.[deleteMachineAnnotation]) return;
    await this.api.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace: this.options.namespace,
        plural: 'machines',
        name: machine.metadata.name,
        body: { metadata: { annotations: { [deleteMachineAnnotation]: 'true' } } },
      },
      mergePatch,
    );
    const deploymentName = machine.metadata.labels?.['cluster.x-k8s.io/deployment-name'];
    if (!deploymentName) return;
    const current = await this.deployment(deploymentName);
    await this.api.patchNamespacedCustomObject(
      {
        group,
        version,
        namespace: this.options.namespace,
        plural: 'machinedeployments',
        name: deploymentName,
        body: { spec: { replicas: Math.max(0, (current.spec.replicas ?? 1) - 1) } },
      },
      mergePatch,
    );
  }
}
