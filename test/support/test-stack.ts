import { randomUUID } from 'node:crypto';
import { payloadStoreOf } from '../../infra/payload-store';
import { mkdtemp } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import pino from 'pino';
import type { DatabasePool, Interceptor } from 'slonik';
import type { InstanceRuntime } from '../../activities/runtime/instance-runtime';
import { autoscalerSettings } from '../../activities/nodes/create-autoscaler';
import { KwokNodeProvider, simulatedNodeTypes } from '../../infra/test-cluster/kwok-provider';
import { LocalProcessRuntime } from '../../activities/runtime/local-runtime';
import { createApp } from '../../api/app';
import { startAuthServices } from '../../api/auth/auth-services';
import { listenForRequestEnds } from '../../api/request-ends';
import { listenForRequestChunks } from '../../api/request-chunk-notices';
import { migrate } from '../../db/migrate';
import { createDatabasePool } from '../../db/connection-pool';
import { grantPermission } from '../../db/users';
import type { Permission } from '../../domain/accounts';
import { parseConfig } from '../../domain/config';
import type { AutoscalerSettings } from '../../domain/node-autoscaler';
import { tracingClientInterceptors, tracingWorkflowModules, type Tracing } from '../../infra/tracing';
import { startPodiumWorker } from '../../infra/worker';
import { apiClient } from './api-client';
import { startTcpProxy } from './tcp-proxy';
import { kubernetesTestRuntime } from './kubernetes';
import { installQuietRuntime } from './quiet-runtime';
import { writeWorkflowBundle, type RunServices } from './run-services';
import { readTestEnv } from './services';
import { nodeAutoscalerWorkflowId, requestReconcilerWorkflowId } from '../../workflows/contracts';
import { localCommandPolicyOf } from '../../infra/local-commands';

export type TestStack = Awaited<ReturnType<typeof startTestStack>>;
/**
 * What an API instance reaches instead of the stack's services: a database pool or Temporal
 * client that does not answer, say, and the database URL its sign-in counters and session
 * listener use.
 */
type Outage = { db?: DatabasePool; temporal?: Client; databaseUrl?: string };
type Env = Record<string, string>;

/**
 * The whole of Podium for one test file, on the services of the run: its own schema, its own
 * task queue and worker, and the API on a free port. `api` speaks HTTP to it like a user;
 * `startApiInstance` adds another API process's worth (own pool, cache and listener).
 */
