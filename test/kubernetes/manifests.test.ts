import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  loadAllYaml,
  type KubernetesObject,
} from '@kubernetes/client-node';
import { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { testKubeConfig } from '../support/kubernetes';
import { echoModel as echo } from '../support/models';

const manifestDir = path.resolve(__dirname, '../../infra/k8s');
const manifests: KubernetesObject[] = readdirSync(manifestDir)
  .filter((file) => file.endsWith('.yaml'))
  .sort()
  .flatMap((file) => loadAllYaml(readFileSync(path.join(manifestDir, file), 'utf8')) as KubernetesObject[]);

const kubeConfig = testKubeConfig();
const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
const apply = (object: KubernetesObject, dryRun?: 'All') =>
  objects.patch(object, undefined, dryRun, 'podium-tests', true, PatchStrategy.ServerSideApply);


/** A client that authenticates as the worker's ServiceAccount, with a token from the TokenRequest API. */
async function kubeConfigAsWorker(): Promise<KubeConfig> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  const { status } = await core.createNamespacedServiceAccountToken({
    name: 'podium-worker',
    namespace: 'podium',
    body: { spec: { expirationSeconds: 600 } },
  });
  const asWorker = new KubeConfig();
  asWorker.loadFromOptions({
    clusters: [{ name: 'test', server: kubeConfig.getCurrentCluster()!.server, skipTLSVerify: true }],
    users: [{ name: 'podium-worker', token: status!.token }],
    contexts: [{ name: 'test', cluster: 'test', user: 'podium-worker' }],
    currentContext: 'test',
  });
  return asWorker;
}

describe('infra/k8s manifests', () => {
  it('are all accepted by the API server (server-side apply, dry run)', async () => {
    expect(manifests.map((m) => `${m.kind}/${m.metadata?.name}`)).toEqual([
      'Namespace/podium',
      'ServiceAccount/podium-worker',
      'Role/podium-model-pods',
      'RoleBinding/podium-worker-model-pods',
      'ClusterRole/podium-node-autoscaler',
      'ClusterRoleBinding/podium-worker-node-autoscaler',
      'ConfigMap/podium-config',
      'Deployment/podium-api',
      'Service/podium-api',
      'Deployment/podium-worker',
    ]);
    // Namespaced objects can only be dry-run into a namespace that exists.
    await apply(manifests[0]!);
    for (const manifest of manifests) {
      const accepted = await apply(manifest, 'All');
      expect(accepted.metadata?.uid).toBeDefined();
    }
  });

  it('give the worker exactly what the runtime and the node autoscaler use, and nothing more', async () => {
    for (const manifest of manifests.filter((m) => m.kind !== 'Deployment' && m.kind !== 'Service')) await apply(manifest);
    const asWorker = await kubeConfigAsWorker();
    const runtime = new KubernetesRuntime({ kubeConfig: asWorker, namespace: 'podium', endpointSource: 'simulated' });
    const instanceId = randomUUID();
    const placed = await runtime.start({ instanceId, model: echo, annotations: { 'podium/instance-id': instanceId }, startupTimeoutMs: 30_000 });
    await runtime.awaitReady(placed, { timeoutMs: 30_000, signal: new AbortController().signal, onProgress: () => undefined });
    await runtime.recordAssignment(placed.runtimeRef, randomUUID());
    expect(await runtime.list()).toHaveLength(1);
    expect((await runtime.events(placed.runtimeRef)).length).toBeGreaterThan(0);
    await runtime.stop(placed.runtimeRef);

    // Pods are created, patched and deleted only in its own namespace.
    const elsewhere = new KubernetesRuntime({ kubeConfig: asWorker, namespace: 'default', endpointSource: 'simulated' });
    const refused = await elsewhere
      .start({ instanceId: randomUUID(), model: echo, annotations: {}, startupTimeoutMs: 1_000 })
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(ApiException);
    expect((refused as ApiException<unknown>).code).toBe(403);
    // The node autoscaler's part: nodes and bound pods everywhere, read; nodes, cordoned.
    const workerCore = asWorker.makeApiClient(CoreV1Api);
    expect((await workerCore.listNode()).items.length).toBeGreaterThan(0);
    expect(Array.isArray((await workerCore.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=' })).items)).toBe(true);
    const readSecrets = await workerCore.listNamespacedSecret({ namespace: 'podium' }).catch((error: unknown) => error);
    expect((readSecrets as ApiException<unknown>).code).toBe(403);
  });
});
