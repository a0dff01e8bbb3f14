import { sql, type CommonQueryMethods, type DatabaseTransactionConnection } from 'slonik';
import { z } from 'zod';
import type { RequestOwner } from './work-requests';

const secretRow = z.object({
  id: z.uuid(),
  secret: z.string(),
  createdAt: z.number(),
  expiresAt: z.number().nullable(),
});
const signingRow = z.object({ secret: z.string() });

const ownerColumns = (owner: RequestOwner) =>
  'userId' in owner ? { userId: owner.userId, sessionId: null } : { userId: null, sessionId: owner.sessionId };
const ownedBy = (owner: RequestOwner) =>
  'userId' in owner ? sql.fragment`user_id = ${owner.userId}` : sql.fragment`session_id = ${owner.sessionId}`;

/** The owner's secrets that still sign: the current one first, then those replaced but not yet expired. */
export async function listLiveWebhookSecrets(db: CommonQueryMethods, owner: RequestOwner) {
  return db.any(sql.type(secretRow)`
    SELECT id, secret, created_at AS "createdAt", expires_at AS "expiresAt"
      FROM webhook_secrets
     WHERE ${ownedBy(owner)} AND (expires_at IS NULL OR expires_at > now())
     ORDER BY expires_at IS NULL DESC, created_at DESC`);
}

/**
 * Makes `secret` the owner's current one; the one it replaces keeps signing for
 * `previousValidForSeconds` more. The new row.
 */
export async function rotateWebhookSecret(
  db: DatabaseTransactionConnection,
  rotation: { id: string; owner: RequestOwner; secret: string; previousValidForSeconds: number },
) {
  const { userId, sessionId } = ownerColumns(rotation.owner);
  // Two rotations at once take turns: the second replaces the first's new secret.
  await db.query(sql.unsafe`SELECT pg_advisory_xact_lock(hashtext('webhook-secrets:' || ${userId ?? sessionId}))`);
  await db.query(sql.unsafe`
    UPDATE webhook_secrets SET expires_at = clock_timestamp() + make_interval(secs => ${rotation.previousValidForSeconds})
     WHERE ${ownedBy(rotation.owner)} AND expires_at IS NULL`);
  return db.one(sql.type(secretRow)`
    INSERT INTO webhook_secrets (id, user_id, session_id, secret) VALUES (${rotation.id}, ${userId}, ${sessionId}, ${rotation.secret})
    RETURNING id, secret, created_at AS "createdAt", expires_at AS "expiresAt"`);
}

/** The secrets a request's webhook is signed with: its owner's live ones, current first; none if they never made one. */
export async function findWebhookSigningSecrets(db: CommonQueryMethods, requestId: string): Promise<string[]> {
  const rows = await db.any(sql.type(signingRow)`
    SELECT s.secret
      FROM work_requests r
      JOIN webhook_secrets s ON (r.user_id IS NOT NULL AND s.user_id = r.user_id) OR (r.user_id IS NULL AND s.session_id = r.session_id)
     WHERE r.id = ${requestId} AND (s.expires_at IS NULL OR s.expires_at > now())
     ORDER BY s.expires_at IS NULL DESC, s.created_at DESC`);
  return rows.map((row) => row.secret);
}
