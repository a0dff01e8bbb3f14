import type Router from '@koa/router';
import type Koa from 'koa';

/**
 * Every `METHOD /path` the app's routers answer, in OpenAPI's spelling (`{id}` for `:id`),
 * sorted. HEAD is left out: the router answers it for every GET. What the document must list
 * (test/integration/openapi-routes.test.ts).
 */
export function routeTable(app: Koa): string[] {
  const routers = app.middleware.flatMap((middleware) => {
    const router = (middleware as { router?: Router }).router;
    return router ? [router] : [];
  });
  return routers
    .flatMap((router) => router.stack)
    .flatMap((layer) =>
      layer.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => `${method} ${String(layer.path).replace(/:(\w+)/g, '{$1}')}`),
    )
    .sort();
}
