import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';

const sessionRow = z.object({ id: z.uuid(), kind: z.literal('anonymous'), expiresAt: z.number() });
export type SessionRow = z.infer<typeof sessionRow>;

export async function createAnonymousSession(
  db: CommonQueryMethods,
  session: { id: string; tokenHash: Buffer; ttlHours: number },
): Promise<SessionRow> {
  return db.one(sql.type(sessionRow)`
    INSERT INTO sessions (id, kind, token_hash, expires_at)
    VALUES (${session.id}, 'anonymous', ${sql.binary(session.tokenHash)},
            now() + make_interval(secs => ${session.ttlHours * 3600}))
    RETURNING id, kind, expires_at AS "expiresAt"`);
}

/** The live session a token hash belongs to, or null when unknown, expired or revoked. */
export async function findActiveSession(db: CommonQueryMethods, tokenHash: Buffer): Promise<SessionRow | null> {
  return db.maybeOne(sql.type(sessionRow)`
    SELECT id, kind, expires_at AS "expiresAt"
      FROM sessions
     WHERE token_hash = ${sql.binary(tokenHash)}
       AND revoked_at IS NULL
       AND expires_at > now()`);
}
