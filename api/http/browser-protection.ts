import type { Middleware } from 'koa';
import helmet from 'koa-helmet';
import { accessCookie, refreshCookie } from '../auth/session-auth';
import { ApiError } from './errors';

/** The header the web pages send on every call (api-client.ts); a page of another origin cannot, without a preflight. */
export const tokenTransportHeader = 'x-podium-token-transport';

/**
 * Headers that keep the web pages from being framed, sniffed or made to run script from
 * elsewhere (helmet): a CSP of `'self'` (styles may be inline: index.html and Lit's have some),
 * `frame-ancestors 'none'`, `X-Content-Type-Options: nosniff`. HSTS only where cookies are
 * secure: over plain HTTP (a laptop) it would mean nothing.
 */
export function securityHeaders({ https }: { https: boolean }): Middleware {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'", "'unsafe-inline'"],
        imgSrc: ["'self'", 'data:'],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: 'deny' },
    strictTransportSecurity: https ? { maxAge: 31_536_000 } : false,
  });
}

/**
 * A browser sends Podium's cookies by itself, also on a POST that a sibling subdomain's page
 * makes (same-site, so `SameSite=Strict` lets it through). A request that changes something and
 * is signed in by cookie must therefore also carry the web pages' own header, which no other
 * origin can add without a CORS preflight that Podium never grants. `Authorization: Bearer`
 * callers are not affected: no browser adds that header on its own.
 */
export function requireTokenTransportWithCookies(): Middleware {
  return async (ctx, next) => {
    const changes = ctx.method !== 'GET' && ctx.method !== 'HEAD' && ctx.method !== 'OPTIONS';
    const byCookie =
      !ctx.get('authorization') &&
      (ctx.cookies.get(accessCookie) !== undefined || ctx.cookies.get(refreshCookie) !== undefined);
    if (changes && byCookie && ctx.get(tokenTransportHeader).toLowerCase() !== 'cookie') {
      throw new ApiError(
        403,
        'COOKIE_WITHOUT_TRANSPORT_HEADER',
        `A request that changes something with Podium's cookies must carry ${tokenTransportHeader}: cookie (the web pages send it); other clients send Authorization: Bearer`,
      );
    }
    await next();
  };
}
