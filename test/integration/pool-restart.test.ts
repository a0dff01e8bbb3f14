import { sql } from 'slonik';
import { z } from 'zod';
import { fromConcurrentClients } from '../support/concurrent-clients';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { stopWorkerProcess, workerProcesses } from '../support/worker-process';
import { poolWorkflowId } from '../../workflows/contracts';

// Issue 12: after a busy stretch, a restarted worker replays the model's pool from its whole
// history (a new process has no cached workflows). That replay must succeed, in the same run.

let stack: TestStack;
const workers = workerProcesses(() => stack);
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  workers.killAll();
  await stack?.stop();
});

/** `count` echo requests from `clients` concurrent clients (every 13th cancelled); waits for all to end. */
async function burst(token: string, model: string, count: number, clients: number) {
  const ids = await fromConcurrentClients(count, clients, async (n) => {
    const input = { ...echoInput, parameters: { delay_ms: (n * 7) % 40 } };
    const id = await stack.api.submitAccepted(token, { model, input });
    if (n % 13 === 5) await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
    return id;
  });
  return fromConcurrentClients(
    ids.length,
    clients,
    async (n) => (await stack.api.waitForEnd(token, ids[n]!, 60_000)).status,
  );
}

const liveInstances = (model: string) =>
  stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM model_instances WHERE model_id = ${model} AND status NOT IN ('TERMINATED', 'FAILED')`);

describe('a model pool when its worker restarts', () => {
  it('after a long busy history and a scale to zero, the same pool run replays and serves the next request', async () => {
    // Three instances of two slots each and a few clients at a time: instances start, serve,
    // go idle and expire (keep-warm timers fire: the replayer checks a fired timer's id, issue
    // 12's error) while the pool runs its rounds as local activities. Then a new worker, with
    // no cached workflows, must replay the pool's whole history.
    await addTestModel(stack.db, { id: 'echo-busy', maxInstances: 3, maxConcurrency: 2, keepWarmSeconds: 2 });
    const worker = await workers.start();
    const token = await stack.api.anonymousToken();
    for (const clients of [2, 4, 5, 8]) {
      expect(new Set(await burst(token, 'echo-busy', 60, clients))).toEqual(new Set(['COMPLETE', 'CANCELLED']));
    }
    await eventually(
      () => liveInstances('echo-busy'),
      (n) => n === 0,
      15_000,
    );

    const pool = stack.temporal.workflow.getHandle(poolWorkflowId(stack.taskQueue, 'echo-busy'));
    const before = await pool.describe();
    const firedTimers = (await pool.fetchHistory()).events?.filter((event) => event.timerFiredEventAttributes) ?? [];
    expect(firedTimers.length).toBeGreaterThan(0);

    await stopWorkerProcess(worker);
    const restarted = await workers.start();
    const { body } = await stack.api.submit(token, { model: 'echo-busy', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id, 45_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });

    // The same pool run served it: replayed, not failed and replaced by a fresh one.
    const after = await pool.describe();
    expect(after.runId).toBe(before.runId);
    expect(after.status.name).toBe('RUNNING');
    const failedTasks =
      (await pool.fetchHistory()).events?.filter((event) => event.workflowTaskFailedEventAttributes) ?? [];
    expect(failedTasks).toEqual([]);
    await stopWorkerProcess(restarted);
  }, 120_000); // ~20 s alone; the rest of the suite runs beside it

  it('with warm instances that went down with the old worker, the next request gets a live one', async () => {
    // Local model processes are the worker's children: a restart takes all three along, while
    // Postgres still counts them ready. The first request to find one unreachable has the
    // others probed before it asks for a slot again.
    await addTestModel(stack.db, { id: 'echo-warm', maxInstances: 3, keepWarmSeconds: 120 });
    const worker = await workers.start();
    const token = await stack.api.anonymousToken();
    const slow = { ...echoInput, parameters: { delay_ms: 1_000 } };
    const ids = await Promise.all(
      [1, 2, 3].map(async () => (await stack.api.submit(token, { model: 'echo-warm', input: slow })).body.id as string),
    );
    for (const id of ids) expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    expect(await liveInstances('echo-warm')).toBe(3);

    await stopWorkerProcess(worker);
    await workers.start();
    const { body } = await stack.api.submit(token, { model: 'echo-warm', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id, 45_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
  });
});
