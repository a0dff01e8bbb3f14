// `npm run test-cluster`: the simulated Kubernetes cluster on its own, until Ctrl-C. Prints the
// kubeconfig path; point KUBECONFIG at it (with KUBERNETES_ENDPOINT=simulated) to run Podium's
// model instances as pods there.
import path from 'node:path';
import { startTestCluster } from './cluster';

async function main() {
  const dir = path.resolve(process.env.DATA_DIR ?? '.data', 'test-cluster', String(Date.now()));
  const cluster = await startTestCluster({ dir, log: (line) => console.log(`[test-cluster] ${line}`) });
  console.log(`[test-cluster] ready: ${cluster.server}`);
  console.log(`[test-cluster] export KUBECONFIG=${cluster.kubeconfigPath} KUBERNETES_ENDPOINT=simulated`);
  const stop = async () => {
    console.log('[test-cluster] stopping');
    await cluster.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: Error) => {
  console.error(`[test-cluster] ${error.message}`);
  process.exit(1);
});
