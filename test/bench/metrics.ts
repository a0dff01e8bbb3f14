// Benchmark: the cost of a Prometheus scrape of the API's /metrics with 100 models' worth of
// series (issue 17: p99 ≤ 10 ms). Run with `npm run bench:metrics` (its own Postgres and
// Temporal, like the tests).
//
// 100 models are registered, each with live instances in two states (the gauges read from
// PostgreSQL at every scrape), and every per-model series observed as traffic would: requests
// submitted and ended by status, the three request histograms, instance start-up, and API
// latency on a dozen routes. Then /metrics is scraped sequentially.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { registerModel } from '../../api/use-cases/admin-models';
import { modelSettings } from '../../domain/model-catalog';
import { readGauges } from '../../db/metrics-gauges';
import { metricsText } from '../../lib/metrics-text';
import {
  httpRequestSeconds,
  instanceStartupSeconds,
  observeRequestEnd,
  registry,
  requestsSubmitted,
} from '../../lib/metrics';
import type { TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const models = Number(process.env.BENCH_MODELS ?? 100);
const scrapes = Number(process.env.BENCH_SCRAPES ?? 500);
const routes = [
  '/api/requests',
  '/api/requests/:id',
  '/api/models',
  '/api/auth/me',
  '/api/admin/requests',
  '/api/admin/stats',
  '/v2/models/:name/infer',
];

/**
 * Sequential scrapes from a child process (after 20 to warm up): each one's ms to the last byte,
 * and the last one's size. node:http and the body's bytes, as Prometheus reads it (fetch's
 * decoding into a string in this client cost more than the server's side of the scrape).
 */
function scrapeFromAnotherProcess(
  url: string,
  count: number,
): Promise<{ timings: number[]; series: number; bytes: number }> {
  const script = `
    const { get } = require('node:http');
    const { performance } = require('node:perf_hooks');
    const agent = new (require('node:http').Agent)({ keepAlive: true, maxSockets: 1 });
    const scrape = () => new Promise((resolve, reject) => {
      get(${JSON.stringify(url)}, { agent }, (response) => {
        const chunks = [];
        response.on('data', (chunk) => chunks.push(chunk));
        response.on('end', () => response.statusCode === 200 ? resolve(Buffer.concat(chunks)) : reject(new Error('/metrics answered ' + response.statusCode)));
      }).on('error', reject);
    });
    (async () => {
      const timings = []; let body = Buffer.alloc(0);
      for (let i = -20; i < ${count}; i++) {
        const t0 = performance.now();
        body = await scrape();
        if (i >= 0) timings.push(performance.now() - t0);
      }
      const series = body.toString().split('\\n').filter((line) => line && !line.startsWith('#')).length;
      process.stdout.write(JSON.stringify({ timings, series, bytes: body.length }));
    })().catch((error) => { console.error(error); process.exit(1); });`;
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['-e', script], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout) =>
      error ? reject(error) : resolve(JSON.parse(stdout)),
    );
  });
}

async function benchmark(stack: TestStack) {
  const settings = modelSettings.parse({
    displayName: 'bench',
    localCommand: ['node', 'models/echo/server.ts'],
    containerImage: 'bench:1',
  });
  for (let m = 0; m < models; m++) {
    const id = `bench-${m}`;
    await registerModel(
      { db: stack.db, temporal: null, taskQueue: stack.taskQueue },
      { cliUser: 'bench' },
      id,
      settings,
      {
        replace: true,
      },
    );
    for (const state of ['READY', 'STARTING']) {
      await stack.db.query(sql.unsafe`
        INSERT INTO model_instances (id, model_id, runtime, status) VALUES (${randomUUID()}, ${id}, 'local', ${state})`);
    }
    requestsSubmitted.inc({ model: id });
    for (const status of ['COMPLETE', 'FAILED'])
      observeRequestEnd(id, status, { queueWaitSeconds: 0.01, processingSeconds: 0.02, totalSeconds: 0.03 });
    observeRequestEnd(id, 'CANCELLED', null);
    instanceStartupSeconds.observe({ model: id }, 1.2);
  }
  for (const route of routes)
    for (const status of ['200', '202', '400', '404', '503'])
      httpRequestSeconds.observe({ method: 'GET', route, status }, 0.004);

  // Prometheus scrapes from a process of its own: so does this, so the client's parsing does
  // not share the API's event loop.
  const { timings, series, bytes } = await scrapeFromAnotherProcess(`${stack.baseUrl}/metrics`, scrapes);
  // Where the time goes, in the API's own process: the gauges' query and prom-client's text.
  const timed = async (work: () => Promise<unknown>) => {
    const spent: number[] = [];
    for (let i = -20; i < 200; i++) {
      const t0 = performance.now();
      await work();
      if (i >= 0) spent.push(performance.now() - t0);
    }
    return spent;
  };
  const parts = [
    summary('  of which: the gauges query', await timed(() => readGauges(stack.db))),
    summary('  of which: the text (metricsText)', await timed(() => metricsText(registry))),
    summary("  prom-client's registry.metrics(), for comparison", await timed(() => registry.metrics())),
  ];
  const served = (await httpRequestSeconds.get()).values.filter(
    (v) => v.labels.route === '(unmatched)' && v.labels.status === '200',
  );
  const sum = served.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
  const count = served.find((v) => v.metricName?.endsWith('_count'))?.value ?? 1;
  console.log(
    `server-side time per scrape (koa, from the API's own histogram): mean ${((sum / count) * 1000).toFixed(2)} ms`,
  );
  const row = summary(`GET /metrics (${models} models, ${series} series, ${(bytes / 1024).toFixed(0)} KiB)`, timings);
  console.table(
    [row, ...parts].map((r) => ({
      ...r,
      p50: r.p50.toFixed(2),
      p99: r.p99.toFixed(2),
      mean: r.mean.toFixed(2),
      max: r.max.toFixed(2),
    })),
  );
  console.log(`scrape p99 ${row.p99.toFixed(2)} ms (target ≤ 10 ms)`);
}

runBenchmark(benchmark);
