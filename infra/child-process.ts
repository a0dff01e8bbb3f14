import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';

/**
 * Resolves once a line the child writes to stdout passes `ready` (its "serving" or "polling"
 * line); rejects if it exits or fails to start first, with what it wrote to stderr when that is
 * piped. The child's stdout must be piped.
 */
export function untilReadyLine(child: ChildProcess, ready: (line: string) => boolean, what: string): Promise<void> {
  let output = '';
  child.stderr?.on('data', (chunk) => (output += chunk));
  return new Promise<void>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`${what} exited (${code})${output ? `: ${output}` : ''}`)));
    createInterface({ input: child.stdout! }).on('line', (line) => ready(line) && resolve());
  });
}

/** SIGTERM (a Podium process drains, then exits), and its exit; nothing for one already gone. */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}
