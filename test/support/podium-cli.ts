import { spawn } from 'node:child_process';
import path from 'node:path';

/** `npm run podium -- …` as a child process, with the environment given: its exit code and output. */
export function runPodiumCli(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'infra/cli.ts', ...args], {
      cwd: path.resolve(__dirname, '../..'),
      env: { ...process.env, ...env },
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.on('exit', (code) => resolve({ code, output }));
  });
}
