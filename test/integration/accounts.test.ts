import { createHash, randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { Pool } from 'pg';
import { sql } from 'slonik';
import { z } from 'zod';
import { LoginRateLimit } from '../../api/auth/login-rate-limit';
import { withSearchPath } from '../../db/connection-pool';
import { useTestStack } from '../support/test-stack';

const stack = useTestStack();

const countUsers = () => stack.db.oneFirst(sql.unsafe`SELECT count(*)::int AS count FROM users`);
const password = 'a long passphrase 42';
let counter = 0;
const uniqueName = (prefix = 'user') => `${prefix}${Date.now().toString(36)}${counter++}`;

describe('signup', () => {
  it('creates the account, signs it in and stores only hashes', async () => {
    const username = uniqueName('Ada');
    const response = await stack.api.call('POST', '/api/auth/signup', {
      json: { username, email: `${username}@Example.com`, password },
    });
    expect(response.status).toBe(201);
    expect(response.body.user).toEqual({
      id: expect.any(String),
      username,
      email: `${username}@Example.com`,
      permissions: [],
    });
    expect(response.body.accessToken).toMatch(/^pda_/);
    expect(response.body.refreshToken).toMatch(/^pdr_/);
    const cookies = response.headers.getSetCookie();
    expect(cookies.find((c) => c.startsWith('podium_access='))).toMatch(/path=\/api;.*samesite=strict; httponly/i);
    expect(cookies.find((c) => c.startsWith('podium_refresh='))).toMatch(
      /path=\/api\/auth;.*samesite=strict; httponly/i,
    );

    const stored = await stack.db.one(sql.type(z.object({ passwordHash: z.string() }))`
      SELECT password_hash AS "passwordHash" FROM users WHERE id = ${response.body.user.id}`);
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/);
    const tokenHashes = await stack.db.anyFirst(sql.type(z.object({ hash: z.string() }))`
      SELECT encode(t.token_hash, 'hex') AS hash FROM session_tokens t JOIN sessions s ON s.id = t.session_id
       WHERE s.user_id = ${response.body.user.id} ORDER BY t.kind`);
    const sha256 = (token: string) => createHash('sha256').update(token).digest('hex');
    expect(tokenHashes).toEqual([sha256(response.body.accessToken), sha256(response.body.refreshToken)]);
  });

  it.each([
    [{ username: 'ab' }, 'USERNAME_LENGTH'],
    [{ username: 'with space' }, 'USERNAME_CHARACTERS'],
    [{ email: '' }, 'EMAIL_REQUIRED'],
    [{ email: 'not-an-email' }, 'EMAIL_INVALID'],
    [{ password: 'short' }, 'PASSWORD_TOO_SHORT'],
    [{ password: 'x'.repeat(129) }, 'PASSWORD_TOO_LONG'],
    [{ username: 'samepassword', password: 'SamePassword' }, 'PASSWORD_IS_USERNAME'],
    [{ email: 'same@example.com', password: 'same@example.com' }, 'PASSWORD_IS_EMAIL'],
    [{ password: 'qwertyuiop' }, 'PASSWORD_TOO_COMMON'],
    [{ password: 'Password123' }, 'PASSWORD_TOO_COMMON'],
  ])('%j → 400 %s, nothing stored', async (override, code) => {
    const before = await countUsers();
    const response = await stack.api.call('POST', '/api/auth/signup', {
      json: { username: uniqueName(), email: `${uniqueName()}@example.com`, password, ...override },
    });
    expect(response.status).toBe(400);
    expect(response.body.error).toEqual({
      code,
      message: expect.any(String),
      details: { issues: [expect.objectContaining({ code })] },
    });
    expect(await countUsers()).toBe(before);
  });

  it('needs all three fields, as JSON', async () => {
    const missing = await stack.api.call('POST', '/api/auth/signup', { json: { username: uniqueName(), password } });
    expect(missing.status).toBe(400);
    expect(missing.body.error.code).toBe('VALIDATION_FAILED');
    expect(missing.body.error.details.issues[0].path).toEqual(['email']);
    const form = await stack.api.call('POST', '/api/auth/signup', {
      body: 'username=x',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
  });

  it('refuses a username or email taken in any letter case (409), storing nothing', async () => {
    const username = uniqueName('Grace');
    await stack.api.signUp({ username, email: `${username}@example.com` });
    const before = await countUsers();
    const sameName = await stack.api.call('POST', '/api/auth/signup', {
      json: { username: username.toUpperCase(), email: `${uniqueName()}@example.com`, password },
    });
    expect(sameName.status).toBe(409);
    expect(sameName.body.error.code).toBe('USERNAME_TAKEN');
    const sameEmail = await stack.api.call('POST', '/api/auth/signup', {
      json: { username: uniqueName(), email: `${username.toUpperCase()}@EXAMPLE.com`, password },
    });
    expect(sameEmail.status).toBe(409);
    expect(sameEmail.body.error.code).toBe('EMAIL_TAKEN');
    expect(await countUsers()).toBe(before);
  });
});

describe('login', () => {
  it('signs in by username or email, in any case, with the permissions', async () => {
    const username = uniqueName('Linus');
    await stack.api.signUp({ username });
    for (const identifier of [
      { username },
      { username: username.toUpperCase() },
      { email: `${username}@example.com` },
    ]) {
      const response = await stack.api.call('POST', '/api/auth/login', { json: { ...identifier, password } });
      expect(response.status).toBe(200);
      expect(response.body.user).toMatchObject({ username, permissions: [] });
    }
  });

  it('answers wrong password and unknown account with the same 401', async () => {
    const username = uniqueName();
    await stack.api.signUp({ username });
    const wrong = await stack.api.call('POST', '/api/auth/login', { json: { username, password: 'not the password' } });
    const unknown = await stack.api.call('POST', '/api/auth/login', {
      json: { username: uniqueName('nobody'), password },
    });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.body).toEqual(unknown.body);
    expect(wrong.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('leaves tokens out of the body when the browser asks for cookies only', async () => {
    const username = uniqueName();
    await stack.api.signUp({ username });
    const response = await stack.api.call('POST', '/api/auth/login', {
      json: { username, password },
      headers: { 'x-podium-token-transport': 'cookie' },
    });
    expect(response.status).toBe(200);
    expect(response.body).not.toHaveProperty('accessToken');
    expect(response.body).not.toHaveProperty('refreshToken');
    expect(response.headers.getSetCookie()).toHaveLength(2);
  });
});

describe('sign-in rate limit', () => {
  it('blocks an account from an address after repeated failures there (429 + Retry-After), even with the right password', async () => {
    const instance = await stack.startApiInstance({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_IP: '100',
    });
    const username = uniqueName();
    await instance.api.signUp({ username });
    const attempt = (pw: string) => instance.api.call('POST', '/api/auth/login', { json: { username, password: pw } });
    expect((await attempt('wrong 1')).status).toBe(401);
    expect((await attempt('wrong 2')).status).toBe(401);
    const third = await attempt('wrong 3');
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('TOO_MANY_ATTEMPTS');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    const right = await attempt(password);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it("a stranger's failures block the stranger, not the owner signing in from elsewhere (admins included)", async () => {
    const instance = await stack.startApiInstance({
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_IP: '100',
    });
    const { username } = await stack.signUpAdmin('lockout');
    const from = (ip: string, pw: string) =>
      instance.api.call('POST', '/api/auth/login', {
        json: { username, password: pw },
        headers: { 'x-forwarded-for': ip },
      });
    const stranger = '203.0.113.66';
    for (let i = 0; i < 5; i++) await from(stranger, `guess ${i}`);
    expect((await from(stranger, password)).status).toBe(429);
    const owner = await from('198.51.100.66', password);
    expect(owner.status).toBe(200);
    expect(owner.body.user.permissions).toContain('ADMIN');
    await stack.db.query(sql.unsafe`DELETE FROM login_rate_limits WHERE key LIKE ${`%${stranger}`}`);
  });

  it('blocks a client IP that fails across many accounts', async () => {
    const instance = await stack.startApiInstance({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
      LOGIN_MAX_FAILURES_PER_IP: '4',
    });
    await stack.db.query(sql.unsafe`DELETE FROM login_rate_limits WHERE key LIKE 'ip:%'`);
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) {
      const response = await instance.api.call('POST', '/api/auth/login', {
        json: { username: uniqueName('ghost'), password },
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 401, 429, 429]);
    await stack.db.query(sql.unsafe`DELETE FROM login_rate_limits WHERE key LIKE 'ip:%'`);
  });

  it('an unknown name as long as the schema allows is counted like any other (401, not 500)', async () => {
    const response = await stack.api.call('POST', '/api/auth/login', {
      json: { email: `${'0'.repeat(300)}@example.com`, password },
    });
    expect(response.status).toBe(401);
    expect(response.body.error.code).toBe('INVALID_CREDENTIALS');
  });

  it('counts each guess before it is checked: of parallel guesses, only the allowance is checked', async () => {
    const pool = new Pool({ connectionString: withSearchPath(stack.services.databaseUrl, stack.schema), max: 2 });
    const limiter = new LoginRateLimit(
      { pool, schema: stack.schema },
      { maxFailuresPerAccount: 3, maxFailuresPerIp: 100, windowSeconds: 60 },
    );
    try {
      const account = `user:${randomUUID()}`;
      const attempts = await Promise.all(Array.from({ length: 12 }, () => limiter.attempt(account, '198.51.100.9')));
      expect(attempts.filter((a) => !a.refused)).toHaveLength(3);
      expect(attempts.filter((a) => a.last)).toHaveLength(1);
      expect(attempts.filter((a) => a.refused).every((a) => a.retryAfterSeconds > 0)).toBe(true);
    } finally {
      await stack.db.query(sql.unsafe`DELETE FROM login_rate_limits WHERE key = 'ip:198.51.100.9'`);
      await pool.end();
    }
  });

  it('one count per account, whether it is named by username or by email', async () => {
    const instance = await stack.startApiInstance({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_IP: '100',
    });
    const username = uniqueName();
    const email = `${username}@example.com`;
    await instance.api.signUp({ username, email });
    const login = (identifier: object) =>
      instance.api.call('POST', '/api/auth/login', { json: { ...identifier, password: 'not the password' } });
    expect((await login({ username })).status).toBe(401);
    expect((await login({ email })).status).toBe(401);
    expect((await login({ username: username.toUpperCase() })).status).toBe(429);
  });

  it('behind a trusted proxy, the address is the one the proxy saw, not what the client wrote', async () => {
    const instance = await stack.startApiInstance({
      TRUST_PROXY: 'true',
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '100',
      LOGIN_MAX_FAILURES_PER_IP: '3',
    });
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      // Each guess claims another address in front; the proxy appended the same real one.
      const headers = { 'x-forwarded-for': `10.0.0.${i}, 203.0.113.7` };
      const response = await instance.api.call('POST', '/api/auth/login', {
        json: { username: uniqueName('spoof'), password },
        headers,
      });
      statuses.push(response.status);
    }
    expect(statuses).toEqual([401, 401, 429, 429]);
    await stack.db.query(sql.unsafe`DELETE FROM login_rate_limits WHERE key = 'ip:203.0.113.7'`);
  });

  it('forgets an account’s failures after a successful sign-in', async () => {
    const instance = await stack.startApiInstance({
      LOGIN_MAX_FAILURES_PER_ACCOUNT: '3',
      LOGIN_MAX_FAILURES_PER_IP: '100',
    });
    const username = uniqueName();
    await instance.api.signUp({ username });
    const attempt = (pw: string) => instance.api.call('POST', '/api/auth/login', { json: { username, password: pw } });
    await attempt('wrong');
    await attempt('wrong');
    expect((await attempt(password)).status).toBe(200);
    expect((await attempt('wrong')).status).toBe(401);
    expect((await attempt('wrong')).status).toBe(401);
  });
});

describe('creation limits per client address', () => {
  it('anonymous sessions: so many an hour from one address (429 + Retry-After), others unaffected', async () => {
    const instance = await stack.startApiInstance({ TRUST_PROXY: 'true', ANONYMOUS_SESSIONS_PER_IP_PER_HOUR: '2' });
    const from = (ip: string) =>
      instance.api.call('POST', '/api/sessions/anonymous', { headers: { 'x-forwarded-for': ip } });
    expect((await from('198.51.100.21')).status).toBe(201);
    expect((await from('198.51.100.21')).status).toBe(201);
    const third = await from('198.51.100.21');
    expect(third.status).toBe(429);
    expect(third.body.error.code).toBe('TOO_MANY_SESSIONS');
    expect(Number(third.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await from('198.51.100.22')).status).toBe(201);
  });

  it('sign-ups: so many an hour from one address, refused before any password is hashed', async () => {
    const instance = await stack.startApiInstance({ TRUST_PROXY: 'true', SIGNUPS_PER_IP_PER_HOUR: '1' });
    const signUp = (ip: string, chosen = password) =>
      instance.api.call('POST', '/api/auth/signup', {
        json: { username: uniqueName('limited'), email: `${uniqueName('limited')}@example.com`, password: chosen },
        headers: { 'x-forwarded-for': ip },
      });
    // A sign-up refused for its input does not count: the next one from the address still may.
    expect((await signUp('198.51.100.31', 'short')).status).toBe(400);
    expect((await signUp('198.51.100.31')).status).toBe(201);
    const second = await signUp('198.51.100.31');
    expect(second.status).toBe(429);
    expect(second.body.error.code).toBe('TOO_MANY_SIGNUPS');
    expect((await signUp('198.51.100.32')).status).toBe(201);
  });
});

describe('refresh, logout, me', () => {
  it('rotates the refresh token on every refresh', async () => {
    const { refreshToken } = await stack.api.signUp({ username: uniqueName() });
    const first = await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(refreshToken);
    expect(first.body.user.permissions).toEqual([]);
    const second = await stack.api.call('POST', '/api/auth/refresh', {
      json: { refreshToken: first.body.refreshToken },
    });
    expect(second.status).toBe(200);
    const me = await stack.api.call('GET', '/api/auth/me', { token: second.body.accessToken });
    expect(me.status).toBe(200);
  });

  it('takes a reuse moments later for a race between tabs (409), without ending the session', async () => {
    const { refreshToken } = await stack.api.signUp({ username: uniqueName() });
    const rotated = await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    const again = await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('REFRESH_ALREADY_ROTATED');
    expect((await stack.api.call('GET', '/api/auth/me', { token: rotated.body.accessToken })).status).toBe(200);
  });

  it('ends the whole session family when an old refresh token is used again', async () => {
    const instance = await stack.startApiInstance({ REFRESH_REUSE_GRACE_SECONDS: '0' });
    const { refreshToken } = await instance.api.signUp({ username: uniqueName() });
    const rotated = await instance.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect((await instance.api.call('GET', '/api/auth/me', { token: rotated.body.accessToken })).status).toBe(200);
    await sleep(5);
    const stolen = await instance.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect(stolen.status).toBe(401);
    expect(stolen.body.error.code).toBe('REFRESH_TOKEN_REUSED');
    const legit = await instance.api.call('POST', '/api/auth/refresh', {
      json: { refreshToken: rotated.body.refreshToken },
    });
    expect(legit.status).toBe(401);
    expect(legit.body.error.code).toBe('SESSION_REVOKED');
    const access = await instance.api.call('GET', '/api/auth/me', { token: rotated.body.accessToken });
    expect(access.status).toBe(401);
    expect(access.body.error.code).toBe('INVALID_TOKEN');
  });

  it('logout revokes the access and the refresh token', async () => {
    const { accessToken, refreshToken } = await stack.api.signUp({ username: uniqueName() });
    expect((await stack.api.call('GET', '/api/auth/me', { token: accessToken })).status).toBe(200);
    const logout = await stack.api.call('POST', '/api/auth/logout', { token: accessToken });
    expect(logout.status).toBe(204);
    expect((await stack.api.call('GET', '/api/auth/me', { token: accessToken })).body.error.code).toBe('INVALID_TOKEN');
    const refresh = await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect(refresh.status).toBe(401);
    expect(refresh.body.error.code).toBe('SESSION_REVOKED');
  });

  it('tells an expired access token apart, so that clients know to refresh', async () => {
    const instance = await stack.startApiInstance({ ACCESS_TOKEN_TTL_SECONDS: '1' });
    const { accessToken, refreshToken } = await instance.api.signUp({ username: uniqueName() });
    await sleep(1_100);
    const expired = await instance.api.call('GET', '/api/auth/me', { token: accessToken });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe('ACCESS_TOKEN_EXPIRED');
    const refreshed = await instance.api.call('POST', '/api/auth/refresh', { json: { refreshToken } });
    expect((await instance.api.call('GET', '/api/auth/me', { token: refreshed.body.accessToken })).status).toBe(200);
  });

  it('refresh without a token, or with garbage, is a 401 with a code', async () => {
    expect((await stack.api.call('POST', '/api/auth/refresh', { json: {} })).body.error.code).toBe(
      'REFRESH_TOKEN_REQUIRED',
    );
    const garbage = await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken: 'pdr_nope' } });
    expect(garbage.status).toBe(401);
    expect(garbage.body.error.code).toBe('INVALID_REFRESH_TOKEN');
  });
});

describe('permissions', () => {
  async function principals() {
    const anonymous = await stack.api.anonymousToken();
    const user = (await stack.api.signUp({ username: uniqueName('plain') })).accessToken;
    const adminAccount = await stack.api.signUp({ username: uniqueName('boss') });
    await stack.db.query(sql.unsafe`
      INSERT INTO user_permissions (user_id, permission, granted_by) VALUES (${adminAccount.user.id}, 'ADMIN', 'test')`);
    const admin = (await stack.api.login(adminAccount.user.username)).accessToken;
    return { none: undefined, anonymous, user, admin };
  }

  it.each([
    ['GET', '/api/auth/me', { none: 401, anonymous: 403, user: 200, admin: 200 }],
    ['GET', '/api/admin/users', { none: 401, anonymous: 403, user: 403, admin: 200 }],
    ['GET', '/api/requests', { none: 401, anonymous: 200, user: 200, admin: 200 }],
  ] as const)('%s %s', async (method, path, expected) => {
    const tokens = await principals();
    const actual: Record<string, number> = {};
    for (const [who, token] of Object.entries(tokens))
      actual[who] = (await stack.api.call(method, path, { token })).status;
    expect(actual).toEqual(expected);
  });

  it('login carries ADMIN; a grant shows up at once despite the cache', async () => {
    const account = await stack.api.signUp({ username: uniqueName('promoted') });
    expect((await stack.api.call('GET', '/api/auth/me', { token: account.accessToken })).body.user.permissions).toEqual(
      [],
    );
    const { grantPermission } = await import('../../db/users');
    await grantPermission(stack.db, { userId: account.user.id, permission: 'ADMIN', grantedBy: 'test' });
    let permissions: string[] = [];
    for (let i = 0; i < 50 && permissions.length === 0; i++) {
      permissions = (await stack.api.call('GET', '/api/auth/me', { token: account.accessToken })).body.user.permissions;
      if (permissions.length === 0) await sleep(20);
    }
    expect(permissions).toEqual(['ADMIN']);
    expect((await stack.api.login(account.user.username)).user.permissions).toEqual(['ADMIN']);
  });

  it('lists users for admins, paginated', async () => {
    const { admin } = await principals();
    const page = await stack.api.call('GET', '/api/admin/users?limit=2', { token: admin });
    expect(page.status).toBe(200);
    expect(page.body.users).toHaveLength(2);
    expect(page.body.users[0]).not.toHaveProperty('passwordHash');
    const next = await stack.api.call('GET', `/api/admin/users?limit=2&after=${page.body.nextCursor}`, {
      token: admin,
    });
    expect(next.body.users[0].username.toLowerCase() > page.body.users[1].username.toLowerCase()).toBe(true);
  });
});

describe('account controls for admins', () => {
  const userAudit = (userId: string) =>
    stack.db.any(sql.type(z.object({ action: z.string(), reason: z.string() }))`
      SELECT action, detail->>'reason' AS reason FROM audit_log WHERE target_type = 'user' AND target_id = ${userId} AND action LIKE 'USER_%' ORDER BY id`);
  const act = (token: string, path: string, reason: unknown = 'lost laptop') =>
    stack.api.call('POST', path, { token, json: { reason } });

  it("ends all of a user's sessions at once: their tokens stop working, their refresh too", async () => {
    const admin = (await stack.signUpAdmin('ender')).token;
    const username = uniqueName('ended');
    const first = await stack.api.signUp({ username });
    const second = await stack.api.login(username);
    const ended = await act(admin, `/api/admin/users/${first.user.id}/sessions/end`);
    expect(ended).toMatchObject({ status: 200, body: { endedSessions: 2 } });
    for (const token of [first.accessToken, second.accessToken])
      expect((await stack.api.call('GET', '/api/auth/me', { token })).body.error.code).toBe('INVALID_TOKEN');
    expect(
      (await stack.api.call('POST', '/api/auth/refresh', { json: { refreshToken: second.refreshToken } })).body.error
        .code,
    ).toBe('SESSION_REVOKED');
    expect(await userAudit(first.user.id)).toEqual([{ action: 'USER_SESSIONS_END', reason: 'lost laptop' }]);
    // The user may sign in again.
    expect((await stack.api.login(username)).user.username).toBe(username);
  });

  it('disables an account: it cannot sign in (said only to whoever knows the password), its sessions end; enabled, it can', async () => {
    const admin = (await stack.signUpAdmin('disabler')).token;
    const username = uniqueName('disabled');
    const account = await stack.api.signUp({ username });
    expect(await act(admin, `/api/admin/users/${account.user.id}/disable`, 'abuse')).toMatchObject({
      status: 200,
      body: { disabled: true, endedSessions: 1 },
    });
    expect((await stack.api.call('GET', '/api/auth/me', { token: account.accessToken })).status).toBe(401);
    const refused = await stack.api.call('POST', '/api/auth/login', { json: { username, password } });
    expect(refused.status).toBe(403);
    expect(refused.body.error.code).toBe('ACCOUNT_DISABLED');
    expect(
      (await stack.api.call('POST', '/api/auth/login', { json: { username, password: 'not the password' } })).body.error
        .code,
    ).toBe('INVALID_CREDENTIALS');
    const listed = await stack.api.call('GET', `/api/admin/users?after=${username.slice(0, -1)}&limit=100`, {
      token: admin,
    });
    expect(listed.body.users.find((user: { username: string }) => user.username === username).disabledAt).toEqual(
      expect.any(String),
    );

    expect(await act(admin, `/api/admin/users/${account.user.id}/enable`, 'appeal granted')).toMatchObject({
      status: 200,
      body: { disabled: false },
    });
    expect((await stack.api.login(username)).user.username).toBe(username);
    expect(await userAudit(account.user.id)).toEqual([
      { action: 'USER_DISABLE', reason: 'abuse' },
      { action: 'USER_ENABLE', reason: 'appeal granted' },
    ]);
  });

  it('refuses what it cannot do, with a code, and audits nothing', async () => {
    const { token: admin, username } = await stack.signUpAdmin('careful');
    const self = (await stack.api.call('GET', '/api/auth/me', { token: admin })).body.user.id as string;
    const user = await stack.api.signUp({ username: uniqueName('bystander') });
    expect((await act(admin, `/api/admin/users/${self}/disable`)).body.error.code).toBe('CANNOT_DISABLE_SELF');
    expect((await act(admin, `/api/admin/users/${randomUUID()}/disable`)).body.error.code).toBe('USER_NOT_FOUND');
    expect((await act(admin, `/api/admin/users/${randomUUID()}/sessions/end`)).body.error.code).toBe('USER_NOT_FOUND');
    expect((await act(admin, '/api/admin/users/not-a-uuid/disable')).body.error.code).toBe('INVALID_USER_ID');
    expect((await act(admin, `/api/admin/users/${user.user.id}/disable`, '')).body.error.code).toBe(
      'VALIDATION_FAILED',
    );
    expect((await act(user.accessToken, `/api/admin/users/${self}/disable`)).status).toBe(403);
    expect(await userAudit(self)).toEqual([]);
    expect(await userAudit(user.user.id)).toEqual([]);
    expect((await stack.api.login(username)).user.username).toBe(username);
  });
});

describe('session lifetime', () => {
  it('ends a session at its absolute lifetime, however often it is refreshed', async () => {
    const instance = await stack.startApiInstance({ SESSION_MAX_LIFETIME_SECONDS: '3' });
    const username = uniqueName('brief');
    await instance.api.signUp({ username });
    const signedIn = await instance.api.call('POST', '/api/auth/login', { json: { username, password } });
    const refreshed = await instance.api.call('POST', '/api/auth/refresh', {
      json: { refreshToken: signedIn.body.refreshToken },
    });
    expect(refreshed.status).toBe(200);
    // The new refresh token lives no longer than the session: not the 30 days of its own lifetime.
    expect(Date.parse(refreshed.body.refreshTokenExpiresAt) - Date.now()).toBeLessThanOrEqual(3_000);
    await sleep(3_100);
    const ended = await instance.api.call('POST', '/api/auth/refresh', {
      json: { refreshToken: refreshed.body.refreshToken },
    });
    expect(ended.status).toBe(401);
    expect(ended.body.error.code).toBe('SESSION_EXPIRED');
  });
});

describe('whose requests', () => {
  it('a signed-in user’s requests follow the user across sessions, and nobody else sees them', async () => {
    const username = uniqueName();
    const first = await stack.api.signUp({ username });
    const submitted = await stack.api.submit(first.accessToken, {
      model: 'echo',
      input: { inputs: [{ name: 'x', shape: [1], datatype: 'INT32', data: [7] }] },
    });
    expect(submitted.status).toBe(202);
    const second = await stack.api.login(username);
    const list = await stack.api.call('GET', '/api/requests', { token: second.accessToken });
    expect(list.body.requests.map((r: { id: string }) => r.id)).toEqual([submitted.body.id]);
    await stack.api.waitUntilFinal(second.accessToken, submitted.body.id);

    const anonymous = await stack.api.anonymousToken();
    expect((await stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token: anonymous })).status).toBe(404);
    const other = await stack.api.signUp({ username: uniqueName() });
    expect(
      (await stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token: other.accessToken })).status,
    ).toBe(404);
  });
});
