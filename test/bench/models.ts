// Benchmark: models users bring (issue 16). Run with `npm run bench:models` (its own Postgres
// and Temporal, like the tests; installs MLServer into .tools/ once).
//
// (a) Cold: a Python MLModel on MLServer, registered from models/python-example/model.yaml with
//     keep-warm 0, so every request starts a fresh MLServer: submit → COMPLETE with `GET ?wait`,
//     next to MLServer's own start (spawn → its model answers ready) measured alone.
// (b) Warm: the same echo request through the Open Inference Protocol front door
//     (`POST /v2/models/echo/infer`, which waits) against `POST /api/requests` + `GET ?wait`,
//     interleaved so both see the same machine; the ratio of their p50s and p99s.
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'slonik';
import { z } from 'zod';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { defaultLocalCommands } from '../../infra/local-commands';
import { registerModel } from '../../api/use-cases/admin-models';
import { modelSpecFrom } from '../../domain/model-catalog';
import { readModelFile } from '../../infra/cli/models-command';
import { ensurePythonTool, mlserver } from '../../infra/python-tools';
import { echoInput, type TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const coldRuns = Number(process.env.BENCH_COLD_RUNS ?? 8);
const warmRuns = Number(process.env.BENCH_REQUESTS ?? 200);
const shoutInput = { inputs: [{ name: 'text', datatype: 'BYTES', shape: [1], data: ['hello'] }] };

const format = (rows: ReturnType<typeof summary>[]) =>
  rows.map((row) => ({
    ...row,
    p50: row.p50.toFixed(1),
    p99: row.p99.toFixed(1),
    mean: row.mean.toFixed(1),
    max: row.max.toFixed(1),
  }));

async function liveInstances(stack: TestStack, model: string): Promise<number> {
  return stack.db.oneFirst(sql.type(z.object({ n: z.number() }))`
    SELECT count(*)::int AS n FROM model_instances WHERE model_id = ${model} AND status <> 'TERMINATED'`);
}

async function cold(stack: TestStack, token: string) {
  const [shout] = await readModelFile('models/python-example/model.yaml');
  const settings = { ...shout!.settings, keepWarmSeconds: 0 };
  await registerModel(
    { db: stack.db, temporal: stack.temporal, taskQueue: stack.taskQueue },
    { cliUser: 'bench' },
    shout!.id,
    settings,
    {
      replace: true,
    },
  );

  // MLServer alone: from spawn until its model answers ready, as the local runtime does it.
  const runtime = new LocalProcessRuntime(defaultLocalCommands);
  const alone: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    const t0 = performance.now();
    const placed = await runtime.start({
      instanceId: `bench-${i}`,
      model: modelSpecFrom(shout!.id, settings),
      annotations: {},
      startupTimeoutMs: 60_000,
    });
    await runtime.awaitReady(placed, {
      timeoutMs: 60_000,
      signal: new AbortController().signal,
      onProgress: () => undefined,
    });
    alone.push(performance.now() - t0);
    await runtime.stop(placed.runtimeRef);
  }

  const throughPodium: number[] = [];
  for (let i = 0; i < coldRuns; i++) {
    // Cold means no instance at all: keep-warm 0 stops the last one once it is idle.
    for (let waited = 0; (await liveInstances(stack, shout!.id)) > 0; waited += 50) {
      if (waited > 30_000) throw new Error('the last MLServer instance was not stopped');
      await sleep(50);
    }
    const t0 = performance.now();
    const submitted = await stack.api.submit(token, { model: shout!.id, input: shoutInput });
    if (submitted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
    const { body } = await stack.api.call('GET', `/api/requests/${submitted.body.id}?wait=60`, { token });
    if (body.status !== 'COMPLETE') throw new Error(`request ended ${body.status}: ${JSON.stringify(body.error)}`);
    throughPodium.push(performance.now() - t0);
  }
  return [
    summary('MLServer alone: spawn → model ready', alone),
    summary('cold MLServer request through Podium', throughPodium),
  ];
}

async function warm(stack: TestStack, token: string) {
  const api: number[] = [];
  const frontDoor: number[] = [];
  // One warm-up of each (JIT, connection pools, the instance) outside the figures.
  for (let i = -1; i < warmRuns; i++) {
    let t0 = performance.now();
    const submitted = await stack.api.submit(token, { model: 'echo', input: echoInput });
    const { body } = await stack.api.call('GET', `/api/requests/${submitted.body.id}?wait=30`, { token });
    if (body.status !== 'COMPLETE') throw new Error(`request ended ${body.status}`);
    if (i >= 0) api.push(performance.now() - t0);

    t0 = performance.now();
    const inferred = await stack.api.call('POST', '/v2/models/echo/infer?wait=30', { token, json: echoInput });
    if (inferred.status !== 200) throw new Error(`infer answered ${inferred.status}: ${JSON.stringify(inferred.body)}`);
    if (i >= 0) frontDoor.push(performance.now() - t0);
  }
  return [
    summary('POST /api/requests + GET ?wait (echo, warm)', api),
    summary('POST /v2/models/echo/infer (echo, warm)', frontDoor),
  ];
}

async function benchmark(stack: TestStack) {
  ensurePythonTool(mlserver, (line) => console.error(line));
  const token = await stack.api.anonymousToken();
  const coldRows = await cold(stack, token);
  const warmRows = await warm(stack, token);
  console.table(format([...coldRows, ...warmRows]));
  const [, coldRequest] = coldRows;
  const [api, frontDoor] = warmRows;
  console.log(
    `cold MLServer request p50 ${coldRequest!.p50.toFixed(0)} ms, max ${coldRequest!.max.toFixed(0)} ms (target ≤ 2500 ms)`,
  );
  console.log(
    `OIP front door vs POST + ?wait, same run: p50 ×${(frontDoor!.p50 / api!.p50).toFixed(2)}, p99 ×${(frontDoor!.p99 / api!.p99).toFixed(2)} (target ≤ 1.2)`,
  );
}

runBenchmark(benchmark);
