import { randomUUID } from 'node:crypto';
import type { CoreV1Api } from '@kubernetes/client-node';
import { extraCapacityLabel } from '../../activities/nodes/node-provider';
import type { KubernetesRuntime } from '../../activities/runtime/kubernetes/kubernetes-runtime';
import { managedByLabel, modelLabel } from '../../activities/runtime/kubernetes/pod-manifest';
import { kwokNode, nodeTypes } from '../../infra/test-cluster/nodes';
import { noContainerAnnotation } from '../../infra/test-cluster/simulation';
import { eventually } from '../support/eventually';
import { kubernetesTestRuntime } from '../support/kubernetes';
import { echoModel as echo } from '../support/models';

let runtime: KubernetesRuntime;
let core: CoreV1Api;
let namespace: string;
let cleanUp: () => Promise<void>;
const suffix = randomUUID().slice(0, 6);
const extraNode = `kwok-extra-${suffix}`;
const baseNode = `kwok-base-${suffix}`;

beforeAll(async () => {
  ({ runtime, core, namespace, cleanUp } = await kubernetesTestRuntime(`placement-${suffix}`));
});
afterAll(async () => {
  await cleanUp();
  for (const name of [extraNode, baseNode]) await core.deleteNode({ name }).catch(() => undefined);
});

const nodeOf = async (pod: string) => (await core.readNamespacedPod({ name: pod, namespace })).spec?.nodeName;

describe('where model pods land', () => {
  // The case an operator met (issue 19): a cpu-large node added for a 12-CPU model kept a small
  // model's pod, because the scheduler packs Podium's pods together, while a base node sat idle.
  it('a small model goes to an idle base node, not to the node the autoscaler added for a big one', async () => {
    await core.createNode({
      body: kwokNode(extraNode, nodeTypes['cpu-large'], {}, { [extraCapacityLabel.key]: extraCapacityLabel.value }),
    });
    await core.createNode({ body: kwokNode(baseNode, nodeTypes['cpu-small']) });
    await eventually(
      () => core.listNode(),
      (nodes) =>
        [extraNode, baseNode].every((name) =>
          nodes.items
            .find((n) => n.metadata?.name === name)
            ?.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True'),
        ),
      15_000,
    );
    // The big model's pod, on the added node (scheduled there, never run).
    await core.createNamespacedPod({
      namespace,
      body: {
        metadata: {
          name: `big-${suffix}`,
          labels: { [managedByLabel]: 'podium', [modelLabel]: 'big' },
          annotations: { [noContainerAnnotation]: 'true' },
        },
        spec: {
          nodeName: extraNode,
          containers: [{ name: 'model', image: 'big:1', resources: { requests: { cpu: '12', memory: '8Gi' } } }],
        },
      },
    });

    const placed = await runtime.start({
      instanceId: randomUUID(),
      model: echo,
      annotations: {},
      startupTimeoutMs: 30_000,
    });
    const node = await eventually(
      () => nodeOf(placed.runtimeRef),
      (name) => name !== undefined,
      15_000,
    );
    const chosen = await core.readNode({ name: node! });
    expect(node).not.toBe(extraNode);
    expect(chosen.metadata?.labels?.[extraCapacityLabel.key]).toBeUndefined();
    await runtime.awaitReady(placed, {
      timeoutMs: 30_000,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
    await runtime.stop(placed.runtimeRef);
  });
});
