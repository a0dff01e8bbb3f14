import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InstanceLostError,
  InstanceStartupTimeoutError,
  instanceIdAnnotation,
  poolAnnotation,
  requestIdAnnotation,
  type AwaitReadyOptions,
  type InstanceRuntime,
  type InstanceSpec,
  type PlacedInstance,
} from './instance-runtime';
import { isProcessAlive, spawnModelServer, stopModelServer } from './model-process';
import { findFreePorts } from '../../lib/ports';
import type { LiveInstance } from '../../domain/instances';
import { launchRefusal, localLaunchProblems, type LocalCommandPolicy } from '../../domain/local-command-policy';
import { isPodiumServer, processLaunch, readinessPathOf } from '../../domain/model-runtime';
import { workerSecretVariable, type WorkerSecretRef } from '../../domain/model-secrets';

const stopGraceMs = 5_000;
const readinessPollMs = 25;

/** Environment variable names for the annotations a model process is started with. */
function annotationEnv(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).map(([key, value]) => [
      `PODIUM_${key
        .replace(/^podium\//, '')
        .replace(/[^a-z0-9]+/gi, '_')
        .toUpperCase()}`,
      value,
    ]),
  );
}

/** A model the local runtime will not run: its command, working directory or environment break the policy. */
export class LocalCommandRefusedError extends Error {}

/** The environment with each `{ secret }` read from this worker's PODIUM_MODEL_SECRET_<NAME>; one it lacks fails the start. */
function withWorkerSecrets(env: Record<string, string | WorkerSecretRef>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([name, value]) => {
      if (typeof value === 'string') return [name, value];
      const held = process.env[workerSecretVariable(value)];
      if (held === undefined)
        throw new Error(
          `${name} names the secret ${value.secret}, which this worker does not hold (set ${workerSecretVariable(value)} in its environment)`,
        );
      return [name, held];
    }),
  );
}

type LocalInstance = {
  child: ChildProcess;
  annotations: Record<string, string>;
  startedAt: string;
  stderrTail: () => string;
};

/**
 * Runs each instance as a child process of the worker, the local stand-in for a pod. The model
 * server exits when the worker's end of its stdin closes, so a crashed worker leaves no orphan.
 * It runs only what the local command policy allows (domain/local-command-policy.ts).
 */
export class LocalProcessRuntime implements InstanceRuntime {
  readonly kind = 'local' as const;
  private readonly children = new Map<string, LocalInstance>();

  /** `policy`: what it may run (infra/local-commands.ts makes it from the configuration). */
  constructor(private readonly policy: LocalCommandPolicy) {}

  /**
   * Starts the model's server with the ports and settings its runtime preset gives it; servers
   * other than Podium's own run under a watcher that stops them when this worker goes away.
   */
  async start(spec: InstanceSpec): Promise<PlacedInstance> {
    const refused = localLaunchProblems(spec.model, this.policy);
    if (refused.length > 0) {
      throw new LocalCommandRefusedError(launchRefusal(refused));
    }
    const [http, grpc, metrics] = isPodiumServer(spec.model) ? [0, 0, 0] : await findFreePorts(3);
    const launch = processLaunch(spec.model, { http: http!, grpc: grpc!, metrics: metrics! });
    const { child, port, stderrTail } = await spawnModelServer(
      launch.argv,
      { ...withWorkerSecrets(launch.env), ...annotationEnv(spec.annotations) },
      spec.startupTimeoutMs,
      spec.signal,
      {
        workingDir: launch.workingDir,
        port: launch.port === 'stdout' ? undefined : launch.port,
        watched: launch.watched,
      },
    );
    const pid = String(child.pid);
    this.children.set(pid, {
      child,
      annotations: { ...spec.annotations },
      startedAt: new Date().toISOString(),
      stderrTail,
    });
    child.once('exit', () => this.children.delete(pid));
    return { runtimeRef: pid, endpoint: `http://127.0.0.1:${port}`, readinessPath: readinessPathOf(spec.model) };
  }

  /**
   * Polls the model's readiness path until it answers 200; a process that exits meanwhile fails
   * the start at once, with the end of what it wrote to stderr.
   */
  async awaitReady(placed: PlacedInstance, { timeoutMs, signal }: AwaitReadyOptions): Promise<{ endpoint: string }> {
    const { endpoint, runtimeRef } = placed;
    if (!endpoint) throw new Error('a local instance always has an endpoint once started');
    const readinessUrl = `${endpoint}${placed.readinessPath ?? '/v2/health/ready'}`;
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(readinessUrl, { signal });
        if (response.ok) return { endpoint };
      } catch (error) {
        if (signal.aborted) throw error;
      }
      const instance = this.children.get(runtimeRef);
      if (!instance) {
        // Started by another worker on this machine: waited for while it lives.
        if (!isProcessAlive(Number(runtimeRef)))
          throw new InstanceLostError(`the model process ${runtimeRef} is gone with the worker that started it`);
      } else if (instance.child.exitCode !== null || instance.child.signalCode !== null) {
        throw new Error(
          `the model process exited (${instance.child.exitCode ?? instance.child.signalCode}) before it was ready: ${instance.stderrTail()}`,
        );
      }
      await sleep(readinessPollMs, undefined, { signal });
    }
    throw new InstanceStartupTimeoutError(`${readinessUrl} did not answer 200 within ${timeoutMs} ms`);
  }

  async stop(runtimeRef: string): Promise<void> {
    const instance = this.children.get(runtimeRef);
    if (!instance) return this.stopForeignProcess(Number(runtimeRef));
    await stopModelServer(instance.child);
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

  /** The processes this worker started (another worker's are not visible from here). */
  async list(filter: { modelId?: string; withEvents?: boolean } = {}): Promise<LiveInstance[]> {
    return [...this.children.entries()]
      .map(([pid, { annotations, startedAt }]) => ({
        runtimeRef: pid,
        instanceId: annotations[instanceIdAnnotation] ?? null,
        modelId: annotations[poolAnnotation] ?? null,
        phase: 'Running',
        ready: true,
        node: 'local',
        startedAt,
        requestId: annotations[requestIdAnnotation] ?? null,
        waiting: null,
        ...(filter.withEvents ? { events: [] } : {}),
      }))
      .filter((instance) => !filter.modelId || instance.modelId === filter.modelId);
  }

  async events(): Promise<unknown[]> {
    return []; // a process has no event stream; the instance log has its history
  }

  async recordAssignment(runtimeRef: string, requestId: string): Promise<void> {
    const instance = this.children.get(runtimeRef);
    if (instance) instance.annotations[requestIdAnnotation] = requestId;
  }
}
