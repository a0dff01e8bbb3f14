import { z } from 'zod';
import type { ImagePolicy } from './image-policy';

const port = z.coerce.number().int().min(0).max(65_535);
const optionalText = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const flag = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');
const seconds = z.coerce.number().int().positive();
/** A comma-separated list, its entries trimmed; empty when unset. */
const commaList = z
  .string()
  .default('')
  .transform((list) =>
    list
      .split(',')
      .map((entry) => entry.trim())
      .filter(Boolean),
  );

/** Postgres schema names go into `search_path`, so only plain identifiers are accepted. */
export const schemaName = z
  .string()
  .regex(/^[a-z_][a-z0-9_]{0,62}$/, 'must be a lower-case SQL identifier (letters, digits, _)');

/** The webhook signing secret when none is set: fine on a laptop, refused in production. */
export const developmentWebhookSecret = 'podium-dev-webhook-secret-change-me';

/** The download-link signing secret when none is set: fine on a laptop, refused in production. */
export const developmentPayloadUrlSecret = 'podium-dev-payload-url-secret-change-me';

/** `64mb`, `512kb` or `1048576` in bytes. */
export function parseByteSize(text: string): number {
  const [, count, unit] = /^(\d+)(b|kb|mb|gb)?$/i.exec(text)!;
  return Number(count) * { b: 1, kb: 1024, mb: 1024 ** 2, gb: 1024 ** 3 }[(unit ?? 'b').toLowerCase() as 'b'];
}

/** A size in bytes, written `64mb`, `512kb` or `1048576`. */
const byteSize = z.coerce
  .string()
  .regex(/^\d+(b|kb|mb|gb)?$/i, 'e.g. 64mb, 512kb or a byte count')
  .transform(parseByteSize);

