// `npm start`: the whole of Podium on one machine, on embedded defaults. It checks its ports,
// then starts PostgreSQL, Temporal, a worker and the API, in that order, each step on its own
// line. Anything it starts is stopped again, in reverse order, on Ctrl-C or when a later step
// fails. Set DATABASE_URL or TEMPORAL_ADDRESS to use servers of your own.
import { payloadStoreOf } from './payload-store';
import type { Server } from 'node:http';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Client, Connection } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import type Koa from 'koa';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { AutoscalerDependencies } from '../activities/node-autoscaler';
import { createInstanceRuntime } from '../activities/runtime/create-runtime';
import { createApp } from '../api/app';
import { startAuthServices } from '../api/auth/auth-services';
import { metricsApp } from '../api/http/metrics';
import { listenForRequestEnds } from '../api/request-ends';
import { listenForRequestChunks } from '../api/request-chunk-notices';
import { createDatabasePool } from '../db/connection-pool';
import { migrate } from '../db/migrate';
import { parseConfig, type PodiumConfig } from '../domain/config';
import { runsFromBuild } from '../lib/prebuilt';
import { databaseConnection, temporalConnection } from './connections';
import { ensureAdminAccount } from './admin-account';
import { localCommandPolicyOf } from './local-commands';
import { createLogger } from '../lib/logger';
import { ensureCleanupSchedule } from './cleanup-schedule';
import { startWarmPools } from './model-pool';
import { loadKwokNodes, loadTestCluster } from './simulated-cluster';
import { ensureNodeAutoscaler } from './node-autoscaler';
import { assertPortFree } from '../lib/ports';
import { ensureSearchAttributes } from './search-attributes';
import { installTemporalRuntime, runtimeLevelFor } from './temporal-runtime';
import { tracingClientInterceptors, tracingFromEnv, type Tracing } from './tracing';
import { startDevTemporal } from './temporal-server';
import { startPodiumWorker, type RunningWorker } from './worker';

const step = (message: string) => console.log(`[podium] ${message}`);

/** What has been started, stopped in reverse order on Ctrl-C or on a failed start. */
const stops: { name: string; stop: () => Promise<unknown> }[] = [];
let stoppingSince: number | null = null;

async function stopAll(reason: string, exitCode: number) {
  if (stoppingSince !== null) {
    // Ctrl-C reaches us twice (from the terminal and relayed by tsx): only a later one forces.
    if (Date.now() - stoppingSince < 2_000) return;
    step('signal while stopping: exiting now');
    process.exit(1);
  }
  stoppingSince = Date.now();
  step(`${reason}: stopping…`);
  for (const { name, stop } of stops.reverse()) {
    step(`stopping ${name}`);
    await stop().catch((error) => console.error(`[podium] while stopping ${name}:`, error));
  }
  step('stopped');
  process.exit(exitCode);
}

type Config = PodiumConfig;

/** Ports this start needs are free, or it stops here with the variable that moves each. */
async function checkPorts(config: Config) {
  step('checking ports');
  await assertPortFree(config.PORT, config.HOST, 'Podium API', 'PORT');
  if (config.API_METRICS_PORT > 0)
    await assertPortFree(config.API_METRICS_PORT, config.HOST, "the API's metrics", 'API_METRICS_PORT');
  if (!config.DATABASE_URL) {
    await assertPortFree(config.EMBEDDED_POSTGRES_PORT, '127.0.0.1', 'embedded PostgreSQL', 'EMBEDDED_POSTGRES_PORT');
  }
  if (!config.TEMPORAL_ADDRESS) {
    await assertPortFree(config.TEMPORAL_PORT, '127.0.0.1', 'Temporal gRPC', 'TEMPORAL_PORT');
    await assertPortFree(config.TEMPORAL_UI_PORT, '127.0.0.1', 'Temporal Web UI', 'TEMPORAL_UI_PORT');
  }
  if (config.TEMPORAL_METRICS_PORT > 0) {
    await assertPortFree(config.TEMPORAL_METRICS_PORT, config.HOST, 'Temporal SDK metrics', 'TEMPORAL_METRICS_PORT');
  }
}

