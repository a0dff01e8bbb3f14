import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { bodyParser } from '@koa/bodyparser';
import type { Client } from '@temporalio/client';
import Koa from 'koa';
import serveStatic from 'koa-static';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { imagePolicyOf, parseByteSize, type PodiumConfig } from '../domain/config';
import type { LocalCommandPolicy } from '../domain/local-command-policy';
import type { AuthServices } from './auth/auth-services';
import { requireTokenTransportWithCookies, securityHeaders } from './http/browser-protection';
import { errorMiddleware, isInferenceProtocol } from './http/errors';
import { httpMetrics, metricsEndpoint } from './http/metrics';
import { httpTracing } from './http/tracing';
import { answerWithin, withinRequestBudget } from './http/request-budget';
import type { RequestEnds } from './request-ends';
import { requestQuotas } from './auth/request-quotas';
import { healthRoutes } from './routes/health';
import { inferenceProtocolRoutes } from './routes/inference-protocol';
import { requestEventRoutes } from './routes/request-events';
import { openAiRoutes } from './routes/openai';
import type { ChunkNotices } from './request-chunk-notices';
import { textGuard } from './http/text-guard';
import { openApiDocument } from './openapi';
import { requestWorkflows } from './request-workflows';
import { notifyRequestInterrupt } from '../db/request-interrupts';
import { adminInstanceRoutes } from './routes/admin-instances';
import { adminModelRoutes } from './routes/admin-models';
import { adminRequestRoutes } from './routes/admin-requests';
import { adminStatsRoutes } from './routes/admin-stats';
import { adminUserRoutes } from './routes/admin-users';
import { authRoutes } from './routes/auth';
import { modelRoutes } from './routes/models';
import { buildInfo } from '../lib/build-info';
import { requestRoutes } from './routes/requests';
import { payloadRoutes } from './routes/payloads';
import { payloadLinks } from './payload-links';
import type { PayloadStore } from '../lib/payload-store';
import { sessionRoutes } from './routes/sessions';
import { webhookSecretRoutes } from './routes/webhook-secrets';

export const webRoot = path.resolve(__dirname, '../web/dist');

export type ApiDependencies = {
  config: Pick<
    PodiumConfig,
    | 'TEMPORAL_TASK_QUEUE'
    | 'TEMPORAL_NAMESPACE'
    | 'TEMPORAL_UI_URL'
    | 'REQUEST_BODY_LIMIT'
    | 'ANONYMOUS_SESSION_TTL_HOURS'
    | 'TRUST_PROXY'
    | 'TRUSTED_PROXY_HOPS'
    | 'REQUESTS_IN_FLIGHT_PER_OWNER'
    | 'REQUESTS_PER_MINUTE_PER_OWNER'
    | 'API_DEADLINE_MS'
    | 'EVENT_STREAM_HEARTBEAT_SECONDS'
    | 'API_METRICS_PORT'
    | 'COOKIE_SECURE'
    | 'PODIUM_ENV'
    | 'MODEL_IMAGE_REGISTRIES'
    | 'MODEL_IMAGE_REQUIRE_DIGEST'
    | 'PAYLOAD_LIMIT'
    | 'RESULT_INLINE_LIMIT'
    | 'PAYLOAD_URL_SECRET'
    | 'PAYLOAD_URL_TTL_SECONDS'
    | 'UPLOAD_TTL_HOURS'
  >;
  db: DatabasePool;
  temporal: Client;
  /**
   * The client shares the NativeConnection of a worker in this process polling the task queue:
   * request workflows start eagerly, their first workflow task coming back in the start call.
   */
  eagerStart?: boolean;
  logger: Logger;
  auth: Pick<AuthServices, 'authenticate' | 'cache' | 'loginRateLimit' | 'creationLimits' | 'tokens'>;
  /** Told by PostgreSQL as requests end: what long polls wait on (api/request-ends.ts). */
  ends: RequestEnds;
  /** Where payloads' bytes live (PAYLOAD_STORE; infra/payload-store.ts). */
  payloads: PayloadStore;
  /** Told by PostgreSQL as output chunks are stored: what event streams follow (api/request-chunk-notices.ts). */
  notices: ChunkNotices;
  /** A server span per request (infra/tracing.ts registered the tracer provider). */
  tracing?: boolean;
  /**
   * The local runtime's policy when this process runs a local worker: registering a model it
   * would not run is refused at once, not at its first request. Null: instances run elsewhere.
   */
  localCommands?: LocalCommandPolicy | null;
};

/**
 * The API and the web pages, as one Koa app. Every request passes the same steps, in order:
 * - traces and metrics, then the security headers;
 * - the error middleware, which turns every failure into a coded error with its HTTP status;
 * - the cookie check, then `/metrics` (unless it has a port of its own);
 * - the body parser and the text guard;
 * - the request budget, so a hung dependency costs a deadline and not a hung request;
 * - the routes, then the web pages.
 */
