// The real services for one `npm test` run, in a process of their own (started by jest's global
// setup with `node --import tsx`), with the same scripts as `npm start`: PostgreSQL (embedded)
// and the Temporal dev server, each on a free port in a fresh temp dir, plus the workflow bundle
// and the web build. Prints one JSON line when ready; stops when its stdin closes or on SIGTERM.
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { findFreePort } from '../../infra/ports';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { startDevTemporal } from '../../infra/temporal-server';
import { workflowsPath } from '../../infra/worker';
import { buildWeb } from '../../web/build';

const quietLogger = { trace() {}, debug() {}, info() {}, log() {}, warn: console.warn, error: console.error };

async function main() {
  const workDir = await mkdtemp(path.join(tmpdir(), 'podium-test-'));
  // As root, Postgres runs as the `postgres` user, which must be able to reach its data dir.
  await chmod(workDir, 0o755);
  const [pgPort, temporalPort, uiPort] = [await findFreePort(), await findFreePort(), await findFreePort()];
  const [postgres, temporal, bundle] = await Promise.all([
    startEmbeddedPostgres({ dataDir: path.join(workDir, 'postgres'), port: pgPort, persistent: false }),
    startDevTemporal({
      dataDir: path.join(workDir, 'temporal'),
      host: '127.0.0.1',
      port: temporalPort,
      uiPort,
      headless: true,
      log: (line) => console.error(`[podium] ${line}`),
    }),
    bundleWorkflowCode({ workflowsPath, logger: quietLogger }),
    buildWeb(),
  ]);
  const workflowBundle = path.join(workDir, 'workflow-bundle.js');
  await writeFile(workflowBundle, bundle.code);

  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await temporal.stop();
    await postgres.stop();
    await rm(workDir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdin.on('end', stop).resume();

  process.stdout.write(
    `${JSON.stringify({ ready: { databaseUrl: postgres.databaseUrl, temporalAddress: temporal.address, workflowBundle } })}\n`,
  );
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
