// Benchmark (issue 6): request stats on 10M rows. Run with `npm run bench:stats`
// (BENCH_STATS_ROWS, 10,000,000). Starts its own Postgres and Temporal, like the tests.
//
//  1. loads BENCH_STATS_ROWS synthetic rows with COPY: 10 models over 2026, 95% successes,
//     1% never assigned an instance; then VACUUM ANALYZE;
//  2. a month of one model with both rollups (target ≤ 150 ms): EXPLAIN (ANALYZE, BUFFERS), then
//     p50/p99 over 20 runs through the DAO and through the API — and the same query with the
//     covering index dropped (inside a rolled-back transaction), as the baseline;
//  3. a CSV export of one model's year (~1M rows) through the API, read by curl in another
//     process: rows/s, and the API process's RSS growth while it streams (target ≤ 50 MB).
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { sql, type DatabasePool } from 'slonik';
import { withSearchPath } from '../../db/pool';
import { queryStats, statsStatement } from '../../db/stats';
import { statsQuery } from '../../domain/stats-query';
import type { TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const totalRows = Number(process.env.BENCH_STATS_ROWS ?? 10_000_000);
const models = Array.from({ length: 10 }, (_, i) => `model-${String(i).padStart(2, '0')}`);
const yearStart = Date.UTC(2026, 0, 1);
const yearMs = Date.UTC(2027, 0, 1) - yearStart;

/** Synthetic rows as COPY text, in chunks of 10,000 lines. */
function* copyLines(): Generator<string> {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const iso = (ms: number) => new Date(ms).toISOString();
  for (let start = 0; start < totalRows; start += 10_000) {
    let chunk = '';
    for (let i = start; i < Math.min(totalRows, start + 10_000); i++) {
      const request = yearStart + Math.floor(random() * yearMs);
      const assigned = random() > 0.01;
      const podReady = assigned ? request + Math.floor(-Math.log(1 - random()) * 300) : null;
      const processed = (podReady ?? request) + 20 + Math.floor(random() * 480);
      const success = assigned && random() > 0.05;
      chunk += `${models[i % models.length]}\t${randomUUID()}\t1\t${success ? 't' : 'f'}\t${iso(request)}\t${podReady === null ? '\\N' : iso(podReady)}\t${iso(processed)}\n`;
    }
    yield chunk;
  }
}

async function load(databaseUrl: string, schema: string) {
  const client = new pg.Client({ connectionString: withSearchPath(databaseUrl, schema) });
  await client.connect();
  try {
    const t0 = performance.now();
    await pipeline(
      Readable.from(copyLines()),
      client.query(
        copyFrom(`COPY request_stats (model_id, request_id, attempt, result_success, request_timestamp, pod_ready_timestamp, processed_timestamp) FROM STDIN`),
      ),
    );
    const loadSeconds = (performance.now() - t0) / 1000;
    const t1 = performance.now();
    await client.query('VACUUM ANALYZE request_stats');
    return { loadSeconds, vacuumSeconds: (performance.now() - t1) / 1000 };
  } finally {
    await client.end();
  }
}

async function time(times: number, run: () => Promise<unknown>) {
  await run(); // warm-up
  const durations: number[] = [];
  for (let i = 0; i < times; i++) {
    const t0 = performance.now();
    await run();
    durations.push(performance.now() - t0);
  }
  return durations;
}

async function explain(db: DatabasePool, raw: Record<string, string>) {
  const plan = await db.anyFirst(sql.unsafe`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${statsStatement(statsQuery.parse(raw))}`);
  return (plan as string[]).join('\n');
}

/** Samples this process's RSS while `run` goes; returns the peak growth over the start, in MB. */
async function rssGrowthDuring(run: () => Promise<void>): Promise<number> {
  global.gc?.();
  const start = process.memoryUsage().rss;
  let peak = start;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 20);
  try {
    await run();
  } finally {
    clearInterval(sampler);
  }
  return (peak - start) / 1024 / 1024;
}

function curlToNull(url: string, token: string): Promise<{ bytes: number }> {
  return new Promise((resolve, reject) => {
    const curl = spawn('curl', ['-sS', '--fail', '-o', '/dev/null', '-w', '%{size_download}', '-H', `authorization: Bearer ${token}`, url]);
    let out = '';
    curl.stdout.on('data', (chunk) => (out += chunk));
    curl.stderr.on('data', (chunk) => process.stderr.write(chunk));
    curl.once('exit', (code) => (code === 0 ? resolve({ bytes: Number(out) }) : reject(new Error(`curl exited ${code}`))));
  });
}

