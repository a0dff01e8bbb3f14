import {
  sql,
  UniqueIntegrityConstraintViolationError,
  type CommonQueryMethods,
  type DatabasePool,
  type DatabaseTransactionConnection,
} from 'slonik';
import { z } from 'zod';
import { permission, type Permission, type UserView } from '../domain/accounts';
import { priorityRank, requestPriority, type RequestPriority } from '../domain/request-priority';
import { priorityName } from './sql-fragments';
import { writeAuditLog } from './audit-log';
import { notifySessionEvent } from './session-events';

export class DuplicateAccountError extends Error {
  constructor(readonly field: 'username' | 'email') {
    super(`${field} already taken`);
  }
}

const userIdRow = z.object({ userId: z.uuid() });
const userWithHash = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string(),
  passwordHash: z.string(),
  disabledAt: z.number().nullable(),
});
const userViewRow = z.object({
  id: z.uuid(),
  username: z.string(),
  email: z.string(),
  permissions: z.array(permission),
});

const permissionsOf = (userId: ReturnType<typeof sql.fragment>) => sql.fragment`
  COALESCE((SELECT array_agg(p.permission ORDER BY p.permission) FROM user_permissions p WHERE p.user_id = ${userId}), '{}')`;

export async function insertUser(
  db: CommonQueryMethods,
  user: { id: string; username: string; email: string; passwordHash: string },
): Promise<void> {
  try {
    await db.query(sql.unsafe`
      INSERT INTO users (id, username, email, password_hash)
      VALUES (${user.id}, ${user.username}, ${user.email}, ${user.passwordHash})`);
  } catch (error) {
    if (error instanceof UniqueIntegrityConstraintViolationError) {
      throw new DuplicateAccountError(error.constraint === 'users_email_key' ? 'email' : 'username');
    }
    throw error;
  }
}

/** The account a sign-in names, by username or email, case-insensitively. */
export async function findUserForLogin(db: CommonQueryMethods, identifier: string) {
  return db.maybeOne(sql.type(userWithHash)`
    SELECT id, username, email, password_hash AS "passwordHash", disabled_at AS "disabledAt"
      FROM users
     WHERE lower(username) = lower(${identifier}) OR lower(email) = lower(${identifier})
     LIMIT 1`);
}

export async function findUserView(db: CommonQueryMethods, userId: string): Promise<UserView | null> {
  return db.maybeOne(sql.type(userViewRow)`
    SELECT u.id, u.username, u.email, ${permissionsOf(sql.fragment`u.id`)} AS permissions
      FROM users u WHERE u.id = ${userId}`);
}

const idRow = z.object({ id: z.uuid() });

export async function findUserIdByUsername(db: CommonQueryMethods, username: string): Promise<string | null> {
  return db.maybeOneFirst(sql.type(idRow)`
    SELECT id FROM users WHERE lower(username) = lower(${username})`);
}

const userListRow = userViewRow.extend({ createdAt: z.number(), disabledAt: z.number().nullable() });

/** Users by username, with their permissions: a page after `after` (a username). */
export async function listUsers(db: CommonQueryMethods, page: { limit: number; after?: string }) {
  return db.any(sql.type(userListRow)`
    SELECT u.id, u.username, u.email, ${permissionsOf(sql.fragment`u.id`)} AS permissions, u.created_at AS "createdAt", u.disabled_at AS "disabledAt"
      FROM users u
     WHERE ${page.after ? sql.fragment`lower(u.username) > lower(${page.after})` : sql.fragment`true`}
     ORDER BY lower(u.username)
     LIMIT ${page.limit}`);
}

/**
 * Grants a permission (idempotent), with an audit row when it is new, and tells every API process
 * to forget the user's cached sessions. `grantedBy` says who: `cli:<user>`, `env:…`, a user id.
 */
