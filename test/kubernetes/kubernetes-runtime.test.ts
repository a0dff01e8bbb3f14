import { randomUUID } from 'node:crypto';
import type { CoreV1Api, CoreV1Event } from '@kubernetes/client-node';
import {
  InstanceStartupTimeoutError,
  type InstanceProgress,
  type InstanceSpec,
} from '../../activities/runtime/instance-runtime';
import type { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { modelSpecFrom, type ModelSpec } from '../../domain/model-catalog';
import { readModelFile } from '../../infra/cli/models-command';
import { kwokNode, nodeTypes } from '../../infra/test-cluster/nodes';
import { eventually } from '../support/eventually';
import { kubernetesTestRuntime } from '../support/kubernetes';
import { echoModel as echo } from '../support/models';

let runtime: KubernetesRuntime;
let core: CoreV1Api;
let namespace: string;
let cleanUp: () => Promise<void>;
beforeAll(async () => {
  ({ runtime, core, namespace, cleanUp } = await kubernetesTestRuntime(`runtime-${randomUUID().slice(0, 8)}`));
});
afterAll(async () => {
  await cleanUp?.();
});

function instanceSpec(model: Partial<ModelSpec> = {}): InstanceSpec {
  const instanceId = randomUUID();
  return {
    instanceId,
    model: { ...echo, ...model },
    annotations: { 'podium/instance-id': instanceId, 'podium/pool': model.id ?? echo.id },
    startupTimeoutMs: 30_000,
  };
}

async function startAndAwait(spec: InstanceSpec, timeoutMs = 30_000) {
  const progress: InstanceProgress[] = [];
  const placed = await runtime.start(spec);
  const ready = runtime.awaitReady(placed, {
    timeoutMs,
    signal: new AbortController().signal,
    onProgress: (p) => progress.push(p),
  });
  return { placed, progress, ready };
}

const readPod = (name: string) => core.readNamespacedPod({ name, namespace });
const eventReasons = async (name: string) => ((await runtime.events(name)) as CoreV1Event[]).map((e) => e.reason);

describe('KubernetesRuntime on the simulated cluster', () => {
  it('creates the model pod from the catalog: labels, annotations, resources, probe, affinity', async () => {
    const spec = instanceSpec();
    const { placed, ready } = await startAndAwait(spec);
    await ready;
    const pod = await readPod(placed.runtimeRef);
    expect(pod.metadata?.labels).toEqual({
      'app.kubernetes.io/managed-by': 'podium',
      'podium/model': 'echo',
      'podium/instance-id': spec.instanceId,
    });
    expect(pod.metadata?.annotations).toMatchObject({ 'podium/instance-id': spec.instanceId, 'podium/pool': 'echo' });
    const container = pod.spec!.containers[0]!;
    expect(container.image).toBe('ghcr.io/podium/model-echo:0.1.0');
    expect(container.ports).toEqual([{ name: 'http', containerPort: 8080, protocol: 'TCP' }]);
    expect(container.resources).toEqual({ requests: { cpu: '100m', memory: '128Mi' }, limits: { memory: '128Mi' } });
    expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/v2/models/echo/ready', port: 'http' });
    const affinity = pod.spec!.affinity!.podAffinity!.preferredDuringSchedulingIgnoredDuringExecution![0]!;
    expect(affinity.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(affinity.podAffinityTerm.labelSelector?.matchLabels).toEqual({ 'app.kubernetes.io/managed-by': 'podium' });
  });

  it("runs an MLServer model as its model file says: the image's command, MLServer's ports and settings, a probe on the model", async () => {
    const [shout] = await readModelFile('models/python-example/model.yaml');
    const placed = await runtime.start(instanceSpec(modelSpecFrom(shout!.id, shout!.settings)));
    try {
      const container = (await readPod(placed.runtimeRef)).spec!.containers[0]!;
      expect(container.image).toBe('ghcr.io/podium/model-python-example:0.1.0');
      expect(container.command).toEqual(['mlserver', 'start', '/opt/model']);
      expect(container.args).toBeUndefined();
      expect(container.ports).toEqual([
        { name: 'http', containerPort: 8080, protocol: 'TCP' },
        { name: 'grpc', containerPort: 8081, protocol: 'TCP' },
        { name: 'metrics', containerPort: 8082, protocol: 'TCP' },
      ]);
      expect(Object.fromEntries((container.env ?? []).map((e) => [e.name, e.value]))).toEqual({
        PODIUM_MODEL_NAME: 'shout',
        MLSERVER_HOST: '0.0.0.0',
        MLSERVER_HTTP_PORT: '8080',
        MLSERVER_METRICS_DIR: '/tmp/mlserver-metrics',
        MLSERVER_GRPC_PORT: '8081',
        MLSERVER_METRICS_PORT: '8082',
        MLSERVER_PARALLEL_WORKERS: '0',
        MLSERVER_MODEL_NAME: 'shout',
      });
      expect(container.readinessProbe?.httpGet).toMatchObject({ path: '/v2/models/shout/ready', port: 'http' });
      expect(container.resources?.requests).toEqual({ cpu: '500m', memory: '512Mi' });
    } finally {
      await runtime.stop(placed.runtimeRef);
    }
  });

  it('awaits readiness with a watch: reports the node, then answers inference at the endpoint', async () => {
    const { placed, progress, ready } = await startAndAwait(instanceSpec());
    const { endpoint } = await ready;
    const pod = await readPod(placed.runtimeRef);
    expect(pod.status?.conditions?.find((c) => c.type === 'Ready')?.status).toBe('True');
    expect(progress).toEqual([{ event: 'SCHEDULED', detail: { node: pod.spec!.nodeName } }]);
    const health = await fetch(`${endpoint}/v2/health/ready`);
    expect(health.status).toBe(200);
    expect(await eventReasons(placed.runtimeRef)).toContain('Scheduled');
  });

  it('a pod no node can hold reports Unschedulable, then times out naming the reason', async () => {
    const { placed, progress, ready } = await startAndAwait(
      instanceSpec({ id: 'huge', resources: { cpu: '64', memory: '1Gi' } }),
      2_000,
    );
    const error = await ready.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InstanceStartupTimeoutError);
    expect((error as Error).message).toMatch(/Unschedulable: 0\/\d+ nodes are available: .*Insufficient cpu/);
    expect(progress).toEqual([
      { event: 'PENDING', detail: { reason: 'Unschedulable', message: expect.stringContaining('Insufficient cpu') } },
    ]);
    expect(await eventReasons(placed.runtimeRef)).toContain('FailedScheduling');
  });

  it('becomes ready as soon as a node that fits appears (the watch sees the scheduler place it)', async () => {
    // A resource only this test's node has: other test files add nodes to the same cluster.
    const widget = 'podium.test/widget';
    const { placed, progress, ready } = await startAndAwait(
      instanceSpec({ id: 'widget', resources: { cpu: '1', memory: '1Gi', [widget]: '1' } }),
    );
    await eventually(
      async () => progress.length,
      (n) => n > 0,
      10_000,
    );
    expect(progress[0]).toMatchObject({ event: 'PENDING', detail: { reason: 'Unschedulable' } });
    const node = `kwok-widget-${randomUUID().slice(0, 6)}`;
    const small = nodeTypes['cpu-small'];
    await core.createNode({ body: kwokNode(node, { ...small, capacity: { ...small.capacity, [widget]: '1' } }) });
    try {
      await ready;
      expect(progress.at(-1)).toEqual({ event: 'SCHEDULED', detail: { node } });
    } finally {
      await runtime.stop(placed.runtimeRef);
      await eventually(
        () => core.listNamespacedPod({ namespace, fieldSelector: `spec.nodeName=${node}` }),
        (pods) => pods.items.length === 0,
        10_000,
      );
      await core.deleteNode({ name: node });
    }
  });

  it('a GPU model lands on the tainted GPU node', async () => {
    const { placed, ready } = await startAndAwait(
      instanceSpec({ id: 'gpu', resources: { cpu: '1', memory: '1Gi', 'nvidia.com/gpu': '1' } }),
    );
    await ready;
    const pod = await readPod(placed.runtimeRef);
    expect(pod.spec?.nodeName).toMatch(/^kwok-gpu-a10-/);
    expect(pod.spec?.containers[0]?.resources?.limits).toEqual({ memory: '1Gi', 'nvidia.com/gpu': '1' });
    await runtime.stop(placed.runtimeRef);
  });

  it('an image the registry does not have shows ImagePullBackOff, with the kubelet event', async () => {
    const { placed, progress, ready } = await startAndAwait(
      instanceSpec({ id: 'missing', containerImage: 'ghcr.io/podium/unknown:1' }),
      3_000,
    );
    const error = (await ready.catch((e: unknown) => e)) as Error;
    expect(error.message).toContain('ImagePullBackOff');
    expect(progress).toContainEqual({
      event: 'PENDING',
      detail: { reason: 'ImagePullBackOff', message: expect.stringContaining('ghcr.io/podium/unknown:1') },
    });
    const events = (await runtime.events(placed.runtimeRef)) as CoreV1Event[];
    expect(events.map((e) => [e.type, e.reason])).toContainEqual(['Warning', 'Failed']);
  });

  it('stop deletes the pod; stopping again succeeds', async () => {
    const { placed, ready } = await startAndAwait(instanceSpec());
    const { endpoint } = await ready;
    await runtime.stop(placed.runtimeRef);
    await eventually(
      () =>
        readPod(placed.runtimeRef).then(
          () => 'present',
          () => 'gone',
        ),
      (state) => state === 'gone',
      10_000,
    );
    await expect(runtime.stop(placed.runtimeRef)).resolves.toBeUndefined();
    // The simulated container went with its pod.
    await eventually(
      () =>
        fetch(endpoint).then(
          () => 'up',
          () => 'down',
        ),
      (state) => state === 'down',
      10_000,
    );
  });

  it('lists live instances with their node and the request last assigned to them', async () => {
    const spec = instanceSpec({ id: 'listed' });
    const { placed, ready } = await startAndAwait(spec);
    await ready;
    const requestId = randomUUID();
    await runtime.recordAssignment(placed.runtimeRef, requestId);
    const [listed] = await runtime.list({ modelId: 'listed' });
    expect(listed).toMatchObject({
      runtimeRef: placed.runtimeRef,
      instanceId: spec.instanceId,
      modelId: 'listed',
      phase: 'Running',
      ready: true,
      node: (await readPod(placed.runtimeRef)).spec!.nodeName,
      requestId,
      waiting: null,
    });
    const [withEvents] = await runtime.list({ modelId: 'listed', withEvents: true });
    expect((withEvents!.events as CoreV1Event[]).map((e) => [e.reason, e.involvedObject.name])).toContainEqual([
      'Scheduled',
      placed.runtimeRef,
    ]);
    await runtime.stop(placed.runtimeRef);
    expect(await runtime.list({ modelId: 'listed' })).toEqual([]);
  });
});
