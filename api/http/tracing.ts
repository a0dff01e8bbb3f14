import { context, propagation, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import type { Middleware } from 'koa';
import { routePattern } from './params';

/**
 * A server span per API request, named by the router's pattern (`POST /api/requests`), that
 * continues a caller's `traceparent`; the workflow a route starts continues it (the client's
 * OpenTelemetry interceptor). Installed only when tracing is on.
 */
export function httpTracing(): Middleware {
  const tracer = trace.getTracer('podium-api');
  return (ctx, next) => {
    const parent = propagation.extract(context.active(), ctx.headers);
    const attributes = { 'http.request.method': ctx.method, 'url.path': ctx.path };
    return tracer.startActiveSpan(ctx.method, { kind: SpanKind.SERVER, attributes }, parent, async (span) => {
      try {
        await next();
      } finally {
        const route = routePattern(ctx);
        if (route) {
          span.updateName(`${ctx.method} ${route}`);
          span.setAttribute('http.route', route);
        }
        span.setAttribute('http.response.status_code', ctx.status);
        if (ctx.status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
    });
  };
}
