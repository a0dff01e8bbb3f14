import { sql } from 'slonik';
import { z } from 'zod';
import { echoInput, startTestStack, type TestStack } from '../support/test-stack';

let stack: TestStack;
let admin: string;
beforeAll(async () => {
  stack = await startTestStack();
  admin = (await stack.signUpAdmin()).token;
});
afterAll(async () => {
  await stack?.stop();
});

const put = (id: string, json: unknown, token = admin) => stack.api.call('PUT', `/api/admin/models/${id}`, { token, json });
const echoLike = { displayName: 'Echo, mine', localCommand: ['node', 'models/echo/server.ts'], containerImage: 'ghcr.io/podium/model-echo:0.1.0' };
const auditActions = (id: string) =>
  stack.db.anyFirst(sql.type(z.object({ action: z.string() }))`
    SELECT action FROM audit_log WHERE target_type = 'model' AND target_id = ${id} ORDER BY id`);

describe('the model catalog, managed by admins', () => {
  it('registers a model with sensible defaults, which serves its first request with no restart of anything', async () => {
    const created = await put('my-echo', echoLike);
    expect(created.status).toBe(201);
    expect(created.body.model).toMatchObject({
      id: 'my-echo',
      servedModelName: 'my-echo',
      keepWarmSeconds: 60,
      minInstances: 0,
      maxInstances: 1,
      maxConcurrency: 1,
      startupTimeoutSeconds: 60,
      requestTimeoutSeconds: 60,
    });
    expect((await stack.api.call('GET', '/api/admin/models/my-echo', { token: admin })).body.model).toEqual(created.body.model);

    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'my-echo', input: echoInput });
    expect((await stack.api.waitUntilFinal(token, body.id)).request.status).toBe('COMPLETE');
    expect(await auditActions('my-echo')).toEqual(['MODEL_CREATE']);
  });

  it('replaces the settings of a model (200, audited)', async () => {
    await put('my-echo-2', echoLike);
    const replaced = await put('my-echo-2', { ...echoLike, maxConcurrency: 4, servedModelName: 'my-echo-2' });
    expect(replaced.status).toBe(200);
    expect(replaced.body.model).toMatchObject({ maxConcurrency: 4 });
    expect(await auditActions('my-echo-2')).toEqual(['MODEL_CREATE', 'MODEL_UPDATE']);
  });

  it('refuses what it cannot run, field by field, and writes nothing', async () => {
    const refused = await put('bad-model', { ...echoLike, minInstances: 3, maxInstances: 2, keepWarmSeconds: -1, extra: true });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    const paths = refused.body.error.details.issues.map((issue: { path: string[] }) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['keepWarmSeconds', '']));
    expect((await put('Not_An_Id', echoLike)).body.error.code).toBe('INVALID_MODEL_ID');
    expect((await put('min-over-max', { ...echoLike, minInstances: 3, maxInstances: 2 })).body.error.details.issues[0].path).toEqual(['minInstances']);
    expect((await stack.api.call('GET', '/api/admin/models/bad-model', { token: admin })).body.error.code).toBe('MODEL_NOT_FOUND');
    expect(await auditActions('bad-model')).toEqual([]);
  });

  it('is for admins only', async () => {
    const user = await stack.api.signUp({ username: `someone${Date.now()}` });
    expect((await put('sneaky', echoLike, user.accessToken)).status).toBe(403);
    expect((await stack.api.call('GET', '/api/admin/models', { token: user.accessToken })).status).toBe(403);
  });
});
