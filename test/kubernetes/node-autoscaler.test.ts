import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { createNodeAutoscalerActivities } from '../../activities/node-autoscaler';
import { ensureNodeAutoscaler } from '../../infra/node-autoscaler';
import { kwokNode, nodeTypes } from '../../infra/test-cluster/nodes';
import { nodeAutoscalerWorkflowId } from '../../workflows/contracts';
import { eventually } from '../support/eventually';
import { documentedOperatorCommands, runOperatorCommand } from '../support/operator-commands';
import { readTestEnv } from '../support/services';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';

let token: string;
let admin: string;
const stack = useTestStack({
  kubernetes: true,
  autoscaler: {
    batchWindowMs: 100,
    minNodeLifetimeMs: 2_000,
    scaleDownDelayMs: 1_000,
    provisioningTimeoutMs: 30_000,
  },
});
beforeAll(async () => {
  token = await stack.api.anonymousToken();
  admin = (await stack.signUpAdmin()).token;
});

const core = () => stack.kubernetes!.core;
const ourNodes = async () =>
  (await core().listNode()).items.filter(
    (n) => n.metadata?.annotations?.['podium.dev/autoscaler'] === stack.kubernetes!.namespace,
  );
const decisions = async () =>
  (await stack.api.call('GET', '/api/admin/instances/autoscaler/decisions?limit=200', { token: admin })).body
    .decisions as Array<{
    actions: Array<{ type: string; nodeType?: string }>;
    reasons: string[];
    results: string[];
  }>;

