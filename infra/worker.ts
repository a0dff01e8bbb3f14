import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { ConnectionOptions as TlsOptions } from 'node:tls';
import { Client, Connection, type TLSConfig } from '@temporalio/client';
import { NativeConnection, Worker, type State, type WorkflowBundleOption } from '@temporalio/worker';
import type { Logger } from 'pino';
import type { DatabasePool } from 'slonik';
import { createActivities } from '../activities';
import { postgresPayloadStore } from '../db/payload-chunks';
import type { PayloadStore } from '../lib/payload-store';
import { requestLogAttributes } from '../activities/log-attributes';
import { listenForRequestInterrupts } from '../activities/request-interrupts';
import type { AutoscalerDependencies } from '../activities/node-autoscaler';
import type { InstanceRuntime } from '../activities/runtime/instance-runtime';
import { ensureRequestReconciler } from './request-reconciler';
import { tracingClientInterceptors, tracingWorkerOptions, tracingWorkflowModules, type Tracing } from './tracing';
import { reapDeadLocalInstances } from '../activities/probe-instances';
import { prebuiltWorkflowBundle } from '../lib/prebuilt';
import { observedRuntime, reportRuntimeViews } from './runtime-reporter';

export const workflowsPath = require.resolve('../workflows');

/**
 * A model pool whose history no longer replays (issue 12) fails, instead of retrying its workflow
 * task forever. Its state is soft: its instances are found again as orphans, and waiting
 * requests wait again when they see it ended. So the next request starts a fresh run. A stuck run
 * would leave the model dead until someone terminated it by hand.
 */
export const workflowFailureErrorTypes = { '*': [], modelPool: ['NondeterminismError'] };

export type RunningWorker = {
  worker: Worker;
  /** The worker's own connection: a client on it can start workflows eagerly (closed by `stop`). */
  connection: NativeConnection;
  stop: () => Promise<void>;
};

/**
 * The worker's probes. It is alive until it has failed or stopped: a draining worker is finishing
 * its tasks, not stuck. It is ready only while it polls. While it connects, it is alive but not
 * ready.
 */
export function workerHealth(state: State | undefined): { live: boolean; ready: boolean; state: string } {
  return { live: state !== 'FAILED' && state !== 'STOPPED', ready: state === 'RUNNING', state: state ?? 'CONNECTING' };
}

/**
 * Connects a worker for Podium's workflows and activities and runs it until `stop`, which
 * drains in-flight tasks, then stops the instances the runtime still runs.
 */
export async function startPodiumWorker(options: {
  address: string;
  /** TLS and an API key for Temporal (infra/connections.ts temporalConnection). */
  tls?: TLSConfig;
  apiKey?: string;
  metadata?: Record<string, string>;
  namespace: string;
  taskQueue: string;
  db: DatabasePool;
  /**
   * Where the worker LISTENs for request interrupts (activities/request-interrupts.ts), so that a
   * cancel cuts a running model call at once; without it a cancel waits for the workflow task's heartbeat.
   */
  interruptsFrom?: { databaseUrl: string; ssl?: false | TlsOptions; schema: string; logger: Logger };
  runtime: InstanceRuntime;
  /** Where payloads' bytes live (PAYLOAD_STORE); the database's own when unset. */
  payloads?: PayloadStore;
  /** UPLOAD_TTL_HOURS: the retention job deletes uploads no request named after this long. */
  uploadHours?: number;
  /** POOL_SCALING: `load` sizes pools on the measured load (domain/model-pool.ts); otherwise a slot per waiter. */
  poolScaling?: 'load' | 'waiters';
  webhookSecret: string;
  /** CIDRs webhooks may reach although they are not public (WEBHOOK_ALLOWED_ADDRESSES). */
  webhookAllowedAddresses?: readonly string[];
  /** A pre-built bundle (tests build one per run); else `npm run build`'s, in dist/; else the workflows are bundled now. */
  workflowBundle?: WorkflowBundleOption;
  /** The node autoscaler's cluster access, when a node provider is configured. */
  autoscaler?: AutoscalerDependencies;
  /** Traces: activity and workflow spans (a pre-built bundle must hold `tracingWorkflowModules`). */
  tracing?: Tracing | null;
  /** WORKER_MAX_CACHED_WORKFLOWS; unset: the SDK's default, which follows the heap limit. */
  maxCachedWorkflows?: number;
  /** How often the worker records what its runtime runs, for the instances page (infra/runtime-reporter.ts). */
  runtimeViewIntervalMs?: number;
}): Promise<RunningWorker> {
  const tracing = options.tracing ?? null;
  const views = reportRuntimeViews({
    db: options.db,
    runtime: options.runtime,
    workerId: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    intervalMs: options.runtimeViewIntervalMs ?? 2_000,
  });
  const runtime = observedRuntime(options.runtime, views);
  const { address, tls, apiKey, metadata } = options;
  const interrupts = options.interruptsFrom ? await listenForRequestInterrupts(options.interruptsFrom) : undefined;
  const connection = await NativeConnection.connect({ address, tls, apiKey, metadata });
  const clientConnection = await Connection.connect({ address, tls, apiKey, metadata });
  const temporal = new Client({
    connection: clientConnection,
    namespace: options.namespace,
    interceptors: tracingClientInterceptors(tracing),
  });
  const traced = tracingWorkerOptions(tracing);
  const prebuilt = prebuiltWorkflowBundle(tracing !== null);
  const workflowBundle = options.workflowBundle ?? (prebuilt ? { codePath: prebuilt } : undefined);
  const worker = await Worker.create({
    connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(workflowBundle ? { workflowBundle } : { workflowsPath }),
    workflowFailureErrorTypes,
    maxCachedWorkflows: options.maxCachedWorkflows,
    // With a pre-built bundle, workflowModules is ignored: the bundle holds them (test/support/run-services.ts).
    interceptors: {
      activity: [requestLogAttributes, ...traced.activityInterceptors],
      workflowModules: tracing ? tracingWorkflowModules : [],
    },
    sinks: traced.sinks,
    activities: createActivities({
      db: options.db,
      runtime,
      payloads: options.payloads ?? postgresPayloadStore(options.db),
      uploadHours: options.uploadHours ?? 24,
      poolScaling: options.poolScaling ?? 'waiters',
      temporal,
      taskQueue: options.taskQueue,
      webhookSecret: options.webhookSecret,
      webhookAllowedAddresses: options.webhookAllowedAddresses,
      autoscaler: options.autoscaler,
      interrupts,
    }),
  });
  const running = worker.run();
  await ensureRequestReconciler(temporal, options.taskQueue);
  if (options.runtime.kind === 'local')
    await reapDeadLocalInstances({ db: options.db, temporal, taskQueue: options.taskQueue });
  return {
    worker,
    connection,
    stop: async () => {
      if (worker.getState() === 'RUNNING') worker.shutdown();
      await running;
      await options.runtime.stopAll();
      await views.stop();
      await interrupts?.stop();
      await clientConnection.close();
      await connection.close();
    },
  };
}
