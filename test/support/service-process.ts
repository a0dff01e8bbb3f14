import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { stopChild } from '../../infra/child-process';

/**
 * Runs a script of test/support in a child process (plain Node with tsx, not jest's module
 * system) and resolves with what it prints as `{"ready": …}`. Because the services live in
 * their own process, no test can leave them half-stopped.
 */
export async function startServiceProcess<Ready>(
  script: string,
  what: string,
  timeoutMs: number,
  env: Record<string, string> = {},
): Promise<{ child: ChildProcess; ready: Ready }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, script)], {
    cwd: path.resolve(__dirname, '../..'),
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const ready = await new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} did not start within ${timeoutMs / 1000} s`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`${what} exited during start-up (code ${code})`)));
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
  return { child, ready };
}

export async function stopServiceProcess(child: ChildProcess | undefined): Promise<void> {
  if (child) await stopChild(child);
}

/** The body of a service script: prints the ready line, stops on SIGTERM/SIGINT or when stdin closes. */
export async function serveUntilStopped<Ready>(
  start: () => Promise<Ready & { stop: () => Promise<void> }>,
): Promise<void> {
  try {
    const { stop, ...ready } = await start();
    let stopping = false;
    const stopAndExit = async () => {
      if (stopping) return;
      stopping = true;
      await stop();
      process.exit(0);
    };
    process.on('SIGTERM', () => void stopAndExit());
    process.on('SIGINT', () => void stopAndExit());
    process.stdin.on('end', () => void stopAndExit()).resume();
    process.stdout.write(`${JSON.stringify({ ready })}\n`);
  } catch (error) {
    console.error(error);
    process.exit(1);
  }
}
