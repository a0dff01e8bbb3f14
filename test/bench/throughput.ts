// Benchmark: completed echo requests per second with a warm pool, and the platform's overhead
// (submit → COMPLETE as a client sees it, minus the model's own time, measured in the same run
// by calling a warm echo server directly). Also: how long a request for a model with no
// instance waits for its instance's CREATED event (the pool's reaction time); the platform's CPU
// per completed request against the floors' per workflow (test/bench/process-cpu.ts). Memory is
// measured on the production process by `npm run bench:memory` (test/bench/memory.ts).
// Run with `npm run bench:throughput` (BENCH_CLIENTS, BENCH_SECONDS).
import { performance } from 'node:perf_hooks';
import { sql } from 'slonik';
import { z } from 'zod';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { defaultLocalCommands } from '../../infra/local-commands';
import { findModel } from '../../db/models';
import { addTestModel } from '../support/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { percentile } from './figures';
import { describeCpuParts } from './process-cpu';
import { addWarmEchoModel, runWarmLoad } from './warm-load';
import { runBenchmark } from './run-benchmark';
import { signalsReceived } from './workflow-signals';
import { describeFloors, measureFloors, ratioToFloors } from './floors';
import { poolWorkflowId } from '../../workflows/contracts';

const clients = Number(process.env.BENCH_CLIENTS ?? 16);
const seconds = Number(process.env.BENCH_SECONDS ?? 60);
const poolSize = Number(process.env.BENCH_INSTANCES ?? 2);
const concurrency = Number(process.env.BENCH_CONCURRENCY ?? 8);
const coldSamples = 10;

/** The same inference straight to a warm echo server: the model's own time. */
async function modelTime(endpoint: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 200; i++) {
    const t0 = performance.now();
    const response = await fetch(`${endpoint}/v2/models/echo/infer`, {
      method: 'POST',
      body: JSON.stringify(echoInput),
    });
    await response.json();
    times.push(performance.now() - t0);
  }
  return percentile(times, 50);
}

async function benchmark(stack: TestStack) {
  await addWarmEchoModel(stack, 'echo-bench', { instances: poolSize, concurrency });
  const token = await stack.api.anonymousToken();
  // The warm-up has the pool start and its instances become ready.
  const load = await runWarmLoad(stack, { model: 'echo-bench', clients, seconds, warmUpRequests: poolSize * 2 });
  const { latencies, startedAt, cpu: podiumCpu } = load;

  // Visibility lists the pool's runs a moment later.
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const poolSignals = await signalsReceived(
    stack.temporal,
    poolWorkflowId(stack.taskQueue, 'echo-bench'),
    startedAt,
    new Date(),
  );
  const runtime = new LocalProcessRuntime(defaultLocalCommands);
  const placed = await runtime.start({
    instanceId: 'bench',
    model: (await findModel(stack.db, 'echo'))!,
    annotations: {},
    startupTimeoutMs: 30_000,
  });
  const model = await modelTime(placed.endpoint!);
  // The window above measured its idle just before it; so do the floors (process-cpu.ts).
  const floors = await measureFloors({
    temporalAddress: stack.services.temporalAddress,
    databaseUrl: stack.services.databaseUrl,
    endpoint: placed.endpoint!,
    clients,
    runs: 50,
    seconds: Math.min(seconds, 30),
  });
  await runtime.stopAll();
  const overhead = latencies.map((latency) => latency - model);

  // Reaction time: a model with no instance and no pool yet; request → instance CREATED.
  const reactions: number[] = [];
  for (let i = 0; i < coldSamples; i++) {
    const id = `echo-cold-${i}`;
    await addTestModel(stack.db, { id, keepWarmSeconds: 0 });
    const { body } = await stack.api.submit(token, { model: id, input: echoInput });
    await stack.api.call('GET', `/api/requests/${body.id}?wait=60`, { token });
    reactions.push(
      await stack.db.oneFirst(sql.type(z.object({ ms: z.number() }))`
        SELECT extract(epoch FROM (SELECT min(l.occurred_at) FROM model_instance_log l JOIN model_instances i ON i.id = l.instance_id
                                    WHERE i.model_id = ${id} AND l.event = 'CREATED') - r.created_at) * 1000 AS ms
          FROM work_requests r WHERE r.id = ${body.id}`),
    );
  }

  const f = (ms: number) => `${ms.toFixed(1)} ms`;
  console.log(
    `\nthroughput: ${clients} clients, ${seconds} s, warm pool of ${poolSize} echo instances × ${concurrency} requests each`,
  );
  const perSecond = load.perSecond;
  console.log(`  completed requests/s     ${perSecond.toFixed(1)}   (${latencies.length} requests)`);
  for (const line of describeFloors(floors)) console.log(`  ${line}`);
  console.log(`  ${ratioToFloors('requests/s', perSecond, floors, 'perSecond', { durableRecord: 0.75, bare: 0.55 })}`);
  console.log(
    `  signals into the pool     ${(poolSignals / latencies.length).toFixed(3)} per completed request (${poolSignals}; target ≤ 0.05)`,
  );
  const cpuRatio = podiumCpu.cpuMsPerOperation / floors.cpu.bare;
  console.log(
    `  CPU per completed request ${podiumCpu.cpuMsPerOperation.toFixed(1)} ms (API, worker, clients, Temporal, PostgreSQL; idle background ${(podiumCpu.idleCores * 100).toFixed(0)} % of a core taken off); ` +
      `bare floor ${floors.cpu.bare.toFixed(1)} ms per workflow (×${cpuRatio.toFixed(2)}, target ≤ 1.8: ${cpuRatio <= 1.8 ? 'met' : 'NOT met'}), ` +
      `durable-record floor ${floors.cpu.durableRecord.toFixed(1)} ms`,
  );
  console.log(`  CPU by part, per request   Podium ${describeCpuParts(podiumCpu.byPart)}`);
  console.log(`                             bare floor ${describeCpuParts(floors.cpu.byPart.bare)}`);
  console.log(`                             durable-record floor ${describeCpuParts(floors.cpu.byPart.durableRecord)}`);
  console.log(`  submit → COMPLETE        p50 ${f(percentile(latencies, 50))}, p99 ${f(percentile(latencies, 99))}`);
  console.log(`  model time (direct, p50) ${f(model)}`);
  console.log(
    `  platform overhead        p50 ${f(percentile(overhead, 50))} (target ≤ 60), p99 ${f(percentile(overhead, 99))} (target ≤ 200)`,
  );
  console.log(
    `  queued → instance CREATED, no instance yet: p50 ${f(percentile(reactions, 50))}, max ${f(Math.max(...reactions))} (target ≤ 200; ${coldSamples} cold pools)`,
  );
}

runBenchmark(benchmark);
