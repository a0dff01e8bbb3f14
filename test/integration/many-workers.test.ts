import { sql } from 'slonik';
import { z } from 'zod';
import { lineOvertakes } from '../support/line-order';
import { describeSlots } from '../../db/instance-slots';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { workerProcesses } from '../support/worker-process';
import { poolWorkflowId } from '../../workflows/contracts';

// Two worker processes and two API processes on one model: what a scaled-out deployment does.

let stack: TestStack;
const workers = workerProcesses(() => stack);
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
  await Promise.all([workers.start(), workers.start()]);
});
afterAll(async () => {
  workers.killAll();
  await stack?.stop();
});

it('500 requests through two APIs and two workers: each completes once, in line order, no slot left held', async () => {
  await addTestModel(stack.db, { id: 'echo-shared', maxInstances: 2, maxConcurrency: 2, keepWarmSeconds: 60 });
  const second = await stack.startApiInstance();
  const apis = [stack.api, second.api];
  const tokens = await Promise.all(apis.map((api) => api.anonymousToken()));
  const submitted = await fromConcurrentClients(500, 16, async (n) => {
    const api = n % 2;
    const id = await apis[api]!.submitAccepted(tokens[api]!, {
      model: 'echo-shared',
      input: { ...echoInput, parameters: { delay_ms: n % 20 } },
    });
    return { id, api };
  });
  // Waited for as 16 clients would: each long-polls one request's end at a time.
  const ended = await fromConcurrentClients(submitted.length, 16, (n) =>
    apis[submitted[n]!.api]!.waitForEnd(tokens[submitted[n]!.api]!, submitted[n]!.id, 120_000),
  );
  expect(ended.filter((request) => request.status !== 'COMPLETE')).toEqual([]);

  // Exactly once: one attempt, one stats row each.
  const ids = sql.array(
    submitted.map((s) => s.id),
    'uuid',
  );
  const rows = await stack.db.one(sql.type(z.object({ attempts: z.number(), stats: z.number() }))`
    SELECT (SELECT count(*)::int FROM work_requests WHERE id = ANY(${ids}) AND attempt = 1) AS attempts,
           (SELECT count(*)::int FROM request_stats WHERE request_id = ANY(${ids})) AS stats`);
  expect(rows).toEqual({ attempts: 500, stats: 500 });

  // The line's order among waiters, exactly (priority, then fair-share tag, then submission;
  // two owners here, one per API): of two requests that waited at the same time, the one first
  // in that order got its slot first.
  const waited = await stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM instance_leases WHERE model_id = 'echo-shared' AND queued_at IS NOT NULL`);
  expect(waited).toBeGreaterThan(50);
  expect(await lineOvertakes(stack.db, 'echo-shared')).toEqual([]);

  // Nothing held: no slot leased, no one waiting; and the pool heard almost nothing of it.
  const slots = await describeSlots(stack.db, 'echo-shared');
  expect(slots.leases).toEqual([]);
  expect(slots.waiting).toEqual([]);
  const poolHistory = await stack.temporal.workflow
    .getHandle(poolWorkflowId(stack.taskQueue, 'echo-shared'))
    .fetchHistory();
  const signals = poolHistory.events?.filter((event) => event.workflowExecutionSignaledEventAttributes).length ?? 0;
  expect(signals).toBeLessThan(25);
}, 180_000); // ~30 s alone, longer beside the rest of the suite
