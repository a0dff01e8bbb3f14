// The simulated Kubernetes cluster of one `npm test` run (the kubernetes project's global
// setup), in a process of its own like test-services.ts. Builds the binaries on first use.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTestCluster } from '../../infra/test-cluster/cluster';
import { serveUntilStopped } from './service-process';

void serveUntilStopped(async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'podium-cluster-'));
  const cluster = await startTestCluster({ dir, log: (line) => console.error(`[test-cluster] ${line}`) });
  return {
    kubeconfig: cluster.kubeconfigPath,
    stop: async () => {
      await cluster.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
});
