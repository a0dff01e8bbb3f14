import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ApplicationFailure, Context } from '@temporalio/activity';
import type { DatabasePool } from 'slonik';
import { findModel } from '../db/models';
import { findModelInstanceRef, insertModelInstance, recordInstanceEvent, setModelInstanceLocation } from '../db/model-instances';
import { assignInstanceToWorkRequest } from '../db/work-requests';
import { instanceIdAnnotation, requestIdAnnotation, type InstanceRuntime } from './runtime/instance-runtime';

const readinessPollMs = 25;

export type StartedInstance = { instanceId: string; endpoint: string };

export function createInstanceActivities({ pool, runtime }: { pool: DatabasePool; runtime: InstanceRuntime }) {
  return {
    /** Creates an instance of the model for one request and places it with the runtime. */
    async startInstance({ requestId, modelId }: { requestId: string; modelId: string }): Promise<StartedInstance> {
      const model = await findModel(pool, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      const instanceId = randomUUID();
      const annotations = { [requestIdAnnotation]: requestId, [instanceIdAnnotation]: instanceId };
      await pool.transaction(async (transaction) => {
        await insertModelInstance(transaction, { id: instanceId, modelId, runtime: runtime.kind, annotations });
        await assignInstanceToWorkRequest(transaction, requestId, instanceId);
      });
      try {
        const placed = await runtime.start({
          instanceId,
          model,
          annotations,
          startupTimeoutMs: model.startupTimeoutSeconds * 1000,
        });
        await setModelInstanceLocation(pool, { id: instanceId, ...placed });
        await recordInstanceEvent(pool, { instanceId, event: 'SCHEDULED', requestId, detail: { ...placed } });
        return { instanceId, endpoint: placed.endpoint };
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        await recordInstanceEvent(pool, { instanceId, event: 'FAILED', requestId, detail: { message } });
        throw ApplicationFailure.nonRetryable(`instance of ${modelId} failed to start: ${message}`, 'INSTANCE_START_FAILED');
      }
    },

    /** Polls the instance's readiness endpoint until it answers 200; the activity timeout bounds it. */
    async awaitInstanceReady({ instanceId, requestId, endpoint }: StartedInstance & { requestId: string }): Promise<void> {
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
      await recordInstanceEvent(pool, { instanceId, event: 'READY', requestId });
    },

    /** Stops the instance through the runtime; safe to call twice. */
    async stopInstance({ instanceId, requestId }: { instanceId: string; requestId: string }): Promise<void> {
      const runtimeRef = await findModelInstanceRef(pool, instanceId);
      await recordInstanceEvent(pool, { instanceId, event: 'STOPPING', requestId });
      if (runtimeRef) await runtime.stop(runtimeRef);
      await recordInstanceEvent(pool, { instanceId, event: 'TERMINATED', requestId });
    },
  };
}
