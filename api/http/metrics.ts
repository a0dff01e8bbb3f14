import Koa, { type Middleware } from 'koa';
import { routePattern } from './params';
import type { DatabasePool } from 'slonik';
import { readGauges } from '../../db/metrics-gauges';
import { httpRequestSeconds, instances, registry, requestsWaiting } from '../../lib/metrics';
import { metricsText } from '../../lib/metrics-text';

/**
 * Times every API request by method, the router's pattern (`/api/requests/:id`, never the id)
 * and status; paths no route matched count as one `(unmatched)` route, so labels stay bounded.
 */
export function httpMetrics(): Middleware {
  return async (ctx, next) => {
    const end = httpRequestSeconds.startTimer();
    try {
      await next();
    } finally {
      end({ method: ctx.method, route: routePattern(ctx) ?? '(unmatched)', status: String(ctx.status) });
    }
  };
}

/**
 * `GET /metrics` in Prometheus' text format: this process's metrics, and the waiting requests and
 * live instances per model read from PostgreSQL at the scrape (the same for every API replica:
 * aggregate them with max, not sum).
 */
export function metricsEndpoint(db: DatabasePool): Middleware {
  return async (ctx, next) => {
    if (ctx.method !== 'GET' || ctx.path !== '/metrics') return next();
    const gauges = await readGauges(db);
    requestsWaiting.reset();
    instances.reset();
    for (const { kind, model, state, count } of gauges) {
      if (kind === 'waiting') requestsWaiting.set({ model }, count);
      else instances.set({ model, state: state! }, count);
    }
    ctx.type = registry.contentType;
    ctx.body = await metricsText(registry);
  };
}

/** The metrics alone, for their own port (API_METRICS_PORT): nothing else answers there. */
export function metricsApp(db: DatabasePool): Koa {
  return new Koa().use(metricsEndpoint(db));
}
