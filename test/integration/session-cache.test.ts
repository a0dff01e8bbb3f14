import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { ensureAdminAccount } from '../../infra/admin-account';
import { runPodiumCli } from '../support/podium-cli';
import { readTestEnv } from '../support/services';
import { useTestStack } from '../support/test-stack';

const stack = useTestStack();

let counter = 0;
const uniqueName = (prefix = 'cache') => `${prefix}${Date.now().toString(36)}${counter++}`;
const permissionAuditRow = z.object({ action: z.string(), permission: z.string(), actor: z.string() });
const tokenLookups = (queries: string[]) => queries.filter((query) => query.includes('FROM session_tokens t')).length;

describe('the session cache', () => {
  it('answers a repeated token from memory: the database is asked once', async () => {
    const instance = await stack.startApiInstance();
    const { accessToken } = await instance.api.signUp({ username: uniqueName() });
    const before = tokenLookups(instance.queries);
    for (let i = 0; i < 5; i++)
      expect((await instance.api.call('GET', '/api/auth/me', { token: accessToken })).status).toBe(200);
    expect(tokenLookups(instance.queries) - before).toBe(1);
  });

  it('asks the database on every request when it is off', async () => {
    const instance = await stack.startApiInstance({ SESSION_CACHE_ENABLED: 'false' });
    const { accessToken } = await instance.api.signUp({ username: uniqueName() });
    const before = tokenLookups(instance.queries);
    for (let i = 0; i < 5; i++)
      expect((await instance.api.call('GET', '/api/auth/me', { token: accessToken })).status).toBe(200);
    expect(tokenLookups(instance.queries) - before).toBe(5);
  });

  it('a logout through one API process ends the session in another at once (LISTEN/NOTIFY)', async () => {
    const a = await stack.startApiInstance({ SESSION_CACHE_TTL_SECONDS: '3600' });
    const b = await stack.startApiInstance({ SESSION_CACHE_TTL_SECONDS: '3600' });
    const { accessToken } = await a.api.signUp({ username: uniqueName() });
    expect((await a.api.call('GET', '/api/auth/me', { token: accessToken })).status).toBe(200);
    expect((await b.api.call('GET', '/api/auth/me', { token: accessToken })).status).toBe(200);
    expect(b.cache!.size).toBeGreaterThan(0);

    expect((await a.api.call('POST', '/api/auth/logout', { token: accessToken })).status).toBe(204);
    const loggedOutAt = Date.now();
    let status = 200;
    while (status === 200 && Date.now() - loggedOutAt < 2_000) {
      status = (await b.api.call('GET', '/api/auth/me', { token: accessToken })).status;
      if (status === 200) await sleep(10);
    }
    expect(status).toBe(401);
    expect(Date.now() - loggedOutAt).toBeLessThan(1_000);
  });
});

describe('admins', () => {
  it('the first admin is seeded from the environment; an existing account is never promoted that way', async () => {
    const username = uniqueName('root');
    expect(
      await ensureAdminAccount(stack.db, {
        username,
        email: `${username}@example.com`,
        password: 'seeded admin passphrase',
      }),
    ).toBe('created');
    expect((await stack.api.login(username, 'seeded admin passphrase')).user.permissions).toEqual([
      'ADMIN',
      'MODEL_ADMIN',
    ]);
    await expect(
      ensureAdminAccount(stack.db, { username: uniqueName(), email: 'x@example.com', password: 'short' }),
    ).rejects.toThrow(/at least 10 characters/);

    expect(await ensureAdminAccount(stack.db, { username })).toBe('exists');
    // Someone signed up under the admin's name first: they do not become an admin.
    const squatter = uniqueName('later');
    await stack.api.signUp({ username: squatter });
    expect(
      await ensureAdminAccount(stack.db, {
        username: squatter,
        email: 'x@example.com',
        password: 'seeded admin passphrase',
      }),
    ).toBe('not-admin');
    expect((await stack.api.login(squatter)).user.permissions).toEqual([]);
  });

  it('npm run podium -- users grant/revoke changes permissions, each change audited once', async () => {
    const username = uniqueName('cli');
    await stack.api.signUp({ username });
    const podium = (...args: string[]) =>
      runPodiumCli({ DATABASE_URL: readTestEnv('databaseUrl'), DATABASE_SCHEMA: stack.schema }, ...args);

    expect(await podium('users', 'grant', username, 'ADMIN')).toEqual({
      code: 0,
      output: `granted ADMIN to ${username}\n`,
    });
    expect(await podium('users', 'grant', username, 'model_admin')).toEqual({
      code: 0,
      output: `granted MODEL_ADMIN to ${username}\n`,
    });
    expect(await podium('users', 'grant', username, 'MODEL_ADMIN')).toEqual({
      code: 0,
      output: `granted MODEL_ADMIN to ${username}\n`,
    });
    expect((await stack.api.login(username)).user.permissions).toEqual(['ADMIN', 'MODEL_ADMIN']);
    expect((await podium('users', 'list')).output).toContain(`${username}\t${username}@example.com\tADMIN,MODEL_ADMIN`);
    expect(await podium('users', 'revoke', username, 'ADMIN')).toEqual({
      code: 0,
      output: `revoked ADMIN from ${username}\n`,
    });
    expect(await podium('users', 'revoke', username, 'MODEL_ADMIN')).toEqual({
      code: 0,
      output: `revoked MODEL_ADMIN from ${username}\n`,
    });
    expect((await stack.api.login(username)).user.permissions).toEqual([]);
    const audit = await stack.db.any(sql.type(permissionAuditRow)`
      SELECT action, detail->>'permission' AS permission, detail->>'actor' AS actor
        FROM audit_log WHERE target_type = 'user' AND target_id = (SELECT id::text FROM users WHERE username = ${username}) ORDER BY id`);
    const cli = expect.stringMatching(/^cli:/);
    expect(audit).toEqual([
      { action: 'PERMISSION_GRANT', permission: 'ADMIN', actor: cli },
      { action: 'PERMISSION_GRANT', permission: 'MODEL_ADMIN', actor: cli }, // the second grant changed nothing
      { action: 'PERMISSION_REVOKE', permission: 'ADMIN', actor: cli },
      { action: 'PERMISSION_REVOKE', permission: 'MODEL_ADMIN', actor: cli },
    ]);
    expect(await podium('users', 'grant', 'nobody-at-all', 'ADMIN')).toEqual({
      code: 1,
      output: 'no user "nobody-at-all"\n',
    });
    expect((await podium('users', 'grant', username, 'ROOT')).code).toBe(1);
  });
});
