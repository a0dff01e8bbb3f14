// Benchmark: the overhead of one warm work request through Podium, against both floors of the
// request path measured in the same run (test/bench/floors.ts). Run with `npm run bench`
// (starts its own Postgres and Temporal, like the tests).
//
// Each round measures, one after another: BENCH_REQUESTS sequential echo requests through the
// public API (POST, then `GET …?wait`, a long poll as the floors' clients wait), the bare floor
// and the durable-record floor. The machine is noisy, so it runs BENCH_ROUNDS rounds and prints
// each round's ratios and their spread. Also: cancel while processing (BENCH_CANCELS runs: POST
// cancel → the request reads CANCELLED), the same inference sent straight to a warm echo server
// (the model's own time) and the stats rows' split into waiting and processing.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { defaultLocalCommands } from '../../infra/local-commands';
import { findModel } from '../../db/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { percentile, summary } from './figures';
import { describeFloors, measureFloors, ratioToFloors, type Floors } from './floors';
import { runBenchmark } from './run-benchmark';

const requests = Number(process.env.BENCH_REQUESTS ?? 200);
const rounds = Number(process.env.BENCH_ROUNDS ?? 3);
const targets = { durableRecord: 1.3, bare: 2.0 };
const cancelRuns = Number(process.env.BENCH_CANCELS ?? 50);

async function benchmark(stack: TestStack) {
  const token = await stack.api.anonymousToken();
  const runtime = new LocalProcessRuntime(defaultLocalCommands);
  const model = (await findModel(stack.db, 'echo'))!;
  const placed = await runtime.start({ instanceId: 'bench', model, annotations: {}, startupTimeoutMs: 30_000 });
  const endpoint = placed.endpoint!;

  /** One warm request as a client sees it: POST, then a long poll until it ends. */
  const submitAndWait = async () => {
    const t0 = performance.now();
    const id = await stack.api.submitAccepted(token, { model: 'echo', input: echoInput });
    const t1 = performance.now();
    const { status, body } = await stack.api.call('GET', `/api/requests/${id}?wait=30`, { token });
    if (status !== 200 || body.status !== 'COMPLETE')
      throw new Error(`request ${id}: ${status} ${JSON.stringify(body)}`);
    return { id, post: t1 - t0, total: performance.now() - t0 };
  };
  for (let i = 0; i < 20; i++) await submitAndWait(); // JIT, pools, the warm instance

  const post: number[] = [];
  const endToEnd: number[] = [];
  const ids: string[] = [];
  const measured: { p50: number; p99: number; floors: Floors }[] = [];
  for (let round = 1; round <= rounds; round++) {
    const series: number[] = [];
    for (let i = 0; i < requests; i++) {
      const one = await submitAndWait();
      post.push(one.post);
      series.push(one.total);
      ids.push(one.id);
    }
    endToEnd.push(...series);
    const floors = await measureFloors({
      temporalAddress: stack.services.temporalAddress,
      databaseUrl: stack.services.databaseUrl,
      endpoint,
      runs: requests,
      seconds: 0,
    });
    const p50 = percentile(series, 50);
    measured.push({ p50, p99: percentile(series, 99), floors });
    console.log(
      `\nround ${round}: submit → COMPLETE (?wait) p50 ${p50.toFixed(1)} ms, p99 ${percentile(series, 99).toFixed(1)} ms`,
    );
    for (const line of describeFloors(floors)) console.log(`  ${line}`);
    console.log(`  ${ratioToFloors('p50', p50, floors, 'sequentialP50', targets)}`);
  }

  // Cancel while processing: the model works for 5 s; POST cancel → the request reads CANCELLED.
  const cancels: number[] = [];
  for (let i = 0; i < cancelRuns; i++) {
    const id = await stack.api.submitAccepted(token, {
      model: 'echo',
      input: { ...echoInput, parameters: { delay_ms: 5_000 } },
    });
    while ((await stack.api.call('GET', `/api/requests/${id}`, { token })).body.status !== 'PROCESSING') await sleep(5);
    const t0 = performance.now();
    const cancelled = await stack.api.call('POST', `/api/requests/${id}/cancel`, { token });
    if (cancelled.status !== 202)
      throw new Error(`cancel ${id}: ${cancelled.status} ${JSON.stringify(cancelled.body)}`);
    const { body } = await stack.api.call('GET', `/api/requests/${id}?wait=30`, { token });
    if (body.status !== 'CANCELLED') throw new Error(`request ${id} ended ${body.status}, not CANCELLED`);
    cancels.push(performance.now() - t0);
  }

  const direct: number[] = [];
  for (let i = -1; i < requests; i++) {
    const t0 = performance.now();
    const response = await fetch(`${endpoint}/v2/models/echo/infer`, {
      method: 'POST',
      body: JSON.stringify(echoInput),
    });
    await response.json();
    if (i >= 0) direct.push(performance.now() - t0);
  }
  await runtime.stopAll();

  const split = await stack.db.one(
    sql.type(
      z.object({ waitP50: z.number(), waitP99: z.number(), processingP50: z.number(), processingP99: z.number() }),
    )`
      SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM pod_ready_timestamp - request_timestamp) * 1000) AS "waitP50",
             percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM pod_ready_timestamp - request_timestamp) * 1000) AS "waitP99",
             percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM processed_timestamp - pod_ready_timestamp) * 1000) AS "processingP50",
             percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM processed_timestamp - pod_ready_timestamp) * 1000) AS "processingP99"
        FROM request_stats WHERE request_id = ANY(${sql.array(ids, 'uuid')})`,
  );

  const rows = [
    summary('POST /api/requests', post),
    summary('submit → COMPLETE, GET ?wait', endToEnd),
    summary('baseline: direct infer on a warm server', direct),
  ];
  console.log(`\nrequest overhead, ${rounds} rounds × ${requests} sequential warm echo requests (ms)`);
  console.table(
    rows.map((r) => ({
      ...r,
      p50: r.p50.toFixed(1),
      p99: r.p99.toFixed(1),
      mean: r.mean.toFixed(1),
      max: r.max.toFixed(1),
    })),
  );
  const spread = (ratios: number[]) =>
    `×${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}, median ×${percentile(ratios, 50).toFixed(2)}`;
  console.log(
    `p50 vs the durable-record floor, per round: ${spread(measured.map((m) => m.p50 / m.floors.durableRecord.sequentialP50))} (target ≤ ${targets.durableRecord})`,
  );
  console.log(
    `p50 vs the bare floor, per round:           ${spread(measured.map((m) => m.p50 / m.floors.bare.sequentialP50))} (target ≤ ${targets.bare})`,
  );
  console.log(
    `p99 vs the durable-record floor, per round: ${spread(measured.map((m) => m.p99 / m.floors.durableRecord.sequentialP99))}`,
  );
  console.log(
    `cancel while processing, ${cancels.length} runs: POST cancel → CANCELLED p50 ${percentile(cancels, 50).toFixed(0)} ms, p99 ${percentile(cancels, 99).toFixed(0)} ms (target p99 ≤ 1000)`,
  );
  console.log(
    `from request_stats: request → pod ready p50 ${split.waitP50.toFixed(1)} / p99 ${split.waitP99.toFixed(1)} ms; ` +
      `pod ready → processed p50 ${split.processingP50.toFixed(1)} / p99 ${split.processingP99.toFixed(1)} ms`,
  );
}

runBenchmark(benchmark);
