// Benchmark (issues 6 and 20): request stats on 10M rows, or BENCH_STATS_ROWS (`npm run
// bench:stats:100m` for 100M). Starts its own Postgres and Temporal, like the tests.
//
//  1. generates the rows in PostgreSQL (two writers, seeded): 10 models over 2026, 95 % successes,
//     1 % never assigned an instance; without indexes and triggers, which are made after (as a
//     restore would), then VACUUM ANALYZE; then `stats backfill` builds the rollups;
//  2. a month of one model with both rollups, and other shapes (per day in UTC and in Berlin, per
//     hour): from the rollups (DAO and API) against the raw query on request_stats, the baseline,
//     in the same run — p50/p99 over 40 runs, counts compared exactly and every percentile
//     against percentile_cont (within 1 %);
//  3. the write overhead: one stats row inserted per statement, as the request path writes it,
//     with the rollup trigger and without (session_replication_role = replica), interleaved;
//  4. up to 20M rows: a CSV export of one model's year through the API (read from the rows).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql, type DatabasePool, type DatabasePoolConnection } from 'slonik';
import { z } from 'zod';
import { groupsFromRows, queryStats } from '../../db/stats';
import { backfillRollups, rollupStatement } from '../../db/stats-rollups';
import { relativeAccuracy } from '../../domain/latency-sketch';
import { statsQuery, type StatsGroup } from '../../domain/stats-query';
import { createDatabasePool } from '../../db/connection-pool';
import type { TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const totalRows = Number(process.env.BENCH_STATS_ROWS ?? 10_000_000);
const runs = 100;
const seconds = (since: number) => (performance.now() - since) / 1000;
const perSecond = (rows: number, since: number) => Math.round(rows / seconds(since)).toLocaleString('en');

/**
 * One chunk of synthetic rows, generated in the database: request times uniform over 2026 (µs),
 * queue wait exponential (mean 300 ms), processing 20–500 ms. Seeded per chunk.
 */
async function generateChunk(db: DatabasePool, first: number, count: number) {
  await db.connect(async (connection) => {
    await connection.query(sql.unsafe`SELECT setseed(${(first % 1_000_003) / 1_000_003})`);
    await connection.query(sql.unsafe`
      INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
      WITH drawn AS (
        SELECT i, timestamptz '2026-01-01 00:00:00+00' + random() * interval '365 days' AS request,
               random() > 0.01 AS assigned, random() AS queue, random() AS processing, random() > 0.05 AS ok
          FROM generate_series(${first}::bigint, ${first + count - 1}::bigint) AS i
      ), timed AS (
        SELECT drawn.*, CASE WHEN assigned THEN request + floor(-ln(1 - queue) * 300) * interval '1 millisecond' END AS pod_ready
          FROM drawn
      )
      SELECT 'model-' || lpad((i % 10)::text, 2, '0'), gen_random_uuid(), 1, assigned AND ok, request, pod_ready,
             COALESCE(pod_ready, request) + (20 + floor(processing * 480)) * interval '1 millisecond'
        FROM timed`);
  });
}

/** Loads the rows as a restore would: indexes, constraints and the rollup trigger off, then rebuilt. */
async function load(db: DatabasePool) {
  // The definitions are kept in a table of their own, to be run again (EXECUTE) after the load.
  await db.query(sql.unsafe`
    CREATE TABLE bench_ddl AS
    SELECT format('ALTER TABLE request_stats DROP CONSTRAINT %I', conname) AS drop,
           format('ALTER TABLE request_stats ADD CONSTRAINT %I %s', conname, pg_get_constraintdef(oid)) AS create
      FROM pg_constraint WHERE conrelid = 'request_stats'::regclass AND contype IN ('p', 'u')
    UNION ALL
    SELECT format('DROP INDEX %s', indexrelid::regclass), pg_get_indexdef(indexrelid)
      FROM pg_index WHERE indrelid = 'request_stats'::regclass
       AND NOT EXISTS (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid)`);
  const runAll = (column: 'drop' | 'create') =>
    db.query(sql.unsafe`DO $$ DECLARE statement text; BEGIN
      FOR statement IN SELECT ${sql.identifier([column])} FROM bench_ddl LOOP EXECUTE statement; END LOOP; END $$`);
  await runAll('drop');
  await db.query(sql.unsafe`ALTER TABLE request_stats DISABLE TRIGGER USER`);

  const generating = performance.now();
  const chunk = 2_500_000;
  const chunks = Array.from({ length: Math.ceil(totalRows / chunk) }, (_, k) => k);
  let done = 0;
  const writer = async () => {
    for (let k = chunks.shift(); k !== undefined; k = chunks.shift()) {
      await generateChunk(db, k * chunk, Math.min(chunk, totalRows - k * chunk));
      done += Math.min(chunk, totalRows - k * chunk);
      console.error(`[bench] ${done.toLocaleString('en')} rows generated (${perSecond(done, generating)} rows/s)`);
    }
  };
  await Promise.all([writer(), writer()]);
  const generateSeconds = seconds(generating);

  const indexing = performance.now();
  await db.query(sql.unsafe`SET maintenance_work_mem = '1GB'`);
  await runAll('create');
  await db.query(sql.unsafe`ALTER TABLE request_stats ENABLE TRIGGER USER`);
  const indexSeconds = seconds(indexing);
  const vacuuming = performance.now();
  await db.query(sql.unsafe`VACUUM ANALYZE request_stats`);
  const vacuumSeconds = seconds(vacuuming);

  // As an installation that had these rows before migration 021: `stats backfill`.
  await db.query(
    sql.unsafe`UPDATE request_stats_rollup_state SET pending_through_id = (SELECT max(id) FROM request_stats)`,
  );
  const backfilling = performance.now();
  let lastReport = 0;
  await backfillRollups(db, ({ done: days, days: all, rows }) => {
    if (days === all || performance.now() - lastReport > 30_000) {
      lastReport = performance.now();
      console.error(
        `[bench] backfill: ${days}/${all} days, ${rows.toLocaleString('en')} rows (${perSecond(rows, backfilling)} rows/s)`,
      );
    }
  });
  const backfillSeconds = seconds(backfilling);
  await db.query(sql.unsafe`VACUUM ANALYZE request_stats_rollups`);
  await db.query(sql.unsafe`CHECKPOINT`); // the load's writes flushed now, not during the timings
  return { generateSeconds, indexSeconds, vacuumSeconds, backfillSeconds };
}

async function time(run: () => Promise<unknown>, times = runs, warmUps = Math.min(10, times)) {
  // Warm-up runs first: a server runs these queries all day, so its figures are with compiled
  // code and warm caches (the first runs after the load were 3–5× slower).
  for (let i = 0; i < warmUps; i++) await run();
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await run();
    durations.push(performance.now() - t0);
  }
  return durations;
}