export const configSchema = z.object({
  /** `production` refuses development defaults (see productionProblems). */
  PODIUM_ENV: z.enum(['development', 'production']).default('development'),
  HOST: z.string().default('127.0.0.1'),
  PORT: port.default(8080),
  DATA_DIR: z.string().default('.data'),
  DATABASE_URL: optionalText,
  DATABASE_SCHEMA: schemaName.default('podium'),
  /** PostgreSQL over TLS, as libpq's sslmode (also read from DATABASE_URL's `sslmode`): see domain/database-tls.ts. */
  DATABASE_SSL_MODE: z.enum(['disable', 'require', 'verify-ca', 'verify-full']).optional(),
  /** The CA of the server's certificate, and a client certificate and key (PEM files); DATABASE_URL's sslrootcert, sslcert, sslkey. */
  DATABASE_SSL_CA_FILE: optionalText,
  DATABASE_SSL_CERT_FILE: optionalText,
  DATABASE_SSL_KEY_FILE: optionalText,
  EMBEDDED_POSTGRES_PORT: port.default(5433),
  TEMPORAL_ADDRESS: optionalText,
  TEMPORAL_NAMESPACE: z.string().min(1).default('default'),
  /** TLS to Temporal without a client certificate (a server that checks API keys; implied by the settings below). */
  TEMPORAL_TLS: flag.default(false),
  /** mTLS: the client certificate and its key (PEM files), both or neither. */
  TEMPORAL_TLS_CERT_FILE: optionalText,
  TEMPORAL_TLS_KEY_FILE: optionalText,
  /** The CA that signed the server's certificate (PEM); the system's CAs when unset. */
  TEMPORAL_TLS_CA_FILE: optionalText,
  /** The name the server's certificate must carry, when it is not the host of TEMPORAL_ADDRESS. */
  TEMPORAL_TLS_SERVER_NAME: optionalText,
  /** An API key (Temporal Cloud), sent as a bearer token over TLS. */
  TEMPORAL_API_KEY: optionalText,
  TEMPORAL_TASK_QUEUE: z.string().min(1).default('podium'),
  TEMPORAL_PORT: port.default(7233),
  TEMPORAL_UI_PORT: port.default(8233),
  TEMPORAL_UI_URL: optionalText,
  REQUEST_BODY_LIMIT: z
    .string()
    .regex(/^\d+(b|kb|mb)$/i, 'e.g. 1mb, 512kb')
    .default('1mb'),
  /** The most a body that carries payloads (a binary infer, an upload) may hold; it is streamed, never held whole. */
  PAYLOAD_LIMIT: byteSize.default(64 * 1024 * 1024),
  /** Payload outputs up to this size (all of a result's together) are answered inline as JSON data; larger, as download links. */
  RESULT_INLINE_LIMIT: byteSize.default(1024 * 1024),
  /** Where payloads' bytes live: `postgres` (the database, in chunks) or `s3://bucket/prefix` (credentials the usual AWS way). */
  PAYLOAD_STORE: z
    .string()
    .regex(/^(postgres|s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/.*)?)$/, 'postgres, or s3://bucket/prefix')
    .default('postgres'),
  /** Path-style S3 addresses (http://host/bucket/key), as most S3-compatible stores other than AWS want. */
  PAYLOAD_STORE_PATH_STYLE: flag.default(false),
  /** Signs payload download links (GET /api/payloads/{id}?expires=…&signature=…). */
  PAYLOAD_URL_SECRET: z.string().min(16, 'use at least 16 characters').default(developmentPayloadUrlSecret),
  PAYLOAD_URL_TTL_SECONDS: seconds.default(3600),
  /** An upload that no request names is deleted after this long. */
  UPLOAD_TTL_HOURS: z.coerce
    .number()
    .positive()
    .max(24 * 7)
    .default(24),
  /**
   * How a pool sizes itself once requests wait: `waiters` starts a slot per waiter; `load` what
   * the measured arrival rate, service time and line need (Little's law; a slot per waiter until
   * a service time is measured). `load` is cheaper but reacts later (bench:queue-scaling), so it
   * is not the default.
   */
  POOL_SCALING: z.enum(['load', 'waiters']).default('waiters'),
  ANONYMOUS_SESSION_TTL_HOURS: z.coerce
    .number()
    .positive()
    .default(24 * 7),
  ACCESS_TOKEN_TTL_SECONDS: seconds.default(15 * 60),
  REFRESH_TOKEN_TTL_SECONDS: seconds.default(30 * 24 * 3600),
  /** A signed-in session ends this long after sign-in, however often it is refreshed. */
  SESSION_MAX_LIFETIME_SECONDS: seconds.default(90 * 24 * 3600),
  REFRESH_REUSE_GRACE_SECONDS: z.coerce.number().int().min(0).default(10),
  SESSION_CACHE_ENABLED: flag.default(true),
  SESSION_CACHE_MAX_ENTRIES: z.coerce.number().int().positive().default(10_000),
  SESSION_CACHE_TTL_SECONDS: seconds.default(60),
  /** Failed sign-ins to one account from one address before that address is blocked from it for the window. */
  LOGIN_MAX_FAILURES_PER_ACCOUNT: z.coerce.number().int().positive().default(5),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().positive().default(20),
  LOGIN_FAILURE_WINDOW_SECONDS: seconds.default(15 * 60),
  /** Requests one session or user may have on their way (REQUESTED or PROCESSING) at once; ADMIN exempt. */
  REQUESTS_IN_FLIGHT_PER_OWNER: z.coerce.number().int().positive().default(100),
  /** Submissions one session or user may make per minute, counted per API process; ADMIN exempt. */
  REQUESTS_PER_MINUTE_PER_OWNER: z.coerce.number().int().positive().default(600),
  /** Anonymous sessions one client address may create per hour. */
  ANONYMOUS_SESSIONS_PER_IP_PER_HOUR: z.coerce.number().int().positive().default(60),
  /** Accounts one client address may sign up per hour (each costs an argon2 hash). */
  SIGNUPS_PER_IP_PER_HOUR: z.coerce.number().int().positive().default(20),
  /** How long the API may wait on PostgreSQL and Temporal in all for one request (a long poll's wait aside) before answering 503. */
  API_DEADLINE_MS: z.coerce.number().int().positive().default(1_500),
  /** An event stream (GET /api/requests/:id/events, /v1 streams) sends a comment this often when idle, and checks its session. */
  EVENT_STREAM_HEARTBEAT_SECONDS: z.coerce.number().positive().max(300).default(15),
  COOKIE_SECURE: flag.default(false),
  TRUST_PROXY: flag.default(false),
  /** With TRUST_PROXY: how many proxies of ours append to X-Forwarded-For; the client is the entry they saw. */
  TRUSTED_PROXY_HOPS: z.coerce.number().int().min(1).max(10).default(1),
  WEBHOOK_SECRET: z.string().min(16, 'use at least 16 characters').default(developmentWebhookSecret),
  /** Comma-separated IPs or CIDRs webhooks may reach although they are not public (e.g. 127.0.0.1 to try webhooks locally). */
  WEBHOOK_ALLOWED_ADDRESSES: commaList.pipe(
    z.array(
      z.union([z.ipv4(), z.ipv6(), z.cidrv4(), z.cidrv6()], {
        error: 'must be IP addresses or CIDRs, comma-separated',
      }),
    ),
  ),
  REQUEST_RETENTION_DAYS: z.coerce.number().min(1, 'keep ended requests at least a day').default(7),
  PODIUM_ADMIN_USERNAME: optionalText,
  PODIUM_ADMIN_EMAIL: optionalText,
  PODIUM_ADMIN_PASSWORD: optionalText,
  /** `npm start` also starts the simulated Kubernetes cluster (kwok) and runs instances as pods there. */
  SIMULATED_CLUSTER: flag.default(false),
  /** `npm start` runs a worker in the API's process; false for API-only pods (see infra/k8s). */
  START_WORKER: flag.default(true),
  /** Where model instances run; unset: `kubernetes` when a kubeconfig or in-cluster config is found, else `local`. */
  INSTANCE_RUNTIME: z.enum(['local', 'kubernetes']).optional(),
  /** Production runs model code in pods; `true` lets it run models as processes on the worker host (docs/security.md). */
  LOCAL_RUNTIME_IN_PRODUCTION: flag.default(false),
  /** The local runtime runs code from inside this directory only (relative to the repository root; domain/local-command-policy.ts). */
  LOCAL_MODELS_ROOT: z
    .string()
    .trim()
    .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$)).+$/, 'a directory inside the repository (relative, no ..)')
    .default('models'),
  /** Comma-separated commands the local runtime may run besides `node` and files in LOCAL_MODELS_ROOT (as `localCommand` names them). */
  LOCAL_MODEL_COMMANDS: commaList,
  KUBERNETES_NAMESPACE: z
    .string()
    .regex(/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/, 'must be a Kubernetes namespace name')
    .default('podium'),
  /** Comma-separated registry prefixes model images may come from (e.g. registry.example.com/podium); empty: any. */
  MODEL_IMAGE_REGISTRIES: commaList,
  /** Model images only by digest; production always requires it. */
  MODEL_IMAGE_REQUIRE_DIGEST: flag.default(false),
  /** `pod-ip` in a real cluster; `simulated` in the kwok test cluster (see docs/kubernetes.md). */
  KUBERNETES_ENDPOINT: z.enum(['pod-ip', 'simulated']).default('pod-ip'),
  /** Who adds and removes nodes for pending model pods: `none` (no node autoscaling), `kwok`, `cluster-api`. */
  NODE_PROVIDER: z.enum(['none', 'kwok', 'cluster-api']).optional(),
  /** JSON list of node types, see docs/node-autoscaling.md; required for cluster-api (kwok: the simulated cluster's types). */
  NODE_TYPES: optionalText,
  AUTOSCALER_MAX_NODES: z.coerce.number().int().positive().default(50),
  AUTOSCALER_BATCH_WINDOW_MS: z.coerce.number().int().min(0).default(200),
  AUTOSCALER_BATCH_MAX_MS: z.coerce.number().int().min(0).default(2_000),
  AUTOSCALER_PROVISIONING_TIMEOUT_SECONDS: seconds.default(600),
  AUTOSCALER_MIN_NODE_LIFETIME_SECONDS: z.coerce.number().int().min(0).default(600),
  AUTOSCALER_SCALE_DOWN_DELAY_SECONDS: z.coerce.number().int().min(0).default(300),
  /** Consolidation: empty added nodes whose model pods cheaper nodes can take (docs/node-autoscaling.md). */
  AUTOSCALER_CONSOLIDATION: flag.default(false),
  AUTOSCALER_CONSOLIDATION_UTILISATION: z.coerce.number().min(0).max(1).default(0.5),
  AUTOSCALER_CONSOLIDATION_MAX_NODES: z.coerce.number().int().positive().default(1),
  AUTOSCALER_CONSOLIDATION_COOLDOWN_SECONDS: z.coerce.number().int().min(0).default(300),
  CLUSTER_API_NAMESPACE: z.string().default('default'),
  CLUSTER_API_PREFIX: z.string().default('podium-'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  /**
   * Workflows a worker keeps in memory between tasks. The SDK's default follows the heap limit,
   * so a small heap left too few for the requests in flight, each evicted and replayed per task.
   */
  WORKER_MAX_CACHED_WORKFLOWS: z.coerce.number().int().positive().default(500),
  /** The API's Prometheus metrics on a port of their own, on HOST (an Ingress to the API then cannot expose them); 0: at the API's /metrics. */
  API_METRICS_PORT: port.default(0),
  /** Prometheus metrics of a worker process on its own (`npm run worker`), on HOST; 0: none. The API serves its at /metrics. */
  WORKER_METRICS_PORT: port.default(9464),
  /** The Temporal SDK's own metrics (workers' task slots, polls, latencies), on HOST; 0: none. */
  TEMPORAL_METRICS_PORT: port.default(9465),
});