export async function startTestStack(
  options: {
    schema?: string;
    env?: Env;
    services?: RunServices;
    /** false: bring your own worker */
    worker?: boolean;
    /** CIDRs webhooks may reach although not public; default 127.0.0.1 (the tests' receivers). */
    webhookAllowedAddresses?: string[];
    /** Model instances as pods in a namespace of the test's own, on the run's simulated cluster. */
    kubernetes?: boolean;
    /** With `kubernetes`: node autoscaling with kwok nodes, these settings over the defaults. */
    autoscaler?: Partial<AutoscalerSettings>;
    /** The worker reaches PostgreSQL through a proxy the test can freeze or take down (`workerDatabase`). */
    workerDatabaseProxy?: boolean;
    /** Traces from the API, its client and the worker (a workflow bundle with the tracing interceptors is built for it). */
    tracing?: Tracing;
  } = {},
) {
  installQuietRuntime();
  const schema = options.schema ?? `test_${randomUUID().replaceAll('-', '').slice(0, 12)}`;
  const services = options.services ?? {
    databaseUrl: readTestEnv('databaseUrl'),
    temporalAddress: readTestEnv('temporalAddress'),
    workflowBundle: readTestEnv('workflowBundle'),
    chromium: readTestEnv('chromium'),
  };
  const { databaseUrl, temporalAddress: address } = services;
  await migrate(databaseUrl, schema);
  const db: DatabasePool = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 5 });
  const taskQueue = `test-${randomUUID()}`;
  const kubernetes = options.kubernetes ? await kubernetesTestRuntime(schema) : null;
  // The test stack's operator lets models that misbehave on purpose run under sh and env.
  const localCommands = localCommandPolicyOf({ LOCAL_MODELS_ROOT: 'models', LOCAL_MODEL_COMMANDS: ['sh', 'env'] });
  const runtime: InstanceRuntime = kubernetes?.runtime ?? new LocalProcessRuntime(localCommands);
  const autoscaler =
    kubernetes && options.autoscaler
      ? {
          kubeConfig: kubernetes.kubeConfig,
          provider: new KwokNodeProvider(kubernetes.kubeConfig, kubernetes.namespace),
          namespace: kubernetes.namespace,
          settings: { ...autoscalerSettings(parseConfig({}), simulatedNodeTypes), ...options.autoscaler },
        }
      : undefined;
  // The store PAYLOAD_STORE names in the stack's settings, as the worker and the API use it.
  const payloads = payloadStoreOf(parseConfig(options.env ?? {}), db);
  const workerDatabase = options.workerDatabaseProxy ? await proxiedPool(databaseUrl, schema) : null;
  const worker =
    options.worker === false
      ? null
      : await startPodiumWorker({
          address,
          namespace: 'default',
          taskQueue,
          db: workerDatabase?.db ?? db,
          interruptsFrom: { databaseUrl, schema, logger: pino({ level: 'silent' }) },
          runtime,
          autoscaler,
          payloads,
          webhookSecret: testWebhookSecret,
          // The tests' receivers listen on this machine.
          webhookAllowedAddresses: options.webhookAllowedAddresses ?? ['127.0.0.1/32'],
          workflowBundle: {
            codePath: options.tracing
              ? await writeWorkflowBundle(await mkdtemp(path.join(tmpdir(), 'podium-traced-')), tracingWorkflowModules)
              : services.workflowBundle,
          },
          tracing: options.tracing,
        });
  // With a worker in this process, the API starts request workflows eagerly on its connection.
  const connection = worker ? null : await Connection.connect({ address });
  const temporal = new Client({
    connection: worker?.connection ?? connection!,
    namespace: 'default',
    interceptors: tracingClientInterceptors(options.tracing ?? null),
  });
  // TEST_API_LOG=error shows what the API logs (an unhandled error's cause, say).
  const logger = pino({ level: process.env.TEST_API_LOG ?? 'silent' });

  /**
   * One API process: its own pool (with a query counter), auth services and server. `outage`
   * gives its routes another database or Temporal client (one that does not answer, say).
   */
  async function startApiInstance(env: Env = {}, outage: Outage = {}) {
    const config = parseConfig({
      REQUEST_BODY_LIMIT: '64kb',
      PAYLOAD_LIMIT: '8mb',
      // Every test signs up and opens sessions from 127.0.0.1, and load tests submit hundreds
      // from one session; the tests of these limits set them.
      ANONYMOUS_SESSIONS_PER_IP_PER_HOUR: '10000',
      SIGNUPS_PER_IP_PER_HOUR: '10000',
      REQUESTS_IN_FLIGHT_PER_OWNER: '100000',
      REQUESTS_PER_MINUTE_PER_OWNER: '1000000',
      TEMPORAL_UI_URL: 'http://127.0.0.1:8233',
      ...options.env,
      ...env,
      TEMPORAL_TASK_QUEUE: taskQueue,
    });
    const queries: string[] = [];
    const countQueries: Interceptor = {
      name: 'count-queries',
      beforeQueryExecution: (_context, query) => {
        queries.push(query.sql);
        return null;
      },
    };
    const apiPool = await createDatabasePool({ databaseUrl, schema, maximumPoolSize: 5, interceptors: [countQueries] });
    const auth = await startAuthServices({
      config,
      databaseUrl: outage.databaseUrl ?? databaseUrl,
      schema,
      db: apiPool,
      logger,
    });
    const ends = await listenForRequestEnds({ databaseUrl: outage.databaseUrl ?? databaseUrl, schema, logger });
    const notices = await listenForRequestChunks({ databaseUrl: outage.databaseUrl ?? databaseUrl, schema, logger });
    const app = createApp({
      config,
      db: outage.db ?? apiPool,
      temporal: outage.temporal ?? temporal,
      eagerStart: worker !== null && !outage.temporal,
      logger,
      auth,
      ends,
      notices,
      payloads: payloadStoreOf(config, apiPool),
      tracing: options.tracing !== undefined,
      localCommands: kubernetes ? null : localCommands,
    });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return {
      baseUrl,
      /** The Koa app itself (its routers, for the route table). */
      app,
      api: apiClient(baseUrl),
      cache: auth.cache,
      /** The SQL this instance has sent so far. */
      queries,
      async stop() {
        await new Promise((resolve) => {
          server.close(resolve);
          server.closeAllConnections();
        });
        await auth.stop();
        await ends.stop();
        await notices.stop();
        await apiPool.end();
      },
    };
  }

  const primary = await startApiInstance();
  const extraInstances: { stop: () => Promise<void> }[] = [];

  return {
    schema,
    services,
    db: db,
    payloads,
    /** With `workerDatabaseProxy`: the proxy between the worker and PostgreSQL. */
    workerDatabase: workerDatabase?.proxy ?? null,
    temporal,
    taskQueue,
    runtime,
    kubernetes,
    autoscaler,
    baseUrl: primary.baseUrl,
    api: primary.api,
    primary,
    /** A new account with ADMIN and MODEL_ADMIN (or `permissions`), signed in: its access token and username. */
    async signUpAdmin(prefix = 'admin', permissions: readonly Permission[] = ['ADMIN', 'MODEL_ADMIN']) {
      const account = await primary.api.signUp({ username: `${prefix}${randomUUID().slice(0, 8)}` });
      for (const permission of permissions)
        await grantPermission(db, { userId: account.user.id, permission, grantedBy: 'test' });
      const { accessToken } = await primary.api.login(account.user.username);
      return { token: accessToken, username: account.user.username, password: 'a long passphrase 42' };
    },
    async startApiInstance(env: Env = {}, outage: Outage = {}) {
      const instance = await startApiInstance(env, outage);
      extraInstances.push(instance);
      return instance;
    },
    async stop() {
      for (const instance of [...extraInstances, primary]) await instance.stop();
      if (autoscaler)
        await temporal.workflow
          .getHandle(nodeAutoscalerWorkflowId(taskQueue))
          .terminate('test over')
          .catch(() => undefined);
      await temporal.workflow
        .getHandle(requestReconcilerWorkflowId(taskQueue))
        .terminate('test over')
        .catch(() => undefined);
      await worker?.stop(); // closes the client's connection when it is the worker's
      await kubernetes?.cleanUp();
      await connection?.close();
      await workerDatabase?.db.end();
      await workerDatabase?.proxy.close();
      await db.end();
    },
  };
}

