import type { CoreV1Api, KubeConfig, V1Pod } from '@kubernetes/client-node';
import { autoscalerDecisions, autoscalerNodes, autoscalerReactionSeconds } from '../lib/metrics';
import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type {
  AutoscalerAction,
  AutoscalerSettings,
  NodeView,
  PendingPod,
  Resources,
  Snapshot,
} from '../domain/node-autoscaler';
import type { DatabasePool } from 'slonik';
import { parseQuantity } from '../domain/quantity';
import { recordAutoscalerDecision } from '../db/autoscaler-decisions';
import {
  nodeAutoscalerWorkflowId,
  podsUnschedulableSignal,
  poolWorkflowId,
  replacePoolInstanceSignal,
  workflowNames,
  type NodeAutoscalerInput,
  type PodiumWorkflows,
} from '../workflows/contracts';
import { instanceIdAnnotation } from './runtime/instance-runtime';
import { modelLabel } from './runtime/kubernetes/pod-manifest';
import { podReadiness } from './runtime/kubernetes/pod-status';
import { autoscalerOwnerAnnotation, type NodeProvider } from './nodes/node-provider';

const modelPodSelector = 'app.kubernetes.io/managed-by=podium';

/** Wakes the task queue's node autoscaler, starting it with `input` if it is not running. */
export async function wakeNodeAutoscaler(
  temporal: Client,
  taskQueue: string,
  input: NodeAutoscalerInput,
): Promise<string> {
  const workflowId = nodeAutoscalerWorkflowId(taskQueue);
  await temporal.workflow.signalWithStart<PodiumWorkflows['nodeAutoscaler'], []>(workflowNames.nodeAutoscaler, {
    workflowId,
    taskQueue,
    args: [input],
    signal: podsUnschedulableSignal,
    signalArgs: [],
  });
  return workflowId;
}

/** What the autoscaler needs to run: set on the worker when a node provider is configured. */
export type AutoscalerDependencies = {
  kubeConfig: KubeConfig;
  provider: NodeProvider;
  /** The namespace of the model pods; also names this autoscaler on the nodes it adds. */
  namespace: string;
  settings: AutoscalerSettings;
};

const number = (quantity: string | undefined) => (quantity === undefined ? 0 : parseQuantity(quantity));
const resources = (quantities: Record<string, string> | undefined, pods = 0): Resources => ({
  cpu: number(quantities?.cpu),
  memory: number(quantities?.memory),
  gpu: number(quantities?.['nvidia.com/gpu']),
  pods: quantities?.pods !== undefined ? number(quantities.pods) : pods,
});
function podRequests(pod: V1Pod): Resources {
  const total = { cpu: 0, memory: 0, gpu: 0, pods: 1 };
  for (const container of pod.spec?.containers ?? []) {
    const requests = resources(container.resources?.requests);
    total.cpu += requests.cpu;
    total.memory += requests.memory;
    total.gpu += requests.gpu;
  }
  return total;
}
const isModelPod = (pod: V1Pod) => pod.metadata?.labels?.['app.kubernetes.io/managed-by'] === 'podium';
const isDaemonPod = (pod: V1Pod) => pod.metadata?.ownerReferences?.some((o) => o.kind === 'DaemonSet') ?? false;
const isActive = (pod: V1Pod) => pod.status?.phase !== 'Succeeded' && pod.status?.phase !== 'Failed';

