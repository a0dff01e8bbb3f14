import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import type { RunServices } from './run-services';
import { testEnv } from './services';

type Ready = RunServices;

/**
 * Starts the real services once per run. They run in a child process (plain Node with tsx,
 * not jest's module system), which also means no test can leave them half-stopped.
 */
export default async function globalSetup() {
  const started = Date.now();
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'test-services.ts')], {
    cwd: path.resolve(__dirname, '../..'),
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('test services did not start within 180 s')), 180_000);
    child.once('exit', (code) => reject(new Error(`test services exited during start-up (code ${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        const message = JSON.parse(line) as { ready?: Ready };
        if (message.ready) {
          clearTimeout(timer);
          resolve(message.ready);
        }
      } catch {
        process.stderr.write(`${line}\n`);
      }
    });
  });
  process.env[testEnv.databaseUrl] = ready.databaseUrl;
  process.env[testEnv.temporalAddress] = ready.temporalAddress;
  process.env[testEnv.workflowBundle] = ready.workflowBundle;
  process.env[testEnv.chromium] = ready.chromium;
  (globalThis as { podiumTestServices?: ChildProcess }).podiumTestServices = child;
  console.log(`\n[podium] test services up in ${Date.now() - started} ms (temporal ${ready.temporalAddress})`);
}
