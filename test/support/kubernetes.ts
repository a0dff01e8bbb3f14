import { CoreV1Api, KubeConfig } from '@kubernetes/client-node';
import { autoscalerOwnerAnnotation } from '../../activities/nodes/node-provider';
import { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { readTestEnv } from './services';

/** A client for the run's simulated cluster (started by the kubernetes project's global setup). */
export function testKubeConfig(): KubeConfig {
  const config = new KubeConfig();
  config.loadFromFile(readTestEnv('kubeconfig'));
  return config;
}

/**
 * A namespace of the test's own and a runtime on it. The cluster has no namespace controller
 * (no kube-controller-manager), so `cleanUp` deletes the pods rather than the namespace.
 */
export async function kubernetesTestRuntime(name: string) {
  const kubeConfig = testKubeConfig();
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const namespace = name.replaceAll('_', '-');
  await core.createNamespace({ body: { metadata: { name: namespace } } });
  return {
    namespace,
    core,
    kubeConfig,
    runtime: new KubernetesRuntime({ kubeConfig, namespace, endpointSource: 'simulated' }),
    /** Deletes the test's pods, and the nodes its autoscaler added. */
    cleanUp: async () => {
      await core.deleteCollectionNamespacedPod({ namespace, gracePeriodSeconds: 0 });
      const nodes = await core.listNode();
      for (const node of nodes.items.filter(
        (n) => n.metadata?.annotations?.[autoscalerOwnerAnnotation] === namespace,
      )) {
        await core.deleteNode({ name: node.metadata!.name! });
      }
    },
  };
}
