import type { Context, Middleware } from 'koa';
import type { Permission, Principal } from '../../domain/accounts';
import type { Authenticate } from './authenticator';
import { ApiError } from '../http/errors';
import { hashToken, looksLikeToken } from './session-tokens';

export const accessCookie = 'podium_access';
export const refreshCookie = 'podium_refresh';

export type AuthState = { principal?: Principal };
export type UserPrincipal = Extract<Principal, { kind: 'user' }>;

function presentedAccessToken(ctx: Context): string | null {
  const header = ctx.get('authorization');
  if (header) {
    const [scheme, token] = header.split(' ');
    return scheme?.toLowerCase() === 'bearer' && token ? token : '';
  }
  return ctx.cookies.get(accessCookie) ?? null;
}

function unauthorized(ctx: Context, code: string, message: string): never {
  ctx.set('WWW-Authenticate', code === 'AUTH_REQUIRED' ? 'Bearer' : 'Bearer error="invalid_token"');
  throw new ApiError(401, code, message);
}

/**
 * Requires a live access token (`Authorization: Bearer` or the browser's cookie) and puts its
 * principal on `ctx.state.principal`. `ACCESS_TOKEN_EXPIRED` tells a client to refresh;
 * `INVALID_TOKEN` that refreshing will not help.
 */
export function requireSession(authenticate: Authenticate): Middleware<AuthState> {
  return async (ctx, next) => {
    const token = presentedAccessToken(ctx);
    if (token === null) {
      unauthorized(
        ctx,
        'AUTH_REQUIRED',
        'Sign in, or send Authorization: Bearer <token> (POST /api/sessions/anonymous gives one)',
      );
    }
    const found = looksLikeToken(token, 'access')
      ? await authenticate(hashToken(token))
      : { status: 'INVALID' as const };
    if (found.status === 'EXPIRED')
      unauthorized(ctx, 'ACCESS_TOKEN_EXPIRED', 'The access token has expired; refresh it with POST /api/auth/refresh');
    if (found.status === 'INVALID')
      unauthorized(ctx, 'INVALID_TOKEN', 'The token is unknown, or its session has ended');
    ctx.state.principal = found.principal;
    await next();
  };
}

/**
 * For a long-lived response (an event stream): whether the token that opened it still opens
 * one, false once its session has ended or the token has expired. It is asked again at most
 * every `everyMs` (a cached token costs no statement).
 */
export function sessionCheck(ctx: Context, authenticate: Authenticate, everyMs: number): () => Promise<boolean> {
  let checkedAt = Date.now();
  return async () => {
    if (Date.now() - checkedAt < everyMs) return true;
    checkedAt = Date.now();
    const token = presentedAccessToken(ctx);
    if (!token || !looksLikeToken(token, 'access')) return false;
    try {
      return (await authenticate(hashToken(token))).status === 'VALID';
    } catch {
      // The database did not answer: the session is asked about again at the next check.
      return true;
    }
  };
}

/** The signed-in user; anonymous sessions never reach account routes. Use after `requireSession`. */
export function signedInUser(ctx: { state: AuthState }): UserPrincipal {
  const principal = ctx.state.principal;
  if (principal?.kind !== 'user') {
    throw new ApiError(403, 'ACCOUNT_REQUIRED', 'This needs a signed-in account; anonymous sessions cannot use it');
  }
  return principal;
}

/** Server-side permission check; the pages only hide what this refuses. Use after `requireSession`. */
export function requirePermission(permission: Permission): Middleware<AuthState> {
  return async (ctx, next) => {
    const user = signedInUser(ctx);
    if (!user.permissions.includes(permission)) {
      throw new ApiError(403, 'PERMISSION_REQUIRED', `This needs the ${permission} permission`);
    }
    await next();
  };
}