/** A pool on the schema that reaches PostgreSQL through a TCP proxy (see tcp-proxy). */
export async function proxiedPool(databaseUrl: string, schema: string, maximumPoolSize = 5) {
  const real = new URL(databaseUrl);
  const proxy = await startTcpProxy({ host: real.hostname, port: Number(real.port) });
  const viaProxy = new URL(real);
  viaProxy.hostname = '127.0.0.1';
  viaProxy.port = String(proxy.port);
  const db = await createDatabasePool({ databaseUrl: viaProxy.toString(), schema, maximumPoolSize });
  return { proxy, db, databaseUrl: viaProxy.toString() };
}

export const testWebhookSecret = 'test-webhook-secret-0123456789';

export const echoInput = {
  inputs: [
    {
      name: 'numbers',
      shape: [2, 2],
      datatype: 'FP32',
      data: [
        [1, 2],
        [3, 4.5],
      ],
    },
  ],
};

/**
 * The test stack of a test file: started before its tests and stopped after them. Call it at the
 * top of the file; the stack is there once the file's first `beforeAll` has run, so use it in
 * tests and in `beforeAll`s declared after this call.
 */
export function useTestStack(options?: Parameters<typeof startTestStack>[0], timeoutMs?: number): TestStack {
  let started: TestStack | undefined;
  beforeAll(async () => {
    started = await startTestStack(options);
  }, timeoutMs);
  afterAll(async () => {
    await started?.stop();
  });
  return new Proxy({} as TestStack, {
    get: (_target, property) => {
      if (!started)
        throw new Error(
          `the test stack is not started yet (reading ${String(property)}): use it in a test or a later beforeAll`,
        );
      return Reflect.get(started, property) as unknown;
    },
  });
}
