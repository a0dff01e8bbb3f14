import pg from 'pg';
import { clusterDatabaseOn } from '../../infra/temporal-cluster/config';

/** The indexes of executions_visibility that Podium's lists and the Temporal UI's default list use. */
const kept = new Set([
  'executions_visibility_pkey',
  'default_idx',
  'by_execution_time',
  'by_workflow_id',
  'by_workflow_type',
  'by_status',
  ...Array.from({ length: 10 }, (_, i) => `by_keyword_${String(i + 1).padStart(2, '0')}`),
]);

/**
 * A diagnostic, not a setup to run: drops every index of SQL visibility's executions_visibility
 * (73 in schema v1.14) but those, so that a benchmark can show what the others cost each write.
 * Returns how many indexes were there and how many are left.
 */
export async function dropUnusedVisibilityIndexes(databaseUrl: string): Promise<{ before: number; after: number }> {
  const database = clusterDatabaseOn(Number(new URL(databaseUrl).port));
  const client = new pg.Client({ ...database, database: database.visibility });
  await client.connect();
  try {
    const { rows } = await client.query<{ name: string }>(
      `SELECT indexname AS name FROM pg_indexes WHERE tablename = 'executions_visibility'`,
    );
    for (const { name } of rows) if (!kept.has(name)) await client.query(`DROP INDEX "${name}"`);
    return { before: rows.length, after: rows.filter(({ name }) => kept.has(name)).length };
  } finally {
    await client.end();
  }
}