/** Counts must be equal; every percentile within 1 % of percentile_cont; averages and maxima equal to float precision. */
function compare(rollups: readonly StatsGroup[], rows: readonly StatsGroup[]) {
  const key = (group: StatsGroup) => `${group.bucket}|${group.model}|${group.status}`;
  const exact = new Map(rows.map((group) => [key(group), group]));
  let countsEqual = rollups.length === rows.length;
  let worstPercentile = 0;
  let worstExact = 0;
  for (const group of rollups) {
    const truth = exact.get(key(group));
    if (
      !truth ||
      truth.count !== group.count ||
      truth.successCount !== group.successCount ||
      truth.failureCount !== group.failureCount
    ) {
      countsEqual = false;
      continue;
    }
    for (const timing of ['queueWaitMs', 'processingMs', 'totalMs'] as const) {
      for (const stat of ['avg', 'p50', 'p90', 'p99', 'max'] as const) {
        const [estimate, value] = [group[timing][stat], truth[timing][stat]];
        if (estimate === null || value === null) {
          if (estimate !== value) countsEqual = false;
          continue;
        }
        const error = value === 0 ? Math.abs(estimate) : Math.abs(estimate - value) / value;
        if (stat === 'avg' || stat === 'max') worstExact = Math.max(worstExact, error);
        else worstPercentile = Math.max(worstPercentile, error);
      }
    }
  }
  return { groups: rollups.length, countsEqual, worstPercentile, worstExact };
}

/** One stats row per statement, as recordRequestStats writes it, into a busy day of model-03. */
async function insertOverhead(db: DatabasePool) {
  const insert = (connection: DatabasePoolConnection) => {
    const request = Date.UTC(2026, 5, 15) + Math.floor(Math.random() * 86_400_000);
    return connection.query(sql.unsafe`
      INSERT INTO request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp)
      VALUES ('model-03', ${randomUUID()}, 1, true, to_timestamp(${request / 1000}), to_timestamp(${(request + 120) / 1000}), to_timestamp(${(request + 400) / 1000}))
      ON CONFLICT (request_id, attempt) DO NOTHING`);
  };
  const withRollups: number[] = [];
  const without: number[] = [];
  await db.connect(async (rollupConnection) =>
    db.connect(async (plainConnection) => {
      await plainConnection.query(sql.unsafe`SET session_replication_role = replica`); // no trigger fires
      for (let i = 0; i < 1_050; i++) {
        for (const [connection, durations] of [
          [rollupConnection, withRollups],
          [plainConnection, without],
        ] as const) {
          const t0 = performance.now();
          await insert(connection);
          if (i >= 50) durations.push(performance.now() - t0); // the first 50 warm up
        }
      }
    }),
  );
  // Put the rollups right again for the rows written without them.
  await backfillDay(db, '2026-06-15');
  return { withRollups, without };
}

