import { execFileSync } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { findFreePort } from '../../lib/ports';
import { startEmbeddedPostgres, type EmbeddedDatabase } from '../../infra/postgres';
import { startDevTemporal, type DevTemporal } from '../../infra/temporal-server';
import { writeWorkflowBundle } from '../support/run-services';

/**
 * PostgreSQL and the Temporal dev server for the fault suite, started with the project's own
 * scripts on free ports, with the controls a fault needs: freeze and thaw every PostgreSQL
 * process, stop and restart PostgreSQL, kill and restart Temporal (its SQLite file kept).
 */
export async function startFaultServices() {
  const workDir = await mkdtemp(path.join(tmpdir(), 'podium-faults-'));
  await chmod(workDir, 0o755); // as root, Postgres runs as `postgres` and must reach its data dir
  const postgresDir = path.join(workDir, 'postgres');
  const [pgPort, temporalPort, uiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const startPostgres = () => startEmbeddedPostgres({ dataDir: postgresDir, port: pgPort });
  const startTemporal = () =>
    startDevTemporal({
      dataDir: path.join(workDir, 'temporal'),
      host: '127.0.0.1',
      port: temporalPort,
      uiPort,
      headless: true,
    });
  let postgres: EmbeddedDatabase = await startPostgres();
  let temporal: DevTemporal = await startTemporal();
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
      process.kill(temporal.pid, 'SIGKILL');
      await sleep(downMs);
      temporal = await startTemporal();
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
