// `npm run podium -- <command>`: operations where a terminal is handier than the API.
//   users list
//   users grant <username> <PERMISSION>
//   users revoke <username> <PERMISSION>
// Uses DATABASE_URL, else the embedded PostgreSQL of `npm start` (started for the command if
// it is not running).
import path from 'node:path';
import { Client } from 'pg';
import { migrate } from '../db/migrate';
import { createDatabasePool } from '../db/pool';
import { findUserIdByUsername, grantPermission, listUsers, revokePermission } from '../db/users';
import { permission } from '../domain/accounts';
import { parseConfig, type PodiumConfig } from '../domain/config';
import { startEmbeddedPostgres } from './postgres';

const usage = `usage: npm run podium -- users list
       npm run podium -- users grant <username> <${permission.options.join('|')}>
       npm run podium -- users revoke <username> <${permission.options.join('|')}>`;

async function reachable(databaseUrl: string): Promise<boolean> {
  const client = new Client({ connectionString: databaseUrl, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function withDatabase<T>(config: PodiumConfig, work: (databaseUrl: string) => Promise<T>): Promise<T> {
  if (config.DATABASE_URL) return work(config.DATABASE_URL);
  const embeddedUrl = `postgres://podium:podium@127.0.0.1:${config.EMBEDDED_POSTGRES_PORT}/podium`;
  if (await reachable(embeddedUrl)) return work(embeddedUrl);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(path.resolve(config.DATA_DIR), 'postgres'),
    port: config.EMBEDDED_POSTGRES_PORT,
  });
  try {
    return await work(postgres.databaseUrl);
  } finally {
    await postgres.stop();
  }
}

async function main(args: string[]): Promise<string> {
  const config = parseConfig(process.env);
  const [group, command, username, permissionName] = args;
  if (group !== 'users' || !command) throw new Error(usage);
  return withDatabase(config, async (databaseUrl) => {
    await migrate(databaseUrl, config.DATABASE_SCHEMA);
    const db = await createDatabasePool({ databaseUrl, schema: config.DATABASE_SCHEMA, maximumPoolSize: 2 });
    try {
      if (command === 'list') {
        const users = await listUsers(db, { limit: 1000 });
        return users.map((user) => `${user.username}\t${user.email}\t${user.permissions.join(',') || '-'}`).join('\n') || '(no users)';
      }
      if ((command !== 'grant' && command !== 'revoke') || !username || !permissionName) throw new Error(usage);
      const parsed = permission.safeParse(permissionName.toUpperCase());
      if (!parsed.success) throw new Error(`unknown permission ${permissionName}; known: ${permission.options.join(', ')}`);
      const userId = await findUserIdByUsername(db, username);
      if (!userId) throw new Error(`no user "${username}"`);
      if (command === 'grant') {
        await grantPermission(db, { userId, permission: parsed.data, grantedBy: `cli:${process.env.USER ?? 'unknown'}` });
        return `granted ${parsed.data} to ${username}`;
      }
      await revokePermission(db, userId, parsed.data);
      return `revoked ${parsed.data} from ${username}`;
    } finally {
      await db.end();
    }
  });
}

main(process.argv.slice(2)).then(
  (output) => {
    console.log(output);
    process.exit(0);
  },
  (error: Error) => {
    console.error(error.message);
    process.exit(1);
  },
);
