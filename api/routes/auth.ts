import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import {
  createUserSession,
  findSessionOfRefreshToken,
  lockRefreshToken,
  revokeSession,
  rotateRefreshToken,
  type IssuedTokens,
} from '../../db/sessions';
import { DuplicateAccountError, findUserForLogin, findUserView, insertUser } from '../../db/users';
import { loginBody, loginIdentifier, signupBody, signupIssues, type UserView } from '../../domain/accounts';
import { decideRefresh } from '../../domain/refresh-decision';
import { accessCookie, refreshCookie, requireSession, signedInUser, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';
import { ApiError } from '../errors';
import type { LoginRateLimit } from '../login-rate-limit';
import { hashPassword, isCommonPassword, verifyPassword } from '../passwords';
import type { SessionCache } from '../session-cache';
import { hashToken, looksLikeToken, newToken } from '../session-tokens';
import { requireJsonBody } from './json-body';

export type TokenSettings = {
  accessTtlSeconds: number;
  refreshTtlSeconds: number;
  reuseGraceSeconds: number;
  secureCookies: boolean;
};

/** The browser asks for cookies only (`X-Podium-Token-Transport: cookie`): its script never sees a token. */
const cookieOnly = (ctx: Context) => ctx.get('x-podium-token-transport').toLowerCase() === 'cookie';
const refreshBody = z.strictObject({ refreshToken: z.string().optional() });

export function authRoutes(deps: {
  pool: DatabasePool;
  authenticate: Authenticate;
  cache: SessionCache | null;
  loginRateLimit: LoginRateLimit;
  tokens: TokenSettings;
}) {
  const { pool, tokens } = deps;
  const router = new Router<AuthState>();

  function newTokenPair() {
    const access = newToken('access');
    const refresh = newToken('refresh');
    return {
      access,
      refresh,
      hashes: {
        access: { hash: hashToken(access), ttlSeconds: tokens.accessTtlSeconds },
        refresh: { hash: hashToken(refresh), ttlSeconds: tokens.refreshTtlSeconds },
      },
    };
  }

  function signIn(ctx: Context, user: UserView, pair: ReturnType<typeof newTokenPair>, issued: IssuedTokens) {
    const cookie = { httpOnly: true, sameSite: 'strict' as const, secure: tokens.secureCookies, overwrite: true };
    // The access cookie lives as long as the refresh token, so that an expired access token
    // still reaches the server, which answers ACCESS_TOKEN_EXPIRED (refresh) rather than
    // AUTH_REQUIRED (sign in).
    ctx.cookies.set(accessCookie, pair.access, { ...cookie, path: '/api', expires: new Date(issued.refreshExpiresAt) });
    ctx.cookies.set(refreshCookie, pair.refresh, { ...cookie, path: '/api/auth', expires: new Date(issued.refreshExpiresAt) });
    ctx.body = {
      user,
      accessTokenExpiresAt: new Date(issued.accessExpiresAt).toISOString(),
      refreshTokenExpiresAt: new Date(issued.refreshExpiresAt).toISOString(),
      ...(cookieOnly(ctx) ? {} : { accessToken: pair.access, refreshToken: pair.refresh }),
    };
  }

  function clearCookies(ctx: Context) {
    ctx.cookies.set(accessCookie, null, { path: '/api' });
    ctx.cookies.set(refreshCookie, null, { path: '/api/auth' });
  }

  function endedSession(ctx: Context, code: string, message: string): never {
    clearCookies(ctx);
    throw new ApiError(401, code, message);
  }

  router.post('/api/auth/signup', async (ctx) => {
    requireJsonBody(ctx);
    const body = signupBody.parse(ctx.request.body);
    const issues = signupIssues(body, isCommonPassword);
    if (issues.length > 0) throw new ApiError(400, issues[0]!.code, issues[0]!.message, { issues });

    const passwordHash = await hashPassword(body.password);
    const userId = randomUUID();
    const pair = newTokenPair();
    try {
      const issued = await pool.transaction(async (transaction) => {
        await insertUser(transaction, { id: userId, username: body.username, email: body.email, passwordHash });
        return createUserSession(transaction, { id: randomUUID(), userId, ...pair.hashes });
      });
      ctx.status = 201;
      signIn(ctx, { id: userId, username: body.username, email: body.email, permissions: [] }, pair, issued);
    } catch (error) {
      if (!(error instanceof DuplicateAccountError)) throw error;
      throw error.field === 'email'
        ? new ApiError(409, 'EMAIL_TAKEN', 'An account with this email address exists; sign in instead')
        : new ApiError(409, 'USERNAME_TAKEN', `The username "${body.username}" is taken; choose another`);
    }
  });

  router.post('/api/auth/login', async (ctx) => {
    requireJsonBody(ctx);
    const body = loginBody.parse(ctx.request.body);
    const identifier = loginIdentifier(body);
    const tooMany = (seconds: number): never => {
      ctx.set('Retry-After', String(seconds));
      throw new ApiError(429, 'TOO_MANY_ATTEMPTS', `Too many failed sign-ins; try again in ${seconds} s`, { retryAfterSeconds: seconds });
    };

    const wait = await deps.loginRateLimit.retryAfterSeconds(identifier, ctx.ip);
    if (wait > 0) tooMany(wait);
    const user = await findUserForLogin(pool, identifier);
    if (!(await verifyPassword(user?.passwordHash ?? null, body.password)) || !user) {
      const blocked = await deps.loginRateLimit.recordFailure(identifier, ctx.ip);
      if (blocked > 0) tooMany(blocked);
      throw new ApiError(401, 'INVALID_CREDENTIALS', 'The username, email or password is not right');
    }
    await deps.loginRateLimit.recordSuccess(identifier);

    const pair = newTokenPair();
    const issued = await createUserSession(pool, { id: randomUUID(), userId: user.id, ...pair.hashes });
    signIn(ctx, (await findUserView(pool, user.id))!, pair, issued);
  });

  router.post('/api/auth/refresh', async (ctx) => {
    const body = refreshBody.parse(ctx.request.body ?? {});
    const presented = body.refreshToken ?? ctx.cookies.get(refreshCookie);
    if (!presented) throw new ApiError(401, 'REFRESH_TOKEN_REQUIRED', 'Send the refresh token (JSON refreshToken, or the cookie)');
    if (!looksLikeToken(presented, 'refresh')) endedSession(ctx, 'INVALID_REFRESH_TOKEN', 'This is not a refresh token of ours');

    const usedHash = hashToken(presented);
    const pair = newTokenPair();
    const result = await pool.transaction(async (transaction) => {
      const state = await lockRefreshToken(transaction, usedHash);
      if (!state) return { outcome: 'UNKNOWN' as const };
      const decision = decideRefresh(state, Date.now(), tokens.reuseGraceSeconds * 1000);
      if (decision.outcome === 'ROTATE') {
        const issued = await rotateRefreshToken(transaction, { sessionId: state.sessionId, usedHash, ...pair.hashes });
        return { outcome: decision.outcome, issued, userId: state.userId };
      }
      if (decision.outcome === 'REUSED_REVOKE_FAMILY') await revokeSession(transaction, state.sessionId, 'refresh token reused');
      return { outcome: decision.outcome, sessionId: state.sessionId };
    });

    switch (result.outcome) {
      case 'ROTATE':
        return signIn(ctx, (await findUserView(pool, result.userId))!, pair, result.issued);
      case 'ALREADY_ROTATED':
        throw new ApiError(409, 'REFRESH_ALREADY_ROTATED', 'This refresh token was just used; retry with the newest tokens');
      case 'REUSED_REVOKE_FAMILY':
        deps.cache?.forgetSession(result.sessionId);
        return endedSession(ctx, 'REFRESH_TOKEN_REUSED', 'This refresh token was used before, so the session has been ended; sign in again');
      case 'EXPIRED':
        return endedSession(ctx, 'SESSION_EXPIRED', 'The session has expired; sign in again');
      case 'REVOKED':
        return endedSession(ctx, 'SESSION_REVOKED', 'The session has ended; sign in again');
      case 'UNKNOWN':
        return endedSession(ctx, 'INVALID_REFRESH_TOKEN', 'Unknown refresh token; sign in again');
    }
  });

  /** Ends the session of the refresh token (body or cookie), or else of the access token. */
  router.post('/api/auth/logout', async (ctx) => {
    const body = refreshBody.parse(ctx.request.body ?? {});
    const refresh = body.refreshToken ?? ctx.cookies.get(refreshCookie);
    let sessionId = refresh && looksLikeToken(refresh, 'refresh') ? await findSessionOfRefreshToken(pool, hashToken(refresh)) : null;
    if (!sessionId) {
      await requireSession(deps.authenticate)(ctx, async () => undefined);
      sessionId = ctx.state.principal!.sessionId;
    }
    await revokeSession(pool, sessionId, 'logout');
    deps.cache?.forgetSession(sessionId);
    clearCookies(ctx);
    ctx.status = 204;
  });

  router.get('/api/auth/me', requireSession(deps.authenticate), async (ctx) => {
    const { userId: id, username, email, permissions } = signedInUser(ctx);
    ctx.body = { user: { id, username, email, permissions } satisfies UserView };
  });

  return router;
}