/** PostgreSQL at DATABASE_URL or embedded, migrated; the pool on it; the admin account if asked for. */
async function startDatabase(config: Config, dataDir: string, logger: Logger) {
  let databaseUrl = config.DATABASE_URL;
  if (databaseUrl) {
    step('using the PostgreSQL at DATABASE_URL');
  } else {
    step(
      `starting PostgreSQL (embedded) on port ${config.EMBEDDED_POSTGRES_PORT}, data in ${path.join(dataDir, 'postgres')}`,
    );
    // Imported here: a build pointed at DATABASE_URL ships without the embedded binaries (infra/release).
    const { startEmbeddedPostgres } = await import('./postgres');
    const postgres = await startEmbeddedPostgres({
      dataDir: path.join(dataDir, 'postgres'),
      port: config.EMBEDDED_POSTGRES_PORT,
      onLog: (line) => logger.debug({ component: 'postgres' }, line),
    });
    stops.push({ name: 'PostgreSQL', stop: postgres.stop });
    databaseUrl = postgres.databaseUrl;
  }
  const database = databaseConnection(databaseUrl, config);
  if (database.ssl) step(`PostgreSQL over TLS (${config.DATABASE_SSL_MODE ?? 'from DATABASE_URL'})`);
  const applied = await migrate(database.url, config.DATABASE_SCHEMA, database.ssl);
  step(`migrations on schema "${config.DATABASE_SCHEMA}": ${applied.length ? applied.join(', ') : 'up to date'}`);
  const db: DatabasePool = await createDatabasePool({
    databaseUrl: database.url,
    ssl: database.ssl,
    schema: config.DATABASE_SCHEMA,
  });
  stops.push({ name: 'the database pool', stop: () => db.end() });
  if (config.PODIUM_ADMIN_USERNAME) {
    const outcome = await ensureAdminAccount(db, {
      username: config.PODIUM_ADMIN_USERNAME,
      email: config.PODIUM_ADMIN_EMAIL,
      password: config.PODIUM_ADMIN_PASSWORD,
    });
    const said = {
      created: 'created with ADMIN',
      exists: 'has ADMIN',
      'not-admin': `exists without ADMIN and is left so (PODIUM_ADMIN_USERNAME only creates accounts): grant it with \`npm run podium -- users grant ${config.PODIUM_ADMIN_USERNAME} ADMIN\``,
    };
    step(`admin account "${config.PODIUM_ADMIN_USERNAME}": ${said[outcome]}`);
  }
  return { database, db };
}

/** The Temporal server at TEMPORAL_ADDRESS, or the dev server; where its Web UI is. */
async function startTemporal(config: Config, dataDir: string): Promise<{ address: string; ui: string | undefined }> {
  if (config.TEMPORAL_ADDRESS) {
    step(`using the Temporal server at ${config.TEMPORAL_ADDRESS}`);
    return { address: config.TEMPORAL_ADDRESS, ui: config.TEMPORAL_UI_URL };
  }
  step(`starting the Temporal dev server on port ${config.TEMPORAL_PORT}, data in ${path.join(dataDir, 'temporal')}`);
  const temporal = await startDevTemporal({
    dataDir: path.join(dataDir, 'temporal'),
    host: '127.0.0.1',
    port: config.TEMPORAL_PORT,
    uiPort: config.TEMPORAL_UI_PORT,
    log: step,
  });
  stops.push({ name: 'the Temporal dev server', stop: temporal.stop });
  return { address: temporal.address, ui: config.TEMPORAL_UI_URL ?? temporal.uiUrl };
}

/**
 * The worker in this process, when START_WORKER is set. Its instances run as local processes, in
 * a Kubernetes cluster, or in the simulated cluster started here. The node autoscaler's parts
 * come with it.
 */