export function createApp({
  config,
  db: pool,
  temporal,
  eagerStart = false,
  logger,
  auth,
  ends,
  notices,
  payloads,
  tracing = false,
  localCommands = null,
}: ApiDependencies): Koa {
  // A PostgreSQL that hangs gets the caller a 503 within its budget, not a request that hangs too.
  const db = withinRequestBudget(pool, config.API_DEADLINE_MS);
  // Behind a proxy, ctx.ip (the sign-in rate limit's key) comes from X-Forwarded-For: the entry
  // our own proxies appended, never the left-most one, which the client writes.
  const app = new Koa({ proxy: config.TRUST_PROXY, maxIpsCount: config.TRUSTED_PROXY_HOPS });
  // Errors that escape the error middleware (a client that hung up mid-response) go to the log.
  app.on('error', (error: NodeJS.ErrnoException) => {
    const clientGone = error.code === 'ERR_STREAM_PREMATURE_CLOSE' || error.code === 'ECONNRESET';
    logger[clientGone ? 'debug' : 'error']({ err: error }, 'response error');
  });
  if (tracing) app.use(httpTracing());
  app.use(httpMetrics());
  app.use(securityHeaders({ https: config.COOKIE_SECURE }));
  app.use(errorMiddleware(logger));
  app.use(requireTokenTransportWithCookies());
  // With a port of their own (API_METRICS_PORT), the metrics are not on the API's port at all.
  if (config.API_METRICS_PORT === 0) app.use(metricsEndpoint(db));
  const parseJson = bodyParser({
    enableTypes: ['json'],
    jsonLimit: config.REQUEST_BODY_LIMIT,
    encoding: 'utf-8',
    // OIP clients (tritonclient) send their JSON with no Content-Type, or a binary one.
    detectJSON: (ctx) => isInferenceProtocol(ctx.path),
  });
  // A binary tensor body (Inference-Header-Content-Length) is read by its route, not as JSON.
  app.use((ctx, next) =>
    isInferenceProtocol(ctx.path) && ctx.get('inference-header-content-length') ? next() : parseJson(ctx, next),
  );
  app.use(textGuard());
  app.use(answerWithin(config.API_DEADLINE_MS));

  const workflows = requestWorkflows(temporal, config.TEMPORAL_TASK_QUEUE, {
    eagerStart,
    interrupt: (requestId) => notifyRequestInterrupt(db, requestId),
  });
  const quotas = requestQuotas({
    inFlight: config.REQUESTS_IN_FLIGHT_PER_OWNER,
    perMinute: config.REQUESTS_PER_MINUTE_PER_OWNER,
  });
  const temporalUi = config.TEMPORAL_UI_URL
    ? { url: config.TEMPORAL_UI_URL, namespace: config.TEMPORAL_NAMESPACE }
    : undefined;
  // Payloads: streamed in up to their limit, answered inline when small, else by signed links.
  const payloadDeps = {
    db,
    payloads,
    payloadLimit: config.PAYLOAD_LIMIT,
    headerLimit: parseByteSize(config.REQUEST_BODY_LIMIT),
    links: payloadLinks(config.PAYLOAD_URL_SECRET, config.PAYLOAD_URL_TTL_SECONDS),
    inlineLimit: config.RESULT_INLINE_LIMIT,
  };
  const routers = [
    sessionRoutes({ db, ttlHours: config.ANONYMOUS_SESSION_TTL_HOURS, creationLimits: auth.creationLimits }),
    modelRoutes({ db }),
    requestRoutes({ ...payloadDeps, workflows, ends, quotas, authenticate: auth.authenticate, temporalUi }),
    payloadRoutes({ ...payloadDeps, authenticate: auth.authenticate, uploadHours: config.UPLOAD_TTL_HOURS }),
    webhookSecretRoutes({ db, authenticate: auth.authenticate }),
    requestEventRoutes({
      db,
      notices,
      ends,
      authenticate: auth.authenticate,
      logger,
      heartbeatMs: config.EVENT_STREAM_HEARTBEAT_SECONDS * 1000,
    }),
    adminRequestRoutes({ ...payloadDeps, workflows, authenticate: auth.authenticate, temporalUi }),
    authRoutes({ db, ...auth }),
    adminUserRoutes({ db, authenticate: auth.authenticate, cache: auth.cache }),
    adminStatsRoutes({ db, authenticate: auth.authenticate, logger }),
    adminInstanceRoutes({
      db,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      authenticate: auth.authenticate,
      temporalUi,
    }),
    adminModelRoutes({
      db,
      temporal,
      taskQueue: config.TEMPORAL_TASK_QUEUE,
      authenticate: auth.authenticate,
      localCommands,
      imagePolicy: imagePolicyOf(config),
    }),
    healthRoutes({ db, temporal }),
    openAiRoutes({
      db,
      payloads,
      workflows,
      ends,
      notices,
      quotas,
      authenticate: auth.authenticate,
      logger,
      heartbeatMs: config.EVENT_STREAM_HEARTBEAT_SECONDS * 1000,
    }),
    inferenceProtocolRoutes({
      ...payloadDeps,
      temporal,
      workflows,
      ends,
      notices,
      logger,
      heartbeatMs: config.EVENT_STREAM_HEARTBEAT_SECONDS * 1000,
      quotas,
      authenticate: auth.authenticate,
      version: buildInfo().version,
    }),
  ];
  for (const router of routers) app.use(router.routes()).use(router.allowedMethods());
  app.use(async (ctx, next) => {
    if (ctx.method !== 'GET') return next();
    if (ctx.path === '/api/openapi.json') ctx.body = openApiDocument;
    else await next();
  });

  if (existsSync(webRoot)) {
    app.use(serveStatic(webRoot));
    // Page paths (/signin, /admin/users, …) are the web app's: answer them with index.html.
    // /metrics is not a page, also when it is served on a port of its own (API_METRICS_PORT).
    const indexHtml = readFileSync(path.join(webRoot, 'index.html'));
    app.use(async (ctx, next) => {
      if (ctx.method !== 'GET' || /^\/(api|v1|v2|metrics)(\/|$)/.test(ctx.path) || path.extname(ctx.path))
        return next();
      ctx.type = 'html';
      ctx.body = indexHtml;
    });
  }
  return app;
}
