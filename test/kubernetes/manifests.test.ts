import { randomUUID } from 'node:crypto';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  ApiException,
  CoreV1Api,
  KubeConfig,
  KubernetesObjectApi,
  PatchStrategy,
  type KubernetesObject,
  type V1NetworkPolicy,
  type V1PodTemplateSpec,
  type V1PolicyRule,
} from '@kubernetes/client-node';
import { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { modelPod } from '../../activities/runtime/kubernetes/pod-manifest';
import {
  containerImages,
  manifestsDir,
  overlayDir,
  pinnedKustomization,
  renderKustomization,
  runKubectl,
  type RenderedObject,
} from '../../infra/kustomize';
import { testKubeConfig } from '../support/kubernetes';
import { echoModel as echo } from '../support/models';
import { readTestEnv } from '../support/services';

const kubeConfig = testKubeConfig();
const kubeconfigFile = readTestEnv('kubeconfig');
const objects = KubernetesObjectApi.makeApiClient(kubeConfig);
const core = kubeConfig.makeApiClient(CoreV1Api);
const apply = (object: KubernetesObject, dryRun?: 'All') =>
  objects.patch(object, undefined, dryRun, 'podium-tests', true, PatchStrategy.ServerSideApply);

let work: string;
/** Production with every optional component: what an installation that uses them all deploys. */
let everything: string;
const rendered: Record<string, RenderedObject[]> = {};

// kubectl renders and dry-runs whole overlays: under the full suite on a slower machine the
// three renders alone took longer than the default minute (CI, 2026-12-05).
jest.setTimeout(240_000);

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'podium-kustomize-'));
  everything = path.join(work, 'everything');
  const components = ['temporal-mtls', 'postgres-tls', 'node-autoscaler-cluster-api'].map((name) =>
    path.relative(everything, path.join(manifestsDir, 'components', name)),
  );
  await mkdir(everything);
  await writeFile(
    path.join(everything, 'kustomization.yaml'),
    `resources: [${path.relative(everything, overlayDir('production'))}]\ncomponents: [${components.join(', ')}]\n`,
  );
  rendered.dev = renderKustomization(overlayDir('dev'));
  rendered.production = renderKustomization(overlayDir('production'));
  rendered.everything = renderKustomization(everything);
  // Namespaced objects can only be dry-run into namespaces that exist: create them for real.
  for (const namespace of rendered.dev.filter((object) => object.kind === 'Namespace'))
    await apply(namespace as KubernetesObject);
});

afterAll(() => rm(work, { recursive: true, force: true }));

const named = (objects: RenderedObject[], kind: string, name: string) =>
  objects.find((object) => object.kind === kind && object.metadata.name === name);
const podTemplates = (objects: RenderedObject[]) =>
  objects
    .filter((object) => object.kind === 'Deployment')
    .map((object) => ({ object, template: (object.spec as { template: V1PodTemplateSpec }).template }));
const rulesOf = (objects: RenderedObject[], name: string) =>
  (named(objects, 'ClusterRole', name) as { rules?: V1PolicyRule[] } | undefined)?.rules;

