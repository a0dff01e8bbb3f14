import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { kwokNode, nodeTypes } from '../../infra/test-cluster/nodes';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
let token: string;
let admin: string;
const baseNode = `kwok-base-large-${randomUUID().slice(0, 6)}`;
beforeAll(async () => {
  stack = await startTestStack({
    kubernetes: true,
    autoscaler: {
      batchWindowMs: 100,
      minNodeLifetimeMs: 2_000,
      scaleDownDelayMs: 1_000,
      provisioningTimeoutMs: 30_000,
      consolidation: { enabled: true, utilisationThreshold: 0.5, maxNodesAtOnce: 1, cooldownMs: 30_000 },
    },
  });
  token = await stack.api.anonymousToken();
  admin = (await stack.signUpAdmin()).token;
});
afterAll(async () => {
  await stack?.kubernetes?.core.deleteNode({ name: baseNode }).catch(() => undefined);
  await stack?.stop();
});

const core = () => stack.kubernetes!.core;
const ourNodes = async () =>
  (await core().listNode()).items.filter((n) => n.metadata?.annotations?.['podium.dev/autoscaler'] === stack.kubernetes!.namespace);
const decisions = async () =>
  (await stack.api.call('GET', '/api/admin/instances/autoscaler/decisions?limit=200', { token: admin })).body.decisions as Array<{ actions: Array<{ type: string; node?: string }>; results: string[] }>;

describe('consolidation on the simulated cluster', () => {
  it('an expensive added node kept by one small model is emptied onto a cheaper node and removed; no request fails', async () => {
    // The case an operator met: a node added for a big model (here cpu-xlarge, 1.36/h) keeps a
    // smaller model's pod after the big one has gone quiet.
    await addTestModel(stack.db, { id: 'echo-huge', resources: { cpu: '20', memory: '8Gi' }, keepWarmSeconds: 1 });
    await addTestModel(stack.db, { id: 'echo-mid', resources: { cpu: '6', memory: '2Gi' }, keepWarmSeconds: 600 });
    const first = await Promise.all(['echo-huge', 'echo-mid'].map(async (model) => (await stack.api.submit(token, { model, input: echoInput })).body.id as string));
    for (const id of first) expect((await stack.api.waitUntilFinal(token, id, 30_000)).request.status).toBe('COMPLETE');
    const [added] = await ourNodes();
    expect(added?.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('cpu-xlarge');
    const midPods = () => core().listNamespacedPod({ namespace: stack.kubernetes!.namespace, labelSelector: 'podium/model=echo-mid' });
    expect((await midPods()).items.map((pod) => pod.spec?.nodeName)).toEqual([added!.metadata!.name]);

    // A cheaper node with room joins (cpu-large, 0.68/h), and echo-mid keeps getting requests.
    await core().createNode({ body: kwokNode(baseNode, nodeTypes['cpu-large']) });
    const sent: string[] = [];
    let removed = false;
    const traffic = (async () => {
      while (!removed) {
        sent.push((await stack.api.submit(token, { model: 'echo-mid', input: echoInput })).body.id as string);
        await sleep(100);
      }
    })();
    await eventually(ourNodes, (nodes) => nodes.length === 0, 60_000);
    removed = true;
    await traffic;

    const acted = (await decisions()).flatMap((d) => d.actions);
    expect(acted).toContainEqual({ type: 'CONSOLIDATE', node: added!.metadata!.name, pods: [expect.stringMatching(/^echo-mid-/)] });
    expect(acted).toContainEqual({ type: 'REMOVE_NODE', node: added!.metadata!.name, why: 'EMPTY' });
    // echo-mid now runs on the cheaper node, and every request sent meanwhile completed.
    expect((await midPods()).items.filter((pod) => !pod.metadata?.deletionTimestamp).map((pod) => pod.spec?.nodeName)).toEqual([baseNode]);
    expect(sent.length).toBeGreaterThan(5);
    const statuses = await Promise.all(sent.map(async (id) => (await stack.api.waitUntilFinal(token, id, 30_000)).request.status));
    expect(statuses.filter((status) => status !== 'COMPLETE')).toEqual([]);
  });
});
