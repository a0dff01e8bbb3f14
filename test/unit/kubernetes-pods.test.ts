import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import { kubernetesConfigured } from '../../activities/runtime/create-runtime';
import { podEndpoint } from '../../activities/runtime/kubernetes/pod-endpoint';
import { modelPod } from '../../activities/runtime/kubernetes/pod-manifest';
import { podReadiness } from '../../activities/runtime/kubernetes/pod-status';
import { parseConfig } from '../../domain/config';
import { modelServerForImage } from '../../infra/test-cluster/simulation';
import { echoModel } from '../support/models';

const pod = (
  status: V1Pod['status'],
  spec: Partial<V1Pod['spec']> = {},
  annotations: Record<string, string> = {},
): V1Pod => ({
  metadata: { name: 'echo-1', annotations },
  spec: { containers: [{ name: 'model', ports: [{ containerPort: 8080 }] }], ...spec },
  status,
});

describe('podReadiness', () => {
  it.each<[string, V1Pod, Partial<ReturnType<typeof podReadiness>>]>([
    ['a new pod', pod(undefined), { phase: 'Pending', node: null, ready: false, waiting: null, fatal: false }],
    [
      'unschedulable',
      pod({
        phase: 'Pending',
        conditions: [{ type: 'PodScheduled', status: 'False', reason: 'Unschedulable', message: '0/3 nodes…' }],
      }),
      { waiting: { reason: 'Unschedulable', message: '0/3 nodes…' }, fatal: false },
    ],
    [
      'pulling an image that is not there',
      pod(
        {
          phase: 'Pending',
          containerStatuses: [
            {
              name: 'model',
              image: 'x',
              imageID: '',
              ready: false,
              restartCount: 0,
              state: { waiting: { reason: 'ImagePullBackOff', message: 'Back-off' } },
            },
          ],
        },
        { nodeName: 'n1' },
      ),
      { node: 'n1', waiting: { reason: 'ImagePullBackOff', message: 'Back-off' }, fatal: false },
    ],
    [
      'an invalid image name (never fixes itself)',
      pod({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'model',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'InvalidImageName' } },
          },
        ],
      }),
      { fatal: true },
    ],
    [
      'still creating its container (not a reason to report)',
      pod({
        phase: 'Pending',
        containerStatuses: [
          {
            name: 'model',
            image: 'x',
            imageID: '',
            ready: false,
            restartCount: 0,
            state: { waiting: { reason: 'ContainerCreating' } },
          },
        ],
      }),
      { waiting: null },
    ],
    [
      'ready',
      pod({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] }, { nodeName: 'n1' }),
      { ready: true, node: 'n1' },
    ],
    ['failed', pod({ phase: 'Failed' }), { fatal: true }],
  ])('%s', (_name, input, expected) => {
    expect(podReadiness(input)).toMatchObject(expected);
  });
});

describe('podEndpoint', () => {
  it('uses the pod IP and container port in a real cluster', () => {
    expect(podEndpoint(pod({ podIP: '10.1.2.3' }), 'pod-ip')).toBe('http://10.1.2.3:8080');
    expect(podEndpoint(pod({ podIP: 'fd00::5' }), 'pod-ip')).toBe('http://[fd00::5]:8080');
    expect(podEndpoint(pod({}), 'pod-ip')).toBeNull();
  });

  it("uses the simulated runtime's annotation in the test cluster, ignoring kwok's fake IP", () => {
    const simulated = pod({ podIP: '10.0.0.7' }, {}, { 'sim.podium.dev/endpoint': 'http://127.0.0.1:4000' });
    expect(podEndpoint(simulated, 'simulated')).toBe('http://127.0.0.1:4000');
    expect(podEndpoint(pod({ podIP: '10.0.0.7' }), 'simulated')).toBeNull();
  });
});

describe('modelPod', () => {
  it('asks for a GPU in requests and limits, and tolerates the GPU taint', () => {
    const spec = modelPod({
      instanceId: 'i-1',
      model: { ...echoModel, resources: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' } },
      annotations: {},
      startupTimeoutMs: 1,
    }).spec!;
    expect(spec.containers[0]!.resources).toEqual({
      requests: { cpu: '2', memory: '8Gi', 'nvidia.com/gpu': '1' },
      limits: { memory: '8Gi', 'nvidia.com/gpu': '1' },
    });
    expect(spec.tolerations).toEqual([{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }]);
  });

  it('a CPU model has no GPU toleration', () => {
    expect(
      modelPod({ instanceId: 'i-1', model: echoModel, annotations: {}, startupTimeoutMs: 1 }).spec!.tolerations,
    ).toBeUndefined();
  });
});

describe('the simulated container runtime', () => {
  it("runs models/<name>/server.ts for the release's podium-model-<name> images (by tag or digest) and …/model-<name>, and nothing for others", () => {
    const exists = (file: string) => file.endsWith(path.join('models', 'echo', 'server.ts'));
    const echo = path.join('models', 'echo', 'server.ts');
    expect(modelServerForImage('podium-model-echo:0.2.0', exists)).toBe(echo);
    expect(modelServerForImage(`registry.example.com/podium-model-echo@sha256:${'ab'.repeat(32)}`, exists)).toBe(echo);
    expect(modelServerForImage('ghcr.io/podium/model-echo:0.1.0', exists)).toBe(echo);
    expect(modelServerForImage('podium:0.2.0', exists)).toBeNull();
    expect(modelServerForImage('ghcr.io/podium/model-nope:0.1.0', exists)).toBeNull();
    expect(modelServerForImage('nginx:1.27', exists)).toBeNull();
  });
});

describe('runtime selection', () => {
  it('INSTANCE_RUNTIME, KUBERNETES_NAMESPACE and KUBERNETES_ENDPOINT are validated', () => {
    expect(parseConfig({})).toMatchObject({ KUBERNETES_NAMESPACE: 'podium', KUBERNETES_ENDPOINT: 'pod-ip' });
    expect(parseConfig({}).INSTANCE_RUNTIME).toBeUndefined();
    expect(() => parseConfig({ INSTANCE_RUNTIME: 'docker', KUBERNETES_NAMESPACE: 'Not_Valid' })).toThrow(
      /INSTANCE_RUNTIME:[\s\S]*KUBERNETES_NAMESPACE: must be a Kubernetes namespace name/,
    );
  });

  it('Kubernetes is the default when a kubeconfig or in-cluster settings are found', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'kubeconfig-'));
    const kubeconfig = path.join(dir, 'config');
    writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
    expect(kubernetesConfigured({ KUBECONFIG: kubeconfig })).toBe(true);
    expect(kubernetesConfigured({ KUBECONFIG: path.join(dir, 'missing') })).toBe(false);
    expect(
      kubernetesConfigured({
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        KUBECONFIG: path.join(dir, 'missing'),
      }),
    ).toBe(true);
  });
});
