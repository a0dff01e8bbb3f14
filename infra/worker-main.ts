// A worker process on its own (`npm run worker`), for deployments that run workers apart from
// the API. Needs DATABASE_URL and TEMPORAL_ADDRESS; PODIUM_WORKFLOW_BUNDLE may name a pre-built
// workflow bundle. Prints {"event":"worker-ready"} once polling; stops on SIGTERM/SIGINT.
import { payloadStoreOf } from './payload-store';
import { createInstanceRuntime } from '../activities/runtime/create-runtime';
import { createDatabasePool } from '../db/connection-pool';
import { parseConfig } from '../domain/config';
import { databaseConnection, temporalConnection } from './connections';
import { serveMetrics } from './metrics-server';
import { loadKwokNodes } from './simulated-cluster';
import { createLogger } from '../lib/logger';
import { installTemporalRuntime, runtimeLevelFor } from './temporal-runtime';
import { tracingFromEnv } from './tracing';
import type { State } from '@temporalio/worker';
import { startPodiumWorker, workerHealth } from './worker';
import { localCommandPolicyOf } from './local-commands';

async function main() {
  const config = parseConfig(process.env);
  if (!config.DATABASE_URL || !config.TEMPORAL_ADDRESS)
    throw new Error('a worker on its own needs DATABASE_URL and TEMPORAL_ADDRESS');
  // The SDK's and the activities' lines as JSON on stdout, as LOG_LEVEL asks.
  installTemporalRuntime(runtimeLevelFor(config.LOG_LEVEL), {
    metrics: { host: config.HOST, port: config.TEMPORAL_METRICS_PORT },
    logger: createLogger(config.LOG_LEVEL, 'podium-worker'),
  });
  // The probes answer from the start: alive while connecting, ready once polling.
  let workerState: () => State | undefined = () => undefined;
  const metrics =
    config.WORKER_METRICS_PORT > 0
      ? await serveMetrics(config.HOST, config.WORKER_METRICS_PORT, () => workerHealth(workerState()))
      : null;
  const database = databaseConnection(config.DATABASE_URL, config);
  const db = await createDatabasePool({ databaseUrl: database.url, ssl: database.ssl, schema: config.DATABASE_SCHEMA });
  const bundle = process.env.PODIUM_WORKFLOW_BUNDLE;
  const { runtime, kubeConfig } = await createInstanceRuntime(config, localCommandPolicyOf(config));
  // client-node (in create-autoscaler) loads only for Kubernetes.
  const autoscaler = kubeConfig
    ? (await import('../activities/nodes/create-autoscaler')).createAutoscaler(
        config,
        kubeConfig,
        await loadKwokNodes(config),
      )
    : undefined;
  const tracing = tracingFromEnv('podium-worker');
  const worker = await startPodiumWorker({
    ...temporalConnection(config.TEMPORAL_ADDRESS, config),
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db,
    interruptsFrom: {
      databaseUrl: database.url,
      ssl: database.ssl,
      schema: config.DATABASE_SCHEMA,
      logger: createLogger(config.LOG_LEVEL, 'podium-worker'),
    },
    runtime,
    autoscaler,
    payloads: payloadStoreOf(config, db),
    uploadHours: config.UPLOAD_TTL_HOURS,
    poolScaling: config.POOL_SCALING,
    webhookSecret: config.WEBHOOK_SECRET,
    webhookAllowedAddresses: config.WEBHOOK_ALLOWED_ADDRESSES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    workflowBundle: bundle ? { codePath: bundle } : undefined,
    tracing,
  });
  workerState = () => worker.worker.getState();
  const stop = async () => {
    await worker.stop();
    await tracing?.shutdown();
    metrics?.close();
    await db.end();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.once('SIGINT', () => void stop());
  console.log(JSON.stringify({ event: 'worker-ready', taskQueue: config.TEMPORAL_TASK_QUEUE, pid: process.pid }));
}

main().catch((error) => {
  console.error(`[podium] worker could not start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
