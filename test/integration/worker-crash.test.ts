import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { sql } from 'slonik';
import { z } from 'zod';
import { eventually } from '../support/eventually';
import { echoInput, startTestStack, testWebhookSecret, type TestStack } from '../support/test-stack';

let stack: TestStack;
const workers: ChildProcess[] = [];
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  for (const worker of workers) if (worker.exitCode === null) worker.kill('SIGKILL');
  await stack?.stop();
});

/** `npm run worker` in a process of its own, on the test's schema and task queue. */
async function startWorkerProcess(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/worker-main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: stack.services.databaseUrl,
      DATABASE_SCHEMA: stack.schema,
      TEMPORAL_ADDRESS: stack.services.temporalAddress,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      PODIUM_WORKFLOW_BUNDLE: stack.services.workflowBundle,
      WEBHOOK_SECRET: testWebhookSecret,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  workers.push(child);
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('worker-ready') && resolve());
  });
  return child;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe('a worker killed mid-request', () => {
  it('the request still completes, exactly once, and no instance is left behind', async () => {
    const first = await startWorkerProcess();
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'echo', input: { ...echoInput, parameters: { delay_ms: 1_500 } } });
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${body.id}`, { token })).body.status,
      (status) => status === 'PROCESSING',
    );
    const doomed = await stack.pool.one(sql.type(z.object({ id: z.string(), pid: z.string() }))`
      SELECT id, runtime_ref AS pid FROM model_instances WHERE id = (SELECT instance_id FROM work_requests WHERE id = ${body.id})`);

    first.kill('SIGKILL');
    await eventually(async () => alive(Number(doomed.pid)), (isAlive) => !isAlive, 5_000);
    expect(alive(Number(doomed.pid))).toBe(false); // the model process went with its worker

    await startWorkerProcess();
    const { request } = await stack.api.waitUntilFinal(token, body.id, 45_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
    expect(request.result?.outputs).toEqual(echoInput.inputs);
    expect(await stack.pool.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats WHERE request_id = ${body.id}`)).toBe(1);

    // The dead instance is recorded as stopped, and every instance still called alive really is.
    const doomedStatus = await eventually(
      () => stack.pool.oneFirst(sql.unsafe`SELECT status FROM model_instances WHERE id = ${doomed.id}`),
      (status) => status === 'TERMINATED',
    );
    expect(doomedStatus).toBe('TERMINATED');
    const live = await stack.pool.anyFirst(sql.type(z.object({ pid: z.string() }))`
      SELECT runtime_ref AS pid FROM model_instances WHERE status NOT IN ('TERMINATED', 'FAILED')`);
    for (const pid of live) expect(alive(Number(pid))).toBe(true);
  });
});