const backfillDay = (db: DatabasePool, day: string) =>
  db.transaction((transaction) =>
    transaction.query(
      sql.unsafe`SELECT request_stats_rollups_rebuild(ARRAY[(${day}::date)::timestamp AT TIME ZONE 'UTC'])`,
    ),
  );

function curlToNull(url: string, token: string): Promise<{ bytes: number }> {
  return new Promise((resolve, reject) => {
    const curl = spawn('curl', [
      '-sS',
      '--fail',
      '-o',
      '/dev/null',
      '-w',
      '%{size_download}',
      '-H',
      `authorization: Bearer ${token}`,
      url,
    ]);
    let out = '';
    curl.stdout.on('data', (chunk) => (out += chunk));
    curl.stderr.on('data', (chunk) => process.stderr.write(chunk));
    curl.once('exit', (code) =>
      code === 0 ? resolve({ bytes: Number(out) }) : reject(new Error(`curl exited ${code}`)),
    );
  });
}

async function benchmark(stack: TestStack) {
  // Index builds, the backfill and the raw baseline at 100M rows outlast slonik's 60 s limit.
  const bulk = await createDatabasePool({
    databaseUrl: stack.services.databaseUrl,
    schema: stack.schema,
    maximumPoolSize: 3,
    statementTimeout: 'DISABLE_TIMEOUT',
  });
  try {
    await measure(stack, bulk);
  } finally {
    await bulk.end();
  }
}

