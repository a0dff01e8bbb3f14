// Benchmark: payloads through Podium (issue 34), against the model called directly in the same
// run. Run with `npm run bench:payloads` (its own Postgres and Temporal, like the tests; the API
// in this process, the worker in a process of its own, as production runs them;
// BENCH_PAYLOAD_STORE=s3 puts the payloads in a SeaweedFS started for the run).
//
//   1. a 64 MB binary input (a tensor of the largest size PAYLOAD_LIMIT takes) through echo and
//      back: how much the API's and the worker's RSS grow (target ≤ 32 MB each);
//   2. a 10 MB FP32 tensor through echo and back, in binary: throughput through Podium against
//      echo called directly (target ≥ 0.5×), and every answer bit-exact.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { promisify } from 'node:util';
import path from 'node:path';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import type { ChildProcess } from 'node:child_process';
import { sql } from 'slonik';
import { z } from 'zod';
import { startS3Server, type S3Server } from '../../infra/seaweedfs';
import type { TestStack } from '../support/test-stack';
import { podiumNodeOptions } from '../../infra/node-options';
import { startWorkerProcess, workerTargetOf } from '../support/worker-process';
import { floats, inferAndHash } from './payload-client';
import { runBenchmark } from './run-benchmark';

const store = process.env.BENCH_PAYLOAD_STORE === 's3' ? 's3' : 'postgres';
const echoRuns = Number(process.env.BENCH_PAYLOAD_RUNS ?? 20);
const concurrency = Number(process.env.BENCH_PAYLOAD_CONCURRENCY ?? 2);
const targets = { rssGrowthMb: 32, throughputRatio: 0.5 };
const mb = 1024 * 1024;

const rssOf = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) * 1024;

/** Peak RSS of each process while `work` runs, over its RSS just before. */
async function rssGrowth<T>(pids: Record<string, number>, work: () => Promise<T>) {
  (globalThis as { gc?: () => void }).gc?.();
  const before = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, rssOf(pid)]));
  const peak = { ...before };
  const sampler = setInterval(() => {
    for (const [name, pid] of Object.entries(pids)) peak[name] = Math.max(peak[name]!, rssOf(pid));
  }, 10);
  try {
    const result = await work();
    return { result, before, peak };
  } finally {
    clearInterval(sampler);
  }
}

/** What Node itself takes to receive `bytes` over HTTP: a server and a receiver, each a process of its own. */
async function receiveFloor(bytes: number): Promise<number> {
  const client = path.join(__dirname, 'payload-client.ts');
  const server = spawn(process.execPath, ['--import', 'tsx', client, 'serve', String(bytes)], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const port = await new Promise<string>((resolve) =>
      server.stdout.once('data', (line: Buffer) => resolve(line.toString().trim())),
    );
    const { stdout } = await promisify(execFile)(process.execPath, [
      ...podiumNodeOptions.split(' '),
      '--expose-gc',
      '--import',
      'tsx',
      client,
      'receive',
      `http://127.0.0.1:${port}/`,
    ]);
    const { before, peak } = JSON.parse(stdout) as { before: number; peak: number };
    return (peak - before) / mb;
  } finally {
    server.kill();
  }
}

async function throughput(runs: number, send: () => Promise<{ sha256: string }>, expected: string) {
  let next = 0;
  let exact = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < runs) {
        next += 1;
        if ((await send()).sha256 === expected) exact += 1;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, exact };
}

async function benchmark(stack: TestStack) {
  // The worker as `npm run worker` and the image run it: with Podium's heap settings.
  const worker: ChildProcess = await startWorkerProcess(workerTargetOf(stack), { NODE_OPTIONS: podiumNodeOptions });
  try {
    await measure(stack, worker.pid!);
  } finally {
    worker.kill('SIGKILL');
  }
}

