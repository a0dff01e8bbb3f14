import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensureCleanupSchedule } from '../../infra/cleanup-schedule';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';
import { cleanupScheduleId, workflowNames, type PodiumWorkflows } from '../../workflows/contracts';

const stack = useTestStack();

const retentionAudits = (workflowId: string) =>
  stack.db.anyFirst(sql.type(z.object({ detail: z.record(z.string(), z.unknown()) }))`
    SELECT detail FROM audit_log WHERE action = 'RETENTION_RUN' AND target_id = ${workflowId} ORDER BY id`);

describe('retention', () => {
  it('deletes ended requests older than the retention, in batches, and keeps their stats', async () => {
    const token = await stack.api.anonymousToken();
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
      await stack.api.waitUntilFinal(token, body.id);
      ids.push(body.id);
    }
    const [old1, old2, recent] = ids as [string, string, string];
    await stack.db.query(sql.unsafe`
      UPDATE work_requests SET created_at = now() - interval '8 days' WHERE id IN (${old1}, ${old2})`);
    // An old request that has not ended is left alone.
    await stack.db.query(sql.unsafe`
      INSERT INTO work_requests (id, model_id, session_id, input, workflow_id, created_at)
      SELECT gen_random_uuid(), 'echo', session_id, input, 'request-stuck-' || gen_random_uuid(), now() - interval '30 days'
        FROM work_requests WHERE id = ${recent}`);

    const result = await stack.temporal.workflow.execute<PodiumWorkflows['cleanupOldRequests']>(
      workflowNames.cleanupOldRequests,
      {
        taskQueue: stack.taskQueue,
        workflowId: `cleanup-test-${Date.now()}`,
        args: [{ retentionDays: 7, actor: 'ops:test', reason: 'retention test' }],
      },
    );
    expect(result).toEqual({ deleted: 2 });
    const left = await stack.db.anyFirst(
      sql.unsafe`SELECT id FROM work_requests WHERE id = ANY(${sql.array(ids, 'uuid')})`,
    );
    expect(left).toEqual([recent]);
    expect(
      await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM work_requests WHERE status = 'REQUESTED'`),
    ).toBe(1);
    expect(
      await stack.db.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM request_stats WHERE request_id = ANY(${sql.array(ids, 'uuid')})`,
      ),
    ).toBe(3);
    // Temporal deletes histories in the background: the dev server takes ~30 s, and longer on a
    // busy machine (a CI run from a fresh clone once needed more than 40 s).
    const gone = () =>
      stack.temporal.workflow
        .getHandle(`request-${old1}`)
        .describe()
        .then(
          () => false,
          () => true,
        );
    expect(await eventually(gone, (isGone) => isGone, 100_000)).toBe(true);
  }, 150_000);

  it('runs daily from a Temporal Schedule created idempotently at start-up', async () => {
    expect(await ensureCleanupSchedule(stack.temporal, { taskQueue: stack.taskQueue, retentionDays: 7 })).toBe(
      'created',
    );
    expect(await ensureCleanupSchedule(stack.temporal, { taskQueue: stack.taskQueue, retentionDays: 3 })).toBe(
      'updated',
    );
    const schedule = await stack.temporal.schedule.getHandle(cleanupScheduleId(stack.taskQueue)).describe();
    const actor = `schedule:${cleanupScheduleId(stack.taskQueue)}`;
    expect(schedule.action).toMatchObject({
      type: 'startWorkflow',
      workflowType: 'cleanupOldRequests',
      args: [{ retentionDays: 3, actor, reason: 'daily retention' }],
    });
    expect(schedule.spec.calendars).toEqual([expect.objectContaining({ hour: [{ start: 3, end: 3, step: 1 }] })]);
    // Run now, as the Schedule runs it: accepted, and audited under the Schedule's name.
    await stack.temporal.schedule.getHandle(cleanupScheduleId(stack.taskQueue)).trigger();
    const run = await eventually(
      async () =>
        (await stack.temporal.schedule.getHandle(cleanupScheduleId(stack.taskQueue)).describe()).info.recentActions[0]
          ?.action.workflow.workflowId,
      (workflowId) => workflowId !== undefined,
    );
    expect(await stack.temporal.workflow.getHandle(run!).result()).toEqual({ deleted: expect.any(Number) });
    expect(await retentionAudits(run!)).toEqual([
      { actor, reason: 'daily retention', retentionDays: 3, via: 'temporal signal' },
    ]);
    await stack.temporal.schedule.getHandle(cleanupScheduleId(stack.taskQueue)).delete();
  });

  it.each([
    ['no one named', { retentionDays: 7 }, '"actor": who sends it, 1-100 characters; "reason": why, 1-500 characters'],
    [
      'a retention of 0 days',
      { retentionDays: 0, actor: 'pod:model', reason: 'clean everything' },
      '"retentionDays" is missing or not valid',
    ],
    [
      'an extra field',
      { retentionDays: 7, actor: 'ops:test', reason: 'x', batchSize: 1e9 },
      '"batchSize" is not a field of this signal',
    ],
  ])('refuses a run with %s, and deletes nothing', async (_name, input, problem) => {
    const workflowId = `cleanup-refused-${randomUUID()}`;
    const run = stack.temporal.workflow.execute(workflowNames.cleanupOldRequests, {
      taskQueue: stack.taskQueue,
      workflowId,
      args: [input],
    });
    await expect(run).rejects.toMatchObject({
      cause: { type: 'INVALID_OPERATOR_INPUT', message: `refused: ${problem}` },
    });
    expect(await retentionAudits(workflowId)).toEqual([]);
  });
});