async function startWorker(
  config: Config,
  dataDir: string,
  { db, database, logger }: { db: DatabasePool; database: { url: string; ssl: false | TlsOptions }; logger: Logger },
  temporalAddress: string,
  tracing: Tracing | null,
) {
  if (!config.START_WORKER) {
    step('no worker in this process (START_WORKER=false): run `npm run worker` elsewhere');
    return { worker: null, autoscaler: undefined, localCommands: null };
  }
  let runtimeConfig = config;
  if (config.SIMULATED_CLUSTER) {
    const dir = path.join(dataDir, 'cluster');
    await rm(dir, { recursive: true, force: true }); // a fresh cluster each start: pods do not survive a restart
    step(`starting the simulated Kubernetes cluster (etcd, kube-apiserver, kube-scheduler, kwok) in ${dir}`);
    const { startTestCluster } = await loadTestCluster();
    const cluster = await startTestCluster({ dir, log: step, namespaces: [config.KUBERNETES_NAMESPACE] });
    stops.push({ name: 'the simulated cluster', stop: cluster.stop });
    process.env.KUBECONFIG = cluster.kubeconfigPath;
    step(`kubectl: KUBECONFIG=${cluster.kubeconfigPath}`);
    runtimeConfig = { ...config, INSTANCE_RUNTIME: 'kubernetes', KUBERNETES_ENDPOINT: 'simulated' };
  }
  const localCommands = localCommandPolicyOf(runtimeConfig);
  const { runtime, kubeConfig } = await createInstanceRuntime(runtimeConfig, localCommands);
  const nodeProvider = config.NODE_PROVIDER ?? (config.SIMULATED_CLUSTER ? 'kwok' : 'none');
  let autoscaler: AutoscalerDependencies | undefined;
  if (kubeConfig && nodeProvider !== 'none') {
    const autoscalerConfig = { ...runtimeConfig, NODE_PROVIDER: nodeProvider };
    const { createAutoscaler } = await import('../activities/nodes/create-autoscaler'); // client-node: Kubernetes only
    autoscaler = createAutoscaler(autoscalerConfig, kubeConfig, await loadKwokNodes(autoscalerConfig));
    step(
      `node autoscaling with the ${nodeProvider} provider (${autoscaler!.settings.nodeTypes.map((t) => t.name).join(', ')})`,
    );
  }
  step(
    `starting the worker on task queue "${config.TEMPORAL_TASK_QUEUE}" (${runsFromBuild ? 'the pre-built workflow bundle' : 'bundling workflows'}; model instances run as ${runtime.kind === 'local' ? 'local processes' : 'pods'})`,
  );
  const worker = await startPodiumWorker({
    ...temporalConnection(temporalAddress, config),
    namespace: config.TEMPORAL_NAMESPACE,
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    db,
    interruptsFrom: { databaseUrl: database.url, ssl: database.ssl, schema: config.DATABASE_SCHEMA, logger },
    runtime,
    payloads: payloadStoreOf(config, db),
    uploadHours: config.UPLOAD_TTL_HOURS,
    poolScaling: config.POOL_SCALING,
    webhookSecret: config.WEBHOOK_SECRET,
    webhookAllowedAddresses: config.WEBHOOK_ALLOWED_ADDRESSES,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    autoscaler,
    tracing,
  });
  stops.push({ name: 'the worker', stop: worker.stop });
  return { worker, autoscaler, localCommands: runtime.kind === 'local' ? localCommands : null };
}

/**
 * The Temporal client of the API and of the long-running workflows started here. When a worker
 * runs in this process, the client shares its connection. Request workflows then start eagerly:
 * their first workflow task comes back in the start call (docs/architecture.md).
 */
async function connectClient(
  config: Config,
  temporalAddress: string,
  worker: RunningWorker | null,
  tracing: Tracing | null,
): Promise<Client> {
  let connection: Connection | NativeConnection | undefined = worker?.connection;
  if (!connection) {
    const own = await Connection.connect(temporalConnection(temporalAddress, config));
    stops.push({ name: 'the Temporal client', stop: () => own.close() });
    connection = own;
  }
  return new Client({
    connection,
    namespace: config.TEMPORAL_NAMESPACE,
    interceptors: tracingClientInterceptors(tracing),
  });
}

/** The retention Schedule, the node autoscaler and the warm pools, each started unless running. */
async function startLongRunningWorkflows(
  config: Config,
  temporal: Client,
  db: DatabasePool,
  autoscaler: AutoscalerDependencies | undefined,
) {
  if (config.TEMPORAL_ADDRESS) await ensureSearchAttributes(temporal, config.TEMPORAL_NAMESPACE);
  const schedule = await ensureCleanupSchedule(temporal, {
    taskQueue: config.TEMPORAL_TASK_QUEUE,
    retentionDays: config.REQUEST_RETENTION_DAYS,
  });
  if (autoscaler) await ensureNodeAutoscaler(temporal, config.TEMPORAL_TASK_QUEUE, autoscaler.settings);
  const warm = await startWarmPools(temporal, db, config.TEMPORAL_TASK_QUEUE);
  if (warm.length > 0) step(`warming the pools of ${warm.join(', ')} (min_instances > 0)`);
  step(`retention: requests older than ${config.REQUEST_RETENTION_DAYS} days are deleted daily (Schedule ${schedule})`);
}

