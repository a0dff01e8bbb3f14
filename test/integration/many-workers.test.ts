import { sql } from 'slonik';
import { z } from 'zod';
import { poolWorkflowId } from '../../domain/pool-plan';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { workerProcesses } from '../support/worker-process';

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

it('500 requests through two APIs and two workers: each completes once, and no instance is left held', async () => {
  await addTestModel(stack.pool, { id: 'echo-shared', maxInstances: 2, maxConcurrency: 2, keepWarmSeconds: 60 });
  const second = await stack.startApiInstance();
  const apis = [stack.api, second.api];
  const tokens = await Promise.all(apis.map((api) => api.anonymousToken()));
  const submitted = await fromConcurrentClients(500, 16, async (n) => {
    const api = n % 2;
    const { body } = await apis[api]!.submit(tokens[api]!, { model: 'echo-shared', input: { ...echoInput, parameters: { delay_ms: n % 20 } } });
    return { id: body.id as string, api };
  });
  // One pool workflow takes every request's two signals: beside the rest of the suite on two
  // cores the last of 500 waits minutes (the bottleneck issue 13 removes).
  const ended = await Promise.all(submitted.map(async ({ id, api }) => (await apis[api]!.waitUntilFinal(tokens[api]!, id, 240_000)).request));
  expect(ended.filter((request) => request.status !== 'COMPLETE')).toEqual([]);

  // Exactly once: one attempt, one stats row each.
  const ids = sql.array(submitted.map((s) => s.id), 'uuid');
  const rows = await stack.pool.one(sql.type(z.object({ attempts: z.number(), stats: z.number() }))`
    SELECT (SELECT count(*)::int FROM work_requests WHERE id = ANY(${ids}) AND attempt = 1) AS attempts,
           (SELECT count(*)::int FROM request_stats WHERE request_id = ANY(${ids})) AS stats`);
  expect(rows).toEqual({ attempts: 500, stats: 500 });

  // First come, first served is pinned where it can be observed exactly: one slot
  // (request-lifecycle.test.ts) and the pool's plan (pool-plan.test.ts). Here the times a
  // request can see (its queueing, its assignment's arrival) cannot tell the pool's order of
  // decisions from the order its signals arrive in, nor whether the pool knew of a request when
  // it decided (a try with 20 ms of slack saw 9-15 apparent overtakes in 124,750 pairs). With
  // slots leased in Postgres (issue 13) the order becomes exact to check from the database.

  // Nothing held: the pool's instances serve no one and no one waits.
  const pool = stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, 'echo-shared'));
  const state = await eventually(
    () => pool.query<{ waiting: unknown[]; instances: { requestIds: string[] }[] }>('poolState'),
    (s) => s.waiting.length === 0 && s.instances.every((i) => i.requestIds.length === 0),
  );
  expect(state.waiting).toEqual([]);
  expect(state.instances.flatMap((i) => i.requestIds)).toEqual([]);
}, 300_000); // ~40 s alone, minutes beside the rest of the suite
