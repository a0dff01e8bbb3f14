import { sql } from 'slonik';
import { z } from 'zod';
import { poolWorkflowId } from '../../workflows/contracts';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { documentedOperatorCommands, runOperatorCommand } from '../support/operator-commands';
import { readTestEnv } from '../support/services';
import { echoInput, useTestStack } from '../support/test-stack';

// Every request, pool and retention command of docs/operations.md, run as written with the real
// Temporal CLI; the node autoscaler's are run in test/kubernetes/operator-autoscaler.test.ts.
let token: string;
let commands: Map<string, string>;
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
  commands = await documentedOperatorCommands();
});

const run = (name: string, variables: Record<string, string>) =>
  runOperatorCommand(commands.get(name)!, {
    TEMPORAL_ADDRESS: readTestEnv('temporalAddress'),
    TASK_QUEUE: stack.taskQueue,
    ...variables,
  });
// Long enough to still be running when the third has started, however slow the machine.
const slowEcho = { ...echoInput, parameters: { delay_ms: 10_000 } };
const statusOf = async (id: string) => (await stack.api.call('GET', `/api/requests/${id}`, { token })).body;
const processing = async (model: string) => {
  const id = (await stack.api.submit(token, { model, input: slowEcho })).body.id as string;
  await eventually(
    async () => (await statusOf(id)).status,
    (status) => status === 'PROCESSING',
    10_000,
  );
  return id;
};
const auditsOf = (targetId: string) =>
  stack.db.any(sql.type(
    z.object({ action: z.string(), actorUserId: z.string().nullable(), detail: z.record(z.string(), z.unknown()) }),
  )`
    SELECT action, actor_user_id AS "actorUserId", detail FROM audit_log WHERE target_id = ${targetId} ORDER BY id`);

describe('operator signals from the Temporal CLI, as docs/operations.md writes them', () => {
  it('documents a command for every operator action', () => {
    expect([...commands.keys()].sort()).toEqual(
      [
        'cleanupOldRequests',
        'operatorCancel',
        'operatorFail',
        'operatorPauseAutoscaler',
        'operatorRequeue',
        'operatorResumeAutoscaler',
        'operatorSetMinInstances',
        'operatorStopInstance',
      ].sort(),
    );
  });

  it('cancel, fail and re-queue a request on its way, each audited as the API audits it', async () => {
    await addTestModel(stack.db, { id: 'ops-echo', maxInstances: 3, maxConcurrency: 1 });
    const [cancelled, failed, requeued] = [
      await processing('ops-echo'),
      await processing('ops-echo'),
      await processing('ops-echo'),
    ];
    await run('operatorCancel', { REQUEST_ID: cancelled });
    await run('operatorFail', { REQUEST_ID: failed });
    await run('operatorRequeue', { REQUEST_ID: requeued });

    expect((await stack.api.waitUntilFinal(token, cancelled)).request.status).toBe('CANCELLED');
    expect((await stack.api.waitUntilFinal(token, failed)).request).toMatchObject({
      status: 'FAILED',
      error: { code: 'FAILED_BY_ADMIN', message: 'stuck on a bad input' },
    });
    // Re-queued: a second attempt, which completes.
    expect((await stack.api.waitUntilFinal(token, requeued, 30_000)).request).toMatchObject({
      status: 'COMPLETE',
      attempt: 2,
    });

    for (const [id, to, reason] of [
      [cancelled, 'CANCELLED', 'the owner asked by mail'],
      [failed, 'FAILED', 'stuck on a bad input'],
      [requeued, 'REQUESTED', 'its node died'],
    ]) {
      expect(
        await eventually(
          () => auditsOf(id!),
          (rows) => rows.length === 1,
        ),
      ).toEqual([
        {
          action: 'REQUEST_STATUS_SET',
          actorUserId: null,
          detail: { from: 'PROCESSING', to, reason, actor: 'ops:alice', via: 'temporal signal' },
        },
      ]);
    }
  }, 60_000);

  it('a malformed payload is refused and changes nothing', async () => {
    const id = await processing('ops-echo');
    const malformed = commands.get('operatorFail')!.replace('"actor":"ops:alice",', '').replace('}', ',"extra":1}');
    await runOperatorCommand(malformed, { TEMPORAL_ADDRESS: readTestEnv('temporalAddress'), REQUEST_ID: id });
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    expect(await auditsOf(id)).toEqual([]);
  });

  it('stop an instance and keep a minimum warm for a while, through the pool', async () => {
    await addTestModel(stack.db, { id: 'ops-pool', maxInstances: 2, keepWarmSeconds: 600 });
    const { body } = await stack.api.submit(token, { model: 'ops-pool', input: echoInput });
    await stack.api.waitUntilFinal(token, body.id);
    const live = () =>
      stack.db.anyFirst(sql.type(z.object({ id: z.string() }))`
        SELECT id FROM model_instances WHERE model_id = 'ops-pool' AND status <> 'TERMINATED' ORDER BY created_at`);
    const [instanceId] = await live();

    await run('operatorStopInstance', { MODEL: 'ops-pool', INSTANCE_ID: instanceId! });
    await eventually(live, (ids) => ids.length === 0, 10_000);
    expect(
      await eventually(
        () => auditsOf(instanceId!),
        (rows) => rows.length === 1,
      ),
    ).toEqual([
      expect.objectContaining({
        action: 'INSTANCE_STOP',
        detail: { model: 'ops-pool', reason: 'leaking memory', actor: 'ops:alice', via: 'temporal signal' },
      }),
    ]);

    await run('operatorSetMinInstances', { MODEL: 'ops-pool' });
    expect(await eventually(live, (ids) => ids.length === 2, 15_000)).toHaveLength(2);
    const [audit] = await eventually(
      () => auditsOf('ops-pool'),
      (rows) => rows.length === 1,
    );
    expect(audit).toMatchObject({
      action: 'POOL_MIN_INSTANCES_SET',
      detail: { minInstances: 2, forSeconds: 3600, actor: 'ops:alice' },
    });
    await stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, 'ops-pool')).terminate('test over');
  }, 60_000);

  it('run the retention job now, audited', async () => {
    await run('cleanupOldRequests', {});
    const rows = await eventually(
      () =>
        stack.db.any(sql.type(z.object({ targetId: z.string(), detail: z.record(z.string(), z.unknown()) }))`
        SELECT target_id AS "targetId", detail FROM audit_log WHERE action = 'RETENTION_RUN'`),
      (found) => found.length === 1,
    );
    expect(rows[0]).toMatchObject({
      targetId: expect.stringMatching(/^cleanup-now-\d+$/),
      detail: { retentionDays: 7, reason: 'disk nearly full', actor: 'ops:alice' },
    });
  });
});
