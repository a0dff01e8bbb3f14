import { ApplicationFailure, Context, log } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { closeAllSlots } from '../db/instance-slots';
import { findModelToServe } from '../db/models';
import { instanceStartupSeconds } from '../lib/metrics';
import {
  findModelInstanceRef,
  insertModelInstance,
  listLiveModelInstances,
  recordInstanceEvent,
  setModelInstanceLocation,
} from '../db/model-instances';
import {
  InstanceLostError,
  InstanceStartupTimeoutError,
  instanceIdAnnotation,
  poolAnnotation,
  type InstanceRuntime,
  type PlacedInstance,
} from './runtime/instance-runtime';
import type { LiveInstance } from '../domain/instances';
import { instanceLostType } from '../workflows/contracts';

const heartbeatMs = 2_000;

export type StartedInstance = {
  instanceId: string;
  modelId: string;
  placed: PlacedInstance;
  startupTimeoutSeconds: number;
  /** When the start began (epoch ms), for the start-up time metric; absent in starts recorded before it was kept. */
  startedAt?: number;
};

function failureCode(error: unknown): string {
  if (error instanceof InstanceLostError) return instanceLostType;
  return error instanceof InstanceStartupTimeoutError ? 'INSTANCE_STARTUP_TIMEOUT' : 'INSTANCE_START_FAILED';
}

