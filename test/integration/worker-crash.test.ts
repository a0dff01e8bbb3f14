import { sql } from 'slonik';
import { z } from 'zod';
import { eventually } from '../support/eventually';
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { reapDeadLocalInstances } from '../../activities/probe-instances';
import { isProcessAlive } from '../../activities/runtime/model-process';
import { openInstanceSlots } from '../../db/instance-slots';
import { recordInstanceEvent } from '../../db/model-instances';
import { readEventStream } from '../support/event-stream';
import { chatContent } from '../support/openai-results';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';
import { workerProcesses } from '../support/worker-process';

let stack: TestStack;
const workers = workerProcesses(() => stack);
beforeAll(async () => {
  stack = await startTestStack({ worker: false });
});
afterAll(async () => {
  workers.killAll();
  await stack?.stop();
});

describe('a worker killed mid-request', () => {
  it('the request still completes, exactly once, and no instance is left behind', async () => {
    const first = await workers.start();
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, {
      model: 'echo',
      input: { ...echoInput, parameters: { delay_ms: 1_500 } },
    });
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${body.id}`, { token })).body.status,
      (status) => status === 'PROCESSING',
    );
    const doomed = await stack.db.one(sql.type(z.object({ id: z.string(), pid: z.string() }))`
      SELECT id, runtime_ref AS pid FROM model_instances WHERE id = (SELECT instance_id FROM work_requests WHERE id = ${body.id})`);

    first.kill('SIGKILL');
    await eventually(
      async () => isProcessAlive(Number(doomed.pid)),
      (alive) => !alive,
      5_000,
    );
    expect(isProcessAlive(Number(doomed.pid))).toBe(false); // the model process went with its worker

    await workers.start();
    const { request } = await stack.api.waitUntilFinal(token, body.id, 45_000);
    expect(request).toMatchObject({ status: 'COMPLETE', error: null });
    expect(request.result?.outputs).toEqual(echoInput.inputs);
    expect(
      await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats WHERE request_id = ${body.id}`),
    ).toBe(1);

    // The dead instance is recorded as stopped, and every instance still called alive really is.
    const doomedStatus = await eventually(
      () => stack.db.oneFirst(sql.unsafe`SELECT status FROM model_instances WHERE id = ${doomed.id}`),
      (status) => status === 'TERMINATED',
    );
    expect(doomedStatus).toBe('TERMINATED');
    const live = await stack.db.anyFirst(sql.type(z.object({ pid: z.string() }))`
      SELECT runtime_ref AS pid FROM model_instances WHERE status NOT IN ('TERMINATED', 'FAILED')`);
    for (const pid of live) expect(isProcessAlive(Number(pid))).toBe(true);
  });

  it('a stream cut by its worker goes on where its readers were: none gets a token twice, and the text is the stored result', async () => {
    workers.killAll();
    const first = await workers.start();
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, {
      model: 'markov',
      input: {
        url: '/v1/chat/completions',
        body: {
          messages: [{ role: 'user', content: 'We hold these' }],
          stream: true,
          max_tokens: 150,
          token_delay_ms: 20,
        },
      },
    });
    let killed = false;
    const read = await readEventStream(`${stack.api.baseUrl}/api/requests/${body.id}/events`, {
      token,
      timeoutMs: 90_000,
      stopAfter: (event, events) => {
        // Halfway through, the worker (and the model process it runs) is killed.
        if (!killed && events.filter((seen) => seen.event === 'chunk').length === 20) {
          killed = true;
          first.kill('SIGKILL');
          void workers.start();
        }
        return event.event === 'end';
      },
    });
    expect(killed).toBe(true);
    expect(read.events.at(-1)).toMatchObject({ event: 'end', data: { status: 'COMPLETE' } });
    const chunks = read.events.filter((event) => event.event === 'chunk');
    expect(chunks.map((event) => event.data.seq)).toEqual(chunks.map((_, index) => index + 1));
    // The model is deterministic: its second try retraced the first, so no restart was needed.
    expect(read.events.filter((event) => event.event === 'restart')).toEqual([]);
    expect(new Set(chunks.map((event) => event.data.attempt)).size).toBe(2);
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    const stored = chatContent(request.result);
    expect(chunks.map((event) => event.data.text).join('')).toBe(stored);
    expect(stored.split(' ')).toHaveLength(150);
  });

  it('an idle instance lost with its worker is stopped as soon as another worker starts, not at keep-warm', async () => {
    workers.killAll(); // the request must run on the worker this test kills
    const first = await workers.start();
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
    await stack.api.waitUntilFinal(token, body.id);
    const idle = await stack.db.one(sql.type(z.object({ id: z.string(), pid: z.string() }))`
      SELECT id, runtime_ref AS pid FROM model_instances WHERE id = (SELECT instance_id FROM work_requests WHERE id = ${body.id})`);

    first.kill('SIGKILL');
    expect(
      await eventually(
        async () => isProcessAlive(Number(idle.pid)),
        (alive) => !alive,
        5_000,
      ),
    ).toBe(false);
    await workers.start();
    // echo keeps an instance warm 60 s; no request will find this one gone.
    const status = await eventually(
      () =>
        stack.db.oneFirst(
          sql.type(z.object({ status: z.string() }))`SELECT status FROM model_instances WHERE id = ${idle.id}`,
        ),
      (s) => s === 'TERMINATED',
      15_000,
    );
    expect(status).toBe('TERMINATED');
  });

  it('an instance whose process died before its slots opened never opens: the next worker to start marks it unhealthy', async () => {
    // Its worker was killed between the readiness check and the pool's opening of the slots.
    const deadPid = spawnSync('true').pid!;
    const instanceId = randomUUID();
    await stack.db.query(sql.unsafe`
      INSERT INTO model_instances (id, model_id, runtime, runtime_ref, status, slot_state)
      VALUES (${instanceId}, 'echo', 'local', ${String(deadPid)}, 'SCHEDULED', 'STARTING')`);

    await reapDeadLocalInstances({ db: stack.db, temporal: stack.temporal, taskQueue: stack.taskQueue });
    expect(await openInstanceSlots(stack.db, { modelId: 'echo', instanceId, endpoint: 'http://127.0.0.1:1' })).toEqual(
      [],
    );
    // The reap wakes echo's pool, whose round may already be stopping (or have stopped) it.
    expect(['UNHEALTHY', 'STOPPING', null]).toContain(
      await stack.db.oneFirst(sql.unsafe`SELECT slot_state FROM model_instances WHERE id = ${instanceId}`),
    );
    await stack.db.query(
      sql.unsafe`UPDATE model_instances SET status = 'TERMINATED', slot_state = NULL WHERE id = ${instanceId}`,
    );
  });

  it('a request that logs its instance ASSIGNED or RELEASED after the instance was stopped under it does not bring it back', async () => {
    // The slot was leased before its worker died; the instance was stopped before the request's next step.
    const instanceId = randomUUID();
    await stack.db.query(sql.unsafe`
      INSERT INTO model_instances (id, model_id, runtime, runtime_ref, status) VALUES (${instanceId}, 'echo', 'local', '1', 'READY')`);
    await recordInstanceEvent(stack.db, { instanceId, event: 'TERMINATED' });
    await recordInstanceEvent(stack.db, { instanceId, event: 'ASSIGNED', requestId: randomUUID() });
    await recordInstanceEvent(stack.db, { instanceId, event: 'RELEASED' });

    expect(await stack.db.oneFirst(sql.unsafe`SELECT status FROM model_instances WHERE id = ${instanceId}`)).toBe(
      'TERMINATED',
    );
    expect(
      await stack.db.anyFirst(
        sql.unsafe`SELECT event FROM model_instance_log WHERE instance_id = ${instanceId} ORDER BY id`,
      ),
    ).toEqual([
      'TERMINATED',
      'ASSIGNED',
      'RELEASED', // the log keeps what happened
    ]);
  });
});