async function benchmark(stack: TestStack) {
  console.error(`[bench] loading ${totalRows.toLocaleString('en')} rows with COPY …`);
  const loaded = await load(stack.services.databaseUrl, stack.schema);
  const rowCount = await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats`);
  const admin = (await stack.signUpAdmin()).token;

  const month = { model: 'model-03', from: '2026-06-01', to: '2026-06-30', rollup: 'model,status' };
  const monthQuery = statsQuery.parse(month);
  const monthPlan = await explain(stack.db, month);
  const viaDao = await time(20, () => queryStats(stack.db, monthQuery));
  const viaApi = await time(20, async () => {
    const response = await stack.api.call('GET', `/api/admin/stats?${new URLSearchParams(month)}`, { token: admin });
    if (response.status !== 200) throw new Error(JSON.stringify(response.body));
  });
  const monthRows = (await queryStats(stack.db, monthQuery)).rows;
  const perDay = await time(20, () => queryStats(stack.db, statsQuery.parse({ ...month, bucket: 'day' })));

  // Baselines: the same query with fewer indexes, each in a transaction that is rolled back.
  const withoutIndexes = async (indexes: string[]) => {
    let plan = '';
    let durations: number[] = [];
    await stack.db
      .transaction(async (transaction) => {
        for (const index of indexes) await transaction.query(sql.unsafe`DROP INDEX ${sql.identifier([index])}`);
        plan = ((await transaction.anyFirst(sql.unsafe`EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) ${statsStatement(monthQuery)}`)) as string[]).join('\n');
        durations = await time(3, () => queryStats(transaction, monthQuery));
        throw new Error('roll back');
      })
      .catch((error: Error) => {
        if (error.message !== 'roll back') throw error;
      });
    return { plan, durations };
  };
  const timeIndexOnly = await withoutIndexes(['request_stats_model_request_idx']);
  const noIndex = await withoutIndexes(['request_stats_model_request_idx', 'request_stats_request_idx']);

  const exportModel = 'model-05';
  global.gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const exportRows = await stack.db.oneFirst(sql.unsafe`SELECT count(*)::int FROM request_stats WHERE model_id = ${exportModel}`);
  // Twice: the first export also pays for V8 growing its heap to a working size under
  // csv-stringify's allocation rate; the second shows what each export holds.
  const exports: Array<{ ms: number; bytes: number; rssGrowthMb: number; heapAfterGcMb: number }> = [];
  for (let round = 0; round < 2; round++) {
    let ms = 0;
    let bytes = 0;
    const rssGrowthMb = await rssGrowthDuring(async () => {
      const t0 = performance.now();
      bytes = (await curlToNull(`${stack.baseUrl}/api/admin/stats?model=${exportModel}&format=csv`, admin)).bytes;
      ms = performance.now() - t0;
    });
    global.gc?.();
    exports.push({ ms, bytes, rssGrowthMb, heapAfterGcMb: process.memoryUsage().heapUsed / 1024 / 1024 });
  }
  const heapBeforeMb = heapBefore / 1024 / 1024;

  const format = (row: ReturnType<typeof summary>) => ({ ...row, p50: row.p50.toFixed(1), p99: row.p99.toFixed(1), mean: row.mean.toFixed(1), max: row.max.toFixed(1) });
  console.log(`\nloaded ${Number(rowCount).toLocaleString('en')} rows: COPY ${loaded.loadSeconds.toFixed(1)} s (${Math.round(Number(rowCount) / loaded.loadSeconds).toLocaleString('en')} rows/s), VACUUM ANALYZE ${loaded.vacuumSeconds.toFixed(1)} s`);
  console.log(`\nEXPLAIN — a month of one model, rolled up by model and status (${monthRows.length} groups):\n${monthPlan}`);
  console.log(`\nEXPLAIN — baseline 1, without the covering index (only request_stats_request_idx on time):\n${timeIndexOnly.plan}`);
  console.log(`\nEXPLAIN — baseline 2, without either stats index:\n${noIndex.plan}`);
  console.log('\nA month of one model, both rollups (ms):');
  console.table([
    summary('DAO (covering index)', viaDao),
    summary('API, HTTP round trip', viaApi),
    summary('DAO, + per-day buckets', perDay),
    summary('DAO, baseline 1: time index only', timeIndexOnly.durations),
    summary('DAO, baseline 2: no stats index', noIndex.durations),
  ].map(format));
  const p50 = summary('', viaDao).p50;
  const ratio = (durations: number[]) => (summary('', durations).p50 / p50).toFixed(1);
  console.log(`covering index speed-up (p50): ×${ratio(timeIndexOnly.durations)} over baseline 1, ×${ratio(noIndex.durations)} over baseline 2`);
  console.log(`target ≤ 150 ms: ${summary('', viaApi).p99 <= 150 ? 'met' : 'NOT met'} (API p99 ${summary('', viaApi).p99.toFixed(1)} ms, DAO p99 ${summary('', viaDao).p99.toFixed(1)} ms)`);
  for (const [round, run] of exports.entries()) {
    console.log(
      `\nCSV export ${round + 1} of ${Number(exportRows).toLocaleString('en')} rows (${(run.bytes / 1024 / 1024).toFixed(0)} MB) through the API: ` +
        `${(run.ms / 1000).toFixed(1)} s, ${Math.round(Number(exportRows) / (run.ms / 1000)).toLocaleString('en')} rows/s; ` +
        `API process RSS growth ${run.rssGrowthMb.toFixed(1)} MB (target ≤ 50 MB: ${run.rssGrowthMb <= 50 ? 'met' : 'NOT met'}); ` +
        `JS heap after GC ${run.heapAfterGcMb.toFixed(1)} MB (before the exports ${heapBeforeMb.toFixed(1)} MB)`,
    );
  }
}

runBenchmark(benchmark);
