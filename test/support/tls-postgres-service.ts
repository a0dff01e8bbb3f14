// A PostgreSQL with TLS on, in a process of its own (test/integration/connection-tls.test.ts):
// its certificate and key from TLS_DIR (server.crt, server.key), its data there too.
import path from 'node:path';
import { findFreePorts } from '../../lib/ports';
import { startEmbeddedPostgres } from '../../infra/postgres';
import { serveUntilStopped } from './service-process';

const dir = process.env.TLS_DIR!;
void serveUntilStopped(async () => {
  const [port] = await findFreePorts(1);
  const postgres = await startEmbeddedPostgres({
    dataDir: path.join(dir, 'postgres'),
    port: port!,
    persistent: false,
    postgresFlags: [
      '-c',
      'ssl=on',
      '-c',
      `ssl_cert_file=${path.join(dir, 'server.crt')}`,
      '-c',
      `ssl_key_file=${path.join(dir, 'server.key')}`,
    ],
  });
  return { databaseUrl: postgres.databaseUrl, stop: postgres.stop };
});