describe('node autoscaler on the simulated cluster', () => {
  it('a model whose pods fit no node: a node is added, the request completes; idle, the node is cordoned and removed', async () => {
    // 20 CPUs: only a cpu-xlarge node (32) holds it, and the cluster starts with none.
    await addTestModel(stack.db, { id: 'echo-xl', resources: { cpu: '20', memory: '8Gi' }, keepWarmSeconds: 1 });
    expect(await ourNodes()).toEqual([]);
    const submitted = await stack.api.submit(token, { model: 'echo-xl', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, submitted.body.id, 30_000);
    expect(request.status).toBe('COMPLETE');

    const added = await ourNodes();
    expect(added.map((n) => n.metadata?.labels?.['node.kubernetes.io/instance-type'])).toEqual(['cpu-xlarge']);
    const log = await stack.db.any(sql.type(z.object({ event: z.string(), detail: z.record(z.string(), z.unknown()) }))`
      SELECT l.event, l.detail FROM model_instance_log l JOIN model_instances i ON i.id = l.instance_id
       WHERE i.model_id = 'echo-xl' ORDER BY l.id`);
    expect(log.map((e) => e.event).slice(0, 4)).toEqual(['CREATED', 'PENDING', 'SCHEDULED', 'READY']);
    expect(log[1]!.detail).toMatchObject({ reason: 'Unschedulable' });
    expect(log[2]!.detail).toEqual({ node: added[0]!.metadata!.name });
    expect((await decisions()).flatMap((d) => d.actions)).toContainEqual(
      expect.objectContaining({ type: 'ADD_NODES', nodeType: 'cpu-xlarge', count: 1 }),
    );

    // Load stops: the pod goes after keep-warm, then the node is cordoned, then removed.
    await eventually(ourNodes, (nodes) => nodes.length === 0, 30_000);
    // The decision is recorded right after it is carried out.
    const types = await eventually(
      async () => (await decisions()).flatMap((d) => d.actions.map((a) => a.type)),
      (seen) => seen.includes('REMOVE_NODE'),
      5_000,
    );
    expect(types).toEqual(expect.arrayContaining(['CORDON', 'REMOVE_NODE']));
  });

  it('the same decision carried out twice (a worker killed mid-call, the activity retried) adds its nodes once', async () => {
    const activities = createNodeAutoscalerActivities({
      db: stack.db,
      autoscaler: stack.autoscaler,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
    });
    const decision = {
      decisionId: 'retried-1',
      actions: [{ type: 'ADD_NODES' as const, nodeType: 'cpu-small', count: 2, forPods: [] }],
    };
    await activities.actOnCluster(decision);
    await activities.actOnCluster(decision);
    expect((await ourNodes()).map((n) => n.metadata!.name).sort()).toEqual([
      'podium-cpu-small-retried-1-0',
      'podium-cpu-small-retried-1-1',
    ]);
    // And the autoscaler sees them as its own, empty: it removes them once they are old enough.
    await activities.signalPodsUnschedulable();
    await eventually(ourNodes, (nodes) => nodes.length === 0, 30_000);
  });

  it('paused by an operator (the documented commands, the real Temporal CLI), adds no node; resumed, it does; both audited', async () => {
    const commands = await documentedOperatorCommands();
    const run = (name: string) =>
      runOperatorCommand(commands.get(name)!, {
        TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
        TASK_QUEUE: stack.taskQueue,
      });
    // Running, as it is whenever pods are pending (signalWithStart).
    await createNodeAutoscalerActivities({
      db: stack.db,
      autoscaler: stack.autoscaler,
      temporal: stack.temporal,
      taskQueue: stack.taskQueue,
    }).signalPodsUnschedulable();
    await run('operatorPauseAutoscaler');
    await addTestModel(stack.db, { id: 'echo-xl-paused', resources: { cpu: '20', memory: '8Gi' }, keepWarmSeconds: 1 });
    const submitted = await stack.api.submit(token, { model: 'echo-xl-paused', input: echoInput });
    await sleep(3_000);
    expect(await ourNodes()).toEqual([]);
    expect((await stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token })).body.status).toBe(
      'REQUESTED',
    );

    await run('operatorResumeAutoscaler');
    expect((await stack.api.waitUntilFinal(token, submitted.body.id, 30_000)).request.status).toBe('COMPLETE');
    const audits = await stack.db.any(sql.type(
      z.object({ action: z.string(), detail: z.record(z.string(), z.unknown()) }),
    )`
      SELECT action, detail FROM audit_log WHERE target_type = 'node_autoscaler' ORDER BY id`);
    expect(audits).toEqual([
      { action: 'AUTOSCALER_PAUSE', detail: { reason: 'cluster upgrade', actor: 'ops:alice', via: 'temporal signal' } },
      { action: 'AUTOSCALER_RESUME', detail: { reason: 'upgrade done', actor: 'ops:alice', via: 'temporal signal' } },
    ]);
    await eventually(ourNodes, (nodes) => nodes.length === 0, 30_000);
  }, 90_000);

  // In this file, not its own: a node another test's autoscaler added (an idle cpu-xlarge) would
  // take this test's big pod, and the files of a project run side by side.
  describe('consolidation', () => {
    const baseNode = `kwok-base-large-${randomUUID().slice(0, 6)}`;
    beforeAll(async () => {
      // The same autoscaler, now consolidating (the worker's settings leave it off, the default).
      await stack.temporal.workflow
        .getHandle(nodeAutoscalerWorkflowId(stack.taskQueue))
        .terminate('consolidation on')
        .catch(() => undefined);
      await ensureNodeAutoscaler(stack.temporal, stack.taskQueue, {
        ...stack.autoscaler!.settings,
        consolidation: { enabled: true, utilisationThreshold: 0.5, maxNodesAtOnce: 1, cooldownMs: 30_000 },
      });
    });
    afterAll(() =>
      core()
        .deleteNode({ name: baseNode })
        .catch(() => undefined),
    );

    it('an expensive added node kept by one small model is emptied onto a cheaper node and removed; no request fails', async () => {
      // The case an operator met: a node added for a big model (here cpu-xlarge, 1.36/h) keeps a
      // smaller model's pod after the big one has gone quiet.
      await addTestModel(stack.db, { id: 'echo-huge', resources: { cpu: '20', memory: '8Gi' }, keepWarmSeconds: 1 });
      await addTestModel(stack.db, { id: 'echo-mid', resources: { cpu: '6', memory: '2Gi' }, keepWarmSeconds: 600 });
      const first = await Promise.all(
        ['echo-huge', 'echo-mid'].map((model) => stack.api.submitAccepted(token, { model, input: echoInput })),
      );
      for (const id of first)
        expect((await stack.api.waitUntilFinal(token, id, 30_000)).request.status).toBe('COMPLETE');
      const [added] = await ourNodes();
      expect(added?.metadata?.labels?.['node.kubernetes.io/instance-type']).toBe('cpu-xlarge');
      const midPods = () =>
        core().listNamespacedPod({ namespace: stack.kubernetes!.namespace, labelSelector: 'podium/model=echo-mid' });
      expect((await midPods()).items.map((pod) => pod.spec?.nodeName)).toEqual([added!.metadata!.name]);

      // A cheaper node with room joins (cpu-large, 0.68/h), and echo-mid keeps getting requests.
      await core().createNode({ body: kwokNode(baseNode, nodeTypes['cpu-large']) });
      const sent: string[] = [];
      let removed = false;
      const traffic = (async () => {
        while (!removed) {
          sent.push(await stack.api.submitAccepted(token, { model: 'echo-mid', input: echoInput }));
          await sleep(100);
        }
      })();
      await eventually(ourNodes, (nodes) => nodes.length === 0, 60_000);
      removed = true;
      await traffic;

      // The decision is recorded once its actions are done: a moment after the node is gone.
      const removal = { type: 'REMOVE_NODE', node: added!.metadata!.name, why: 'EMPTY' };
      const acted = await eventually(
        async () => (await decisions()).flatMap((d) => d.actions),
        (actions) => actions.some((action) => JSON.stringify(action) === JSON.stringify(removal)),
      );
      expect(acted).toContainEqual({
        type: 'CONSOLIDATE',
        node: added!.metadata!.name,
        pods: [expect.stringMatching(/^echo-mid-/)],
      });
      expect(acted).toContainEqual(removal);
      // echo-mid now runs on the cheaper node, and every request sent meanwhile completed.
      expect(
        (await midPods()).items.filter((pod) => !pod.metadata?.deletionTimestamp).map((pod) => pod.spec?.nodeName),
      ).toEqual([baseNode]);
      expect(sent.length).toBeGreaterThan(5);
      const statuses = await Promise.all(
        sent.map(async (id) => (await stack.api.waitUntilFinal(token, id, 30_000)).request.status),
      );
      expect(statuses.filter((status) => status !== 'COMPLETE')).toEqual([]);
    });
  });
});
