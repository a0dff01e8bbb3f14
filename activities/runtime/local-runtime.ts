import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { InstanceStartupTimeoutError, type InstanceRuntime, type InstanceSpec, type PlacedInstance } from './instance-runtime';

const projectRoot = path.resolve(__dirname, '../..');
const stopGraceMs = 5_000;

/** Environment variable names for the annotations a model process is started with. */
function annotationEnv(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).map(([key, value]) => [
      `PODIUM_${key.replace(/^podium\.dev\//, '').replace(/[^a-z0-9]+/gi, '_').toUpperCase()}`,
      value,
    ]),
  );
}

function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/**
 * Runs each instance as a child process of the worker, the local stand-in for a pod. The model
 * server prints `{"event":"listening","port":N}` once it listens; it exits when the worker's
 * end of its stdin closes, so a crashed worker leaves no orphan behind.
 */
export class LocalProcessRuntime implements InstanceRuntime {
  readonly kind = 'local' as const;
  private readonly children = new Map<string, ChildProcess>();

  async start(spec: InstanceSpec): Promise<PlacedInstance> {
    const [command, ...args] = spec.model.localCommand;
    const child = spawn(command === 'node' ? process.execPath : command!, args, {
      cwd: projectRoot,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        HOST: '127.0.0.1',
        PORT: '0',
        PODIUM_EXIT_WITH_PARENT: '1',
        PODIUM_MODEL_NAME: spec.model.id,
        NODE_NO_WARNINGS: '1',
        ...annotationEnv(spec.annotations),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const pid = String(child.pid);
    this.children.set(pid, child);
    child.once('exit', () => this.children.delete(pid));

    const stderr: string[] = [];
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => stderr.push(chunk));
    try {
      const port = await this.waitForListening(child, spec.startupTimeoutMs, stderr);
      return { runtimeRef: pid, endpoint: `http://127.0.0.1:${port}` };
    } catch (error) {
      await this.stop(pid);
      throw error;
    }
  }

  private waitForListening(child: ChildProcess, timeoutMs: number, stderr: string[]): Promise<number> {
    return new Promise((resolve, reject) => {
      const lines = createInterface({ input: child.stdout! });
      const timer = setTimeout(() => fail(new InstanceStartupTimeoutError(`model process did not listen within ${timeoutMs} ms`)), timeoutMs);
      const onExit = (code: number | null) =>
        fail(new Error(`model process exited (code ${code}) before listening: ${stderr.join('').slice(-500).trim()}`));
      function fail(error: Error) {
        clearTimeout(timer);
        lines.close();
        child.off('exit', onExit);
        reject(error);
      }
      child.once('exit', onExit);
      child.once('error', fail);
      lines.on('line', (line) => {
        try {
          const message = JSON.parse(line) as { event?: string; port?: number };
          if (message.event !== 'listening' || typeof message.port !== 'number') return;
          clearTimeout(timer);
          child.off('exit', onExit);
          // Keep draining stdout so a chatty model never blocks on a full pipe.
          lines.removeAllListeners('line');
          resolve(message.port);
        } catch {
          // Not our JSON line: the model's own output.
        }
      });
    });
  }

  async stop(runtimeRef: string): Promise<void> {
    const child = this.children.get(runtimeRef);
    if (!child) return this.stopForeignProcess(Number(runtimeRef));
    child.kill('SIGTERM');
    if (!(await waitForExit(child, stopGraceMs))) {
      child.kill('SIGKILL');
      await waitForExit(child, stopGraceMs);
    }
  }

  /** An instance started by another worker process on this machine: signal it by pid. */
  private async stopForeignProcess(pid: number): Promise<void> {
    const signal = (name: NodeJS.Signals | 0) => {
      try {
        process.kill(pid, name);
        return true;
      } catch {
        return false; // already gone
      }
    };
    if (!Number.isInteger(pid) || pid <= 0 || !signal('SIGTERM')) return;
    for (let waited = 0; waited < stopGraceMs; waited += 100) {
      await sleep(100);
      if (!signal(0)) return;
    }
    signal('SIGKILL');
  }

  async stopAll(): Promise<void> {
    await Promise.all([...this.children.keys()].map((pid) => this.stop(pid)));
  }
}
