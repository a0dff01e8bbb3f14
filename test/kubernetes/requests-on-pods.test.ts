import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { insertModelInstance, setModelInstanceLocation } from '../../db/model-instances';
import { findModel } from '../../db/models';
import { inferenceResponse } from '../../domain/inference-protocol';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';

let token: string;
const stack = useTestStack({ kubernetes: true });
beforeAll(async () => {
  token = await stack.api.anonymousToken();
});

const core = () => stack.kubernetes!.core;
const namespace = () => stack.kubernetes!.namespace;
const podsOf = async (model: string) =>
  (await core().listNamespacedPod({ namespace: namespace(), labelSelector: `podium/model=${model}` })).items.filter(
    (pod) => !pod.metadata?.deletionTimestamp,
  );
const submit = async (model: string) => {
  const response = await stack.api.submit(token, { model, input: echoInput });
  expect(response.status).toBe(202);
  return response.body.id as string;
};
const instanceLog = (model: string) =>
  stack.db.any(sql.type(z.object({ event: z.string(), detail: z.record(z.string(), z.unknown()) }))`
    SELECT l.event, l.detail FROM model_instance_log l JOIN model_instances i ON i.id = l.instance_id
     WHERE i.model_id = ${model} ORDER BY l.id`);

describe('requests served by pods', () => {
  it('a request completes end to end on a pod, which carries the request id; idle, the pod is deleted', async () => {
    await addTestModel(stack.db, { id: 'echo-pod', keepWarmSeconds: 1 });
    const id = await submit('echo-pod');
    const { request } = await stack.api.waitUntilFinal(token, id);
    expect(request.status).toBe('COMPLETE');
    expect(inferenceResponse.parse(request.result).outputs[0]!.data).toEqual(echoInput.inputs[0]!.data);

    const instance = await stack.db.one(sql.type(z.object({ runtime: z.string(), runtimeRef: z.string() }))`
      SELECT runtime, runtime_ref AS "runtimeRef" FROM model_instances WHERE model_id = 'echo-pod'`);
    expect(instance.runtime).toBe('kubernetes');
    const [pod] = await podsOf('echo-pod');
    expect(pod?.metadata?.name).toBe(instance.runtimeRef);
    expect(pod?.metadata?.annotations?.['podium/request-id']).toBe(id);

    const log = await eventually(
      () => instanceLog('echo-pod'),
      (l) => l.some((e) => e.event === 'TERMINATED'),
      15_000,
    );
    expect(log.map((e) => e.event)).toEqual([
      'CREATED',
      'SCHEDULED',
      'READY',
      'ASSIGNED',
      'RELEASED',
      'STOPPING',
      'TERMINATED',
    ]);
    expect(log[1]!.detail).toEqual({ node: pod!.spec!.nodeName });
    await eventually(
      () => podsOf('echo-pod'),
      (pods) => pods.length === 0,
      10_000,
    );

    // The pod is gone; its Kubernetes events stay with the instance, in the order the kubelet said them.
    const admin = (await stack.signUpAdmin()).token;
    const instanceId = await stack.db.oneFirst(
      sql.type(z.object({ id: z.string() }))`SELECT id FROM model_instances WHERE model_id = 'echo-pod'`,
    );
    const { body } = await stack.api.call('GET', `/api/admin/instances/${instanceId}`, { token: admin });
    expect(body.runtimeEvents.map((e: { reason: string }) => e.reason)).toEqual([
      'Scheduled',
      'Pulling',
      'Pulled',
      'Created',
      'Started',
    ]);
    expect(body.runtimeEvents[0]).toMatchObject({ source: 'default-scheduler' });
    expect(body.runtimeEvents[1]).toMatchObject({
      type: 'Normal',
      source: 'kubelet',
      count: 1,
      message: expect.stringContaining('model-echo'),
    });
  });

  it('the admin instances API shows each pod with its node and raw Kubernetes events', async () => {
    await addTestModel(stack.db, { id: 'echo-listed', keepWarmSeconds: 600 });
    await stack.api.waitUntilFinal(token, await submit('echo-listed'));
    const admin = (await stack.signUpAdmin()).token;
    // What the worker last saw of its pods, written right after it changed one.
    const { body } = await eventually(
      () => stack.api.call('GET', '/api/admin/instances?model=echo-listed', { token: admin }),
      (r) => r.body.instances?.length === 1 && r.body.instances[0].runtime?.ready === true,
      10_000,
    );
    expect(body.instances).toHaveLength(1);
    const [instance] = body.instances;
    const [pod] = await podsOf('echo-listed');
    expect(instance).toMatchObject({
      model: 'echo-listed',
      status: 'RELEASED',
      runtime: { phase: 'Running', ready: true, node: pod!.spec!.nodeName },
    });
    expect(instance.runtime.node).toEqual(expect.any(String));
    expect(instance.runtime.events.map((e: { reason: string }) => e.reason)).toContain('Scheduled');
    expect(instance.runtime.events[0].involvedObject.name).toBe(instance.runtime.runtimeRef);
  });

  it('a model no node can hold: Unschedulable in the instance log, the request fails after the startup timeout', async () => {
    await addTestModel(stack.db, {
      id: 'echo-huge',
      resources: { cpu: '64', memory: '1Gi' },
      startupTimeoutSeconds: 2,
    });
    const id = await submit('echo-huge');
    const { request } = await stack.api.waitUntilFinal(token, id);
    expect(request.status).toBe('FAILED');
    // The pod's messages are for admins (the instance log), not for the requester.
    expect(request.error).toMatchObject({
      code: 'INSTANCE_STARTUP_TIMEOUT',
      message: expect.stringContaining('did not become ready within 2 s'),
    });
    expect(request.error?.message).not.toContain('Insufficient cpu');
    const log = await eventually(
      () => instanceLog('echo-huge'),
      (l) => l.some((e) => e.event === 'TERMINATED'),
      10_000,
    );
    expect(log.map((e) => e.event)).toEqual(['CREATED', 'PENDING', 'FAILED', 'STOPPING', 'TERMINATED']);
    expect(log[1]!.detail).toMatchObject({
      reason: 'Unschedulable',
      message: expect.stringContaining('Insufficient cpu'),
    });
    expect(log[2]!.detail.message).toMatch(/not ready within 2000 ms; last state Unschedulable/);
    await eventually(
      () => podsOf('echo-huge'),
      (pods) => pods.length === 0,
      10_000,
    );
  });

  it('orphan reconciliation: pods left by a killed pool, recorded or not, are deleted when the pool starts afresh', async () => {
    await addTestModel(stack.db, { id: 'echo-orphans' });
    const model = (await findModel(stack.db, 'echo-orphans'))!;
    const leftOver = async (recorded: boolean) => {
      const instanceId = randomUUID();
      const annotations = { 'podium/instance-id': instanceId, 'podium/pool': model.id };
      if (recorded)
        await insertModelInstance(stack.db, { id: instanceId, modelId: model.id, runtime: 'kubernetes', annotations });
      const placed = await stack.runtime.start({ instanceId, model, annotations, startupTimeoutMs: 10_000 });
      if (recorded) await setModelInstanceLocation(stack.db, { id: instanceId, ...placed });
      return placed.runtimeRef;
    };
    const orphans = [await leftOver(true), await leftOver(false)];
    expect((await podsOf('echo-orphans')).map((p) => p.metadata!.name).sort()).toEqual([...orphans].sort());

    const id = await submit('echo-orphans');
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    const live = await podsOf('echo-orphans');
    expect(live).toHaveLength(1);
    expect(orphans).not.toContain(live[0]!.metadata!.name);
    const recordedOrphan = await stack.db.oneFirst(sql.type(z.object({ status: z.string() }))`
      SELECT status FROM model_instances WHERE runtime_ref = ${orphans[0]!}`);
    expect(recordedOrphan).toBe('TERMINATED');
  });
});
