import type { ChildProcess } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  InstanceStartupTimeoutError,
  instanceIdAnnotation,
  poolAnnotation,
  requestIdAnnotation,
  type AwaitReadyOptions,
  type InstanceRuntime,
  type InstanceSpec,
  type PlacedInstance,
} from './instance-runtime';
import { spawnModelServer, stopModelServer } from './model-process';
import type { LiveInstance } from '../../domain/instances';

const stopGraceMs = 5_000;
const readinessPollMs = 25;

/** Environment variable names for the annotations a model process is started with. */
function annotationEnv(annotations: Record<string, string>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(annotations).map(([key, value]) => [
      `PODIUM_${key.replace(/^podium\//, '').replace(/[^a-z0-9]+/gi, '_').toUpperCase()}`,
      value,
    ]),
  );
}

type LocalInstance = { child: ChildProcess; annotations: Record<string, string>; startedAt: string };

/**
 * Runs each instance as a child process of the worker, the local stand-in for a pod. The model
 * server exits when the worker's end of its stdin closes, so a crashed worker leaves no orphan.
 */
export class LocalProcessRuntime implements InstanceRuntime {
  readonly kind = 'local' as const;
  private readonly children = new Map<string, LocalInstance>();

  async start(spec: InstanceSpec): Promise<PlacedInstance> {
    const env = { PODIUM_MODEL_NAME: spec.model.servedModelName, ...annotationEnv(spec.annotations) };
    const { child, port } = await spawnModelServer(spec.model.localCommand, env, spec.startupTimeoutMs, spec.signal);
    const pid = String(child.pid);
    this.children.set(pid, { child, annotations: { ...spec.annotations }, startedAt: new Date().toISOString() });
    child.once('exit', () => this.children.delete(pid));
    return { runtimeRef: pid, endpoint: `http://127.0.0.1:${port}` };
  }

  /** Polls the readiness endpoint until it answers 200. */
  async awaitReady({ endpoint }: PlacedInstance, { timeoutMs, signal }: AwaitReadyOptions): Promise<{ endpoint: string }> {
    if (!endpoint) throw new Error('a local instance always has an endpoint once started');
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        const response = await fetch(`${endpoint}/v2/health/ready`, { signal });
        if (response.ok) return { endpoint };
      } catch (error) {
        if (signal.aborted) throw error;
      }
      await sleep(readinessPollMs, undefined, { signal });
    }
    throw new InstanceStartupTimeoutError(`${endpoint} did not answer ready within ${timeoutMs} ms`);
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
