import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { Client } from '@temporalio/client';
import { sql } from 'slonik';
import { z } from 'zod';
import { verifyWebhook } from '../../activities/webhook-signature';
import { eventually } from '../support/eventually';
import { firstInstanceFailure, firstInstanceLog } from '../support/instance-log';
import { addTestModel } from '../support/models';
import { echoInput, testWebhookSecret, useTestStack } from '../support/test-stack';
import { poolWorkflowId, workflowNames, type PodiumWorkflows } from '../../workflows/contracts';

let token: string;
let admin: string;
const stack = useTestStack();
beforeAll(async () => {
  token = await stack.api.anonymousToken();
  const account = await stack.api.signUp({ username: `admin${Date.now().toString(36)}` });
  await stack.db.query(sql.unsafe`
    INSERT INTO user_permissions (user_id, permission, granted_by) VALUES (${account.user.id}, 'ADMIN', 'test')`);
  admin = (await stack.api.login(account.user.username)).accessToken;
});

const slowEcho = (delayMs: number) => ({ ...echoInput, parameters: { delay_ms: delayMs } });
const submit = (model: string, input: unknown = echoInput) => stack.api.submitAccepted(token, { model, input });
const statusOf = async (id: string) =>
  (await stack.api.call('GET', `/api/requests/${id}`, { token })).body.status as string;
const eventsOfModel = (model: string) =>
  stack.db.anyFirst(sql.type(z.object({ event: z.string() }))`
    SELECT l.event FROM model_instance_log l JOIN model_instances i ON i.id = l.instance_id
     WHERE i.model_id = ${model} ORDER BY l.id`);
const eventsOfFirstInstance = async (model: string) =>
  (await firstInstanceLog(stack.db, model)).map((entry) => entry.event);

describe('model pools', () => {
  it('scale to zero: an instance idle past keep-warm is stopped, and its process is gone', async () => {
    await addTestModel(stack.db, { id: 'echo-brief', keepWarmSeconds: 1 });
    const id = await submit('echo-brief');
    await stack.api.waitUntilFinal(token, id);
    const events = await eventually(
      () => eventsOfModel('echo-brief'),
      (log) => log.includes('TERMINATED'),
      5_000,
    );
    expect(events).toEqual(['CREATED', 'SCHEDULED', 'READY', 'ASSIGNED', 'RELEASED', 'STOPPING', 'TERMINATED']);
    const pid = Number(
      await stack.db.oneFirst(sql.unsafe`SELECT runtime_ref FROM model_instances WHERE model_id = 'echo-brief'`),
    );
    expect(() => process.kill(pid, 0)).toThrow();
  });

  it('max_instances: requests beyond it wait, and are served first come, first served', async () => {
    await addTestModel(stack.db, { id: 'echo-single', maxInstances: 1 });
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) ids.push(await submit('echo-single', slowEcho(150)));
    for (const id of ids) expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    const order = await stack.db.anyFirst(sql.type(z.object({ id: z.string() }))`
      SELECT id FROM work_requests WHERE model_id = 'echo-single' ORDER BY started_at`);
    expect(order).toEqual(ids);
    expect((await eventsOfModel('echo-single')).filter((e) => e === 'CREATED')).toHaveLength(1);
  });

  it('pools of models with min_instances are warmed at start-up, before any request', async () => {
    await addTestModel(stack.db, { id: 'echo-ready', minInstances: 1, keepWarmSeconds: 0 });
    const { startWarmPools } = await import('../../infra/model-pool');
    expect(await startWarmPools(stack.temporal, stack.db, stack.taskQueue)).toContain('echo-ready');
    expect(await startWarmPools(stack.temporal, stack.db, stack.taskQueue)).toContain('echo-ready');
    const events = await eventually(
      () => eventsOfModel('echo-ready'),
      (log) => log.includes('READY'),
    );
    expect(events).toEqual(['CREATED', 'SCHEDULED', 'READY']);
  });

  it('min_instances stay warm past keep-warm', async () => {
    await addTestModel(stack.db, { id: 'echo-warm', minInstances: 1, keepWarmSeconds: 0 });
    await stack.api.waitUntilFinal(token, await submit('echo-warm'));
    await sleep(1_000);
    const events = await eventsOfModel('echo-warm');
    expect(events).not.toContain('STOPPING');
    expect(events.at(-1)).toBe('RELEASED');
  });
});

