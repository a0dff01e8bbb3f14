import type { Middleware } from 'koa';
import type { DatabasePool } from 'slonik';
import { findActiveSession, type SessionRow } from '../db/sessions';
import { ApiError } from './errors';
import { hashSessionToken, looksLikeSessionToken } from './session-tokens';

export type AuthState = { session: SessionRow };

/** Requires `Authorization: Bearer <token>` of a live session and puts it on `ctx.state.session`. */
export function requireSession(pool: DatabasePool): Middleware<AuthState> {
  return async (ctx, next) => {
    const header = ctx.get('authorization');
    if (!header) {
      ctx.set('WWW-Authenticate', 'Bearer');
      throw new ApiError(401, 'AUTH_REQUIRED', 'Send Authorization: Bearer <token>; get a token from POST /api/sessions/anonymous');
    }
    const [scheme, token] = header.split(' ');
    const session =
      scheme?.toLowerCase() === 'bearer' && token && looksLikeSessionToken(token)
        ? await findActiveSession(pool, hashSessionToken(token))
        : null;
    if (!session) {
      ctx.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      throw new ApiError(401, 'INVALID_TOKEN', 'The bearer token is unknown, expired or revoked');
    }
    ctx.state.session = session;
    await next();
  };
}
