import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { createPool, SchemaValidationError, type DatabasePool, type Interceptor, type QueryResultRow } from 'slonik';

/** Validates (and transforms) every row of a `sql.type(schema)` query with its standard schema. */
const resultParserInterceptor: Interceptor = {
  name: 'result-parser',
  transformRowAsync: async (context, query, row) => {
    if (!context.resultParser) return row;
    const result = await context.resultParser['~standard'].validate(row);
    if (result.issues) throw new SchemaValidationError(query, row, result.issues);
    return result.value as QueryResultRow;
  },
};

/** Every connection of the pool starts with `search_path` set to the configured schema. */
export function withSearchPath(databaseUrl: string, schema: string): string {
  const url = new URL(databaseUrl);
  url.searchParams.set('options', `-c search_path=${schema}`);
  return url.toString();
}

export async function createDatabasePool(options: {
  databaseUrl: string;
  schema: string;
  maximumPoolSize?: number;
  /** TLS to PostgreSQL (infra/connections.ts databaseConnection); plain when absent. */
  ssl?: false | TlsOptions;
  /** Extra interceptors, e.g. a query counter in tests. */
  interceptors?: Interceptor[];
  /** Slonik's per-statement limit (60 s by default); a benchmark's bulk load lifts it. */
  statementTimeout?: number | 'DISABLE_TIMEOUT';
}): Promise<DatabasePool> {
  const db = await createPool(withSearchPath(options.databaseUrl, options.schema), {
    // Slonik's default sends DISCARD ALL on every release: one more round trip per query, and
    // it throws away every cached plan, so each plpgsql call planned its statements again
    // (about half of the warm path's PostgreSQL time). Podium never leaves session state on a
    // pooled connection (settings are SET LOCAL, locks transaction-level, LISTEN on its own
    // connection), so there is nothing to discard.
    resetConnection: async () => undefined,
    interceptors: [resultParserInterceptor, ...(options.interceptors ?? [])],
    maximumPoolSize: options.maximumPoolSize ?? 10,
    ...(options.statementTimeout === undefined ? {} : { statementTimeout: options.statementTimeout }),
    ...(options.ssl ? { ssl: options.ssl } : {}),
  });
  // Slonik also emits each query error on the pool; without a listener Node turns that into
  // an "Unhandled error" that replaces the typed error (e.g. a unique violation) the caller
  // handles. The caller still gets every error: this only keeps them typed.
  db.on('error', () => undefined);
  return db;
}
