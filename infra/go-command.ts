import { spawn } from 'node:child_process';

/**
 * `go <args>` in `cwd` (modules resolved as go.mod says, `-mod=mod`), for the binaries built from
 * the Go module proxy (the simulated cluster, SeaweedFS, the Temporal server): its output, or an
 * error with the output's end.
 */
export function runGo(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn('go', args, {
      cwd,
      env: { ...process.env, GOFLAGS: '-mod=mod', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    child.once('error', (error) => reject(new Error(`go could not start (${error.message}); is Go 1.26 installed?`)));
    child.once('exit', (code) =>
      code === 0
        ? resolve(output)
        : reject(new Error(`go ${args.join(' ')} failed (exit ${code}) in ${cwd}:\n${output.slice(-3000)}`)),
    );
  });
}
