import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { eventually } from '../support/eventually';
import { addTestModel } from '../support/models';
import { echoInput, useTestStack } from '../support/test-stack';

let tokens: { anonymous: string; user: string; admin: string };
let adminUsername: string;
let userId: string;
const secret = `secret-${randomUUID()}`;
const secretInput = { inputs: [{ name: 'text', shape: [1], datatype: 'BYTES', data: [secret] }] };

const stack = useTestStack();
beforeAll(async () => {
  const anonymous = await stack.api.anonymousToken();
  const account = await stack.api.signUp({ username: `owner${randomUUID().slice(0, 8)}` });
  userId = account.user.id;
  const admin = await stack.signUpAdmin();
  adminUsername = admin.username;
  tokens = { anonymous, user: account.accessToken, admin: admin.token };
});

const call = (method: string, path: string, token?: string) => stack.api.call(method, path, { token });
async function completedRequest(token: string, model = 'echo', input: unknown = secretInput) {
  const { body } = await stack.api.submit(token, { model, input });
  await stack.api.waitUntilFinal(token, body.id);
  return body.id as string;
}

describe('admin routes: who may call them', () => {
  it.each([
    ['GET', '/api/admin/requests'],
    ['GET', `/api/admin/requests/${randomUUID()}/sensitive`],
    ['GET', '/api/admin/instances'],
    ['GET', `/api/admin/instances/${randomUUID()}`],
    ['POST', `/api/admin/instances/${randomUUID()}/stop`],
    ['POST', `/api/admin/instances/${randomUUID()}/replace`],
  ])('%s %s: 401 without a token, 403 anonymous and for a plain user', async (method, path) => {
    expect((await call(method, path)).status).toBe(401);
    const anonymous = await call(method, path, tokens.anonymous);
    expect([anonymous.status, anonymous.body.error.code]).toEqual([403, 'ACCOUNT_REQUIRED']);
    const user = await call(method, path, tokens.user);
    expect([user.status, user.body.error.code]).toEqual([403, 'PERMISSION_REQUIRED']);
    expect([200, 404]).toContain((await call(method, path, tokens.admin)).status);
  });
});

describe('GET /api/admin/requests', () => {
  let userRequest: string;
  let anonymousRequest: string;
  beforeAll(async () => {
    userRequest = await completedRequest(tokens.user);
    anonymousRequest = await completedRequest(tokens.anonymous);
  });

  it("lists every user's requests without their input, result or error message", async () => {
    const response = await call('GET', '/api/admin/requests', tokens.admin);
    expect(response.status).toBe(200);
    const raw = JSON.stringify(response.body);
    expect(raw).not.toContain(secret);
    expect(raw).not.toMatch(/"(input|result|error|outputs|inputs)"/);
    const ids = response.body.requests.map((r: { id: string }) => r.id);
    expect(ids).toEqual(expect.arrayContaining([userRequest, anonymousRequest]));
    const mine = response.body.requests.find((r: { id: string }) => r.id === userRequest);
    expect(mine).toMatchObject({ status: 'COMPLETE', model: 'echo', userId, anonymous: false, errorCode: null });
    expect(mine.totalMs).toBeGreaterThan(0);
    expect(Object.keys(mine).sort()).toEqual(
      [
        'anonymous',
        'attempt',
        'createdAt',
        'deadline',
        'errorCode',
        'finishedAt',
        'id',
        'instanceId',
        'links',
        'model',
        'priority',
        'runMs',
        'sessionId',
        'startedAt',
        'status',
        'totalMs',
        'userId',
        'username',
        'waitMs',
      ].sort(),
    );
  });

  it('filters by user (id or username), anonymous session, model, status and dates', async () => {
    const list = async (query: string) =>
      ((await call('GET', `/api/admin/requests?${query}`, tokens.admin)).body.requests as Array<{ id: string }>).map(
        (r) => r.id,
      );
    const username = (await stack.db.oneFirst(sql.unsafe`SELECT username FROM users WHERE id = ${userId}`)) as string;
    expect(await list(`user=${userId}`)).toEqual([userRequest]);
    expect(await list(`user=${username.toUpperCase()}`)).toEqual([userRequest]);
    const sessionId = (await stack.db.oneFirst(
      sql.unsafe`SELECT session_id FROM work_requests WHERE id = ${anonymousRequest}`,
    )) as string;
    expect(await list(`session=${sessionId}`)).toEqual([anonymousRequest]);
    expect(await list('model=fail')).toEqual([]);
    expect(await list('status=COMPLETE')).toEqual(expect.arrayContaining([userRequest, anonymousRequest]));
    expect(await list('status=FAILED')).not.toContain(userRequest);
    const today = new Date().toISOString().slice(0, 10);
    expect(await list(`from=${today}&to=${today}`)).toEqual(expect.arrayContaining([userRequest, anonymousRequest]));
    expect(await list('to=2020-01-01')).toEqual([]);
  });

  it('pages with nextCursor; refuses bad filters with 400', async () => {
    const first = await call('GET', '/api/admin/requests?limit=1', tokens.admin);
    expect(first.body.requests).toHaveLength(1);
    const second = await call('GET', `/api/admin/requests?limit=1&cursor=${first.body.nextCursor}`, tokens.admin);
    expect(second.body.requests[0].id).not.toBe(first.body.requests[0].id);
    for (const bad of [
      'from=2026-02-30',
      'status=DONE',
      'session=abc',
      'limit=500',
      'colour=blue',
      `cursor=${randomUUID()}`,
    ]) {
      const response = await call('GET', `/api/admin/requests?${bad}`, tokens.admin);
      expect([bad, response.status]).toEqual([bad, 400]);
    }
  });

  it('sensitive data: an audit row is written before the input and result are returned', async () => {
    const response = await call('GET', `/api/admin/requests/${userRequest}/sensitive`, tokens.admin);
    expect(response.status).toBe(200);
    expect(response.body.input).toEqual(secretInput);
    expect(JSON.stringify(response.body.result)).toContain(secret);
    const audit = await stack.db.one(sql.type(z.object({ action: z.string(), actor: z.string() }))`
      SELECT a.action, u.username AS actor FROM audit_log a JOIN users u ON u.id = a.actor_user_id
       WHERE a.target_type = 'work_request' AND a.target_id = ${userRequest}`);
    expect(audit).toEqual({ action: 'REQUEST_SENSITIVE_VIEWED', actor: adminUsername });
  });

  it('sensitive data: when the audit row cannot be written, nothing is returned', async () => {
    await stack.db.query(sql.unsafe`ALTER TABLE audit_log ADD CONSTRAINT refuse_all CHECK (false) NOT VALID`);
    try {
      const response = await call('GET', `/api/admin/requests/${anonymousRequest}/sensitive`, tokens.admin);
      expect(response.status).toBe(500);
      expect(JSON.stringify(response.body)).not.toContain(secret);
    } finally {
      await stack.db.query(sql.unsafe`ALTER TABLE audit_log DROP CONSTRAINT refuse_all`);
    }
  });
});