describe('a long-lived pool', () => {
  it('continues as new (all it knows is in Postgres): no request is lost and its instance stays', async () => {
    await addTestModel(stack.db, { id: 'echo-renewed', maxInstances: 1, maxConcurrency: 2 });
    const poolId = poolWorkflowId(stack.taskQueue, 'echo-renewed');
    const first = await stack.temporal.workflow.start<PodiumWorkflows['modelPool']>(workflowNames.modelPool, {
      workflowId: poolId,
      taskQueue: stack.taskQueue,
      args: [{ modelId: 'echo-renewed', historyLimit: 20 }],
    });
    const ids = await Promise.all(Array.from({ length: 16 }, () => submit('echo-renewed', slowEcho(20))));
    for (const id of ids) expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('COMPLETE');
    const runId = await eventually(
      async () => (await stack.temporal.workflow.getHandle(poolId).describe()).runId,
      (run) => run !== first.firstExecutionRunId,
    );
    expect(runId).not.toBe(first.firstExecutionRunId);
    expect((await eventsOfModel('echo-renewed')).filter((e) => e === 'CREATED')).toHaveLength(1);
  });
});

describe('cancel', () => {
  it('a queued request is CANCELLED within a second; the one running is untouched', async () => {
    await addTestModel(stack.db, { id: 'echo-queue', maxInstances: 1 });
    const running = await submit('echo-queue', slowEcho(2_000));
    await eventually(
      () => statusOf(running),
      (s) => s === 'PROCESSING',
    );
    const queued = await submit('echo-queue');
    const started = Date.now();
    expect((await stack.api.call('POST', `/api/requests/${queued}/cancel`, { token })).status).toBe(202);
    expect(
      await eventually(
        () => statusOf(queued),
        (s) => s === 'CANCELLED',
        1_000,
      ),
    ).toBe('CANCELLED');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect((await stack.api.waitUntilFinal(token, running)).request.status).toBe('COMPLETE');
  });

  it('a running request is cut short at once, on a cold start or a warm slot, and its instance goes back clean to serve the next', async () => {
    await addTestModel(stack.db, { id: 'echo-cut', maxInstances: 1 });
    /** Cancels a request whose model works for 20 s; how its call ended, as its history recorded it. */
    const cancelWhileProcessing = async () => {
      const id = await submit('echo-cut', slowEcho(20_000));
      await eventually(
        () => statusOf(id),
        (s) => s === 'PROCESSING',
      );
      expect((await stack.api.call('POST', `/api/requests/${id}/cancel`, { token })).status).toBe(202);
      expect((await stack.api.waitUntilFinal(token, id, 15_000)).request.status).toBe('CANCELLED');
      const history = await stack.temporal.workflow.getHandle(`request-${id}`).fetchHistory();
      const cut = history.events!.flatMap(
        (event) => event.markerRecordedEventAttributes?.failure?.applicationFailureInfo?.type ?? [],
      );
      const stats = await stack.db.oneFirst(
        sql.unsafe`SELECT count(*)::int FROM request_stats WHERE request_id = ${id}`,
      );
      return { cut, stats };
    };
    // The first waits for the instance (runInference); the second takes its free slot (serveWarmRequest).
    // Both calls are cut by the interrupt that follows the signal, not at a workflow task's heartbeat.
    expect(await cancelWhileProcessing()).toEqual({ cut: ['REQUEST_INTERRUPTED'], stats: 0 });
    expect(await cancelWhileProcessing()).toEqual({ cut: ['REQUEST_INTERRUPTED'], stats: 0 });
    const next = await submit('echo-cut');
    expect((await stack.api.waitUntilFinal(token, next)).request.status).toBe('COMPLETE');
    expect((await eventsOfModel('echo-cut')).filter((e) => e === 'CREATED')).toHaveLength(1);
  });

  it('an ended request cannot be cancelled (409)', async () => {
    const id = await submit('echo');
    await stack.api.waitUntilFinal(token, id);
    const response = await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
    expect(response.status).toBe(409);
    expect(response.body.error.code).toBe('REQUEST_ALREADY_ENDED');
  });
});

