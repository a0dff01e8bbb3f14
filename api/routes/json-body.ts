import type { Context } from 'koa';
import { ApiError } from '../http/errors';

/** Routes that take a body take JSON: anything else is a 415, not a confusing 400. */
export function requireJsonBody(ctx: Context): void {
  if (!ctx.is('application/json')) {
    throw new ApiError(415, 'UNSUPPORTED_MEDIA_TYPE', 'Send the body as JSON with Content-Type: application/json');
  }
}
