import { execFileSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { chmod, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createConnection, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, type Server } from 'node:tls';
import { Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { sql } from 'slonik';
import { z } from 'zod';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/connection-pool';
import { databaseConnection, temporalConnection } from '../../infra/connections';
import { ensureDebianPackage } from '../../infra/ensure-debian-package';
import { startServiceProcess, stopServiceProcess } from '../support/service-process';
import { readTestEnv } from '../support/services';

/**
 * The production connection settings against real servers: a PostgreSQL with TLS on (its
 * certificate from a CA made here, for the name `localhost`) and the test Temporal behind a TLS
 * front that demands a client certificate, as an mTLS Temporal cluster does.
 */
let work: string;
let postgres: { child: ChildProcess; ready: { databaseUrl: string } };
let temporalFront: Server;
const files = (name: string) => path.join(work, name);

// Debian's openssl, installed with apt when a machine lacks it (as the other tools are).
const openssl = (...args: string[]) =>
  execFileSync(
    ensureDebianPackage('/usr/bin/openssl', 'openssl', () => undefined),
    args,
    { stdio: 'ignore' },
  );

/** A CA, a server certificate for localhost and a client certificate, all signed by the CA. */
function makeCertificates() {
  openssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '1',
    '-subj',
    '/CN=podium test CA',
    '-keyout',
    files('ca.key'),
    '-out',
    files('ca.crt'),
  );
  for (const [name, subject, extension] of [
    ['server', '/CN=localhost', 'subjectAltName=DNS:localhost'],
    ['client', '/CN=podium-worker', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    openssl(
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-subj',
      subject,
      '-keyout',
      files(`${name}.key`),
      '-out',
      files(`${name}.csr`),
    );
    writeFileSync(files(`${name}.ext`), `${extension}\n`);
    openssl(
      'x509',
      '-req',
      '-in',
      files(`${name}.csr`),
      '-CA',
      files('ca.crt'),
      '-CAkey',
      files('ca.key'),
      '-CAcreateserial',
      '-days',
      '1',
      '-extfile',
      files(`${name}.ext`),
      '-out',
      files(`${name}.crt`),
    );
  }
}

beforeAll(async () => {
  work = await mkdtemp(path.join(tmpdir(), 'podium-tls-'));
  await chmod(work, 0o755); // as root, PostgreSQL runs as the postgres user, who must read its key
  makeCertificates();
  // PostgreSQL wants its key readable by its own user only.
  if (process.getuid?.() === 0) execFileSync('chown', ['postgres', files('server.key')]);
  await chmod(files('server.key'), 0o600);
  postgres = await startServiceProcess<{ databaseUrl: string }>(
    'tls-postgres-service.ts',
    'PostgreSQL with TLS',
    60_000,
    {
      TLS_DIR: work,
    },
  );

  const [serverKey, serverCert, ca] = await Promise.all(
    ['server.key', 'server.crt', 'ca.crt'].map((name) => readFile(files(name))),
  );
  const [temporalHost, temporalPort] = readTestEnv('temporalAddress').split(':');
  temporalFront = createServer(
    { key: serverKey, cert: serverCert, ca, requestCert: true, rejectUnauthorized: true, ALPNProtocols: ['h2'] },
    (socket) => {
      const upstream = createConnection({ host: temporalHost, port: Number(temporalPort) });
      socket.pipe(upstream).pipe(socket);
      const close = () => {
        socket.destroy();
        upstream.destroy();
      };
      socket.on('error', close);
      upstream.on('error', close);
    },
  );
  temporalFront.on('tlsClientError', () => undefined); // a client without a certificate, refused on purpose
  await new Promise<void>((resolve) => temporalFront.listen(0, '127.0.0.1', resolve));
}, 120_000);

afterAll(async () => {
  temporalFront?.close();
  await stopServiceProcess(postgres?.child);
  await rm(work, { recursive: true, force: true });
});

type DatabaseTlsSettings = Parameters<typeof databaseConnection>[1];
const tlsSettings: DatabaseTlsSettings = {};
/** The embedded server's URL with another host name for it. */
const urlFor = (host: string) => postgres.ready.databaseUrl.replace('127.0.0.1', host);

async function sslInUse(databaseUrl: string, settings: DatabaseTlsSettings): Promise<boolean> {
  const database = databaseConnection(databaseUrl, { ...tlsSettings, ...settings });
  const db = await createDatabasePool({
    databaseUrl: database.url,
    ssl: database.ssl,
    schema: 'public',
    maximumPoolSize: 1,
  });
  try {
    return await db.oneFirst(
      sql.type(z.object({ ssl: z.boolean() }))`SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()`,
    );
  } finally {
    await db.end();
  }
}

describe('PostgreSQL over TLS', () => {
  it('verify-full: the server certificate checked against the CA and the host name', async () => {
    expect(
      await sslInUse(urlFor('localhost'), { DATABASE_SSL_MODE: 'verify-full', DATABASE_SSL_CA_FILE: files('ca.crt') }),
    ).toBe(true);
    // libpq's own parameters in DATABASE_URL say the same (slonik alone refuses verify-full).
    expect(await sslInUse(`${urlFor('localhost')}?sslmode=verify-full&sslrootcert=${files('ca.crt')}`, {})).toBe(true);
  });

  it('verify-full refuses a certificate for another name, or from a CA it was not given; verify-ca accepts the name', async () => {
    await expect(
      sslInUse(urlFor('127.0.0.1'), { DATABASE_SSL_MODE: 'verify-full', DATABASE_SSL_CA_FILE: files('ca.crt') }),
    ).rejects.toThrow(/does not match certificate's altnames/);
    await expect(sslInUse(urlFor('localhost'), { DATABASE_SSL_MODE: 'verify-full' })).rejects.toThrow(
      /unable to verify the first certificate/,
    );
    expect(
      await sslInUse(urlFor('127.0.0.1'), { DATABASE_SSL_MODE: 'verify-ca', DATABASE_SSL_CA_FILE: files('ca.crt') }),
    ).toBe(true);
  });

  it('require: encrypted without verification; no setting: plain', async () => {
    expect(await sslInUse(urlFor('127.0.0.1'), { DATABASE_SSL_MODE: 'require' })).toBe(true);
    expect(await sslInUse(urlFor('127.0.0.1'), {})).toBe(false);
  });

  it('migrations run over the same TLS connection', async () => {
    const database = databaseConnection(urlFor('localhost'), {
      ...tlsSettings,
      DATABASE_SSL_MODE: 'verify-full',
      DATABASE_SSL_CA_FILE: files('ca.crt'),
    });
    const applied = await migrate(database.url, 'podium', database.ssl);
    expect(applied.length).toBeGreaterThan(10);
  });

  it('names the setting when a certificate file cannot be read', () => {
    expect(() =>
      databaseConnection(urlFor('localhost'), { ...tlsSettings, DATABASE_SSL_CA_FILE: files('missing.crt') }),
    ).toThrow(`DATABASE_SSL_CA_FILE: cannot read ${files('missing.crt')} (ENOENT)`);
  });
});

describe('Temporal over mTLS', () => {
  const front = () => `localhost:${(temporalFront.address() as AddressInfo).port}`;
  const mtls = () => ({
    TEMPORAL_TLS: false,
    TEMPORAL_TLS_CA_FILE: files('ca.crt'),
    TEMPORAL_TLS_CERT_FILE: files('client.crt'),
    TEMPORAL_TLS_KEY_FILE: files('client.key'),
  });

  it("the client connection (the API, the CLI) and the worker's native connection reach Temporal with a client certificate", async () => {
    const client = await Connection.connect(temporalConnection(front(), mtls()));
    try {
      const { serverVersion } = await client.workflowService.getSystemInfo({});
      expect(serverVersion).toMatch(/^\d+\.\d+/);
    } finally {
      await client.close();
    }
    const native = await NativeConnection.connect(temporalConnection(front(), mtls()));
    await native.close();
  });

  it('without a client certificate, the server refuses the connection', async () => {
    const { TEMPORAL_TLS_CERT_FILE: _, TEMPORAL_TLS_KEY_FILE: __, ...caOnly } = mtls();
    const refused = Connection.connect({ ...temporalConnection(front(), caOnly), connectTimeout: 3_000 }).then(
      async (connection) => {
        try {
          await connection.workflowService.getSystemInfo({});
        } finally {
          await connection.close();
        }
      },
    );
    await expect(refused).rejects.toThrow();
  });
});
