import type { DatabasePool } from 'slonik';
import { findUserIdByUsername, grantPermission, listUsers, revokePermission } from '../../db/users';
import { permission } from '../../domain/accounts';

export const usersUsage = `npm run podium -- users list
       npm run podium -- users grant <username> <${permission.options.join('|')}>
       npm run podium -- users revoke <username> <${permission.options.join('|')}>`;

/** `users list|grant|revoke`: what it printed, or an Error whose message says what was wrong. */
export async function usersCommand(db: DatabasePool, [command, username, permissionName]: string[]): Promise<string> {
  if (command === 'list') {
    const users = await listUsers(db, { limit: 1000 });
    return (
      users.map((user) => `${user.username}\t${user.email}\t${user.permissions.join(',') || '-'}`).join('\n') ||
      '(no users)'
    );
  }
  if ((command !== 'grant' && command !== 'revoke') || !username || !permissionName)
    throw new Error(`usage: ${usersUsage}`);
  const parsed = permission.safeParse(permissionName.toUpperCase());
  if (!parsed.success) throw new Error(`unknown permission ${permissionName}; known: ${permission.options.join(', ')}`);
  const userId = await findUserIdByUsername(db, username);
  if (!userId) throw new Error(`no user "${username}"`);
  if (command === 'grant') {
    await grantPermission(db, { userId, permission: parsed.data, grantedBy: `cli:${process.env.USER ?? 'unknown'}` });
    return `granted ${parsed.data} to ${username}`;
  }
  await revokePermission(db, { userId, permission: parsed.data, revokedBy: `cli:${process.env.USER ?? 'unknown'}` });
  return `revoked ${parsed.data} from ${username}`;
}
