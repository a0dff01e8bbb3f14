import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../lib/ports';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../infra/postgres';
import { startTemporalCluster, type ClusterProcess, type TemporalCluster } from '../../infra/temporal-cluster/cluster';
import { clusterDatabaseOn, sharedPostgresFlags } from '../../infra/temporal-cluster/config';
import { startDevTemporal, type DevTemporal } from '../../infra/temporal-server';
import { writeWorkflowBundle } from '../support/run-services';

/** Which Temporal the suite runs on: the dev server, or the multi-service cluster. */
export type FaultTemporal = 'dev' | 'cluster';

/**
 * PostgreSQL and Temporal for the fault suite, started with the project's own scripts on free
 * ports, with the controls a fault needs: freeze and thaw every PostgreSQL process, stop and
 * restart PostgreSQL, kill and restart the dev server (its SQLite file kept) or one process of the
 * cluster (whose databases are in the same PostgreSQL).
 */
export async function startFaultServices(options: { temporal: FaultTemporal } = { temporal: 'dev' }) {
  const workDir = await mkdtemp(path.join(tmpdir(), 'podium-faults-'));
  await chmod(workDir, 0o755); // as root, Postgres runs as `postgres` and must reach its data dir
  const postgresDir = path.join(workDir, 'postgres');
  const [pgPort, temporalPort, uiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const onCluster = options.temporal === 'cluster';
  const startPostgres = () =>
    startEmbeddedPostgres({
      dataDir: postgresDir,
      port: pgPort,
      postgresFlags: onCluster ? sharedPostgresFlags : [],
    });
  const startTemporal = (): Promise<DevTemporal | TemporalCluster> =>
    onCluster
      ? startTemporalCluster({
          database: clusterDatabaseOn(pgPort),
          dir: path.join(workDir, 'temporal-cluster'),
          log: (line) => console.log(`[faults] ${line}`),
        })
      : startDevTemporal({
          dataDir: path.join(workDir, 'temporal'),
          host: '127.0.0.1',
          port: temporalPort,
          uiPort,
          headless: true,
        });
  let postgres: EmbeddedDatabase = await startPostgres();
  let temporal = await startTemporal();
  const clusterProcess = (name: string): ClusterProcess => {
    const found = 'processes' in temporal ? temporal.processes[name] : undefined;
    if (!found) throw new Error(`no cluster process ${name}: run with --temporal cluster`);
    return found;
  };
  const workflowBundle = await writeWorkflowBundle(workDir);

  /** The postmaster and every process it forked (backends, checkpointer, WAL writer…). */
  async function postgresPids(): Promise<number[]> {
    const postmaster = Number((await readFile(path.join(postgresDir, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const children = execFileSync('pgrep', ['-P', String(postmaster)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
    return [postmaster, ...children];
  }
  let frozen: number[] = [];

  return {
    databaseUrl: postgres.databaseUrl,
    temporalAddress: temporal.address,
    workflowBundle,
    async freezePostgres() {
      frozen = await postgresPids();
      for (const pid of frozen) process.kill(pid, 'SIGSTOP');
    },
    thawPostgres() {
      for (const pid of frozen.splice(0)) process.kill(pid, 'SIGCONT');
    },
    /** A fast shutdown (connections cut), `downMs` with nothing listening, then a start. */
    async restartPostgres(downMs: number) {
      await postgres.stop();
      await sleep(downMs);
      postgres = await startPostgres();
    },
    /** SIGKILL (no goodbye to anyone), `downMs` with nothing listening, then a start on the same file. */
    async killTemporal(downMs: number) {
      if (!('pid' in temporal)) throw new Error('killTemporal is for the dev server');
      process.kill(temporal.pid, 'SIGKILL');
      await sleep(downMs);
      temporal = await startTemporal();
    },
    /**
     * Stops one process of the cluster (SIGKILL: a crash; SIGTERM: a graceful stop, as a rolling
     * restart does), leaves it down `downMs`, then starts it again on the same ports.
     */
    async restartClusterProcess(name: string, signal: 'SIGKILL' | 'SIGTERM', downMs: number) {
      const victim = clusterProcess(name);
      await victim.kill(signal);
      await sleep(downMs);
      await victim.start();
    },
    async stop() {
      this.thawPostgres();
      await temporal.stop();
      await postgres.stop();
      await rm(workDir, { recursive: true, force: true });
    },
  };
}

export type FaultServices = Awaited<ReturnType<typeof startFaultServices>>;