export function createInstanceActivities({
  db,
  runtime,
  onUnschedulable = async () => undefined,
}: {
  db: DatabasePool;
  runtime: InstanceRuntime;
  /** Told at once when a pod cannot be scheduled (the node autoscaler's wake-up call). */
  onUnschedulable?: () => Promise<void>;
}) {
  async function stopInstance({ instanceId, reason }: { instanceId: string; reason: string }): Promise<void> {
    const runtimeRef = await findModelInstanceRef(db, instanceId);
    await recordInstanceEvent(db, { instanceId, event: 'STOPPING', detail: { reason } });
    if (runtimeRef) await runtime.stop(runtimeRef);
    await recordInstanceEvent(db, { instanceId, event: 'TERMINATED', detail: { reason } });
  }

  /**
   * Records why the start failed on the instance (the admin pages show it), and fails with a
   * fixed message: what a model printed, or a pod's and a registry's messages, may hold secrets,
   * and the failure reaches the requester and Temporal's history.
   */
  async function failStartup(
    instanceId: string,
    modelId: string,
    startupTimeoutSeconds: number,
    error: unknown,
  ): Promise<never> {
    const message = error instanceof Error ? error.message : String(error);
    await recordInstanceEvent(db, { instanceId, event: 'FAILED', detail: { message } });
    const code = failureCode(error);
    const what =
      code === 'INSTANCE_STARTUP_TIMEOUT'
        ? `did not become ready within ${startupTimeoutSeconds} s`
        : code === instanceLostType
          ? 'was lost with the worker that started it'
          : 'failed to start';
    throw ApplicationFailure.nonRetryable(
      `the instance of ${modelId} ${what} (instance ${instanceId}: its events on the admin pages say why)`,
      code,
    );
  }

  return {
    /**
     * Creates an instance of the model for its pool and hands it to the runtime. Heartbeats all
     * the while (a local model server may take most of its startup timeout to listen), so the
     * startup timeout decides, and a worker that dies is noticed within the heartbeat timeout.
     */
    async startInstance({ instanceId, modelId }: { instanceId: string; modelId: string }): Promise<StartedInstance> {
      const model = await findModelToServe(db, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      const annotations = { [instanceIdAnnotation]: instanceId, [poolAnnotation]: modelId };
      await insertModelInstance(db, { id: instanceId, modelId, runtime: runtime.kind, annotations });
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), heartbeatMs);
      const startedAt = Date.now();
      try {
        const placed = await runtime.start({
          instanceId,
          model,
          annotations,
          startupTimeoutMs: model.startupTimeoutSeconds * 1000,
          signal: context.cancellationSignal,
        });
        await setModelInstanceLocation(db, {
          id: instanceId,
          runtimeRef: placed.runtimeRef,
          endpoint: placed.endpoint,
        });
        // A local process is placed as it starts; a pod is scheduled later (see awaitInstanceReady).
        if (runtime.kind === 'local')
          await recordInstanceEvent(db, { instanceId, event: 'SCHEDULED', detail: { ...placed } });
        return { instanceId, modelId, placed, startupTimeoutSeconds: model.startupTimeoutSeconds, startedAt };
      } catch (error) {
        return failStartup(instanceId, modelId, model.startupTimeoutSeconds, error);
      } finally {
        clearInterval(beat);
      }
    },

    /**
     * Waits until the runtime says the instance is ready (a watch on Kubernetes), logging what
     * happens on the way: SCHEDULED on a node, PENDING with the reason it waits (Unschedulable,
     * ImagePullBackOff, …), then READY, or FAILED with the last reason after the startup timeout.
     */
    async awaitInstanceReady({
      instanceId,
      modelId,
      placed,
      startupTimeoutSeconds,
      startedAt,
    }: StartedInstance): Promise<{ endpoint: string }> {
      const context = Context.current();
      const beat = setInterval(() => context.heartbeat(), heartbeatMs);
      const progress: Promise<unknown>[] = [];
      try {
        const { endpoint } = await runtime.awaitReady(placed, {
          timeoutMs: startupTimeoutSeconds * 1000,
          signal: context.cancellationSignal,
          onProgress: ({ event, detail }) => {
            progress.push(recordInstanceEvent(db, { instanceId, event, detail }));
            if (event === 'PENDING' && detail.reason === 'Unschedulable') {
              onUnschedulable().catch((error: Error) =>
                log.warn('could not wake the node autoscaler', { error: error.message }),
              );
            }
          },
        });
        await Promise.all(progress);
        if (endpoint !== placed.endpoint)
          await setModelInstanceLocation(db, { id: instanceId, runtimeRef: placed.runtimeRef, endpoint });
        await recordInstanceEvent(db, { instanceId, event: 'READY' });
        if (startedAt !== undefined)
          instanceStartupSeconds.observe({ model: modelId }, (Date.now() - startedAt) / 1000);
        return { endpoint };
      } catch (error) {
        await Promise.allSettled(progress);
        if (context.cancellationSignal.aborted) throw error;
        return failStartup(instanceId, modelId, startupTimeoutSeconds, error);
      } finally {
        clearInterval(beat);
      }
    },

    /** Stops the instance through the runtime; safe to call twice. */
    stopInstance,

    /** The runtime's live instances with their raw events, for the admin pages. */
    async listRuntimeInstances({ modelId }: { modelId?: string }): Promise<LiveInstance[]> {
      return runtime.list({ modelId, withEvents: true });
    },

    /**
     * Reconciliation when a pool starts afresh: instances of its model that the records call
     * alive, or that the runtime still runs (pods left by a killed pool), and that no pool owns
     * any more are stopped, so none is left behind.
     */
    async stopOrphanInstances({ modelId, keep }: { modelId: string; keep: string[] }): Promise<number> {
      // No request may lease one of them meanwhile.
      await closeAllSlots(db, modelId);
      const recorded = (await listLiveModelInstances(db, modelId)).filter((instance) => !keep.includes(instance.id));
      for (const orphan of recorded) await stopInstance({ instanceId: orphan.id, reason: 'ORPHANED' });
      const stopped = new Set(recorded.map((instance) => instance.id));
      const unrecorded = (await runtime.list({ modelId })).filter(
        (live) => !(live.instanceId && (keep.includes(live.instanceId) || stopped.has(live.instanceId))),
      );
      for (const live of unrecorded) await runtime.stop(live.runtimeRef);
      return recorded.length + unrecorded.length;
    },
  };
}
