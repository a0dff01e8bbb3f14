import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { findModel } from '../db/models';
import {
  findModelInstanceRef,
  insertModelInstance,
  listLiveModelInstances,
  recordInstanceEvent,
  setModelInstanceLocation,
} from '../db/model-instances';
import { InstanceStartupTimeoutError, instanceIdAnnotation, poolAnnotation, type InstanceRuntime } from './runtime/instance-runtime';

const readinessPollMs = 25;

export type StartedInstance = { instanceId: string; endpoint: string };

export function createInstanceActivities({ pool, runtime }: { pool: DatabasePool; runtime: InstanceRuntime }) {
  async function stopInstance({ instanceId, reason }: { instanceId: string; reason: string }): Promise<void> {
    const runtimeRef = await findModelInstanceRef(pool, instanceId);
    await recordInstanceEvent(pool, { instanceId, event: 'STOPPING', detail: { reason } });
    if (runtimeRef) await runtime.stop(runtimeRef);
    await recordInstanceEvent(pool, { instanceId, event: 'TERMINATED', detail: { reason } });
  }

  return {
    /** Creates an instance of the model for its pool and places it with the runtime. */
    async startInstance({ instanceId, modelId }: { instanceId: string; modelId: string }): Promise<StartedInstance> {
      const model = await findModel(pool, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      const annotations = { [instanceIdAnnotation]: instanceId, [poolAnnotation]: modelId };
      await insertModelInstance(pool, { id: instanceId, modelId, runtime: runtime.kind, annotations });
      try {
        const placed = await runtime.start({ instanceId, model, annotations, startupTimeoutMs: model.startupTimeoutSeconds * 1000 });
        await setModelInstanceLocation(pool, { id: instanceId, ...placed });
        await recordInstanceEvent(pool, { instanceId, event: 'SCHEDULED', detail: { ...placed } });
        return { instanceId, endpoint: placed.endpoint };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await recordInstanceEvent(pool, { instanceId, event: 'FAILED', detail: { message } });
        const code = error instanceof InstanceStartupTimeoutError ? 'INSTANCE_STARTUP_TIMEOUT' : 'INSTANCE_START_FAILED';
        throw ApplicationFailure.nonRetryable(`instance of ${modelId} failed to start: ${message}`, code);
      }
    },

    /** Polls the instance's readiness endpoint until it answers 200; the activity timeout bounds it. */
    async awaitInstanceReady({ instanceId, endpoint }: StartedInstance): Promise<void> {
      const signal = Context.current().cancellationSignal;
      for (let attempt = 1; ; attempt++) {
        try {
          const response = await fetch(`${endpoint}/v2/health/ready`, { signal });
          if (response.ok) break;
        } catch (error) {
          if (signal.aborted) throw error;
        }
        Context.current().heartbeat({ attempt });
        await sleep(readinessPollMs, undefined, { signal });
      }
      await recordInstanceEvent(pool, { instanceId, event: 'READY' });
    },

    /** Stops the instance through the runtime; safe to call twice. */
    stopInstance,

    /**
     * Reconciliation when a pool starts afresh: instances of its model that the records call
     * alive but no pool owns any more (a crash) are stopped, so none is left behind.
     */
    async stopOrphanInstances({ modelId, keep }: { modelId: string; keep: string[] }): Promise<number> {
      const orphans = (await listLiveModelInstances(pool, modelId)).filter((instance) => !keep.includes(instance.id));
      for (const orphan of orphans) await stopInstance({ instanceId: orphan.id, reason: 'ORPHANED' });
      return orphans.length;
    },
  };
}
