import { sql, type CommonQueryMethods } from 'slonik';
import { z } from 'zod';
import { permission, type Principal } from '../domain/accounts';
import { notifySessionEvent } from './session-events';

type NewToken = { hash: Buffer; ttlSeconds: number };

const expiresAtRow = z.object({ expiresAt: z.number() });

async function insertToken(db: CommonQueryMethods, sessionId: string, kind: 'access' | 'refresh', token: NewToken) {
  return db.oneFirst(sql.type(expiresAtRow)`
    INSERT INTO session_tokens (token_hash, session_id, kind, expires_at)
    VALUES (${sql.binary(token.hash)}, ${sessionId}, ${kind}, now() + make_interval(secs => ${token.ttlSeconds}))
    RETURNING expires_at AS "expiresAt"`);
}

export async function createAnonymousSession(
  db: CommonQueryMethods,
  session: { id: string; access: NewToken; clientKey: string },
): Promise<{ id: string; expiresAt: number }> {
  await db.query(sql.unsafe`
    INSERT INTO sessions (id, kind, expires_at, client_key)
    VALUES (${session.id}, 'anonymous', now() + make_interval(secs => ${session.access.ttlSeconds}), ${session.clientKey})`);
  const expiresAt = await insertToken(db, session.id, 'access', session.access);
  return { id: session.id, expiresAt };
}

export type IssuedTokens = { accessExpiresAt: number; refreshExpiresAt: number };

/** A new session family for a signed-in user, with its first access and refresh tokens. */
export async function createUserSession(
  db: CommonQueryMethods,
  session: { id: string; userId: string; access: NewToken; refresh: NewToken },
): Promise<IssuedTokens> {
  await db.query(sql.unsafe`
    INSERT INTO sessions (id, kind, user_id, expires_at)
    VALUES (${session.id}, 'user', ${session.userId}, now() + make_interval(secs => ${session.refresh.ttlSeconds}))`);
  return {
    accessExpiresAt: await insertToken(db, session.id, 'access', session.access),
    refreshExpiresAt: await insertToken(db, session.id, 'refresh', session.refresh),
  };
}

const accessTokenRow = z.object({
  sessionId: z.uuid(),
  kind: z.enum(['anonymous', 'user']),
  userId: z.uuid().nullable(),
  username: z.string().nullable(),
  email: z.string().nullable(),
  permissions: z.array(permission),
  tokenExpiresAt: z.number(),
  revoked: z.boolean(),
});

export type AccessTokenLookup =
  { status: 'VALID'; principal: Principal; expiresAt: number } | { status: 'EXPIRED' } | { status: 'INVALID' };

/** Who an access token speaks for, if it is live. */
export async function lookUpAccessToken(db: CommonQueryMethods, tokenHash: Buffer): Promise<AccessTokenLookup> {
  const row = await db.maybeOne(sql.type(accessTokenRow)`
    SELECT s.id AS "sessionId", s.kind, s.user_id AS "userId", u.username, u.email,
           COALESCE((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p
                      WHERE p.user_id = s.user_id), '{}') AS permissions,
           t.expires_at AS "tokenExpiresAt",
           s.revoked_at IS NOT NULL AS revoked
      FROM session_tokens t
      JOIN sessions s ON s.id = t.session_id
      LEFT JOIN users u ON u.id = s.user_id
     WHERE t.token_hash = ${sql.binary(tokenHash)} AND t.kind = 'access'`);
  if (!row || row.revoked) return { status: 'INVALID' };
  if (row.tokenExpiresAt <= Date.now()) return { status: 'EXPIRED' };
  const principal: Principal =
    row.kind === 'anonymous'
      ? { kind: 'anonymous', sessionId: row.sessionId }
      : {
          kind: 'user',
          sessionId: row.sessionId,
          userId: row.userId!,
          username: row.username!,
          email: row.email!,
          permissions: row.permissions,
        };
  return { status: 'VALID', principal, expiresAt: row.tokenExpiresAt };
}

const refreshTokenRow = z.object({
  sessionId: z.uuid(),
  userId: z.uuid(),
  tokenExpiresAt: z.number(),
  consumedAt: z.number().nullable(),
  sessionRevokedAt: z.number().nullable(),
  sessionCreatedAt: z.number(),
});

/** The presented refresh token, locked for the rest of the transaction (one rotation wins). */
export async function lockRefreshToken(db: CommonQueryMethods, tokenHash: Buffer) {
  return db.maybeOne(sql.type(refreshTokenRow)`
    SELECT t.session_id AS "sessionId", s.user_id AS "userId", t.expires_at AS "tokenExpiresAt",
           t.consumed_at AS "consumedAt", s.revoked_at AS "sessionRevokedAt", s.created_at AS "sessionCreatedAt"
      FROM session_tokens t
      JOIN sessions s ON s.id = t.session_id
     WHERE t.token_hash = ${sql.binary(tokenHash)} AND t.kind = 'refresh' AND s.kind = 'user'
       FOR UPDATE OF t`);
}

/** Uses up a refresh token and issues its successors; the family's expiry slides forward. */
export async function rotateRefreshToken(
  db: CommonQueryMethods,
  rotation: { sessionId: string; usedHash: Buffer; access: NewToken; refresh: NewToken },
): Promise<IssuedTokens> {
  await db.query(sql.unsafe`
    UPDATE session_tokens SET consumed_at = clock_timestamp() WHERE token_hash = ${sql.binary(rotation.usedHash)}`);
  await db.query(sql.unsafe`
    UPDATE sessions SET expires_at = now() + make_interval(secs => ${rotation.refresh.ttlSeconds})
     WHERE id = ${rotation.sessionId}`);
  return {
    accessExpiresAt: await insertToken(db, rotation.sessionId, 'access', rotation.access),
    refreshExpiresAt: await insertToken(db, rotation.sessionId, 'refresh', rotation.refresh),
  };
}

/** Ends a session family and tells every API process to drop it from its cache. */
export async function revokeSession(db: CommonQueryMethods, sessionId: string, reason: string): Promise<void> {
  await db.query(sql.unsafe`
    UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = ${reason}
     WHERE id = ${sessionId} AND revoked_at IS NULL`);
  await notifySessionEvent(db, { sessionId });
}

const sessionIdRow = z.object({ sessionId: z.uuid() });

/** Ends every live session of the user (an admin's act); how many there were. */
export async function revokeUserSessions(db: CommonQueryMethods, userId: string, reason: string): Promise<number> {
  const ended = await db.anyFirst(sql.type(sessionIdRow)`
    UPDATE sessions SET revoked_at = clock_timestamp(), revoked_reason = ${reason}
     WHERE user_id = ${userId} AND revoked_at IS NULL
    RETURNING id AS "sessionId"`);
  await notifySessionEvent(db, { userId });
  return ended.length;
}

/** The session a refresh token belongs to, whatever its state (for logout). */
export async function findSessionOfRefreshToken(db: CommonQueryMethods, tokenHash: Buffer): Promise<string | null> {
  return db.maybeOneFirst(sql.type(sessionIdRow)`
    SELECT session_id AS "sessionId" FROM session_tokens
     WHERE token_hash = ${sql.binary(tokenHash)} AND kind = 'refresh'`);
}
