import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { Client } from 'pg';
import { withSearchPath } from './connection-pool';

const migrationsDir = path.join(__dirname, 'migrations');
const migrationFile = /^(\d{3})_[a-z0-9_]+\.sql$/;

export async function listMigrations(): Promise<{ version: number; name: string }[]> {
  const files = (await readdir(migrationsDir)).filter((name) => migrationFile.test(name)).sort();
  return files.map((name) => ({ version: Number(name.slice(0, 3)), name }));
}

/**
 * Applies the numbered SQL files in `db/migrations` that the schema has not seen yet, each in
 * its own transaction, under an advisory lock so that concurrent starters do not race.
 * A plain `pg` client runs them: a migration file holds many statements, which slonik
 * (rightly, for application queries) refuses.
 */
export async function migrate(
  databaseUrl: string,
  schema: string,
  ssl: false | TlsOptions = false,
  /** Stop after this version (a test of what a later migration does to existing data). */
  through = Infinity,
): Promise<string[]> {
  const client = new Client({ connectionString: withSearchPath(databaseUrl, schema), ssl });
  await client.connect();
  const lockKey = `podium-migrate:${schema}`;
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock(hashtext($1))', [lockKey]);
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${client.escapeIdentifier(schema)}`);
    await client.query(`
      CREATE TABLE IF NOT EXISTS schema_migrations (
        version integer PRIMARY KEY,
        name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now()
      )`);
    const { rows } = await client.query<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((row) => row.version));
    for (const migration of await listMigrations()) {
      if (done.has(migration.version)) continue;
      if (migration.version > through) break;
      const text = await readFile(path.join(migrationsDir, migration.name), 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(text);
        await client.query('INSERT INTO schema_migrations (version, name) VALUES ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        await client.query('COMMIT');
      } catch (error) {
        await client.query('ROLLBACK');
        throw new Error(
          `migration ${migration.name} failed: ${error instanceof Error ? error.message : String(error)}`,
        );
      }
      applied.push(migration.name);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock(hashtext($1))', [lockKey]).catch(() => undefined);
    await client.end();
  }
  return applied;
}
