import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { sql, type DatabasePool } from 'slonik';
import { z } from 'zod';

const migrationsDir = path.join(__dirname, 'migrations');
const migrationFile = /^(\d{3})_[a-z0-9_]+\.sql$/;

/** A migration file's text as a query; the files are ours, so no value interpolation is needed. */
function rawQuery(text: string) {
  return sql.unsafe(Object.assign([text], { raw: [text] }) as unknown as TemplateStringsArray);
}

export async function listMigrations(): Promise<{ version: number; name: string }[]> {
  const files = (await readdir(migrationsDir)).filter((name) => migrationFile.test(name)).sort();
  return files.map((name) => ({ version: Number(name.slice(0, 3)), name }));
}

/**
 * Applies the numbered SQL files in `db/migrations` that the schema has not seen yet, each in
 * its own transaction, under an advisory lock so that concurrent starters do not race.
 */
export async function migrate(pool: DatabasePool, schema: string): Promise<string[]> {
  const applied: string[] = [];
  await pool.connect(async (connection) => {
    await connection.query(sql.unsafe`SELECT pg_advisory_lock(hashtext(${'podium-migrate:' + schema}))`);
    try {
      await connection.query(sql.unsafe`CREATE SCHEMA IF NOT EXISTS ${sql.identifier([schema])}`);
      await connection.query(sql.unsafe`
        CREATE TABLE IF NOT EXISTS ${sql.identifier([schema, 'schema_migrations'])} (
          version integer PRIMARY KEY,
          name text NOT NULL,
          applied_at timestamptz NOT NULL DEFAULT now()
        )`);
      const done = new Set(
        await connection.manyFirst(
          sql.type(z.object({ version: z.number() }))`
            SELECT version FROM ${sql.identifier([schema, 'schema_migrations'])}`,
        ),
      );
      for (const migration of await listMigrations()) {
        if (done.has(migration.version)) continue;
        const text = await readFile(path.join(migrationsDir, migration.name), 'utf8');
        await connection.transaction(async (transaction) => {
          await transaction.query(rawQuery(text));
          await transaction.query(sql.unsafe`
            INSERT INTO ${sql.identifier([schema, 'schema_migrations'])} (version, name)
            VALUES (${migration.version}, ${migration.name})`);
        });
        applied.push(migration.name);
      }
    } finally {
      await connection.query(sql.unsafe`SELECT pg_advisory_unlock(hashtext(${'podium-migrate:' + schema}))`);
    }
  });
  return applied;
}
