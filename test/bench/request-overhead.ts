// Benchmark: the overhead of one work request through Podium, 200 sequential echo requests.
// Run with `npm run bench` (starts its own Postgres and Temporal, like the tests).
//
// Reports p50/p99 of (a) POST /api/requests alone, (b) submit → COMPLETE as a user sees it,
// polling every 5 ms and (b') waiting with `GET …?wait`, (c) the same request sent straight to
// an already running echo server: the baseline, and the stats rows' split of (b) into waiting
// for the instance and processing. The echo model stays warm between requests (keep-warm), so
// this is the warm request path; the bare Temporal floor is measured in the same run.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { findModel } from '../../db/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';
import { describeFloor, measureTemporalFloor } from './temporal-floor';

const requests = Number(process.env.BENCH_REQUESTS ?? 200);
const pollMs = 5;

async function benchmark(stack: TestStack) {
  const token = await stack.api.anonymousToken();
  const post: number[] = [];
  const endToEnd: number[] = [];
  const ids: string[] = [];
  // One warm-up request (JIT, connection pools, first workflow task) outside the figures.
  for (let i = -1; i < requests; i++) {
    const t0 = performance.now();
    const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput });
    const t1 = performance.now();
    if (submitted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
    for (;;) {
      const { body } = await stack.api.call('GET', `/api/requests/${submitted.body.id}`, { token });
      if (body.status === 'COMPLETE') break;
      if (body.status === 'FAILED') throw new Error(`request failed: ${JSON.stringify(body.error)}`);
      await sleep(pollMs);
    }
    const t2 = performance.now();
    if (i < 0) continue;
    post.push(t1 - t0);
    endToEnd.push(t2 - t0);
    ids.push(submitted.body.id);
  }

  // The same, waiting with `?wait` (a long poll, as the floor's `execute` waits) instead of
  // polling: what a client that wants the answer soonest sees.
  const waited: number[] = [];
  for (let i = -1; i < requests; i++) {
    const t0 = performance.now();
    const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput });
    if (submitted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
    const { body } = await stack.api.call('GET', `/api/requests/${submitted.body.id}?wait=30`, { token });
    if (body.status !== 'COMPLETE') throw new Error(`request ended ${body.status}: ${JSON.stringify(body.error)}`);
    if (i >= 0) waited.push(performance.now() - t0);
  }

  // Baseline: the same inference sent straight to an echo server that is already running.
  const runtime = new LocalProcessRuntime();
  const model = (await findModel(stack.db, 'echo'))!;
  const placed = await runtime.start({ instanceId: 'bench', model, annotations: {}, startupTimeoutMs: 30_000 });
  const direct: number[] = [];
  for (let i = -1; i < requests; i++) {
    const t0 = performance.now();
    const response = await fetch(`${placed.endpoint}/v2/models/echo/infer`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(echoInput),
    });
    await response.json();
    if (i >= 0) direct.push(performance.now() - t0);
  }
  const floor = await measureTemporalFloor({ address: stack.services.temporalAddress, endpoint: placed.endpoint! });
  await runtime.stopAll();

  const split = await stack.db.one(
    sql.type(z.object({ waitP50: z.number(), waitP99: z.number(), processingP50: z.number(), processingP99: z.number() }))`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pod_ready_timestamp - request_timestamp) * 1000) AS "waitP50",
             percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM pod_ready_timestamp - request_timestamp) * 1000) AS "waitP99",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_timestamp - pod_ready_timestamp) * 1000) AS "processingP50",
             percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_timestamp - pod_ready_timestamp) * 1000) AS "processingP99"
        FROM request_stats WHERE request_id = ANY(${sql.array(ids, 'uuid')})`,
  );

  const e2e = summary('submit → COMPLETE', endToEnd);
  const longPoll = summary('submit → COMPLETE, GET ?wait', waited);
  const base = summary('baseline: direct infer on a warm server', direct);
  const rows = [summary('POST /api/requests', post), e2e, longPoll, base];
  console.log(`\nrequest overhead, ${requests} sequential echo requests (ms; status polled every ${pollMs} ms)`);
  console.table(rows.map((r) => ({ ...r, p50: r.p50.toFixed(1), p99: r.p99.toFixed(1), mean: r.mean.toFixed(1), max: r.max.toFixed(1) })));
  console.log(`submit → COMPLETE vs baseline: p50 ×${(e2e.p50 / base.p50).toFixed(1)}, p99 ×${(e2e.p99 / base.p99).toFixed(1)}`);
  console.log(describeFloor(floor));
  for (const row of [e2e, longPoll]) {
    console.log(
      `${row.name} vs the floor: p50 ×${(row.p50 / floor.sequentialP50).toFixed(2)} (target ≤ 1.5 and ≤ 60 ms), ` +
        `p99 ×${(row.p99 / floor.sequentialP99).toFixed(2)}`,
    );
  }
  console.log(
    `from request_stats: request → pod ready p50 ${split.waitP50.toFixed(1)} / p99 ${split.waitP99.toFixed(1)} ms; ` +
      `pod ready → processed p50 ${split.processingP50.toFixed(1)} / p99 ${split.processingP99.toFixed(1)} ms`,
  );
}

runBenchmark(benchmark);
