import Router, { type RouterContext } from '@koa/router';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { listUsers } from '../../db/users';
import { accountActionBody, priorityCeilingBody, queueWeight, queueWeightBody } from '../../domain/accounts';
import { requirePermission, requireSession, signedInUser, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { idParam } from '../http/params';
import type { SessionCache } from '../auth/session-cache';
import {
  endUserSessions,
  grantPriorityCeiling,
  setAccountDisabled,
  setUserQueueWeight,
} from '../use-cases/admin-users';
import { requireJsonBody } from './json-body';
import { json, errors, bearer, idParameter } from '../http/openapi-parts';

const listUsersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  after: z.string().max(32).optional(),
});

/** Accounts and their permissions, for admins; ending a user's sessions, disabling and enabling an account. */
export function adminUserRoutes({
  db,
  authenticate,
  cache,
}: {
  db: DatabasePool;
  authenticate: Authenticate;
  cache?: SessionCache | null;
}) {
  const router = new Router<AuthState>();
  router.use('/api/admin', requireSession(authenticate), requirePermission('ADMIN'));

  router.get('/api/admin/users', async (ctx) => {
    const query = listUsersQuery.parse(ctx.query);
    const users = await listUsers(db, { limit: query.limit + 1, after: query.after });
    const page = users.slice(0, query.limit);
    ctx.body = {
      users: page.map((user) => ({
        ...user,
        createdAt: new Date(user.createdAt).toISOString(),
        disabledAt: user.disabledAt === null ? null : new Date(user.disabledAt).toISOString(),
      })),
      nextCursor: users.length > query.limit ? page.at(-1)!.username : null,
    };
  });

  const act = (ctx: RouterContext<AuthState>) => {
    const userId = idParam(ctx, 'user');
    requireJsonBody(ctx);
    return { adminId: signedInUser(ctx).userId, userId, reason: accountActionBody.parse(ctx.request.body).reason };
  };

  /** Ends every session of the user at once (their tokens stop working on every API process). */
  router.post('/api/admin/users/:id/sessions/end', async (ctx) => {
    ctx.body = { endedSessions: await endUserSessions({ db, cache }, act(ctx)) };
  });

  /** The account can no longer sign in, and its sessions end. */
  router.post('/api/admin/users/:id/disable', async (ctx) => {
    ctx.body = { disabled: true, ...(await setAccountDisabled({ db, cache }, act(ctx), true)) };
  });

  router.post('/api/admin/users/:id/enable', async (ctx) => {
    await setAccountDisabled({ db, cache }, act(ctx), false);
    ctx.body = { disabled: false };
  });

  /** The highest priority the user's requests may ask for (docs/scheduling.md). */
  router.put('/api/admin/users/:id/priority-ceiling', async (ctx) => {
    const userId = idParam(ctx, 'user');
    requireJsonBody(ctx);
    const { reason, ceiling } = priorityCeilingBody.parse(ctx.request.body);
    await grantPriorityCeiling({ db }, { adminId: signedInUser(ctx).userId, userId, reason }, ceiling);
    ctx.body = { priorityCeiling: ceiling };
  });

  /** How many turns in a model's line the user takes for one of a weight-1 owner's (docs/scheduling.md). */
  router.put('/api/admin/users/:id/queue-weight', async (ctx) => {
    const userId = idParam(ctx, 'user');
    requireJsonBody(ctx);
    const { reason, weight } = queueWeightBody.parse(ctx.request.body);
    await setUserQueueWeight({ db }, { adminId: signedInUser(ctx).userId, userId, reason }, weight);
    ctx.body = { queueWeight: weight };
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const adminUserPaths = {
  '/api/admin/users': {
    get: {
      summary: 'Accounts and their permissions (ADMIN)',
      security: bearer,
      parameters: [
        { name: 'limit', in: 'query', required: false, schema: { type: 'integer', minimum: 1, maximum: 100 } },
        { name: 'after', in: 'query', required: false, schema: { type: 'string' } },
      ],
      responses: { 200: { description: 'a page of users' }, ...errors(400, 401, 403) },
    },
  },
  '/api/admin/users/{id}/sessions/end': {
    post: {
      summary: 'Ends every session of the user at once (ADMIN, audited USER_SESSIONS_END)',
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(accountActionBody) },
      responses: {
        200: {
          description: 'how many sessions were live',
          content: json(z.object({ endedSessions: z.number().int() })),
        },
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/api/admin/users/{id}/disable': {
    post: {
      summary:
        'Disables the account: it cannot sign in, and its sessions end (ADMIN, audited USER_DISABLE); 409 CANNOT_DISABLE_SELF',
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(accountActionBody) },
      responses: {
        200: {
          description: 'disabled',
          content: json(z.object({ disabled: z.literal(true), endedSessions: z.number().int() })),
        },
        ...errors(400, 401, 403, 404, 409),
      },
    },
  },
  '/api/admin/users/{id}/priority-ceiling': {
    put: {
      summary: "Sets the highest priority the user's requests may ask for (ADMIN, audited USER_PRIORITY_CEILING)",
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(priorityCeilingBody) },
      responses: {
        200: { description: 'set', content: json(z.object({ priorityCeiling: z.enum(['high', 'normal']) })) },
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/api/admin/users/{id}/queue-weight': {
    put: {
      summary:
        "Sets how many turns in a model's line the user takes for one of a weight-1 owner's (ADMIN, audited USER_QUEUE_WEIGHT)",
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(queueWeightBody) },
      responses: {
        200: { description: 'set', content: json(z.object({ queueWeight: queueWeight })) },
        ...errors(400, 401, 403, 404),
      },
    },
  },
  '/api/admin/users/{id}/enable': {
    post: {
      summary: 'Lets a disabled account sign in again (ADMIN, audited USER_ENABLE)',
      security: bearer,
      parameters: [idParameter],
      requestBody: { required: true, content: json(accountActionBody) },
      responses: {
        200: { description: 'enabled', content: json(z.object({ disabled: z.literal(false) })) },
        ...errors(400, 401, 403, 404),
      },
    },
  },
};
