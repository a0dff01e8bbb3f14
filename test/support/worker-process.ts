import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { stopChild, untilReadyLine } from '../../infra/child-process';
import { testWebhookSecret, type TestStack } from './test-stack';

/** Where a worker process works: the services, the schema and the task queue. */
export type WorkerTarget = {
  databaseUrl: string;
  temporalAddress: string;
  workflowBundle: string;
  schema: string;
  taskQueue: string;
};

/** A test stack's services, schema and task queue. */
export const workerTargetOf = (stack: TestStack): WorkerTarget => ({
  ...stack.services,
  schema: stack.schema,
  taskQueue: stack.taskQueue,
});

/**
 * `npm run worker` in a process of its own, on the target's schema and task queue, quiet (the
 * failures tests cause on purpose are not news), with no metrics ports unless `env` asks for
 * them (several workers run at once); resolves once it polls. `fromBuild`: the compiled worker in
 * dist/ with plain node and its own pre-built workflow bundle, as an image runs it.
 */
export async function startWorkerProcess(
  target: WorkerTarget,
  env: Record<string, string> = {},
  { fromBuild = false } = {},
): Promise<ChildProcess> {
  const entry = fromBuild ? ['dist/infra/worker-main.js'] : ['--import', 'tsx', 'infra/worker-main.ts'];
  const child = spawn(process.execPath, entry, {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: target.databaseUrl,
      DATABASE_SCHEMA: target.schema,
      TEMPORAL_ADDRESS: target.temporalAddress,
      TEMPORAL_TASK_QUEUE: target.taskQueue,
      ...(fromBuild ? {} : { PODIUM_WORKFLOW_BUNDLE: target.workflowBundle }),
      WEBHOOK_SECRET: testWebhookSecret,
      LOG_LEVEL: 'error',
      WORKER_METRICS_PORT: '0',
      TEMPORAL_METRICS_PORT: '0',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await untilReadyLine(child, (line) => line.includes('worker-ready'), 'worker');
  return child;
}

/** Stops a worker process as an operator would (SIGTERM: it drains, then exits). */
export const stopWorkerProcess = stopChild;

/** The worker processes a test file starts, so that `killAll` leaves none behind. */
export function workerProcesses(stack: () => TestStack) {
  const started: ChildProcess[] = [];
  return {
    async start(): Promise<ChildProcess> {
      const child = await startWorkerProcess(workerTargetOf(stack()));
      started.push(child);
      return child;
    },
    killAll(): void {
      for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
