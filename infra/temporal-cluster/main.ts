// `npm run temporal-cluster`: a multi-service Temporal cluster on its own embedded PostgreSQL,
// until Ctrl-C. Prints the address; `TEMPORAL_ADDRESS=<it> npm start` runs Podium on it.
import { chmod, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { startEmbeddedPostgres } from '../postgres';
import { startTemporalCluster } from './cluster';
import { clusterDatabaseOn } from './config';

async function main() {
  const log = (line: string) => console.log(`[temporal-cluster] ${line}`);
  const dataDir = path.resolve(process.env.DATA_DIR ?? '.data', 'temporal-cluster');
  await mkdir(dataDir, { recursive: true });
  await chmod(dataDir, 0o755); // as root, PostgreSQL runs as `postgres`, which must reach its data
  const postgresPort = Number(process.env.TEMPORAL_CLUSTER_POSTGRES_PORT ?? 55433);
  const postgres = await startEmbeddedPostgres({ dataDir: path.join(dataDir, 'postgres'), port: postgresPort });
  log(`PostgreSQL on 127.0.0.1:${postgresPort} (${path.join(dataDir, 'postgres')})`);
  const cluster = await startTemporalCluster({
    database: clusterDatabaseOn(postgresPort),
    dir: path.join(dataDir, 'config'),
    frontendPort: Number(process.env.TEMPORAL_CLUSTER_PORT ?? 7333),
    log,
  });
  log(`ready: ${Object.keys(cluster.processes).join(', ')}`);
  log(`TEMPORAL_ADDRESS=${cluster.address} npm start`);
  const stop = async () => {
    log('stopping');
    await cluster.stop();
    await postgres.stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((error: Error) => {
  console.error(`[temporal-cluster] ${error.message}`);
  process.exit(1);
});
