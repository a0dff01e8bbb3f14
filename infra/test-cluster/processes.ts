import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';

export type ClusterProcess = { name: string; stop: () => Promise<void>; exitDescription: () => string | null };

/**
 * Starts one control-plane binary in its own process group (Ctrl-C reaches our process, which
 * stops the cluster in order), its output appended to `logFile` for when something goes wrong.
 */
export function startClusterProcess(name: string, binary: string, args: string[], logFile: string): ClusterProcess {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  child.stdout.pipe(log, { end: false });
  child.stderr.pipe(log, { end: false });
  let exit: string | null = null;
  child.once('exit', (code, signal) => {
    exit = `${name} exited with ${code ?? signal}; see ${logFile}`;
  });
  child.once('error', (error) => {
    exit = `${name} could not start: ${error.message}`;
  });
  return {
    name,
    exitDescription: () => exit,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null && exit === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
      log.end();
    },
  };
}
