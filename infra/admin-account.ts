import { randomUUID } from 'node:crypto';
import type { DatabasePool } from 'slonik';
import { hashPassword, isCommonPassword } from '../api/passwords';
import { findUserIdByUsername, grantPermission, insertUser } from '../db/users';
import { signupIssues } from '../domain/accounts';

/**
 * The first admin, from PODIUM_ADMIN_USERNAME / _EMAIL / _PASSWORD: created with ADMIN if the
 * account does not exist, given ADMIN if it does. Returns what it did, for the start-up line.
 */
export async function ensureAdminAccount(
  db: DatabasePool,
  admin: { username: string; email?: string; password?: string },
): Promise<'created' | 'granted'> {
  const existing = await findUserIdByUsername(db, admin.username);
  if (existing) {
    await grantPermission(db, { userId: existing, permission: 'ADMIN', grantedBy: 'env:PODIUM_ADMIN_USERNAME' });
    return 'granted';
  }
  if (!admin.email || !admin.password) {
    throw new Error(`PODIUM_ADMIN_USERNAME=${admin.username} does not exist yet: set PODIUM_ADMIN_EMAIL and PODIUM_ADMIN_PASSWORD to create it`);
  }
  const account = { username: admin.username, email: admin.email, password: admin.password };
  const issues = signupIssues(account, isCommonPassword);
  if (issues.length > 0) throw new Error(`PODIUM_ADMIN_*: ${issues.map((issue) => issue.message).join('; ')}`);
  const id = randomUUID();
  const passwordHash = await hashPassword(account.password);
  await db.transaction(async (transaction) => {
    await insertUser(transaction, { id, username: account.username, email: account.email, passwordHash });
    await grantPermission(transaction, { userId: id, permission: 'ADMIN', grantedBy: 'env:PODIUM_ADMIN_USERNAME' });
  });
  return 'created';
}
