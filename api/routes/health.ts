import Router from '@koa/router';
import type { Client } from '@temporalio/client';
import { sql, type DatabasePool } from 'slonik';
import { withTimeLimit } from '../../domain/time-limit';
import { buildInfo } from '../../lib/build-info';
import { ApiError } from '../http/errors';
import { errors } from '../http/openapi-parts';

/** How long each readiness check may take: a probe must get its answer within a couple of seconds. */
const checkTimeoutMs = 1_000;

type Check = 'up' | 'down';

/** 'up' when `work` succeeds within `ms`, else 'down'. */
const within = (ms: number, work: Promise<unknown>): Promise<Check> =>
  withTimeLimit(
    work.then(
      (): Check => 'up',
      (): Check => 'down',
    ),
    ms,
    (): Check => 'down',
  );

/** Whether PostgreSQL and Temporal answer, each within a second. */
export async function dependencyChecks({
  db,
  temporal,
}: {
  db: DatabasePool;
  temporal: Client;
}): Promise<{ database: Check; temporal: Check }> {
  const [database, temporalCheck] = await Promise.all([
    within(checkTimeoutMs, db.query(sql.unsafe`SELECT 1`)),
    within(
      checkTimeoutMs,
      temporal.withDeadline(Date.now() + checkTimeoutMs, () => temporal.workflowService.getSystemInfo({})),
    ),
  ]);
  return { database, temporal: temporalCheck };
}

/**
 * Probes for Kubernetes (and anyone): `/api/health/live` answers while the process serves HTTP;
 * `/api/health` also says which version and commit it runs; `/api/health/ready` also checks that PostgreSQL and Temporal
 * answer, and is a 503 naming what is down when one does not.
 */
export function healthRoutes(deps: { db: DatabasePool; temporal: Client }) {
  const router = new Router();
  const live = (ctx: { body: unknown }) => {
    ctx.body = { ok: true };
  };
  router.get('/api/health', (ctx) => {
    ctx.body = { ok: true, ...buildInfo() };
  });
  router.get('/api/health/live', live);
  router.get('/api/health/ready', async (ctx) => {
    const checks = await dependencyChecks(deps);
    if (checks.database === 'down')
      throw new ApiError(503, 'DATABASE_UNAVAILABLE', 'PostgreSQL does not answer', { checks });
    if (checks.temporal === 'down')
      throw new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'Temporal does not answer', { checks });
    ctx.body = { ok: true, checks };
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const healthPaths = {
  '/api/health': {
    get: {
      summary: 'Liveness, with the version and git commit this API runs',
      responses: { 200: { description: '{ ok, version, commit }' } },
    },
  },
  '/api/health/live': {
    get: { summary: 'Liveness: the process serves HTTP', responses: { 200: { description: 'ok' } } },
  },
  '/api/health/ready': {
    get: {
      summary: 'Readiness: PostgreSQL and Temporal answer within a second each',
      responses: { 200: { description: 'ready' }, ...errors(503) },
    },
  },
};
