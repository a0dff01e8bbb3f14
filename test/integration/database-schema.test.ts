import { randomUUID } from 'node:crypto';
import { sql } from 'slonik';
import { z } from 'zod';
import { echoInput, useTestStack } from '../support/test-stack';

const schema = `podium_custom_${randomUUID().replaceAll('-', '').slice(0, 8)}`;
const stack = useTestStack({ schema });

describe('DATABASE_SCHEMA', () => {
  it('puts every table in the configured schema and runs the whole path there', async () => {
    const token = await stack.api.anonymousToken();
    const { body } = await stack.api.submit(token, { model: 'echo', input: echoInput });
    const { request } = await stack.api.waitUntilFinal(token, body.id);
    expect(request.status).toBe('COMPLETE');

    const tables = await stack.db.anyFirst(sql.type(z.object({ table: z.string() }))`
      SELECT table_schema || '.' || table_name AS table
        FROM information_schema.tables
       WHERE table_name IN ('work_requests', 'request_stats', 'sessions', 'models', 'model_instances', 'model_instance_log')
         AND table_schema IN (${schema}, 'public', 'podium')`);
    expect([...tables].sort()).toEqual(
      ['model_instance_log', 'model_instances', 'models', 'request_stats', 'sessions', 'work_requests'].map(
        (t) => `${schema}.${t}`,
      ),
    );
    const rows = await stack.db.oneFirst(sql.unsafe`
      SELECT count(*)::int FROM ${sql.identifier([schema, 'request_stats'])} WHERE request_id = ${request.id}`);
    expect(rows).toBe(1);
  });

  it('every pooled connection has the schema on its search_path', async () => {
    const paths = await Promise.all(
      Array.from({ length: 5 }, () =>
        stack.db.oneFirst(sql.type(z.object({ path: z.string() }))`SELECT current_setting('search_path') AS path`),
      ),
    );
    expect(new Set(paths)).toEqual(new Set([schema]));
  });
});