/** A model whose one slot a slow request holds, so that the next ones wait (REQUESTED). */
async function busyModel(id: string, settings: { maxWaiting?: number } = {}) {
  await addTestModel(stack.db, { id, maxInstances: 1, maxConcurrency: 1, ...settings });
  const slow = await submit(id, slowEcho(30_000));
  await eventually(
    () => statusOf(slow),
    (s) => s === 'PROCESSING',
  );
  return slow;
}
const cancelAll = async (ids: string[], as = token) => {
  for (const id of ids) await stack.api.call('POST', `/api/requests/${id}/cancel`, { token: as });
  for (const id of ids) await stack.api.waitUntilFinal(as, id);
};

describe('a model’s waiting line has a cap', () => {
  it('past max_waiting requests waiting, a submission is a 429 MODEL_QUEUE_FULL and writes nothing', async () => {
    const slow = await busyModel('echo-capped', { maxWaiting: 2 });
    // Two owners: one alone may hold only its share of the line (docs/scheduling.md).
    const other = (await stack.api.signUp({ username: `capped${Date.now().toString(36)}` })).accessToken;
    const waiting = [
      await submit('echo-capped'),
      await stack.api.submitAccepted(other, { model: 'echo-capped', input: echoInput }),
    ];
    const refused = await stack.api.submit(token, { model: 'echo-capped', input: echoInput });
    expect(refused.status).toBe(429);
    expect(refused.body.error).toMatchObject({ code: 'MODEL_QUEUE_FULL', details: { maxWaiting: 2 } });
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    const rows = await stack.db.oneFirst(
      sql.unsafe`SELECT count(*)::int FROM work_requests WHERE model_id = 'echo-capped'`,
    );
    expect(rows).toBe(3);
    // A place frees up when one leaves the line.
    await cancelAll([waiting[0]!]);
    const later = await submit('echo-capped');
    await cancelAll([waiting[1]!], other);
    await cancelAll([slow, later]);
  });
});

