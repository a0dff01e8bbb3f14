import type { DatabasePool } from 'slonik';
import { writeAuditLog } from '../../db/audit-log';
import { revokeUserSessions } from '../../db/sessions';
import {
  findPriorityCeiling,
  findQueueWeight,
  findUserView,
  setPriorityCeiling,
  setQueueWeight,
  setUserDisabled,
} from '../../db/users';
import type { RequestPriority } from '../../domain/request-priority';
import { ApiError } from '../http/errors';
import type { SessionCache } from '../auth/session-cache';

type AdminUserDeps = { db: DatabasePool; cache?: SessionCache | null };
type Act = { adminId: string; userId: string; reason: string };

const userNotFound = (id: string) => new ApiError(404, 'USER_NOT_FOUND', `No user ${id}`);

/** Ends every session of the user, audited (USER_SESSIONS_END); how many were live. */
export async function endUserSessions({ db, cache }: AdminUserDeps, { adminId, userId, reason }: Act): Promise<number> {
  const ended = await db.transaction(async (t) => {
    // The user must exist: an audit row about nobody would say something happened.
    if (!(await findUserView(t, userId))) throw userNotFound(userId);
    const count = await revokeUserSessions(t, userId, `ended by an admin: ${reason}`);
    await writeAuditLog(t, {
      actorUserId: adminId,
      action: 'USER_SESSIONS_END',
      targetType: 'user',
      targetId: userId,
      detail: { reason, ended: count },
    });
    return count;
  });
  cache?.forgetUser(userId);
  return ended;
}

/**
 * Disables the account (it cannot sign in) and ends its sessions, or enables it again; audited
 * (USER_DISABLE, USER_ENABLE) in the same transaction. An admin cannot disable themselves: the
 * last admin would lock everyone out.
 */
export async function setAccountDisabled(
  { db, cache }: AdminUserDeps,
  { adminId, userId, reason }: Act,
  disabled: boolean,
): Promise<{ endedSessions: number }> {
  if (disabled && adminId === userId)
    throw new ApiError(409, 'CANNOT_DISABLE_SELF', 'Admins cannot disable their own account; ask another admin');
  const result = await db.transaction(async (t) => {
    if (!(await setUserDisabled(t, userId, disabled ? { reason } : null))) throw userNotFound(userId);
    const endedSessions = disabled ? await revokeUserSessions(t, userId, `account disabled: ${reason}`) : 0;
    await writeAuditLog(t, {
      actorUserId: adminId,
      action: disabled ? 'USER_DISABLE' : 'USER_ENABLE',
      targetType: 'user',
      targetId: userId,
      detail: { reason, endedSessions },
    });
    return { endedSessions };
  });
  cache?.forgetUser(userId);
  return result;
}

/**
 * Sets the highest priority the user may ask for (docs/scheduling.md), audited
 * (USER_PRIORITY_CEILING, with the ceiling before and after) in the same transaction.
 */
export async function grantPriorityCeiling(
  { db }: AdminUserDeps,
  { adminId, userId, reason }: Act,
  ceiling: RequestPriority,
): Promise<void> {
  await db.transaction(async (t) => {
    if (!(await findUserView(t, userId))) throw userNotFound(userId);
    const before = await findPriorityCeiling(t, userId);
    await setPriorityCeiling(t, userId, ceiling);
    await writeAuditLog(t, {
      actorUserId: adminId,
      action: 'USER_PRIORITY_CEILING',
      targetType: 'user',
      targetId: userId,
      detail: { reason, before, after: ceiling },
    });
  });
}

/**
 * Sets the user's weight in every model's line (docs/scheduling.md), audited (USER_QUEUE_WEIGHT,
 * with the weight before and after) in the same transaction. Their requests that wait keep their
 * tags; the next ones step by the new weight.
 */
export async function setUserQueueWeight(
  { db }: AdminUserDeps,
  { adminId, userId, reason }: Act,
  weight: number,
): Promise<void> {
  await db.transaction(async (t) => {
    if (!(await findUserView(t, userId))) throw userNotFound(userId);
    const before = await findQueueWeight(t, userId);
    await setQueueWeight(t, userId, weight);
    await writeAuditLog(t, {
      actorUserId: adminId,
      action: 'USER_QUEUE_WEIGHT',
      targetType: 'user',
      targetId: userId,
      detail: { reason, before, after: weight },
    });
  });
}
