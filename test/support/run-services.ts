import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { ensureChromium, ensureDebianPackage } from '../../infra/ensure-debian-package';
import { findFreePort } from '../../lib/ports';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { startTemporalCluster, type ClusterProcess } from '../../infra/temporal-cluster/cluster';
import { clusterDatabaseOn, sharedPostgresFlags } from '../../infra/temporal-cluster/config';
import { devServerTunings, startDevTemporal, type DevServerTuning } from '../../infra/temporal-server';
import { workflowsPath } from '../../infra/worker';
import { buildWeb } from '../../web/build';

export type RunServices = {
  databaseUrl: string;
  temporalAddress: string;
  workflowBundle: string;
  chromium: string;
  /** On the multi-service cluster: its processes (a benchmark reads their CPU and metrics). */
  temporalProcesses?: Record<string, ClusterProcess>;
};

const quietLogger = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };

/**
 * The workflows bundled once, quietly, into `dir`: workers given its path start without webpack.
 * `workflowInterceptorModules`: the tracing interceptors, for a worker that traces.
 */
export async function writeWorkflowBundle(dir: string, workflowInterceptorModules: string[] = []): Promise<string> {
  const file = path.join(
    dir,
    workflowInterceptorModules.length > 0 ? 'workflow-bundle-traced.js' : 'workflow-bundle.js',
  );
  await writeFile(
    file,
    (await bundleWorkflowCode({ workflowsPath, workflowInterceptorModules, logger: quietLogger })).code,
  );
  return file;
}

/** PODIUM_TEMPORAL_TUNING picks another dev server tuning, to compare one in a benchmark. */
function devServerTuningFromEnv(): DevServerTuning | undefined {
  const name = process.env.PODIUM_TEMPORAL_TUNING;
  if (name === undefined) return undefined;
  if (!(name in devServerTunings))
    throw new Error(`PODIUM_TEMPORAL_TUNING must be one of: ${Object.keys(devServerTunings).join(', ')}`);
  return name as DevServerTuning;
}

/**
 * PODIUM_PG_PROFILE=1 loads pg_stat_statements, counts plpgsql function calls and keeps 1 GB of
 * WAL (so pg_walinspect can read back a benchmark's window), for benchmarks that print where
 * PostgreSQL spends its time (test/bench/postgres-profile.ts, test/bench/request-cost.ts).
 */
function statementProfileFlags(): string[] {
  if (process.env.PODIUM_PG_PROFILE !== '1') return [];
  return [
    '-c',
    'shared_preload_libraries=pg_stat_statements',
    '-c',
    'pg_stat_statements.track=all',
    '-c',
    'track_functions=all',
    '-c',
    'wal_keep_size=1GB',
  ];
}

/**
 * The real services for one test or benchmark run, with the same scripts as `npm start`:
 * PostgreSQL (embedded) and the Temporal dev server, each on a free port in a fresh temp dir,
 * plus the workflow bundle, the web build and (unless `testTools: false`) Chromium and jq.
 */
export async function startRunServices(
  options: {
    testTools?: boolean;
    /** Which Temporal: the dev server, or the multi-service cluster (PODIUM_TEST_TEMPORAL=cluster). */
    temporal?: 'dev' | 'cluster';
  } = {},
): Promise<RunServices & { stop: () => Promise<void> }> {
  const workDir = await mkdtemp(path.join(tmpdir(), 'podium-test-'));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its data dir.
  await chmod(workDir, 0o755);
  const [pgPort, temporalPort, uiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const log = (line: string) => console.error(`[podium] ${line}`);
  // PODIUM_TEST_TEMPORAL=cluster: the multi-service cluster, its databases in the run's PostgreSQL
  // (whose connections it shares with the tests: up to 65 of its own).
  const onCluster = (options.temporal ?? process.env.PODIUM_TEST_TEMPORAL) === 'cluster';
  const startPostgres = startEmbeddedPostgres({
    dataDir: path.join(workDir, 'postgres'),
    port: pgPort,
    persistent: false,
    postgresFlags: [...statementProfileFlags(), ...(onCluster ? sharedPostgresFlags : [])],
  });
  const startTemporal = onCluster
    ? startPostgres.then(() =>
        startTemporalCluster({
          database: clusterDatabaseOn(pgPort),
          dir: path.join(workDir, 'temporal-cluster'),
          log,
        }),
      )
    : startDevTemporal({
        tuning: devServerTuningFromEnv(),
        dataDir: path.join(workDir, 'temporal'),
        host: '127.0.0.1',
        port: temporalPort,
        uiPort,
        headless: true,
        log,
      });
  const [postgres, temporal, workflowBundle] = await Promise.all([
    startPostgres,
    startTemporal,
    writeWorkflowBundle(workDir),
    buildWeb(),
  ]);
  // The browser tests' Chromium and the curl walk-through's jq; a benchmark needs neither.
  const chromium = options.testTools === false ? '' : ensureChromium(log);
  if (options.testTools !== false) ensureDebianPackage('/usr/bin/jq', 'jq', log);
  return {
    chromium,
    databaseUrl: postgres.databaseUrl,
    temporalAddress: temporal.address,
    temporalProcesses: 'processes' in temporal ? temporal.processes : undefined,
    workflowBundle,
    stop: async () => {
      await temporal.stop();
      await postgres.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}
