import { randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { createAnonymousSession } from '../../db/sessions';
import { hashSessionToken, newSessionToken } from '../session-tokens';

export function sessionRoutes({ pool, ttlHours }: { pool: DatabasePool; ttlHours: number }) {
  const router = new Router();

  /** An anonymous session: all a curl user needs to submit requests. */
  router.post('/api/sessions/anonymous', async (ctx) => {
    const token = newSessionToken();
    const session = await createAnonymousSession(pool, { id: randomUUID(), tokenHash: hashSessionToken(token), ttlHours });
    ctx.status = 201;
    ctx.body = { token, sessionId: session.id, kind: session.kind, expiresAt: new Date(session.expiresAt).toISOString() };
  });

  return router;
}
