// Benchmark: the cost of a Prometheus scrape of the API's /metrics with 100 models' worth of
// series (issue 17: p99 ≤ 10 ms). Run with `npm run bench:metrics` (its own Postgres and
// Temporal, like the tests).
//
// 100 models are registered, each with live instances in two states (the gauges read from
// PostgreSQL at every scrape), and every per-model series observed as traffic would: requests
// submitted and ended by status, the three request histograms, instance start-up, and API
// latency on a dozen routes. Then /metrics is scraped sequentially.
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { registerModel } from '../../api/use-cases/admin-models';
import { modelSettings } from '../../domain/model-catalog';
import { httpRequestSeconds, instanceStartupSeconds, observeRequestEnd, requestsSubmitted } from '../../infra/metrics';
import type { TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const models = Number(process.env.BENCH_MODELS ?? 100);
const scrapes = Number(process.env.BENCH_SCRAPES ?? 500);
const routes = ['/api/requests', '/api/requests/:id', '/api/models', '/api/auth/me', '/api/admin/requests', '/api/admin/stats', '/v2/models/:name/infer'];

async function benchmark(stack: TestStack) {
  const settings = modelSettings.parse({ displayName: 'bench', localCommand: ['node', 'models/echo/server.ts'], containerImage: 'bench:1' });
  for (let m = 0; m < models; m++) {
    const id = `bench-${m}`;
    await registerModel({ db: stack.db, temporal: null, taskQueue: stack.taskQueue }, { cliUser: 'bench' }, id, settings, { replace: true });
    for (const state of ['READY', 'STARTING']) {
      await stack.db.query(sql.unsafe`
        INSERT INTO model_instances (id, model_id, runtime, status) VALUES (${randomUUID()}, ${id}, 'local', ${state})`);
    }
    requestsSubmitted.inc({ model: id });
    for (const status of ['COMPLETE', 'FAILED']) observeRequestEnd(id, status, { queueWaitSeconds: 0.01, processingSeconds: 0.02, totalSeconds: 0.03 });
    observeRequestEnd(id, 'CANCELLED', null);
    instanceStartupSeconds.observe({ model: id }, 1.2);
  }
  for (const route of routes) for (const status of ['200', '202', '400', '404', '503']) httpRequestSeconds.observe({ method: 'GET', route, status }, 0.004);

  const timings: number[] = [];
  let series = 0;
  let bytes = 0;
  for (let i = -20; i < scrapes; i++) {
    const t0 = performance.now();
    const response = await fetch(`${stack.baseUrl}/metrics`);
    const text = await response.text();
    if (response.status !== 200) throw new Error(`/metrics answered ${response.status}`);
    if (i < 0) continue; // warm-up: JIT, connections
    timings.push(performance.now() - t0);
    series = text.split('\n').filter((line) => line && !line.startsWith('#')).length;
    bytes = text.length;
  }
  const row = summary(`GET /metrics (${models} models, ${series} series, ${(bytes / 1024).toFixed(0)} KiB)`, timings);
  console.table([{ ...row, p50: row.p50.toFixed(2), p99: row.p99.toFixed(2), mean: row.mean.toFixed(2), max: row.max.toFixed(2) }]);
  console.log(`scrape p99 ${row.p99.toFixed(2)} ms (target ≤ 10 ms)`);
}

runBenchmark(benchmark);