export type PodiumConfig = z.infer<typeof configSchema>;

/** Reads the configuration once, at start-up; every error names the variable. */
export function parseConfig(env: Record<string, string | undefined>): PodiumConfig {
  const result = configSchema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new Error(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  }
  const problems = productionProblems(result.data);
  if (problems.length > 0)
    throw new Error(`PODIUM_ENV=production refuses development settings:\n  ${problems.join('\n  ')}`);
  return result.data;
}

/**
 * What a production deployment must not run with, each naming the setting to fix: development
 * secrets, cookies that travel over plain HTTP, and the embedded or simulated services that
 * `npm start` would otherwise start on its own. Empty outside production.
 */
export function productionProblems(config: PodiumConfig): string[] {
  if (config.PODIUM_ENV !== 'production') return [];
  const problems: string[] = [];
  if (config.WEBHOOK_SECRET === developmentWebhookSecret)
    problems.push('WEBHOOK_SECRET: set a secret of your own (at least 16 characters)');
  if (config.PAYLOAD_URL_SECRET === developmentPayloadUrlSecret)
    problems.push('PAYLOAD_URL_SECRET: set a secret of your own (at least 16 characters)');
  if (!config.COOKIE_SECURE) problems.push('COOKIE_SECURE: set true (sign-in cookies only over HTTPS)');
  if (!config.DATABASE_URL) problems.push('DATABASE_URL: set it (production never starts the embedded PostgreSQL)');
  if (!config.TEMPORAL_ADDRESS)
    problems.push('TEMPORAL_ADDRESS: set it (production never starts the Temporal dev server)');
  if (!config.TEMPORAL_API_KEY && !(config.TEMPORAL_TLS_CERT_FILE && config.TEMPORAL_TLS_KEY_FILE)) {
    problems.push(
      'TEMPORAL_API_KEY or TEMPORAL_TLS_CERT_FILE and TEMPORAL_TLS_KEY_FILE: set them (whoever reaches an unauthenticated Temporal can start, signal and delete workflows)',
    );
  }
  if (config.SIMULATED_CLUSTER) problems.push('SIMULATED_CLUSTER: unset it (the simulated cluster is for development)');
  if (config.INSTANCE_RUNTIME === 'local' && !config.LOCAL_RUNTIME_IN_PRODUCTION) {
    problems.push(
      'INSTANCE_RUNTIME: local runs model code on the worker host; use kubernetes, or set LOCAL_RUNTIME_IN_PRODUCTION=true to accept that',
    );
  }
  if (config.NODE_PROVIDER === 'kwok')
    problems.push("NODE_PROVIDER: kwok is the simulated cluster's; use cluster-api or none");
  return problems;
}

/** The model images this configuration lets run (domain/image-policy.ts). */
export function imagePolicyOf(
  config: Pick<PodiumConfig, 'PODIUM_ENV' | 'MODEL_IMAGE_REGISTRIES' | 'MODEL_IMAGE_REQUIRE_DIGEST'>,
): ImagePolicy {
  return {
    registries: config.MODEL_IMAGE_REGISTRIES,
    requireDigest: config.PODIUM_ENV === 'production' || config.MODEL_IMAGE_REQUIRE_DIGEST,
  };
}
