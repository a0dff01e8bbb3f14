import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { testWebhookSecret, type TestStack } from './test-stack';

/**
 * `npm run worker` in a process of its own, on the test's schema and task queue, quiet (the
 * failures tests cause on purpose are not news); resolves once it polls.
 */
export async function startWorkerProcess(stack: TestStack): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'infra/worker-main.ts'], {
    cwd: path.resolve(__dirname, '../..'),
    env: {
      ...process.env,
      DATABASE_URL: stack.services.databaseUrl,
      DATABASE_SCHEMA: stack.schema,
      TEMPORAL_ADDRESS: stack.services.temporalAddress,
      TEMPORAL_TASK_QUEUE: stack.taskQueue,
      PODIUM_WORKFLOW_BUNDLE: stack.services.workflowBundle,
      WEBHOOK_SECRET: testWebhookSecret,
      LOG_LEVEL: 'error',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`worker exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => line.includes('worker-ready') && resolve());
  });
  return child;
}

/** Stops a worker process as an operator would (SIGTERM: it drains, then exits). */
export async function stopWorkerProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

/** The worker processes a test file starts, so that `killAll` leaves none behind. */
export function workerProcesses(stack: () => TestStack) {
  const started: ChildProcess[] = [];
  return {
    async start(): Promise<ChildProcess> {
      const child = await startWorkerProcess(stack());
      started.push(child);
      return child;
    },
    killAll(): void {
      for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    },
  };
}