describe('admin: instances', () => {
  it('lists live instances joined with their records, stops one through its pool, and shows its history', async () => {
    await addTestModel(stack.db, { id: 'echo-admin', keepWarmSeconds: 600 });
    const requestId = await completedRequest(tokens.user, 'echo-admin', echoInput);

    // The worker writes what its runtime runs right after it changes it: the page reads that.
    const listed = await eventually(
      () => call('GET', '/api/admin/instances?model=echo-admin', tokens.admin),
      (r) => r.body.instances?.[0]?.runtime !== null && r.body.instances?.length === 1,
      10_000,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.runtimeObservedAt).toEqual(expect.any(String));
    const [instance] = listed.body.instances;
    expect(instance).toMatchObject({
      model: 'echo-admin',
      status: 'RELEASED',
      runtime: { phase: 'Running', ready: true, node: 'local', events: [] },
    });
    const today = new Date().toISOString().slice(0, 10);
    expect(
      (await call('GET', `/api/admin/instances?model=echo-admin&from=${today}&status=running`, tokens.admin)).body
        .instances,
    ).toHaveLength(1);
    expect(
      (await call('GET', '/api/admin/instances?model=echo-admin&to=2020-01-01', tokens.admin)).body.instances,
    ).toHaveLength(0);

    // Viewing the page starts no workflow (it used to start one per view).
    const started = () =>
      stack.temporal.workflow.count(`TaskQueue = '${stack.taskQueue}' AND WorkflowType = 'describeLiveInstances'`);
    const before = (await started()).count;
    for (let view = 0; view < 5; view++)
      expect((await call('GET', '/api/admin/instances', tokens.admin)).status).toBe(200);
    expect((await started()).count).toBe(before);

    const stop = await call('POST', `/api/admin/instances/${instance.id}/stop`, tokens.admin);
    expect(stop.status).toBe(202);
    await eventually(
      () => call('GET', '/api/admin/instances?model=echo-admin', tokens.admin),
      (r) => r.body.instances.length === 0,
      10_000,
    );
    const audit = await stack.db.oneFirst(
      sql.unsafe`SELECT action FROM audit_log WHERE target_type = 'model_instance' AND target_id = ${instance.id}`,
    );
    expect(audit).toBe('INSTANCE_STOP');
    expect((await call('POST', `/api/admin/instances/${instance.id}/stop`, tokens.admin)).body.error.code).toBe(
      'INSTANCE_NOT_RUNNING',
    );

    const history = await call('GET', `/api/admin/instances/${instance.id}`, tokens.admin);
    expect(history.status).toBe(200);
    expect(history.body.timeline.map((e: { event: string }) => e.event)).toEqual([
      'CREATED',
      'SCHEDULED',
      'READY',
      'ASSIGNED',
      'RELEASED',
      'STOPPING',
      'TERMINATED',
    ]);
    expect(history.body.timeline[3].requestId).toBe(requestId);
    expect(history.body.timeline.at(-1).detail.reason).toMatch(/^ADMIN_STOP by /);
    expect(history.body.requests.map((r: { id: string }) => r.id)).toEqual([requestId]);
    expect(JSON.stringify(history.body.requests)).not.toContain('outputs');
    const names = history.body.workflow.events.map((e: { type: string; name: string }) => `${e.type} ${e.name}`);
    expect(names).toEqual(
      expect.arrayContaining([
        'ACTIVITY_TASK_SCHEDULED startInstance',
        'ACTIVITY_TASK_COMPLETED startInstance',
        'ACTIVITY_TASK_SCHEDULED awaitInstanceReady',
        'WORKFLOW_EXECUTION_SIGNALED stopPoolInstance',
        'ACTIVITY_TASK_SCHEDULED stopInstance',
      ]),
    );
    expect(history.body.workflow.id).toBe(`pool-echo-admin.${stack.taskQueue}`);
  });

  it('404 for an unknown instance, 400 for a malformed id', async () => {
    expect((await call('GET', `/api/admin/instances/${randomUUID()}`, tokens.admin)).body.error.code).toBe(
      'INSTANCE_NOT_FOUND',
    );
    expect((await call('POST', '/api/admin/instances/nope/stop', tokens.admin)).body.error.code).toBe(
      'INVALID_INSTANCE_ID',
    );
  });
});

