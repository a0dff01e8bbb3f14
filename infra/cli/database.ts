import path from 'node:path';
import { Client } from 'pg';
import type { DatabasePool } from 'slonik';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/connection-pool';
import type { PodiumConfig } from '../../domain/config';
import { databaseConnection } from '../connections';

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

async function withDatabaseUrl<T>(config: PodiumConfig, work: (databaseUrl: string) => Promise<T>): Promise<T> {
  if (config.DATABASE_URL) return work(config.DATABASE_URL);
  const embeddedUrl = `postgres://podium:podium@127.0.0.1:${config.EMBEDDED_POSTGRES_PORT}/podium`;
  if (await reachable(embeddedUrl)) return work(embeddedUrl);
  const { startEmbeddedPostgres } = await import('../postgres'); // not in an image (infra/release)
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

/**
 * DATABASE_URL, else the embedded PostgreSQL of `npm start` (started for the command if it is
 * not running), migrated, as a small pool for `work`.
 */
export async function withDatabase<T>(config: PodiumConfig, work: (db: DatabasePool) => Promise<T>): Promise<T> {
  return withDatabaseUrl(config, async (databaseUrl) => {
    const database = databaseConnection(databaseUrl, config);
    await migrate(database.url, config.DATABASE_SCHEMA, database.ssl);
    const db = await createDatabasePool({
      databaseUrl: database.url,
      ssl: database.ssl,
      schema: config.DATABASE_SCHEMA,
      maximumPoolSize: 2,
    });
    try {
      return await work(db);
    } finally {
      await db.end();
    }
  });
}