export function createNodeAutoscalerActivities({
  db,
  autoscaler,
  temporal,
  taskQueue,
}: {
  db: DatabasePool;
  autoscaler?: AutoscalerDependencies;
  temporal: Client;
  taskQueue: string;
}) {
  // client-node loads on first use: a worker with local processes never holds it (~30 MB of heap).
  let cluster:
    | Promise<{ core: CoreV1Api; mergePatch: typeof import('./runtime/kubernetes/kubernetes-api').mergePatch }>
    | undefined;
  const need = async () => {
    if (!autoscaler) throw new Error('no node provider is configured on this worker (NODE_PROVIDER)');
    cluster ??= (async () => {
      const [{ CoreV1Api }, { mergePatch }] = await Promise.all([
        import('@kubernetes/client-node'),
        import('./runtime/kubernetes/kubernetes-api'),
      ]);
      return { core: autoscaler.kubeConfig.makeApiClient(CoreV1Api), mergePatch };
    })();
    return { autoscaler, ...(await cluster) };
  };

  /** Nodes with what is bound to them, and the model pods the scheduler could not place. */
  async function observeCluster(): Promise<Snapshot> {
    const { autoscaler, core } = await need();
    const [nodes, boundPods, modelPods] = await Promise.all([
      core.listNode(),
      core.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=' }),
      core.listNamespacedPod({
        namespace: autoscaler.namespace,
        labelSelector: modelPodSelector,
        fieldSelector: 'spec.nodeName=',
      }),
    ]);
    const byNode = new Map<string, V1Pod[]>();
    for (const pod of boundPods.items.filter(isActive))
      byNode.set(pod.spec!.nodeName!, [...(byNode.get(pod.spec!.nodeName!) ?? []), pod]);
    const nodeViews: NodeView[] = nodes.items.map((node) => {
      const pods = (byNode.get(node.metadata!.name!) ?? []).filter((pod) => !isDaemonPod(pod));
      const requested = pods.map(podRequests).reduce(
        (sum, r) => ({
          cpu: sum.cpu + r.cpu,
          memory: sum.memory + r.memory,
          gpu: sum.gpu + r.gpu,
          pods: sum.pods + 1,
        }),
        {
          cpu: 0,
          memory: 0,
          gpu: 0,
          pods: 0,
        },
      );
      return {
        name: node.metadata!.name!,
        type: node.metadata?.labels?.['node.kubernetes.io/instance-type'] ?? null,
        managed: node.metadata?.annotations?.[autoscalerOwnerAnnotation] === autoscaler.namespace,
        ready: node.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True') ?? false,
        cordoned: node.spec?.unschedulable === true,
        createdAt: new Date(node.metadata!.creationTimestamp!).getTime(),
        allocatable: resources(node.status?.allocatable),
        requested,
        modelPods: pods.filter(isModelPod).length,
        otherPods: pods.filter((pod) => !isModelPod(pod)).length,
        modelPodList: pods
          .filter(isModelPod)
          .map((pod) => ({ name: pod.metadata!.name!, requests: podRequests(pod), ready: podReadiness(pod).ready })),
      };
    });
    const pending: PendingPod[] = modelPods.items
      .filter((pod) => !pod.metadata?.deletionTimestamp)
      .flatMap((pod) => {
        const condition = pod.status?.conditions?.find(
          (c) => c.type === 'PodScheduled' && c.status === 'False' && c.reason === 'Unschedulable',
        );
        if (!condition) return [];
        return [
          {
            name: pod.metadata!.name!,
            requests: podRequests(pod),
            unschedulableSince: new Date(condition.lastTransitionTime ?? Date.now()).getTime(),
          },
        ];
      });
    return { now: Date.now(), nodes: nodeViews, pending };
  }

  /**
   * Carries out a plan. Node names come from the decision id, so running the same decision
   * twice (a worker killed mid-call, the activity retried) adds no second set of nodes.
   */
  async function actOnCluster({ decisionId, actions }: { decisionId: string; actions: AutoscalerAction[] }) {
    const { autoscaler, core, mergePatch } = await need();
    const results: string[] = [];
    for (const action of actions) {
      autoscalerDecisions.inc({ action: action.type });
      if (action.type === 'ADD_NODES') {
        const type = autoscaler.settings.nodeTypes.find((t) => t.name === action.nodeType)!;
        const names = Array.from({ length: action.count }, (_, i) => `podium-${action.nodeType}-${decisionId}-${i}`);
        await autoscaler.provider.addNodes(type, names, decisionId);
        autoscalerNodes.inc({ change: 'added', node_type: action.nodeType }, action.count);
        results.push(`added ${names.join(', ')}`);
      } else if (action.type === 'CORDON' || action.type === 'UNCORDON') {
        await core.patchNode(
          { name: action.node, body: { spec: { unschedulable: action.type === 'CORDON' } } },
          mergePatch,
        );
        results.push(`${action.type.toLowerCase()}ed ${action.node}`);
      } else if (action.type === 'CONSOLIDATE') {
        results.push(...(await consolidate(action.node)));
      } else {
        // Look again right before removing: never from under a pod bound since the snapshot.
        const pods = await core.listPodForAllNamespaces({ fieldSelector: `spec.nodeName=${action.node}` });
        if (action.why === 'EMPTY' && pods.items.some((pod) => isActive(pod) && !isDaemonPod(pod))) {
          results.push(`kept ${action.node}: a pod was bound to it meanwhile`);
          continue;
        }
        const nodeType = (await core.readNode({ name: action.node }).catch(() => null))?.metadata?.labels?.[
          'node.kubernetes.io/instance-type'
        ];
        await autoscaler.provider.removeNode(action.node);
        autoscalerNodes.inc({ change: 'removed', node_type: nodeType ?? 'unknown' });
        results.push(`removed ${action.node}`);
      }
    }
    if (actions.some((action) => action.type === 'ADD_NODES')) await observeReaction();
    return { actedAt: Date.now(), results };
  }

  /**
   * Empties a node the Podium way: cordoned (nothing new lands on it), then each model pod's
   * pool is asked to replace its instance (replacePoolInstance: a replacement first, the old one
   * stopped after its last request). Asking twice is harmless: a draining instance stays so.
   */
  async function consolidate(node: string): Promise<string[]> {
    const { autoscaler, core, mergePatch } = await need();
    await core.patchNode({ name: node, body: { spec: { unschedulable: true } } }, mergePatch);
    const pods = await core.listNamespacedPod({
      namespace: autoscaler.namespace,
      labelSelector: modelPodSelector,
      fieldSelector: `spec.nodeName=${node}`,
    });
    const results = [`cordoned ${node} to consolidate it`];
    for (const pod of pods.items.filter(isActive)) {
      const model = pod.metadata?.labels?.[modelLabel];
      const instanceId = pod.metadata?.annotations?.[instanceIdAnnotation];
      if (!model || !instanceId) continue;
      const asked = await temporal.workflow
        .getHandle(poolWorkflowId(taskQueue, model))
        .signal(replacePoolInstanceSignal, { instanceId, reason: `CONSOLIDATION of ${node}` })
        .then(() => `asked the pool of ${model} to replace instance ${instanceId}`)
        .catch((error: Error) =>
          error instanceof WorkflowNotFoundError
            ? `no pool runs ${model}: instance ${instanceId} stays until its next start`
            : Promise.reject(error),
        );
      results.push(asked);
    }
    return results;
  }

  /** How long the oldest pod still pending has waited, now that nodes for it were asked for. */
  async function observeReaction() {
    const { autoscaler, core } = await need();
    const pending = await core.listNamespacedPod({
      namespace: autoscaler.namespace,
      labelSelector: modelPodSelector,
      fieldSelector: 'spec.nodeName=',
    });
    const since = pending.items
      .map(
        (pod) =>
          pod.status?.conditions?.find((c) => c.type === 'PodScheduled' && c.status === 'False')?.lastTransitionTime,
      )
      .filter((time): time is Date => time !== undefined)
      .map((time) => new Date(time).getTime());
    if (since.length > 0) autoscalerReactionSeconds.observe((Date.now() - Math.min(...since)) / 1000);
  }

  return {
    /** A precise short wait, run as a local activity (see the node autoscaler workflow). */
    async pause({ ms }: { ms: number }): Promise<void> {
      await new Promise((resolve) => setTimeout(resolve, ms));
    },
    observeCluster,
    actOnCluster,
    async recordAutoscalerDecision(decision: Parameters<typeof recordAutoscalerDecision>[1]) {
      await recordAutoscalerDecision(db, decision);
    },
    /** Wakes the autoscaler (starting it if need be): a model pod could not be scheduled. */
    async signalPodsUnschedulable(): Promise<void> {
      if (!autoscaler) return;
      await wakeNodeAutoscaler(temporal, taskQueue, { settings: autoscaler.settings });
    },
  };
}
