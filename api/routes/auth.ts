import Router from '@koa/router';
import { clientKey } from '../../domain/client-address';
import type { Context } from 'koa';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { findSessionOfRefreshToken, revokeSession } from '../../db/sessions';
import { loginBody, signupBody, type UserView, userView } from '../../domain/accounts';
import { accessCookie, refreshCookie, requireSession, signedInUser, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { tokenTransportHeader } from '../http/browser-protection';
import { ApiError } from '../http/errors';
import type { CreationLimits } from '../auth/creation-limits';
import type { LoginRateLimit } from '../auth/login-rate-limit';
import type { SessionCache } from '../auth/session-cache';
import { hashToken, looksLikeToken } from '../auth/session-tokens';
import { logIn, refreshSession, signUp, type SignedIn, type TokenSettings } from '../use-cases/accounts';
import { requireJsonBody } from './json-body';
import { json, errors, bearer } from '../http/openapi-parts';

/** The browser asks for cookies only (`X-Podium-Token-Transport: cookie`): its script never sees a token. */
const cookieOnly = (ctx: Context) => ctx.get(tokenTransportHeader).toLowerCase() === 'cookie';
const refreshBody = z.strictObject({ refreshToken: z.string().optional() });

/**
 * Accounts and sessions: sign up, sign in, refresh, sign out, and who is signed in. The browser
 * gets its tokens as httpOnly cookies; other clients get them in the body.
 */
export function authRoutes(deps: {
  db: DatabasePool;
  authenticate: Authenticate;
  cache: SessionCache | null;
  loginRateLimit: LoginRateLimit;
  creationLimits: CreationLimits;
  tokens: TokenSettings;
}) {
  const { db, tokens } = deps;
  const router = new Router<AuthState>();

  /** Sets the session's cookies and answers with the user and the tokens' expiry (and the tokens, unless cookie-only). */
  function signIn(ctx: Context, { user, pair, issued }: SignedIn) {
    const cookie = { httpOnly: true, sameSite: 'strict' as const, secure: tokens.secureCookies, overwrite: true };
    // The access cookie lives as long as the refresh token, so that an expired access token
    // still reaches the server, which answers ACCESS_TOKEN_EXPIRED (refresh) rather than
    // AUTH_REQUIRED (sign in).
    ctx.cookies.set(accessCookie, pair.access, { ...cookie, path: '/api', expires: new Date(issued.refreshExpiresAt) });
    ctx.cookies.set(refreshCookie, pair.refresh, {
      ...cookie,
      path: '/api/auth',
      expires: new Date(issued.refreshExpiresAt),
    });
    ctx.set('Cache-Control', 'no-store'); // tokens: no cache, shared or private, keeps them
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
    const client = clientKey(ctx.ip);
    await deps.creationLimits.take('signup', client);
    const signedIn = await signUp(deps, body).catch(async (error: unknown) => {
      // A sign-up refused for its input (a short password, say) created nothing and hashed
      // nothing: it does not count. A taken name or address does: its password was hashed.
      if (error instanceof ApiError && error.status === 400) await deps.creationLimits.giveBack('signup', client);
      throw error;
    });
    ctx.status = 201;
    signIn(ctx, signedIn);
  });

  router.post('/api/auth/login', async (ctx) => {
    requireJsonBody(ctx);
    signIn(ctx, await logIn(deps, loginBody.parse(ctx.request.body), clientKey(ctx.ip)));
  });

  router.post('/api/auth/refresh', async (ctx) => {
    const body = refreshBody.parse(ctx.request.body ?? {});
    const presented = body.refreshToken ?? ctx.cookies.get(refreshCookie);
    if (!presented)
      throw new ApiError(401, 'REFRESH_TOKEN_REQUIRED', 'Send the refresh token (JSON refreshToken, or the cookie)');
    if (!looksLikeToken(presented, 'refresh'))
      endedSession(ctx, 'INVALID_REFRESH_TOKEN', 'This is not a refresh token of ours');

    const result = await refreshSession(deps, presented);
    switch (result.outcome) {
      case 'ROTATE':
        return signIn(ctx, result.signedIn);
      case 'ALREADY_ROTATED':
        throw new ApiError(
          409,
          'REFRESH_ALREADY_ROTATED',
          'This refresh token was just used; retry with the newest tokens',
        );
      case 'REUSED_REVOKE_FAMILY':
        deps.cache?.forgetSession(result.sessionId);
        return endedSession(
          ctx,
          'REFRESH_TOKEN_REUSED',
          'This refresh token was used before, so the session has been ended; sign in again',
        );
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
    let sessionId =
      refresh && looksLikeToken(refresh, 'refresh') ? await findSessionOfRefreshToken(db, hashToken(refresh)) : null;
    if (!sessionId) {
      await requireSession(deps.authenticate)(ctx, async () => undefined);
      sessionId = ctx.state.principal!.sessionId;
    }
    await revokeSession(db, sessionId, 'logout');
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

const signedIn = z.object({
  user: userView,
  accessToken: z.string().optional().describe('absent when X-Podium-Token-Transport: cookie'),
  accessTokenExpiresAt: z.string(),
  refreshToken: z.string().optional(),
  refreshTokenExpiresAt: z.string(),
});

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const authPaths = {
  '/api/auth/signup': {
    post: {
      summary: 'Create an account (and sign it in). Rule failures have their own codes, e.g. PASSWORD_TOO_COMMON',
      requestBody: { required: true, content: json(signupBody) },
      responses: { 201: { description: 'signed in', content: json(signedIn) }, ...errors(400, 409, 429) },
    },
  },
  '/api/auth/login': {
    post: {
      summary: 'Sign in with a username or an email; sets httpOnly cookies and returns the tokens',
      requestBody: { required: true, content: json(loginBody) },
      responses: { 200: { description: 'signed in', content: json(signedIn) }, ...errors(400, 401, 429) },
    },
  },
  '/api/auth/refresh': {
    post: {
      summary: 'Rotate the refresh token (JSON refreshToken, or the cookie) for new tokens',
      requestBody: { content: json(z.object({ refreshToken: z.string().optional() })) },
      responses: { 200: { description: 'new tokens', content: json(signedIn) }, ...errors(400, 401, 409) },
    },
  },
  '/api/auth/logout': {
    post: {
      summary: 'End the session (its refresh token, or the access token)',
      security: bearer,
      responses: { 204: { description: 'ended' }, ...errors(401) },
    },
  },
  '/api/auth/me': {
    get: {
      summary: 'The signed-in user and permissions',
      security: bearer,
      responses: { 200: { description: 'me', content: json(z.object({ user: userView })) }, ...errors(401, 403) },
    },
  },
};
