import type { PodiumConfig } from '../domain/config';
import type { KwokNodes } from '../activities/nodes/create-autoscaler';

// The simulated cluster (infra/test-cluster) is for tests and `SIMULATED_CLUSTER=true npm start`:
// production code never imports it, and the entry points load it only when asked for.

/** etcd, kube-apiserver, kube-scheduler and kwok, started in a folder (see infra/test-cluster). */
export async function loadTestCluster() {
  return import('./test-cluster/cluster');
}

/** The kwok node provider and its node types, when NODE_PROVIDER is kwok. */
export async function loadKwokNodes(config: Pick<PodiumConfig, 'NODE_PROVIDER'>): Promise<KwokNodes | undefined> {
  if (config.NODE_PROVIDER !== 'kwok') return undefined;
  return (await import('./test-cluster/kwok-provider')).kwokNodes;
}
