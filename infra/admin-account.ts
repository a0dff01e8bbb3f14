import { randomUUID } from 'node:crypto';
import type { DatabasePool } from 'slonik';
import { hashPassword, isCommonPassword } from '../api/auth/passwords';
import { findUserIdByUsername, findUserView, grantPermission, insertUser } from '../db/users';
import { signupIssues } from '../domain/accounts';

/**
 * The first admin, from PODIUM_ADMIN_USERNAME / _EMAIL / _PASSWORD: created with ADMIN and
 * MODEL_ADMIN (the operator keeps the model catalog) if the account does not exist. An existing
 * account is never given ADMIN this way (whoever signed up first under that name would get it,
 * its password unchecked): `exists` if it has ADMIN, `not-admin` if not. Returns what it found
 * or did, for the start-up line.
 */
export async function ensureAdminAccount(
  db: DatabasePool,
  admin: { username: string; email?: string; password?: string },
): Promise<'created' | 'exists' | 'not-admin'> {
  const existing = await findUserIdByUsername(db, admin.username);
  if (existing) {
    const user = await findUserView(db, existing);
    return user?.permissions.includes('ADMIN') ? 'exists' : 'not-admin';
  }
  if (!admin.email || !admin.password) {
    throw new Error(
      `PODIUM_ADMIN_USERNAME=${admin.username} does not exist yet: set PODIUM_ADMIN_EMAIL and PODIUM_ADMIN_PASSWORD to create it`,
    );
  }
  const account = { username: admin.username, email: admin.email, password: admin.password };
  const issues = signupIssues(account, isCommonPassword);
  if (issues.length > 0) throw new Error(`PODIUM_ADMIN_*: ${issues.map((issue) => issue.message).join('; ')}`);
  const id = randomUUID();
  const passwordHash = await hashPassword(account.password);
  await db.transaction(async (transaction) => {
    await insertUser(transaction, { id, username: account.username, email: account.email, passwordHash });
    for (const permission of ['ADMIN', 'MODEL_ADMIN'] as const) {
      await grantPermission(transaction, { userId: id, permission, grantedBy: 'env:PODIUM_ADMIN_USERNAME' });
    }
  });
  return 'created';
}
