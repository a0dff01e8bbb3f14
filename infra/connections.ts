// The options Podium's connections to PostgreSQL and Temporal are opened with, from the plans of
// domain/connection-tls.ts and the certificate files they name (docs/production.md).
import { readFileSync } from 'node:fs';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import type { TLSConfig } from '@temporalio/client';
import type { PodiumConfig } from '../domain/config';
import { planDatabaseTls, planTemporalTls, type TemporalTlsSettings } from '../domain/connection-tls';

/** A certificate file, or an error that names the setting and the file. */
function readPem(setting: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new Error(`${setting}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
}

/** What `pg` and slonik connect with: the URL without TLS parameters, and Node's TLS options (or false: plain). */
export type DatabaseConnection = { url: string; ssl: false | TlsOptions };

type DatabaseSettings = Pick<
  PodiumConfig,
  'DATABASE_SSL_MODE' | 'DATABASE_SSL_CA_FILE' | 'DATABASE_SSL_CERT_FILE' | 'DATABASE_SSL_KEY_FILE'
>;

export function databaseConnection(databaseUrl: string, config: DatabaseSettings): DatabaseConnection {
  const plan = planDatabaseTls(databaseUrl, config);
  if (plan.mode === null || plan.mode === 'disable') return { url: plan.url, ssl: false };
  const files = {
    ...(plan.caFile ? { ca: readPem('DATABASE_SSL_CA_FILE', plan.caFile) } : {}),
    ...(plan.certFile && plan.keyFile
      ? { cert: readPem('DATABASE_SSL_CERT_FILE', plan.certFile), key: readPem('DATABASE_SSL_KEY_FILE', plan.keyFile) }
      : {}),
  };
  switch (plan.mode) {
    case 'require':
      return { url: plan.url, ssl: { ...files, rejectUnauthorized: false } };
    case 'verify-ca':
      // The chain is checked, the name is not (libpq's verify-ca).
      return { url: plan.url, ssl: { ...files, rejectUnauthorized: true, checkServerIdentity: () => undefined } };
    case 'verify-full':
      return { url: plan.url, ssl: { ...files, rejectUnauthorized: true } };
  }
}

/** What both Temporal connections (the client's and the worker's native one) are opened with. */
export type TemporalConnection = {
  address: string;
  tls?: TLSConfig;
  apiKey?: string;
  /** gRPC headers sent with every call. */
  metadata?: Record<string, string>;
};

/**
 * With an API key, every call also names the namespace in a `temporal-namespace` header, which
 * Temporal Cloud's API-key endpoints route by; a server that does not need it ignores it.
 */
function apiKeyOptions(apiKey: string | undefined, namespace: string | undefined) {
  if (!apiKey) return {};
  return { apiKey, ...(namespace ? { metadata: { 'temporal-namespace': namespace } } : {}) };
}

export function temporalConnection(
  address: string,
  config: TemporalTlsSettings & Partial<Pick<PodiumConfig, 'TEMPORAL_NAMESPACE'>>,
): TemporalConnection {
  const plan = planTemporalTls(address, config);
  const withKey = apiKeyOptions(plan.apiKey, config.TEMPORAL_NAMESPACE);
  if (!plan.tls) return { address, ...withKey };
  const { certFile, keyFile, caFile, serverName } = plan.tls;
  const tls: TLSConfig = {
    ...(serverName ? { serverNameOverride: serverName } : {}),
    ...(caFile ? { serverRootCACertificate: readPem('TEMPORAL_TLS_CA_FILE', caFile) } : {}),
    ...(certFile && keyFile
      ? {
          clientCertPair: {
            crt: readPem('TEMPORAL_TLS_CERT_FILE', certFile),
            key: readPem('TEMPORAL_TLS_KEY_FILE', keyFile),
          },
        }
      : {}),
  };
  return { address, tls, ...withKey };
}
