// Benchmark (issue 5): model instances as pods on the simulated cluster (etcd, kube-apiserver,
// kube-scheduler, kwok, built from the Go module proxy). Run with `npm run bench:kubernetes`;
// `-- --cold-build` also times a build of the binaries from an empty Go build cache.
//
// Reports:
//  - warm start of the test cluster (binaries cached): etcd → apiserver /readyz → scheduler →
//    kwok → nodes Ready, three times;
//  - pod ready → first inference byte sent (target ≤ 100 ms): BENCH_PODS requests, each for a
//    model with no instance, so each gets a new pod. "Ready" is when a watch of our own sees
//    kwok set the pod's Ready condition; "sent" is work_requests.started_at, written by
//    runInference just before it POSTs the input (only the input's read from Postgres lies
//    between the two);
//  - for context: submit → pod ready, and submit → COMPLETE.
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Watch, type V1Pod } from '@kubernetes/client-node';
import { sql } from 'slonik';
import { z } from 'zod';
import { keepWatching } from '../../activities/runtime/kubernetes/kubernetes-api';
import { startTestCluster } from '../../infra/test-cluster/cluster';
import { addTestModel } from '../support/models';
import { echoInput, type TestStack } from '../support/test-stack';
import { summary } from './figures';
import { runBenchmark } from './run-benchmark';

const pods = Number(process.env.BENCH_PODS ?? 30);
const now = () => performance.timeOrigin + performance.now();

async function timeClusterStarts(times: number) {
  const starts: number[] = [];
  for (let i = 0; i < times; i++) {
    const dir = await mkdtemp(path.join(tmpdir(), 'podium-bench-start-'));
    const t0 = performance.now();
    const cluster = await startTestCluster({ dir, log: () => undefined });
    starts.push(performance.now() - t0);
    await cluster.stop();
    await rm(dir, { recursive: true, force: true });
  }
  return starts;
}

/** Builds the binaries into an empty cache with an empty Go build cache (modules are downloaded already or fetched). */
function timeColdBuild(): number {
  const dir = path.join(tmpdir(), `podium-cold-build-${process.pid}`);
  const t0 = performance.now();
  const build = spawnSync(
    process.execPath,
    ['--import', 'tsx', path.resolve(__dirname, '../../infra/test-cluster/build.ts')],
    {
      env: { ...process.env, PODIUM_CACHE_DIR: path.join(dir, 'podium'), GOCACHE: path.join(dir, 'gocache') },
      stdio: ['ignore', 'ignore', 'inherit'],
    },
  );
  const ms = performance.now() - t0;
  spawnSync('rm', ['-rf', dir]);
  if (build.status !== 0) throw new Error('cold build failed');
  return ms;
}

async function benchmark(stack: TestStack) {
  const { namespace, kubeConfig } = stack.kubernetes!;
  const readyAt = new Map<string, number>();
  const stopWatching = keepWatching(
    new Watch(kubeConfig),
    `/api/v1/namespaces/${namespace}/pods`,
    {},
    (_type: string, pod: V1Pod) => {
      const name = pod.metadata?.name;
      const ready = pod.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True');
      if (name && ready && !readyAt.has(name)) readyAt.set(name, now());
    },
  );

  const token = await stack.api.anonymousToken();
  const readyToSent: number[] = [];
  const readyToLogged: number[] = [];
  const submitToReady: number[] = [];
  const submitToComplete: number[] = [];
  // One warm-up request (JIT, connections, first workflow tasks) outside the figures.
  for (let i = -1; i < pods; i++) {
    const model = `bench-${i + 1}`;
    await addTestModel(stack.db, { id: model, keepWarmSeconds: 1 });
    const submittedAt = now();
    const submitted = await stack.api.submit(token, { model, input: echoInput });
    if (submitted.status !== 202) throw new Error(`submit failed: ${JSON.stringify(submitted.body)}`);
    const { request } = await stack.api.waitUntilFinal(token, submitted.body.id);
    const completedAt = now();
    if (request.status !== 'COMPLETE') throw new Error(`request failed: ${JSON.stringify(request.error)}`);
    const row = await stack.db.one(sql.type(
      z.object({ pod: z.string(), sentAt: z.number(), loggedReadyAt: z.number() }),
    )`
      SELECT i.runtime_ref AS pod, extract(epoch FROM r.started_at) * 1000 AS "sentAt",
             (SELECT extract(epoch FROM max(occurred_at)) * 1000 FROM model_instance_log l
               WHERE l.instance_id = i.id AND l.event = 'READY') AS "loggedReadyAt"
        FROM work_requests r JOIN model_instances i ON i.id = r.instance_id
       WHERE r.id = ${submitted.body.id}`);
    const ready = readyAt.get(row.pod);
    if (ready === undefined) throw new Error(`never saw pod ${row.pod} ready`);
    if (i < 0) continue;
    readyToSent.push(row.sentAt - ready);
    readyToLogged.push(row.loggedReadyAt - ready);
    submitToReady.push(ready - submittedAt);
    submitToComplete.push(completedAt - submittedAt);
  }
  stopWatching();

  const warmStarts = await timeClusterStarts(3);
  const coldBuild = process.argv.includes('--cold-build') ? timeColdBuild() : null;

  const format = (row: ReturnType<typeof summary>) => ({
    ...row,
    p50: row.p50.toFixed(1),
    p99: row.p99.toFixed(1),
    mean: row.mean.toFixed(1),
    max: row.max.toFixed(1),
  });
  console.log(`\nKubernetes runtime on the simulated cluster: ${pods} requests, each on a new pod (ms)`);
  console.table(
    [
      summary('pod ready → first inference byte sent', readyToSent),
      summary('  of which: pod ready → READY logged by the worker', readyToLogged),
      summary('submit → pod ready', submitToReady),
      summary('submit → COMPLETE', submitToComplete),
      summary('test cluster warm start', warmStarts),
    ].map(format),
  );
  const p99 = summary('', readyToSent).p99;
  console.log(
    `target: pod ready → first byte p99 ≤ 100 ms: ${p99 <= 100 ? 'met' : 'NOT met'} (p99 ${p99.toFixed(1)} ms)`,
  );
  if (coldBuild !== null)
    console.log(`cold build of the cluster binaries (empty Go build cache): ${(coldBuild / 1000).toFixed(0)} s`);
}

runBenchmark(benchmark, { kubernetes: true });
