import { randomUUID } from 'node:crypto';
import { clientKey } from '../../domain/client-address';
import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { createAnonymousSession } from '../../db/sessions';
import type { CreationLimits } from '../auth/creation-limits';
import { hashToken, newToken } from '../auth/session-tokens';
import { json, errors } from '../http/openapi-parts';
import { z } from 'zod';

export function sessionRoutes({
  db,
  ttlHours,
  creationLimits,
}: {
  db: DatabasePool;
  ttlHours: number;
  creationLimits: CreationLimits;
}) {
  const router = new Router();

  /** An anonymous session: all a curl user needs to submit requests (so many per address and hour). */
  router.post('/api/sessions/anonymous', async (ctx) => {
    const client = clientKey(ctx.ip);
    await creationLimits.take('session', client);
    const token = newToken('access');
    const session = await createAnonymousSession(db, {
      id: randomUUID(),
      clientKey: client,
      access: { hash: hashToken(token), ttlSeconds: Math.round(ttlHours * 3600) },
    });
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store'); // a token: no cache, shared or private, keeps it
    ctx.body = {
      token,
      sessionId: session.id,
      kind: 'anonymous',
      expiresAt: new Date(session.expiresAt).toISOString(),
    };
  });

  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const sessionPaths = {
  '/api/sessions/anonymous': {
    post: {
      summary: 'Start an anonymous session; its token authorises request calls (not account or admin ones)',
      responses: {
        201: {
          description: 'the session',
          content: json(
            z.object({
              token: z.string(),
              sessionId: z.uuid(),
              kind: z.literal('anonymous'),
              expiresAt: z.string(),
            }),
          ),
        },
        ...errors(429),
      },
    },
  },
};
