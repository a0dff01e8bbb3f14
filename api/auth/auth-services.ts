import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Pool } from 'pg';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import type { PodiumConfig } from '../../domain/config';
import { withSearchPath } from '../../db/connection-pool';
import { withinRequestBudget } from '../http/request-budget';
import { createAuthenticator } from './authenticator';
import { CreationLimits } from './creation-limits';
import { LoginRateLimit } from './login-rate-limit';
import { SessionCache } from './session-cache';
import { listenForSessionEvents } from './session-events';
import type { TokenSettings } from '../use-cases/accounts';

export type AuthConfig = Pick<
  PodiumConfig,
  | 'ACCESS_TOKEN_TTL_SECONDS'
  | 'REFRESH_TOKEN_TTL_SECONDS'
  | 'REFRESH_REUSE_GRACE_SECONDS'
  | 'SESSION_MAX_LIFETIME_SECONDS'
  | 'SESSION_CACHE_ENABLED'
  | 'SESSION_CACHE_MAX_ENTRIES'
  | 'SESSION_CACHE_TTL_SECONDS'
  | 'LOGIN_MAX_FAILURES_PER_ACCOUNT'
  | 'LOGIN_MAX_FAILURES_PER_IP'
  | 'LOGIN_FAILURE_WINDOW_SECONDS'
  | 'ANONYMOUS_SESSIONS_PER_IP_PER_HOUR'
  | 'SIGNUPS_PER_IP_PER_HOUR'
  | 'API_DEADLINE_MS'
  | 'COOKIE_SECURE'
>;

export type AuthServices = Awaited<ReturnType<typeof startAuthServices>>;

/**
 * What authentication needs besides the pool: the session cache, kept true across API
 * processes by LISTEN/NOTIFY, and the shared sign-in rate limit.
 */
export async function startAuthServices(options: {
  config: AuthConfig;
  databaseUrl: string;
  /** TLS to PostgreSQL, as the main pool's (infra/connections.ts). */
  databaseSsl?: false | TlsOptions;
  schema: string;
  db: DatabasePool;
  logger: Logger;
}) {
  const { config } = options;
  const cache = config.SESSION_CACHE_ENABLED
    ? new SessionCache({ maxEntries: config.SESSION_CACHE_MAX_ENTRIES, ttlMs: config.SESSION_CACHE_TTL_SECONDS * 1000 })
    : null;
  const events = cache
    ? await listenForSessionEvents({
        databaseUrl: options.databaseUrl,
        ssl: options.databaseSsl,
        schema: options.schema,
        logger: options.logger,
        onEvent: (event) => {
          if (event.sessionId) cache.forgetSession(event.sessionId);
          if (event.userId) cache.forgetUser(event.userId);
        },
        onResync: () => cache.clear(),
      })
    : null;
  // The limits' counters (rate-limiter-flexible) speak plain `pg`, on a small pool of their own.
  const limitsPool = new Pool({
    connectionString: withSearchPath(options.databaseUrl, options.schema),
    ssl: options.databaseSsl ?? false,
    max: 3,
    connectionTimeoutMillis: config.API_DEADLINE_MS,
    query_timeout: config.API_DEADLINE_MS,
  });
  // An idle client whose connection PostgreSQL ends (a restart) emits on the pool; without a
  // listener that error would end the process. The pool replaces the client by itself.
  limitsPool.on('error', (error) => options.logger.warn({ err: error }, 'a rate-limit counter connection ended'));
  const store = { pool: limitsPool, schema: options.schema };
  const creationLimits = new CreationLimits(store, {
    anonymousSessionsPerIpPerHour: config.ANONYMOUS_SESSIONS_PER_IP_PER_HOUR,
    signupsPerIpPerHour: config.SIGNUPS_PER_IP_PER_HOUR,
  });
  const loginRateLimit = new LoginRateLimit(store, {
    maxFailuresPerAccount: config.LOGIN_MAX_FAILURES_PER_ACCOUNT,
    maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
    windowSeconds: config.LOGIN_FAILURE_WINDOW_SECONDS,
  });
  const tokens: TokenSettings = {
    accessTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
    refreshTtlSeconds: config.REFRESH_TOKEN_TTL_SECONDS,
    reuseGraceSeconds: config.REFRESH_REUSE_GRACE_SECONDS,
    maxSessionSeconds: config.SESSION_MAX_LIFETIME_SECONDS,
    secureCookies: config.COOKIE_SECURE,
  };
  return {
    cache,
    authenticate: createAuthenticator({ db: withinRequestBudget(options.db, config.API_DEADLINE_MS), cache }),
    loginRateLimit,
    creationLimits,
    tokens,
    stop: async () => {
      await events?.stop();
      await limitsPool.end();
    },
  };
}