async function measure(stack: TestStack, bulk: DatabasePool) {
  console.error(`[bench] generating ${totalRows.toLocaleString('en')} rows …`);
  const loaded = await load(bulk);
  const rowCount = Number(await bulk.oneFirst(sql.unsafe`SELECT count(*)::bigint FROM request_stats`));
  const rollupRows = Number(await stack.db.oneFirst(sql.unsafe`SELECT count(*)::bigint FROM request_stats_rollups`));
  const sizes = await stack.db.one(sql.type(z.object({ stats: z.string(), rollups: z.string() }))`
    SELECT pg_size_pretty(pg_total_relation_size('request_stats')) AS stats, pg_size_pretty(pg_total_relation_size('request_stats_rollups')) AS rollups`);
  const admin = (await stack.signUpAdmin()).token;

  const month = { model: 'model-03', from: '2026-06-01', to: '2026-06-30', rollup: 'model,status' };
  const shapes: Array<[string, Record<string, string>]> = [
    ['a month of one model, both rollups', month],
    ['the same, per day (UTC)', { ...month, bucket: 'day' }],
    ['the same, per day in Europe/Berlin', { ...month, bucket: 'day', tz: 'Europe/Berlin' }],
    ['one day of one model, per hour', { ...month, to: month.from, bucket: 'hour' }],
    ['a year of all models, by model', { from: '2026-01-01', to: '2026-12-31', rollup: 'model' }],
  ];
  const results = [];
  for (const [name, raw] of shapes) {
    const query = statsQuery.parse(raw);
    const page = await queryStats(stack.db, query);
    if (page.source.kind !== 'rollups') throw new Error(`${name}: answered from the rows (${page.source.reason})`);
    const exact = await groupsFromRows(bulk, query);
    const dao = await time(() => queryStats(stack.db, query));
    const api = await time(async () => {
      const response = await stack.api.call('GET', `/api/admin/stats?${new URLSearchParams(raw)}`, { token: admin });
      if (response.status !== 200) throw new Error(JSON.stringify(response.body));
    });
    // The raw query reads every row: a year of all models at 100M rows takes minutes a run.
    const baselineRuns = name.startsWith('a year') ? (totalRows > 20_000_000 ? 2 : 5) : 10;
    const baseline = await time(() => groupsFromRows(bulk, query), baselineRuns, 1);
    results.push({ name, dao, api, baseline, accuracy: compare(page.rows as StatsGroup[], exact) });
  }
  const monthQuery = statsQuery.parse(month);
  const plan = (
    (await stack.db.anyFirst(
      sql.unsafe`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${rollupStatement(monthQuery)}`,
    )) as string[]
  ).join('\n');
  const writes = await insertOverhead(bulk);

  const exports: Array<{ rows: number; ms: number; bytes: number }> = [];
  if (totalRows <= 20_000_000) {
    const exportRows = Number(
      await bulk.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats WHERE model_id = 'model-05'`),
    );
    const t0 = performance.now();
    const { bytes } = await curlToNull(`${stack.baseUrl}/api/admin/stats?model=model-05&format=csv`, admin);
    exports.push({ rows: exportRows, ms: performance.now() - t0, bytes });
  }

  const f = (value: number) => value.toFixed(1);
  console.log(
    `\nrows: ${rowCount.toLocaleString('en')} request_stats (${sizes.stats}), ${rollupRows.toLocaleString('en')} rollup rows (${sizes.rollups})` +
      `\nloading: generated in ${loaded.generateSeconds.toFixed(0)} s (${Math.round(rowCount / loaded.generateSeconds).toLocaleString('en')} rows/s), ` +
      `indexes and constraints ${loaded.indexSeconds.toFixed(0)} s, VACUUM ANALYZE ${loaded.vacuumSeconds.toFixed(0)} s, ` +
      `stats backfill ${loaded.backfillSeconds.toFixed(0)} s (${Math.round(rowCount / loaded.backfillSeconds).toLocaleString('en')} rows/s); ` +
      `total ${(loaded.generateSeconds + loaded.indexSeconds + loaded.vacuumSeconds + loaded.backfillSeconds).toFixed(0)} s`,
  );
  console.log(`\nEXPLAIN — a month of one model, both rollups, from request_stats_rollups:\n${plan}`);
  console.log(
    `\nGrouped queries (ms; rollups ${runs} runs each after 10 warm-up runs, the raw baseline fewer after one):`,
  );
  console.table(
    results.map(({ name, dao, api, baseline, accuracy }) => ({
      query: name,
      groups: accuracy.groups,
      'DAO p50': f(summary('', dao).p50),
      'DAO p99': f(summary('', dao).p99),
      'API p99': f(summary('', api).p99),
      'raw p50': f(summary('', baseline).p50),
      'raw p99': f(summary('', baseline).p99),
      'speed-up p50': `×${(summary('', baseline).p50 / summary('', dao).p50).toFixed(0)}`,
      'counts exact': accuracy.countsEqual ? 'yes' : 'NO',
      'worst percentile error': `${(accuracy.worstPercentile * 100).toFixed(3)} %`,
      'avg/max error': accuracy.worstExact.toExponential(1),
    })),
  );
  const headline = results[0]!;
  const [daoP99, apiP99] = [summary('', headline.dao).p99, summary('', headline.api).p99];
  const daoTarget = totalRows > 20_000_000 ? 50 : 20;
  console.log(
    `targets (${rowCount.toLocaleString('en')} rows, a month of one model, both rollups): DAO p99 ${f(daoP99)} ms ≤ ${daoTarget}: ${daoP99 <= daoTarget ? 'met' : 'NOT met'}` +
      (totalRows > 20_000_000 ? '' : `; API p99 ${f(apiP99)} ms ≤ 30: ${apiP99 <= 30 ? 'met' : 'NOT met'}`) +
      `; counts exact in every shape: ${results.every((r) => r.accuracy.countsEqual) ? 'met' : 'NOT met'}` +
      `; every percentile within ${relativeAccuracy * 100} %: ${results.every((r) => r.accuracy.worstPercentile <= relativeAccuracy + 1e-12) ? 'met' : 'NOT met'}`,
  );
  const [withRollups, without] = [summary('', writes.withRollups), summary('', writes.without)];
  console.log(
    `\nwrite, one stats row per statement (${writes.withRollups.length} each, interleaved): with the rollup trigger p50 ${withRollups.p50.toFixed(3)} / p99 ${withRollups.p99.toFixed(3)} ms; ` +
      `without p50 ${without.p50.toFixed(3)} / p99 ${without.p99.toFixed(3)} ms; overhead p50 ${(withRollups.p50 - without.p50).toFixed(3)} ms, ` +
      `p99 ${(withRollups.p99 - without.p99).toFixed(3)} ms (target ≤ 1 ms: ${withRollups.p99 - without.p99 <= 1 ? 'met' : 'NOT met'})`,
  );
  for (const run of exports) {
    console.log(
      `\nCSV export of ${run.rows.toLocaleString('en')} rows (${(run.bytes / 1024 / 1024).toFixed(0)} MB, read from the rows) through the API: ` +
        `${(run.ms / 1000).toFixed(1)} s, ${Math.round(run.rows / (run.ms / 1000)).toLocaleString('en')} rows/s`,
    );
  }
}

runBenchmark(benchmark);
