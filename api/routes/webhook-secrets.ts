import { randomBytes, randomUUID } from 'node:crypto';
import Router from '@koa/router';
import type { DatabasePool } from 'slonik';
import { listLiveWebhookSecrets, rotateWebhookSecret } from '../../db/webhook-secrets';
import { ownerOf } from '../../db/work-requests';
import {
  newWebhookSecret,
  webhookSecretRotation,
  type WebhookSecretView,
  webhookSecretView,
} from '../../domain/webhook-secrets';
import { requireSession, type AuthState } from '../auth/session-auth';
import type { Authenticate } from '../auth/authenticator';
import { requireJsonBody } from './json-body';
import { json, errors, bearer } from '../http/openapi-parts';
import { z } from 'zod';

const iso = (ms: number) => new Date(ms).toISOString();

/** A secret as the owner sees it listed: never the secret itself. */
const viewOf = (row: {
  id: string;
  secret: string;
  createdAt: number;
  expiresAt: number | null;
}): WebhookSecretView => ({
  id: row.id,
  hint: `${row.secret.slice(0, 10)}…`,
  current: row.expiresAt === null,
  createdAt: iso(row.createdAt),
  expiresAt: row.expiresAt === null ? null : iso(row.expiresAt),
});

/**
 * Each owner's own webhook signing secrets (a user's, or an anonymous session's). A new one
 * replaces the current one, which keeps signing beside it for a while, so a receiver can move
 * to the new secret without a delivery it cannot verify. Until an owner makes one, their
 * deliveries are signed with the installation's WEBHOOK_SECRET.
 */
export function webhookSecretRoutes({ db, authenticate }: { db: DatabasePool; authenticate: Authenticate }) {
  const router = new Router<AuthState>();
  router.use('/api/webhook-secrets', requireSession(authenticate));

  router.get('/api/webhook-secrets', async (ctx) => {
    const secrets = await listLiveWebhookSecrets(db, ownerOf(ctx.state.principal!));
    ctx.body = {
      secrets: secrets.map(viewOf),
    };
  });

  /** A new current secret, shown this once (201); the one it replaces signs on for `previousValidForSeconds`. */
  router.post('/api/webhook-secrets', async (ctx) => {
    if (ctx.request.length) requireJsonBody(ctx);
    const { previousValidForSeconds } = webhookSecretRotation.parse(ctx.request.body ?? {});
    const owner = ownerOf(ctx.state.principal!);
    const id = randomUUID();
    const secret = `whsec_${randomBytes(32).toString('base64url')}`;
    const created = await db.transaction((t) => rotateWebhookSecret(t, { id, owner, secret, previousValidForSeconds }));
    ctx.status = 201;
    ctx.set('Cache-Control', 'no-store'); // a secret: no cache keeps it
    ctx.body = { ...viewOf(created), secret };
  });
  return router;
}

/** This module's operations in the OpenAPI document (api/openapi.ts merges them). */
export const webhookSecretPaths = {
  '/api/webhook-secrets': {
    get: {
      summary:
        'Your webhook signing secrets that still sign: the current one, and those replaced but not yet expired (never the secret itself)',
      security: bearer,
      responses: {
        200: { description: 'the live secrets', content: json(z.object({ secrets: z.array(webhookSecretView) })) },
        ...errors(401),
      },
    },
    post: {
      summary:
        'A new signing secret for your webhooks, shown once; the one it replaces signs beside it for previousValidForSeconds (a day)',
      security: bearer,
      requestBody: { required: false, content: json(webhookSecretRotation) },
      responses: {
        201: { description: 'the new secret', content: json(newWebhookSecret) },
        ...errors(400, 401, 415),
      },
    },
  },
};
