import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { InstanceStartupTimeoutError } from './instance-runtime';
import { projectRoot } from '../../lib/project-root';

const stopGraceMs = 5_000;

export type ModelProcess = {
  child: ChildProcess;
  port: number;
  /** The end of what the server wrote to stderr, to say why it died. */
  stderrTail: () => string;
};

export type SpawnOptions = {
  /** Relative to the repository root; the root when absent. */
  workingDir?: string | null;
  /** The port the server was told to listen on; absent: it prints `{"event":"listening","port":N}`. */
  port?: number;
  /**
   * Run under `exit-with-parent.ts`, for servers that do not leave when their stdin closes (any
   * but Podium's own), so a crashed worker still leaves no orphan behind.
   */
  watched?: boolean;
};

/** `node` is this Node; a command with a slash is relative to the repository root. */
function resolveCommand(command: string): string {
  if (command === 'node') return process.execPath;
  return command.includes('/') ? path.resolve(projectRoot, command) : command;
}

/**
 * Starts a model server as a child process and resolves with its port: the one it was given,
 * or the one it prints. The server exits when our end of its stdin closes, so a crashed parent
 * leaves no orphan behind. A start given up on (the timeout, or `signal`) stops the process
 * before it rejects.
 */
export async function spawnModelServer(
  argv: string[],
  env: Record<string, string>,
  timeoutMs: number,
  signal?: AbortSignal,
  options: SpawnOptions = {},
): Promise<ModelProcess> {
  const [command, ...args] = argv;
  const resolved = [resolveCommand(command!), ...args];
  const [file, ...fileArgs] = options.watched
    ? [process.execPath, require.resolve('./exit-with-parent'), ...resolved]
    : resolved;
  const child = spawn(file!, fileArgs, {
    cwd: options.workingDir ? path.resolve(projectRoot, options.workingDir) : projectRoot,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      HOST: '127.0.0.1',
      PORT: '0',
      PODIUM_EXIT_WITH_PARENT: '1',
      NODE_NO_WARNINGS: '1',
      ...env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const stderr: string[] = [];
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
    stderr.push(chunk);
    if (stderr.length > 50) stderr.shift();
  });
  const stderrTail = () => stderr.join('').slice(-500).trim();
  try {
    if (options.port !== undefined) {
      child.stdout!.resume(); // a chatty model never blocks on a full pipe
      await spawned(child);
      return { child, port: options.port, stderrTail };
    }
    return { child, port: await waitForListening(child, timeoutMs, stderrTail, signal), stderrTail };
  } catch (error) {
    if (child.pid !== undefined) await stopModelServer(child);
    throw error;
  }
}

/** Resolves once the process runs; rejects when its command could not be run at all. */
function spawned(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    child.once('spawn', resolve);
    child.once('error', reject);
  });
}

function waitForListening(
  child: ChildProcess,
  timeoutMs: number,
  stderrTail: () => string,
  signal?: AbortSignal,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const lines = createInterface({ input: child.stdout! });
    const timer = setTimeout(
      () => fail(new InstanceStartupTimeoutError(`model process did not listen within ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onExit = (code: number | null) =>
      fail(new Error(`model process exited (code ${code}) before listening: ${stderrTail()}`));
    const onAbort = () => fail(new Error('the start was given up on before the model process listened'));
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    function fail(error: Error) {
      clearTimeout(timer);
      lines.close();
      child.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
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
        signal?.removeEventListener('abort', onAbort);
        // Keep draining stdout so a chatty model never blocks on a full pipe.
        lines.removeAllListeners('line');
        resolve(message.port);
      } catch {
        // Not our JSON line: the model's own output.
      }
    });
  });
}

export function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(true);
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), timeoutMs);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(true);
    });
  });
}

/** SIGTERM, then SIGKILL after a grace period. */
export async function stopModelServer(child: ChildProcess): Promise<void> {
  child.kill('SIGTERM');
  if (!(await waitForExit(child, stopGraceMs))) {
    child.kill('SIGKILL');
    await waitForExit(child, stopGraceMs);
  }
}

/** Whether a process of this pid is alive on this machine (signal 0 tests without touching it). */
export const isProcessAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