describe('infra/k8s: the kustomize base, its components and the overlays', () => {
  it.each(['dev', 'production', 'everything'])(
    '%s is accepted by the API server (kubectl apply -k, server-side dry run)',
    (name) => {
      const dir = name === 'everything' ? everything : overlayDir(name as 'dev' | 'production');
      const output = runKubectl(
        ['apply', '-k', dir, '--server-side', '--dry-run=server', '--field-manager=podium-tests'],
        {
          kubeconfig: kubeconfigFile,
        },
      );
      const applied = output.trim().split('\n');
      expect(applied).toHaveLength(rendered[name]!.length);
      for (const line of applied) expect(line).toMatch(/serverside-applied \(server dry run\)$/);
    },
  );

  it('run every pod as Pod Security Admission `restricted` admits it, with a read-only root and a writable /tmp', async () => {
    for (const name of ['dev', 'production', 'everything']) {
      for (const { object, template } of podTemplates(rendered[name]!)) {
        const namespace = object.metadata.namespace!;
        // The namespaces enforce `restricted`: a pod that breaks it is refused, even in a dry run.
        const namespaceLabels = named(rendered[name]!, 'Namespace', namespace)!.metadata.labels;
        expect(namespaceLabels).toMatchObject({ 'pod-security.kubernetes.io/enforce': 'restricted' });
        const pod = {
          apiVersion: 'v1',
          kind: 'Pod',
          metadata: { name: `${object.metadata.name}-check`, namespace },
          spec: template.spec!,
        };
        await expect(core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' })).resolves.toMatchObject({
          metadata: { namespace },
        });
        for (const container of template.spec!.containers) {
          expect(container.securityContext).toEqual({
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            capabilities: { drop: ['ALL'] },
          });
          expect(container.volumeMounts).toContainEqual({ name: 'tmp', mountPath: '/tmp' });
          expect(container.livenessProbe?.httpGet?.path).toMatch(/health\/live$/);
          expect(container.readinessProbe?.httpGet?.path).toMatch(/health\/ready$/);
        }
        expect(template.spec!.securityContext).toMatchObject({
          runAsNonRoot: true,
          seccompProfile: { type: 'RuntimeDefault' },
        });
      }
    }
  });

  it('put model pods in a namespace of their own, where the pods the worker creates are admitted as `restricted`', async () => {
    const config = named(rendered.production!, 'ConfigMap', 'podium-config') as unknown as {
      data: Record<string, string>;
    };
    const namespace = config.data.KUBERNETES_NAMESPACE!;
    expect(namespace).toBe('podium-models');
    expect(named(rendered.production!, 'Namespace', namespace)!.metadata.labels).toMatchObject({
      'pod-security.kubernetes.io/enforce': 'restricted',
    });
    const pod = modelPod({ instanceId: randomUUID(), model: echo, annotations: {}, startupTimeoutMs: 1_000 });
    await expect(core.createNamespacedPod({ namespace, body: pod, dryRun: 'All' })).resolves.toMatchObject({
      metadata: { namespace },
    });
    // The namespace does enforce it: the same pod without its security context is refused.
    const bare = {
      ...pod,
      spec: {
        ...pod.spec!,
        securityContext: undefined,
        containers: pod.spec!.containers.map((container) => ({ ...container, securityContext: undefined })),
      },
    };
    const refused = await core
      .createNamespacedPod({ namespace, body: bare, dryRun: 'All' })
      .catch((error: unknown) => error);
    expect((refused as ApiException<string>).code).toBe(403);
    expect((refused as ApiException<string>).body).toContain('violates PodSecurity');
  });

  it('let only the workers reach model pods, and only the ingress reach the API', () => {
    // Typed as @kubernetes/client-node reads it (its V1NetworkPolicyIngressRule names `from` `_from`).
    const policies = rendered.production!.filter(
      (object) => object.kind === 'NetworkPolicy',
    ) as unknown as V1NetworkPolicy[];
    for (const namespace of ['podium', 'podium-models']) {
      expect(policies).toContainEqual(
        expect.objectContaining({
          metadata: expect.objectContaining({ name: 'default-deny-ingress', namespace }),
          spec: { podSelector: {}, policyTypes: ['Ingress'] },
        }),
      );
    }
    const toModels = policies.filter(
      (policy) => policy.metadata!.namespace === 'podium-models' && policy.spec!.ingress,
    );
    expect(toModels).toHaveLength(1);
    const modelLabels = modelPod({ instanceId: 'x', model: echo, annotations: {}, startupTimeoutMs: 1 }).metadata!
      .labels!;
    expect(modelLabels).toMatchObject(toModels[0]!.spec!.podSelector!.matchLabels!);
    const from = toModels[0]!.spec!.ingress![0]!._from![0];
    const worker = podTemplates(rendered.production!).find(({ object }) => object.metadata.name === 'podium-worker')!;
    expect(worker.template.metadata!.labels).toMatchObject(from!.podSelector!.matchLabels!);
    expect(from!.namespaceSelector!.matchLabels).toEqual({
      'kubernetes.io/metadata.name': worker.object.metadata.namespace,
    });
    // The API: from the ingress controller's namespace, on its HTTP port (and metrics from monitoring).
    const api = podTemplates(rendered.production!).find(({ object }) => object.metadata.name === 'podium-api')!;
    const toApi = policies.filter(
      (policy) =>
        policy.metadata!.namespace === 'podium' &&
        policy.spec!.ingress &&
        Object.entries(policy.spec!.podSelector!.matchLabels ?? {}).every(
          ([key, value]) => api.template.metadata!.labels![key] === value,
        ),
    );
    expect(
      toApi.map((policy) => [
        policy.metadata!.name,
        policy.spec!.ingress![0]!._from![0]!.namespaceSelector!.matchLabels,
        policy.spec!.ingress![0]!.ports!.map((port) => port.port),
      ]),
    ).toEqual([
      ['api-from-ingress', { 'kubernetes.io/metadata.name': 'ingress-nginx' }, ['http']],
      ['metrics-from-monitoring', { 'kubernetes.io/metadata.name': 'monitoring' }, ['http', 'metrics', 'sdk-metrics']],
    ]);
  });

  it("let model pods reach DNS and public addresses only: not PostgreSQL, Temporal, the API, nor the cloud's metadata", () => {
    const policies = rendered.production!.filter(
      (object) => object.kind === 'NetworkPolicy',
    ) as unknown as V1NetworkPolicy[];
    const egress = policies.filter(
      (policy) => policy.metadata!.namespace === 'podium-models' && policy.spec!.policyTypes!.includes('Egress'),
    );
    // Every model pod is selected by a policy of type Egress, so what none allows is denied.
    expect(egress.map((policy) => policy.spec!.podSelector)).toEqual([{}, {}]);
    const rules = egress.flatMap((policy) => policy.spec!.egress ?? []);
    const dns = rules.find((rule) => rule.ports?.some((port) => port.port === 53))!;
    expect(dns.to).toEqual([
      {
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': 'kube-system' } },
        podSelector: { matchLabels: { 'k8s-app': 'kube-dns' } },
      },
    ]);
    const blocks = rules.filter((rule) => rule !== dns).flatMap((rule) => rule.to!.map((peer) => peer.ipBlock!));
    expect(blocks.map((block) => block.cidr)).toEqual(['0.0.0.0/0', '::/0']);
    const excepted = blocks.flatMap((block) => block.except ?? []);
    for (const range of ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '169.254.0.0/16', 'fc00::/7', 'fe80::/10'])
      expect(excepted).toContain(range);
    // Podium's own namespace keeps its egress: where PostgreSQL and Temporal live is the installation's choice.
    expect(
      policies.filter(
        (policy) => policy.metadata!.namespace === 'podium' && policy.spec!.policyTypes!.includes('Egress'),
      ),
    ).toEqual([]);
  });

  it('bind the node autoscaler only where an overlay enables it, with the verbs its provider needs', () => {
    expect(rendered.production!.filter((object) => object.kind.startsWith('Cluster'))).toEqual([]);
    expect(rulesOf(rendered.dev!, 'podium-node-autoscaler')).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'patch', 'create', 'delete'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    ]);
    // Cluster API makes and removes the nodes itself: the worker only cordons them.
    expect(rulesOf(rendered.everything!, 'podium-node-autoscaler')).toEqual([
      { apiGroups: [''], resources: ['nodes'], verbs: ['list', 'patch'] },
      { apiGroups: [''], resources: ['pods'], verbs: ['list'] },
    ]);
    const config = (objects: RenderedObject[]) =>
      (named(objects, 'ConfigMap', 'podium-config') as unknown as { data: Record<string, string> }).data;
    expect([
      config(rendered.dev!).NODE_PROVIDER,
      config(rendered.production!).NODE_PROVIDER,
      config(rendered.everything!).NODE_PROVIDER,
    ]).toEqual(['kwok', 'none', 'cluster-api']);
  });

  it('pinned by npm run release, run the image it built by digest in every container', async () => {
    const digest = `sha256:${'0123456789abcdef'.repeat(4)}`;
    for (const overlay of ['dev', 'production'] as const) {
      const dir = path.join(work, `pinned-${overlay}`);
      await mkdir(dir);
      await writeFile(path.join(dir, 'kustomization.yaml'), await pinnedKustomization(overlay, dir, digest));
      const images = containerImages(renderKustomization(dir));
      expect(images).toEqual([
        `${overlay === 'dev' ? 'podium' : 'registry.example.com/podium'}@${digest}`,
        expect.any(String),
      ]);
      expect(new Set(images).size).toBe(1);
    }
  });
});

