import type { ChildProcess } from 'node:child_process';
import type { RunServices } from './run-services';
import { startServiceProcess } from './service-process';
import { testEnv } from './services';

/** Starts the real services (PostgreSQL, Temporal) once per run, in a child process. */
export default async function globalSetup() {
  const started = Date.now();
  const { child, ready } = await startServiceProcess<RunServices>('test-services.ts', 'test services', 180_000);
  process.env[testEnv.databaseUrl] = ready.databaseUrl;
  process.env[testEnv.temporalAddress] = ready.temporalAddress;
  process.env[testEnv.workflowBundle] = ready.workflowBundle;
  process.env[testEnv.chromium] = ready.chromium;
  (globalThis as { podiumTestServices?: ChildProcess }).podiumTestServices = child;
  console.log(`\n[podium] test services up in ${Date.now() - started} ms (temporal ${ready.temporalAddress})`);
}
