import type { PodiumConfig } from './config';

/**
 * How Podium reaches PostgreSQL and Temporal over TLS: pure plans from the settings, which
 * infra/connections.ts turns into the drivers' options (reading the files they name).
 */

export type DatabaseSslMode = 'disable' | 'require' | 'verify-ca' | 'verify-full';

export type DatabaseTlsPlan = {
  /** DATABASE_URL without its TLS parameters (the driver reads TLS only from the plan). */
  url: string;
  /** null: no TLS setting anywhere, a plain connection. */
  mode: DatabaseSslMode | null;
  caFile?: string;
  certFile?: string;
  keyFile?: string;
};

/** libpq's URL parameters for TLS, and the settings that say the same. */
const urlParameters = {
  sslmode: 'DATABASE_SSL_MODE',
  sslrootcert: 'DATABASE_SSL_CA_FILE',
  sslcert: 'DATABASE_SSL_CERT_FILE',
  sslkey: 'DATABASE_SSL_KEY_FILE',
} as const;

function sslModeOf(value: string): DatabaseSslMode {
  if (value === 'disable' || value === 'require' || value === 'verify-ca' || value === 'verify-full') return value;
  if (value === 'no-verify') return 'require'; // slonik's name for it
  throw new Error(`DATABASE_URL: sslmode=${value} is not supported; use disable, require, verify-ca or verify-full`);
}

/**
 * TLS to PostgreSQL as libpq's `sslmode` means it, from DATABASE_URL's parameters
 * (`sslmode`, `sslrootcert`, `sslcert`, `sslkey`) or the DATABASE_SSL_* settings; the same
 * thing said twice differently is an error. The drivers Podium uses read these parameters
 * differently (slonik refuses verify-full and ignores sslrootcert; pg reads them its own way),
 * hence one plan for both. Without a mode, a CA means verify-full; `require` with a CA
 * verifies the CA, as libpq does; verify-* without a CA trusts Node's own CAs (a managed
 * database's public certificate).
 */
export function planDatabaseTls(
  databaseUrl: string,
  config: Pick<
    PodiumConfig,
    'DATABASE_SSL_MODE' | 'DATABASE_SSL_CA_FILE' | 'DATABASE_SSL_CERT_FILE' | 'DATABASE_SSL_KEY_FILE'
  >,
): DatabaseTlsPlan {
  const url = new URL(databaseUrl);
  const merged: Partial<Record<(typeof urlParameters)[keyof typeof urlParameters], string>> = {};
  for (const [parameter, setting] of Object.entries(urlParameters) as Array<
    [keyof typeof urlParameters, (typeof urlParameters)[keyof typeof urlParameters]]
  >) {
    const fromUrl = url.searchParams.get(parameter) ?? undefined;
    url.searchParams.delete(parameter);
    const fromSetting = config[setting];
    const same =
      fromUrl === undefined ||
      fromSetting === undefined ||
      (parameter === 'sslmode' ? sslModeOf(fromUrl) === fromSetting : fromUrl === fromSetting);
    if (!same)
      throw new Error(`DATABASE_URL's ${parameter}=${fromUrl} and ${setting}=${fromSetting} disagree: set one`);
    const value = fromSetting ?? fromUrl;
    if (value !== undefined) merged[setting] = value;
  }
  const { DATABASE_SSL_CA_FILE: caFile, DATABASE_SSL_CERT_FILE: certFile, DATABASE_SSL_KEY_FILE: keyFile } = merged;
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new Error(
      'DATABASE_SSL_CERT_FILE and DATABASE_SSL_KEY_FILE (sslcert, sslkey) go together: set both or neither',
    );
  let mode = merged.DATABASE_SSL_MODE === undefined ? null : sslModeOf(merged.DATABASE_SSL_MODE);
  if (mode === null && caFile !== undefined) mode = 'verify-full';
  if (mode === 'require' && caFile !== undefined) mode = 'verify-ca';
  if (mode === 'disable' && (caFile ?? certFile) !== undefined)
    throw new Error('DATABASE_SSL_MODE=disable with a certificate file: remove one');
  return { url: url.toString(), mode, caFile, certFile, keyFile };
}

export type TemporalTlsPlan = {
  address: string;
  /** null: plain gRPC. */
  tls: { certFile?: string; keyFile?: string; caFile?: string; serverName?: string } | null;
  apiKey?: string;
};

/** The settings a Temporal connection is planned from. */
export type TemporalTlsSettings = Pick<
  PodiumConfig,
  | 'TEMPORAL_TLS'
  | 'TEMPORAL_TLS_CERT_FILE'
  | 'TEMPORAL_TLS_KEY_FILE'
  | 'TEMPORAL_TLS_CA_FILE'
  | 'TEMPORAL_TLS_SERVER_NAME'
  | 'TEMPORAL_API_KEY'
>;

/**
 * How to reach Temporal: TLS when asked for (TEMPORAL_TLS) or implied by a certificate, a CA, a
 * server name or an API key (Temporal Cloud takes keys only over TLS); a client certificate needs
 * its key.
 */
export function planTemporalTls(address: string, config: TemporalTlsSettings): TemporalTlsPlan {
  const {
    TEMPORAL_TLS_CERT_FILE: certFile,
    TEMPORAL_TLS_KEY_FILE: keyFile,
    TEMPORAL_TLS_CA_FILE: caFile,
    TEMPORAL_TLS_SERVER_NAME: serverName,
    TEMPORAL_API_KEY: apiKey,
  } = config;
  if ((certFile === undefined) !== (keyFile === undefined))
    throw new Error('TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE go together: set both or neither');
  const wantsTls = config.TEMPORAL_TLS || [certFile, caFile, serverName, apiKey].some((value) => value !== undefined);
  return { address, tls: wantsTls ? { certFile, keyFile, caFile, serverName } : null, ...(apiKey ? { apiKey } : {}) };
}