/** A client that authenticates as the worker's ServiceAccount, with a token from the TokenRequest API. */
async function kubeConfigAsWorker(): Promise<KubeConfig> {
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

describe("the worker's rights (overlays/dev)", () => {
  it('are exactly what the runtime and the node autoscaler use, and nothing more', async () => {
    for (const object of rendered.dev!.filter((o) =>
      ['ServiceAccount', 'Role', 'RoleBinding', 'ClusterRole', 'ClusterRoleBinding'].includes(o.kind),
    )) {
      await apply(object as KubernetesObject);
    }
    const asWorker = await kubeConfigAsWorker();
    const runtime = new KubernetesRuntime({
      kubeConfig: asWorker,
      namespace: 'podium-models',
      endpointSource: 'simulated',
    });
    const instanceId = randomUUID();
    const placed = await runtime.start({
      instanceId,
      model: echo,
      annotations: { 'podium/instance-id': instanceId },
      startupTimeoutMs: 30_000,
    });
    await runtime.awaitReady(placed, {
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
    await runtime.recordAssignment(placed.runtimeRef, randomUUID());
    expect(await runtime.list()).toHaveLength(1);
    expect((await runtime.events(placed.runtimeRef)).length).toBeGreaterThan(0);
    await runtime.stop(placed.runtimeRef);

    // Pods only in the models' namespace: not in Podium's own, not elsewhere.
    for (const namespace of ['podium', 'default']) {
      const elsewhere = new KubernetesRuntime({ kubeConfig: asWorker, namespace, endpointSource: 'simulated' });
      const refused = await elsewhere
        .start({ instanceId: randomUUID(), model: echo, annotations: {}, startupTimeoutMs: 1_000 })
        .catch((error: unknown) => error);
      expect(refused).toBeInstanceOf(ApiException);
      expect((refused as ApiException<unknown>).code).toBe(403);
    }
    // The node autoscaler's part: nodes and bound pods everywhere, read; no Secrets.
    const workerCore = asWorker.makeApiClient(CoreV1Api);
    expect((await workerCore.listNode()).items.length).toBeGreaterThan(0);
    expect(Array.isArray((await workerCore.listPodForAllNamespaces({ fieldSelector: 'spec.nodeName!=' })).items)).toBe(
      true,
    );
    for (const namespace of ['podium', 'podium-models']) {
      const readSecrets = await workerCore.listNamespacedSecret({ namespace }).catch((error: unknown) => error);
      expect((readSecrets as ApiException<unknown>).code).toBe(403);
    }
  });
});
