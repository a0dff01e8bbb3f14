import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AutoscalerSettings } from '../../domain/node-autoscaler';
import { startTestCluster, type TestCluster } from '../../infra/test-cluster/cluster';
import { tracingFromEnv } from '../../infra/tracing';
import { startRunServices } from '../support/run-services';
import { testEnv } from '../support/services';
import { startTestStack, type TestStack } from '../support/test-stack';

export type BenchmarkOptions = {
  /** model instances as pods on the simulated cluster */
  kubernetes?: boolean;
  /** with `kubernetes`: node autoscaling with kwok nodes, these settings over the defaults */
  autoscaler?: Partial<AutoscalerSettings>;
  /** false: no worker in this process (the benchmark starts worker processes) */
  worker?: boolean;
  /** Settings of the stack, over the tests' */
  env?: Record<string, string>;
  /** Which Temporal: the dev server (default) or the multi-service cluster */
  temporal?: 'dev' | 'cluster';
  /** Runs last, however the benchmark ended (a service the benchmark started for itself) */
  after?: () => Promise<void>;
};

/**
 * Runs a benchmark on its own Postgres, Temporal and Podium stack (as the tests do), stops
 * them however it ends, and exits with its outcome.
 */
export function runBenchmark(
  benchmark: (stack: TestStack, cluster: TestCluster | null) => Promise<void>,
  options: BenchmarkOptions = {},
): void {
  withBenchmarkStack(benchmark, options).then(
    () => process.exit(0),
    (error) => {
      console.error(error);
      process.exit(1);
    },
  );
}

/** A benchmark on its own stack, as `runBenchmark` runs it, for a script that runs several. */
export async function withBenchmarkStack<T>(
  benchmark: (stack: TestStack, cluster: TestCluster | null) => Promise<T>,
  options: BenchmarkOptions = {},
): Promise<T> {
  const services = await startRunServices({ testTools: false, temporal: options.temporal });
  const clusterDir = options.kubernetes ? await mkdtemp(path.join(tmpdir(), 'podium-bench-cluster-')) : null;
  const cluster = clusterDir
    ? await startTestCluster({ dir: clusterDir, log: (line) => console.error(`[test-cluster] ${line}`) })
    : null;
  if (cluster) process.env[testEnv.kubeconfig] = cluster.kubeconfigPath;
  // OTEL_EXPORTER_OTLP_ENDPOINT traces the stack, as it would `npm start` (test/bench/observability.ts).
  const tracing = tracingFromEnv('podium-bench') ?? undefined;
  const stack = await startTestStack({
    services,
    kubernetes: options.kubernetes,
    autoscaler: options.autoscaler,
    worker: options.worker,
    env: options.env,
    tracing,
  });
  try {
    return await benchmark(stack, cluster);
  } catch (error) {
    console.error('benchmark failed:', error);
    throw error;
  } finally {
    await stack.stop();
    await cluster?.stop();
    if (clusterDir) await rm(clusterDir, { recursive: true, force: true });
    await services.stop();
    await tracing?.shutdown();
    await options.after?.();
  }
}
