import type { ChildProcess } from 'node:child_process';
import { startServiceProcess } from './service-process';
import { testEnv } from './services';

/**
 * The kubernetes project's setup: the simulated cluster, once per run. The first run on a
 * machine builds its binaries with Go (minutes); later runs reuse ~/.cache/podium/k8s.
 */
export default async function kubernetesGlobalSetup() {
  const started = Date.now();
  const { child, ready } = await startServiceProcess<{ kubeconfig: string }>(
    'test-cluster.ts',
    'the test cluster',
    60 * 60_000,
  );
  process.env[testEnv.kubeconfig] = ready.kubeconfig;
  (globalThis as { podiumTestCluster?: ChildProcess }).podiumTestCluster = child;
  console.log(`\n[podium] test cluster up in ${Date.now() - started} ms (${ready.kubeconfig})`);
}
