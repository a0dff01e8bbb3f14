import type { Middleware } from 'koa';
import { findUnstorableText } from '../../domain/storable-text';
import { ApiError } from './errors';

/**
 * Refuses text the database cannot store wherever the API takes it (path, query, JSON body),
 * before any route runs. Headers need no check: Node's HTTP parser refuses NUL in them.
 */
export function textGuard(): Middleware {
  return async (ctx, next) => {
    let path: string;
    try {
      path = decodeURIComponent(ctx.path);
    } catch {
      throw new ApiError(400, 'INVALID_TEXT', 'The path has malformed percent-encoding');
    }
    const parts: [string, unknown][] = [
      ['path', path],
      ['query', ctx.query],
      ['body', ctx.request.body],
    ];
    for (const [where, value] of parts) {
      const found = findUnstorableText(value);
      if (found) {
        const at = found.path ? `${where} ${found.path}` : where;
        throw new ApiError(400, 'INVALID_TEXT', `The ${at} holds ${found.problem}, which Podium cannot store`, {
          where,
          path: found.path,
        });
      }
    }
    await next();
  };
}