describe('admin: replacing an instance', () => {
  it('moves it without interrupting a request: a replacement takes new requests, the old one stops after its last', async () => {
    await addTestModel(stack.db, { id: 'echo-replace', keepWarmSeconds: 600, maxInstances: 1 });
    await completedRequest(tokens.user, 'echo-replace', echoInput);
    const [old] = (
      await eventually(
        () => call('GET', '/api/admin/instances?model=echo-replace', tokens.admin),
        (r) => r.body.instances?.length === 1,
        10_000,
      )
    ).body.instances;
    const servedBy = (requestId: string) =>
      stack.db.oneFirst(
        sql.type(
          z.object({ instanceId: z.string() }),
        )`SELECT instance_id AS "instanceId" FROM instance_leases WHERE request_id = ${requestId}`,
      );

    // A slow request holds the old instance while it is replaced.
    const slow = (
      await stack.api.submit(tokens.user, {
        model: 'echo-replace',
        input: { ...echoInput, parameters: { delay_ms: 2_000 } },
      })
    ).body.id as string;
    await eventually(
      () =>
        stack.db.maybeOneFirst(
          sql.type(
            z.object({ instanceId: z.string() }),
          )`SELECT instance_id AS "instanceId" FROM instance_leases WHERE request_id = ${slow}`,
        ),
      (id) => id === old.id,
      10_000,
    );
    const replace = await call('POST', `/api/admin/instances/${old.id}/replace`, tokens.admin);
    expect([replace.status, replace.body]).toEqual([202, { id: old.id, replacing: true }]);

    // A request after that goes to the replacement, even with max_instances 1 (the old one is on its way out).
    const next = await completedRequest(tokens.user, 'echo-replace', echoInput);
    expect(await servedBy(next)).not.toBe(old.id);
    const { request } = await stack.api.waitUntilFinal(tokens.user, slow);
    expect(request.status).toBe('COMPLETE');

    const oldLog = await eventually(
      () =>
        stack.db.any(
          sql.type(
            z.object({ event: z.string(), detail: z.record(z.string(), z.unknown()) }),
          )`SELECT event, detail FROM model_instance_log WHERE instance_id = ${old.id} ORDER BY id`,
        ),
      (log) => log.some((e) => e.event === 'TERMINATED'),
      10_000,
    );
    expect(oldLog.find((e) => e.event === 'STOPPING')!.detail).toMatchObject({ reason: 'REPLACED' });
    expect(await stack.db.oneFirst(sql.unsafe`SELECT action FROM audit_log WHERE target_id = ${old.id}`)).toBe(
      'INSTANCE_REPLACE',
    );
    expect((await call('POST', `/api/admin/instances/${old.id}/replace`, tokens.admin)).body.error).toMatchObject({
      code: 'INSTANCE_NOT_RUNNING',
      message: expect.stringContaining('nothing to replace'),
    });
  });
});
