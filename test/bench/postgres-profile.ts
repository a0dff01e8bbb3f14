// Benchmark: where PostgreSQL spends its time on the warm request path. Runs BENCH_REQUESTS
// sequential warm echo requests through the public API with pg_stat_statements loaded, then
// prints the statements and plpgsql functions by total time, per request.
// Run with `npm run bench:postgres`.
import { sql } from 'slonik';
import { z } from 'zod';
import { echoInput, type TestStack } from '../support/test-stack';
import { runBenchmark } from './run-benchmark';

process.env.PODIUM_PG_PROFILE = '1';
const requests = Number(process.env.BENCH_REQUESTS ?? 1000);

async function benchmark(stack: TestStack) {
  const token = await stack.api.anonymousToken();
  const one = async () => {
    const id = await stack.api.submitAccepted(token, { model: 'echo', input: echoInput });
    const { status, body } = await stack.api.call('GET', `/api/requests/${id}?wait=30`, { token });
    if (status !== 200 || body.status !== 'COMPLETE')
      throw new Error(`request ${id}: ${status} ${JSON.stringify(body)}`);
  };
  for (let i = 0; i < 50; i++) await one(); // the warm instance, JIT, pools
  await stack.db.query(sql.unsafe`CREATE EXTENSION IF NOT EXISTS pg_stat_statements`);
  await stack.db.query(sql.unsafe`SELECT pg_stat_statements_reset(), pg_stat_reset()`);
  for (let i = 0; i < requests; i++) await one();

  const statements = (toplevel: boolean) =>
    stack.db.any(
      sql.type(z.object({ calls: z.number(), ms: z.number(), query: z.string() }))`
        SELECT calls::int AS calls, total_exec_time AS ms, regexp_replace(query, '\\s+', ' ', 'g') AS query
          FROM pg_stat_statements WHERE toplevel = ${toplevel} AND query NOT LIKE '%pg_stat%' ORDER BY total_exec_time DESC LIMIT 20`,
    );
  const table = (rows: readonly { calls: number; ms: number; query: string }[]) =>
    console.table(
      rows.map((s) => ({
        'ms/req': (s.ms / requests).toFixed(3),
        'calls/req': (s.calls / requests).toFixed(2),
        query: s.query.slice(0, 110),
      })),
    );
  const functions = await stack.db.any(
    sql.type(z.object({ name: z.string(), calls: z.number(), selfMs: z.number(), totalMs: z.number() }))`
      SELECT funcname AS name, calls::int AS calls, self_time AS "selfMs", total_time AS "totalMs"
        FROM pg_stat_user_functions ORDER BY self_time DESC LIMIT 15`,
  );
  const all = await stack.db.one(sql.type(z.object({ ms: z.number(), calls: z.number() }))`
    SELECT sum(total_exec_time) AS ms, sum(calls)::int AS calls FROM pg_stat_statements WHERE toplevel AND query NOT LIKE '%pg_stat%'`);
  console.log(
    `\nPostgreSQL over ${requests} sequential warm requests: ${(all.ms / requests).toFixed(2)} ms and ${(all.calls / requests).toFixed(1)} top-level statements per request`,
  );
  console.log('\nstatements the API and worker send, by total time, per request:');
  table(await statements(true));
  console.log('statements inside functions and triggers, by total time, per request:');
  table(await statements(false));
  console.log('plpgsql functions by own time, per request:');
  console.table(
    functions.map((f) => ({
      name: f.name,
      'calls/req': (f.calls / requests).toFixed(2),
      'self ms/req': (f.selfMs / requests).toFixed(3),
      'total ms/req': (f.totalMs / requests).toFixed(3),
    })),
  );
}

runBenchmark(benchmark);
