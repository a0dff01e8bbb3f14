import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { z } from 'zod';
import { listUsers } from '../../db/users';
import { requirePermission, requireSession, type AuthState } from '../auth';
import type { Authenticate } from '../authenticator';

const listUsersQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  after: z.string().max(32).optional(),
});

/** Accounts and their permissions, for admins. */
export function adminUserRoutes({ db, authenticate }: { db: DatabasePool; authenticate: Authenticate }) {
  const router = new Router<AuthState>();
  router.use('/api/admin', requireSession(authenticate), requirePermission('ADMIN'));

  router.get('/api/admin/users', async (ctx) => {
    const query = listUsersQuery.parse(ctx.query);
    const users = await listUsers(db, { limit: query.limit + 1, after: query.after });
    const page = users.slice(0, query.limit);
    ctx.body = {
      users: page.map((user) => ({ ...user, createdAt: new Date(user.createdAt).toISOString() })),
      nextCursor: users.length > query.limit ? page.at(-1)!.username : null,
    };
  });
  return router;
}