describe('quotas per session or user', () => {
  it('so many requests on their way at once (429 TOO_MANY_REQUESTS_IN_FLIGHT), ADMIN exempt', async () => {
    const instance = await stack.startApiInstance({ REQUESTS_IN_FLIGHT_PER_OWNER: '2' });
    const slow = await busyModel('echo-quota'); // token's, on the primary instance: not this owner
    const own = await instance.api.anonymousToken();
    const send = (as: string) => instance.api.submit(as, { model: 'echo-quota', input: echoInput });
    const first = await send(own);
    expect((await send(own)).status).toBe(202);
    const third = await send(own);
    expect(third.status).toBe(429);
    expect(third.body.error).toMatchObject({ code: 'TOO_MANY_REQUESTS_IN_FLIGHT', details: { maxInFlight: 2 } });
    const byAdmin = await send(admin);
    expect(byAdmin.status).toBe(202);
    await cancelAll([first.body.id], own);
    const fourth = await send(own);
    expect(fourth.status).toBe(202);
    await cancelAll([slow]);
    await cancelAll([byAdmin.body.id], admin);
    await eventually(
      () => instance.api.call('GET', `/api/requests/${fourth.body.id}`, { token: own }),
      (r) => r.body.status === 'COMPLETE',
      15_000,
    );
  });

  it('so many submissions a minute (429 TOO_MANY_REQUESTS with Retry-After), ADMIN exempt', async () => {
    const instance = await stack.startApiInstance({ REQUESTS_PER_MINUTE_PER_OWNER: '2' });
    const own = await instance.api.anonymousToken();
    const send = (as: string) => instance.api.submit(as, { model: 'echo', input: echoInput });
    expect((await send(own)).status).toBe(202);
    expect((await send(own)).status).toBe(202);
    const third = await send(own);
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('TOO_MANY_REQUESTS');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    for (let i = 0; i < 3; i++) expect((await send(admin)).status).toBe(202);
  });

  it('a retry with the same Idempotency-Key gets its request back and is not counted, over any limit', async () => {
    const instance = await stack.startApiInstance({ REQUESTS_PER_MINUTE_PER_OWNER: '2' });
    const own = await instance.api.anonymousToken();
    const send = (key: string) =>
      instance.api.call('POST', '/api/requests', {
        token: own,
        json: { model: 'echo', input: echoInput },
        headers: { 'idempotency-key': key },
      });
    const first = await send('first');
    expect(first.status).toBe(202);
    const retried = await send('first');
    expect(retried.status).toBe(200);
    expect(retried.body.id).toBe(first.body.id);
    expect((await send('second')).status).toBe(202); // the retry took none of the two a minute
    const overLimit = await send('first');
    expect(overLimit.status).toBe(200);
    expect(overLimit.body.id).toBe(first.body.id);
    expect((await send('third')).body.error.code).toBe('TOO_MANY_REQUESTS');
  });
});