async function main() {
  const config = parseConfig(process.env);
  const logger = createLogger(config.LOG_LEVEL);
  const dataDir = path.resolve(config.DATA_DIR);
  process.on('SIGINT', () => void stopAll('SIGINT', 0));
  process.on('SIGTERM', () => void stopAll('SIGTERM', 0));

  await checkPorts(config);
  installTemporalRuntime(runtimeLevelFor(config.LOG_LEVEL), {
    metrics: { host: config.HOST, port: config.TEMPORAL_METRICS_PORT },
    logger,
  });
  if (!runsFromBuild) {
    step('building the web UI (web/dist)');
    const { buildWeb } = await import('../web/build'); // esbuild: a build ships the web UI built
    await buildWeb();
  }
  const { database, db } = await startDatabase(config, dataDir, logger);
  const temporalServer = await startTemporal(config, dataDir);
  // Traces go to OTEL_EXPORTER_OTLP_ENDPOINT when it is set (docs/operations.md); off otherwise.
  const tracing = tracingFromEnv('podium');
  if (tracing) {
    step(`tracing to ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`);
    stops.push({ name: 'tracing', stop: tracing.shutdown });
  }
  const { worker, autoscaler, localCommands } = await startWorker(
    config,
    dataDir,
    { db, database, logger },
    temporalServer.address,
    tracing,
  );
  const temporal = await connectClient(config, temporalServer.address, worker, tracing);
  await startLongRunningWorkflows(config, temporal, db, autoscaler);

  step(`starting the API on ${config.HOST}:${config.PORT}`);
  const auth = await startAuthServices({
    config,
    databaseUrl: database.url,
    databaseSsl: database.ssl,
    schema: config.DATABASE_SCHEMA,
    db,
    logger,
  });
  stops.push({ name: 'the session listener', stop: auth.stop });
  const ends = await listenForRequestEnds({
    databaseUrl: database.url,
    ssl: database.ssl,
    schema: config.DATABASE_SCHEMA,
    logger,
  });
  stops.push({ name: 'the request ends listener', stop: ends.stop });
  const notices = await listenForRequestChunks({
    databaseUrl: database.url,
    ssl: database.ssl,
    schema: config.DATABASE_SCHEMA,
    logger,
  });
  stops.push({ name: 'the request chunks listener', stop: notices.stop });
  const app = createApp({
    config: { ...config, TEMPORAL_UI_URL: temporalServer.ui },
    db,
    temporal,
    eagerStart: worker !== null,
    logger,
    auth,
    ends,
    notices,
    payloads: payloadStoreOf(config, db),
    tracing: tracing !== null,
    localCommands,
  });
  await listen('the API', app, config.PORT, config.HOST);
  if (config.API_METRICS_PORT > 0)
    await listen("the API's metrics", metricsApp(db), config.API_METRICS_PORT, config.HOST);
  printReady(config, temporalServer.ui);
}

/** Serves `app` until the stops run. */
async function listen(name: string, app: Koa, port: number, host: string) {
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(port, host, () => resolve(listening));
  });
  stops.push({
    name,
    stop: () =>
      new Promise((resolve) => {
        server.close(resolve);
        server.closeAllConnections();
      }),
  });
}

function printReady(config: Config, temporalUi: string | undefined) {
  const api = `http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${config.PORT}`;
  step('ready:');
  console.log(`  Web UI            ${api}/`);
  console.log(`  API               ${api}/api  (models: ${api}/api/models)`);
  const metricsPort = config.API_METRICS_PORT || config.PORT;
  console.log(
    `  Metrics           http://${config.HOST === '0.0.0.0' ? 'localhost' : config.HOST}:${metricsPort}/metrics`,
  );
  if (temporalUi) console.log(`  Temporal Web UI   ${temporalUi}/namespaces/${config.TEMPORAL_NAMESPACE}/workflows`);
  console.log('  Press Ctrl-C to stop.');
}

main().catch((error) => {
  console.error(`[podium] could not start: ${error instanceof Error ? error.message : String(error)}`);
  void stopAll('start failed', 1);
});