async function measure(stack: TestStack, workerPid: number) {
  console.log(`payload store: ${store}; the API in this process, the worker in process ${workerPid}`);
  await stack.db.query(sql.unsafe`UPDATE models SET max_instances = 1, keep_warm_seconds = 600 WHERE id = 'echo'`);
  const token = await stack.api.anonymousToken();
  const auth = { authorization: `Bearer ${token}` };
  const podium = `${stack.api.baseUrl}/v2/models/echo/infer`;
  // Warm: an echo instance, and the JIT of both paths.
  const small = floats(64 * 1024);
  await inferAndHash(podium, small, auth);
  const endpoint = await stack.db.oneFirst(sql.type(z.object({ endpoint: z.string() }))`
    SELECT endpoint FROM model_instances WHERE model_id = 'echo' AND endpoint IS NOT NULL LIMIT 1`);
  const direct = `${endpoint}/v2/models/echo/infer`;
  await inferAndHash(direct, small);

  // 1. 64 MB in, 64 MB back.
  const big = floats(64 * mb - 4096); // room for the JSON header within PAYLOAD_LIMIT
  const bigSha = createHash('sha256').update(big).digest('hex');
  await inferAndHash(podium, floats(8 * mb), auth); // once more, warm at a size like it
  // The client is a process of its own: this one's RSS is then the API's.
  const client = path.join(__dirname, 'payload-client.ts');
  const { result, before, peak } = await rssGrowth({ api: process.pid, worker: workerPid }, async () => {
    const { stdout } = await promisify(execFile)(process.execPath, [
      '--import',
      'tsx',
      client,
      podium,
      token,
      String(big.length),
    ]);
    return JSON.parse(stdout) as { size: number; sha256: string };
  });
  console.log(
    `1. a ${(big.length / mb).toFixed(1)} MB FP32 tensor through echo and back: ${result.sha256 === bigSha ? 'bit-exact' : 'NOT bit-exact'}`,
  );
  for (const name of ['api', 'worker'] as const) {
    const growth = (peak[name]! - before[name]!) / mb;
    console.log(
      `   ${name} RSS ${(before[name]! / mb).toFixed(0)} MB → peak ${(peak[name]! / mb).toFixed(0)} MB: +${growth.toFixed(1)} MB (target ≤ ${targets.rssGrowthMb}: ${growth <= targets.rssGrowthMb ? 'met' : 'NOT met'})`,
    );
  }
  const floor = await receiveFloor(big.length);
  console.log(
    `   floor: a Node process (Podium's heap settings) that only receives the same bytes over HTTP grows +${floor.toFixed(1)} MB`,
  );

  // 2. 10 MB FP32, binary both ways: Podium against direct, the same number of calls, `concurrency` at a time.
  const tensor = floats(10 * mb);
  const sha = createHash('sha256').update(tensor).digest('hex');
  const directRun = await throughput(echoRuns, () => inferAndHash(direct, tensor), sha);
  const podiumRun = await throughput(echoRuns, () => inferAndHash(podium, tensor, auth), sha);
  const rate = (run: { seconds: number }) => (echoRuns * tensor.length * 2) / mb / run.seconds;
  const ratio = rate(podiumRun) / rate(directRun);
  console.log(
    `2. ${echoRuns} × a 10 MB FP32 tensor through echo and back, binary, ${concurrency} at a time (MB in + out per second):`,
  );
  console.log(`   direct to the model ${rate(directRun).toFixed(0)} MB/s (${directRun.exact}/${echoRuns} bit-exact)`);
  console.log(`   through Podium      ${rate(podiumRun).toFixed(0)} MB/s (${podiumRun.exact}/${echoRuns} bit-exact)`);
  console.log(
    `   ratio ${ratio.toFixed(2)}× (target ≥ ${targets.throughputRatio}: ${ratio >= targets.throughputRatio ? 'met' : 'NOT met'})`,
  );
}

/** The S3 store: a SeaweedFS for the run; the API and the worker find it in the environment, as AWS clients do. */
async function s3Store(): Promise<S3Server> {
  const server = await startS3Server();
  await server.createBucket('podium-bench');
  Object.assign(process.env, server.env, { PAYLOAD_STORE: 's3://podium-bench/run', PAYLOAD_STORE_PATH_STYLE: 'true' });
  return server;
}

/** The tests take less; the benchmark runs at the default limit. */
const defaultLimit = { PAYLOAD_LIMIT: '64mb' };

if (store === 's3') {
  void s3Store().then((server) =>
    runBenchmark(benchmark, {
      worker: false,
      env: { ...defaultLimit, PAYLOAD_STORE: 's3://podium-bench/run', PAYLOAD_STORE_PATH_STYLE: 'true' },
      after: () => server.stop(),
    }),
  );
} else {
  runBenchmark(benchmark, { worker: false, env: defaultLimit });
}