export async function grantPermission(
  db: DatabasePool | DatabaseTransactionConnection,
  grant: { userId: string; permission: Permission; grantedBy: string },
): Promise<void> {
  await db.transaction(async (t) => {
    const granted = await t.maybeOne(sql.type(userIdRow)`
      INSERT INTO user_permissions (user_id, permission, granted_by)
      VALUES (${grant.userId}, ${grant.permission}, ${grant.grantedBy})
      ON CONFLICT (user_id, permission) DO NOTHING
      RETURNING user_id AS "userId"`);
    if (!granted) return;
    await writeAuditLog(t, permissionAudit('PERMISSION_GRANT', grant.userId, grant.permission, grant.grantedBy));
    await notifySessionEvent(t, { userId: grant.userId });
  });
}

/** Revokes a permission (idempotent), audited when the user had it; their cached sessions are forgotten. */
export async function revokePermission(
  db: DatabasePool | DatabaseTransactionConnection,
  revoke: { userId: string; permission: Permission; revokedBy: string },
): Promise<void> {
  await db.transaction(async (t) => {
    const revoked = await t.maybeOne(sql.type(userIdRow)`
      DELETE FROM user_permissions WHERE user_id = ${revoke.userId} AND permission = ${revoke.permission}
      RETURNING user_id AS "userId"`);
    if (!revoked) return;
    await writeAuditLog(t, permissionAudit('PERMISSION_REVOKE', revoke.userId, revoke.permission, revoke.revokedBy));
    await notifySessionEvent(t, { userId: revoke.userId });
  });
}

const permissionAudit = (action: string, userId: string, permission: Permission, actor: string) => ({
  actorUserId: null,
  action,
  targetType: 'user',
  targetId: userId,
  detail: { permission, actor },
});

/**
 * Disables the account (`reason`) or enables it again (null); false when there is no such user.
 * Its sessions are not touched here: the caller ends them in the same transaction.
 */
export async function setUserDisabled(
  db: CommonQueryMethods,
  userId: string,
  disabled: { reason: string } | null,
): Promise<boolean> {
  const changed = await db.maybeOne(sql.type(userIdRow)`
    UPDATE users SET disabled_at = ${disabled ? sql.fragment`clock_timestamp()` : null}, disabled_reason = ${disabled?.reason ?? null}
     WHERE id = ${userId}
    RETURNING id AS "userId"`);
  return changed !== null;
}

const ceilingRow = z.object({ ceiling: requestPriority });

/** The highest priority the user may ask for (docs/scheduling.md). */
export async function findPriorityCeiling(db: CommonQueryMethods, userId: string): Promise<RequestPriority> {
  return (
    (await db.maybeOneFirst(sql.type(ceilingRow)`
      SELECT ${priorityName(sql.fragment`priority_ceiling`)} AS ceiling FROM users WHERE id = ${userId}`)) ?? 'normal'
  );
}

const weightRow = z.object({ weight: z.number() });

/** The user's weight in a model's line (migration 036); 1 when there is no such user. */
export async function findQueueWeight(db: CommonQueryMethods, userId: string): Promise<number> {
  return (
    (await db.maybeOneFirst(sql.type(weightRow)`SELECT queue_weight AS weight FROM users WHERE id = ${userId}`)) ?? 1
  );
}

/** Sets the user's weight in a model's line; requests already waiting keep their tags. */
export async function setQueueWeight(db: CommonQueryMethods, userId: string, weight: number): Promise<void> {
  await db.query(sql.unsafe`UPDATE users SET queue_weight = ${weight} WHERE id = ${userId}`);
}

/** Sets the highest priority the user may ask for; false when there is no such user. */
export async function setPriorityCeiling(
  db: CommonQueryMethods,
  userId: string,
  ceiling: RequestPriority,
): Promise<boolean> {
  const updated = await db.query(sql.unsafe`
    UPDATE users SET priority_ceiling = ${priorityRank(ceiling)} WHERE id = ${userId}`);
  return updated.rowCount > 0;
}