describe('admin status actions', () => {
  const setStatus = (id: string, body: unknown, as = admin) =>
    stack.api.call('POST', `/api/admin/requests/${id}/status`, { token: as, json: body });
  const auditRows = (id: string) =>
    stack.db.any(sql.type(z.object({ action: z.string(), detail: z.record(z.string(), z.unknown()) }))`
      SELECT action, detail FROM audit_log WHERE target_id = ${id} ORDER BY id`);

  it('FAILED ends a running request with the reason, audited', async () => {
    const id = await submit('echo', slowEcho(20_000));
    await eventually(
      () => statusOf(id),
      (s) => s === 'PROCESSING',
    );
    expect((await setStatus(id, { status: 'FAILED', reason: 'stuck on a bad node' })).status).toBe(202);
    const { request } = await stack.api.waitUntilFinal(token, id, 5_000);
    expect(request).toMatchObject({
      status: 'FAILED',
      error: { code: 'FAILED_BY_ADMIN', message: 'stuck on a bad node' },
    });
    expect(await auditRows(id)).toEqual([
      {
        action: 'REQUEST_STATUS_SET',
        detail: { from: 'PROCESSING', to: 'FAILED', reason: 'stuck on a bad node', attempt: 1 },
      },
    ]);
  });

  it('REQUESTED re-runs a failed request as a new attempt under the same id, with its own stats row', async () => {
    const id = await submit('fail');
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('FAILED');
    expect((await setStatus(id, { status: 'REQUESTED', reason: 'model fixed' })).status).toBe(202);
    const second = await eventually(
      () => stack.api.call('GET', `/api/requests/${id}`, { token }),
      (r) => r.body.attempt === 2 && r.body.status === 'FAILED',
      15_000,
    );
    expect(second.body).toMatchObject({ attempt: 2, status: 'FAILED' });
    const attempts = await stack.db.anyFirst(
      sql.unsafe`SELECT attempt FROM request_stats WHERE request_id = ${id} ORDER BY attempt`,
    );
    expect(attempts).toEqual([1, 2]);
    expect((await auditRows(id)).map((row) => row.detail.to)).toEqual(['REQUESTED']);
  });

  it('a re-queue Temporal refuses to start changes nothing (503), and goes through once it accepts', async () => {
    const id = await submit('fail');
    expect((await stack.api.waitUntilFinal(token, id)).request.status).toBe('FAILED');
    // The same Temporal, through a client whose start is refused (the SDK's own interceptor).
    const refusing = new Client({
      connection: stack.temporal.connection,
      interceptors: { workflow: [{ start: async () => Promise.reject(new Error('Temporal refused the start')) }] },
    });
    const instance = await stack.startApiInstance({}, { temporal: refusing });
    const refused = await instance.api.call('POST', `/api/admin/requests/${id}/status`, {
      token: admin,
      json: { status: 'REQUESTED', reason: 'model fixed' },
    });
    expect(refused.status).toBe(503);
    expect(refused.body.error.code).toBe('WORKFLOW_START_FAILED');
    expect((await stack.api.call('GET', `/api/requests/${id}`, { token })).body).toMatchObject({
      status: 'FAILED',
      attempt: 1,
    });

    expect((await setStatus(id, { status: 'REQUESTED', reason: 'model fixed' })).status).toBe(202);
    await eventually(
      () => stack.api.call('GET', `/api/requests/${id}`, { token }),
      (r) => r.body.attempt === 2 && r.body.status === 'FAILED',
      15_000,
    );
  });

  it('a re-queue while the ended request still delivers its webhook answers 409 REQUEST_STILL_CLOSING, then works', async () => {
    let accept = false;
    const receiver = createServer((request, response) => {
      request.resume();
      request.on('end', () => response.writeHead(accept ? 204 : 503).end());
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
      const id = await stack.api.submitAccepted(token, { model: 'fail', input: echoInput, webhook: url });
      await stack.api.waitUntilFinal(token, id);
      const refused = await setStatus(id, { status: 'REQUESTED', reason: 'model fixed' });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('REQUEST_STILL_CLOSING');
      expect(refused.headers.get('retry-after')).toBe('5');
      accept = true; // the delivery gets through; the workflow closes
      await eventually(
        () => setStatus(id, { status: 'REQUESTED', reason: 'model fixed' }),
        (r) => r.status === 202,
        30_000,
      );
    } finally {
      receiver.close();
    }
  });

  it('is for admins only, validated, and refuses what makes no sense', async () => {
    const id = await submit('echo');
    await stack.api.waitUntilFinal(token, id);
    expect((await setStatus(id, { status: 'FAILED', reason: 'x' }, token)).status).toBe(403);
    expect((await setStatus(id, { status: 'COMPLETE', reason: 'x' })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await setStatus(id, { status: 'FAILED' })).body.error.code).toBe('VALIDATION_FAILED');
    expect((await setStatus(id, { status: 'FAILED', reason: 'late' })).body.error.code).toBe('REQUEST_ALREADY_ENDED');
    expect((await setStatus(id, { status: 'REQUESTED', reason: 'again' })).body.error.code).toBe(
      'REQUEST_NOT_REQUEUEABLE',
    );
    expect((await setStatus('00000000-0000-4000-8000-000000000000', { status: 'FAILED', reason: 'x' })).status).toBe(
      404,
    );
    expect(await auditRows(id)).toEqual([]);
  });
});

describe('timeouts', () => {
  it('an instance that never starts fails the request with INSTANCE_STARTUP_TIMEOUT and is stopped', async () => {
    await addTestModel(stack.db, {
      id: 'never-up',
      localCommand: ['sh', '-c', 'exec sleep 60'],
      startupTimeoutSeconds: 1,
    });
    const id = await submit('never-up');
    const { request } = await stack.api.waitUntilFinal(token, id, 10_000);
    expect(request.status).toBe('FAILED');
    expect(request.error).toEqual({
      code: 'INSTANCE_STARTUP_TIMEOUT',
      message: expect.stringMatching(
        /^the instance of never-up did not become ready within 1 s \(instance [0-9a-f-]{36}: /,
      ),
    });
    const events = await eventually(
      () => eventsOfFirstInstance('never-up'),
      (log) => log.includes('TERMINATED'),
    );
    expect(events).toEqual(['CREATED', 'FAILED', 'STOPPING', 'TERMINATED']);
    expect(await firstInstanceFailure(stack.db, 'never-up')).toContain('did not listen within 1000 ms');
  });

  it('a model slower than its request timeout fails the request with REQUEST_TIMEOUT', async () => {
    await addTestModel(stack.db, { id: 'echo-hasty', requestTimeoutSeconds: 1 });
    const id = await submit('echo-hasty', slowEcho(5_000));
    const { request } = await stack.api.waitUntilFinal(token, id, 10_000);
    expect(request).toMatchObject({ status: 'FAILED', error: { code: 'REQUEST_TIMEOUT' } });
  });
});

describe('submitting and waiting', () => {
  it('the same Idempotency-Key gives the same request back, once', async () => {
    const key = `key-${Date.now()}`;
    const send = (input: unknown) =>
      stack.api.call('POST', '/api/requests', {
        token,
        json: { model: 'echo', input },
        headers: { 'idempotency-key': key },
      });
    const first = await send(echoInput);
    const again = await send(echoInput);
    expect(first.status).toBe(202);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.body.id).toBe(first.body.id);
    const other = await send(slowEcho(1));
    expect(other.status).toBe(422);
    expect(other.body.error.code).toBe('IDEMPOTENCY_KEY_REUSED');
    expect(
      await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM work_requests WHERE idempotency_key = ${key}`),
    ).toBe(1);
    const anotherSession = await stack.api.anonymousToken();
    const theirs = await stack.api.call('POST', '/api/requests', {
      token: anotherSession,
      json: { model: 'echo', input: echoInput },
      headers: { 'idempotency-key': key },
    });
    expect(theirs.status).toBe(202);
    expect(theirs.body.id).not.toBe(first.body.id);
  });

  it('?wait=N answers as soon as the request ends', async () => {
    const id = await submit('echo', slowEcho(300));
    const started = Date.now();
    const response = await stack.api.call('GET', `/api/requests/${id}?wait=30`, { token });
    expect(response.body.status).toBe('COMPLETE');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect((await stack.api.call('GET', `/api/requests/${id}?wait=301`, { token })).status).toBe(400);
  });
});

describe('webhooks', () => {
  it('POSTs the signed status body when the request ends, retrying until the receiver takes it', async () => {
    const received: { headers: IncomingMessage['headers']; body: string }[] = [];
    const receiver = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => (body += chunk));
      request.on('end', () => {
        received.push({ headers: request.headers, body });
        response.writeHead(received.length < 3 ? 503 : 204).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    try {
      const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput, webhook: url });
      const details = await eventually(
        () => stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token }),
        (r) => r.body.webhook?.deliveries?.length === 3,
        15_000,
      );
      expect(details.body.webhook.deliveries.map((d: { statusCode: number }) => d.statusCode)).toEqual([503, 503, 204]);
      expect(received).toHaveLength(3);
      const last = received[2]!;
      expect(
        verifyWebhook(
          testWebhookSecret,
          last.body,
          String(last.headers['x-podium-signature']),
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(true);
      expect(
        verifyWebhook(
          'another secret 0123456789',
          last.body,
          String(last.headers['x-podium-signature']),
          Math.floor(Date.now() / 1000),
        ),
      ).toBe(false);
      expect(JSON.parse(last.body)).toMatchObject({
        id: submitted.body.id,
        status: 'COMPLETE',
        result: { model_name: 'echo' },
      });
      expect(last.headers['x-podium-delivery-attempt']).toBe('3');
    } finally {
      receiver.close();
    }
  });

  it('rejects a webhook that is not an http(s) URL', async () => {
    const response = await stack.api.submit(token, { model: 'echo', input: echoInput, webhook: 'ftp://example.com/x' });
    expect(response.status).toBe(400);
    expect(response.body.error.message).toContain('webhook');
  });
});
