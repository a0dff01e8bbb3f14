import { ApplicationFailure, log } from '@temporalio/activity';
import { WorkflowNotFoundError } from '@temporalio/client';
import { randomUUID } from 'node:crypto';
import { abandonInstanceStart, openInstanceSlots, runPoolRound } from '../db/instance-slots';
import { insertModelInstance } from '../db/model-instances';
import { findModelToServe } from '../db/models';
import { planPoolRoundWithDrains, type PoolRound } from '../domain/model-pool';
import type { RequestError } from '../domain/work-request';
import { instanceIdAnnotation, poolAnnotation, type InstanceRuntime } from './runtime/instance-runtime';
import { createSlotSignals } from './slot-signals';
import { instanceUnavailableSignal } from '../workflows/contracts';
import type { SignalDeps } from './signal-deps';

export type PoolRoundResult = {
  /** Instances recorded STARTING for the pool to start. */
  started: string[];
  stop: PoolRound['stop'];
  wakeAt: number | null;
  startupTimeoutSeconds: number;
};

export function createPoolActivities(
  deps: SignalDeps & { runtime: InstanceRuntime; poolScaling?: 'load' | 'waiters' },
) {
  const { db, temporal, runtime } = deps;
  const signals = createSlotSignals(deps);

  return {
    /**
     * One round of the pool's control loop (observe → decide → act, the deciding pure in
     * domain/model-pool): free slots go to waiters, instances to start are recorded STARTING,
     * unhealthy, expired and `stops` (an admin's) instances STOPPING, all under the model's lock.
     */
    async runPoolRound({
      modelId,
      stops,
      drains = [],
      minInstances,
    }: {
      modelId: string;
      stops: { instanceId: string; reason: string }[];
      /** Instances to replace before they go (replacePoolInstance): no request is interrupted. */
      drains?: string[];
      /** An operator's minimum for now, over the catalog's (never above max_instances). */
      minInstances?: number;
    }): Promise<PoolRoundResult> {
      const model = await findModelToServe(db, modelId);
      if (!model) throw ApplicationFailure.nonRetryable(`unknown model ${modelId}`, 'UNKNOWN_MODEL');
      const { round, started, handovers } = await runPoolRound(
        db,
        modelId,
        ({ instances, waiting, settings, load }) => {
          const minimum =
            minInstances === undefined ? settings.minInstances : Math.min(minInstances, settings.maxInstances);
          const planned = planPoolRoundWithDrains(
            instances,
            waiting,
            { ...settings, minInstances: minimum },
            Date.now(),
            drains,
            deps.poolScaling === 'load' ? load : undefined,
          );
          const stoppable = (id: string) => instances.some((i) => i.instanceId === id && i.state !== 'STOPPING');
          const asked = stops.filter(
            (s) => stoppable(s.instanceId) && !planned.stop.some((p) => p.instanceId === s.instanceId),
          );
          return { ...planned, stop: [...planned.stop, ...asked] };
        },
        async (t, count) => {
          const ids = Array.from({ length: count }, () => randomUUID());
          for (const id of ids) {
            const annotations = { [instanceIdAnnotation]: id, [poolAnnotation]: modelId };
            await insertModelInstance(t, { id, modelId, runtime: runtime.kind, annotations, slotState: 'STARTING' });
          }
          return ids;
        },
      );
      await signals.tellHandovers(modelId, handovers);
      return { started, stop: round.stop, wakeAt: round.wakeAt, startupTimeoutSeconds: model.startupTimeoutSeconds };
    },

    /** The instance is ready: its slots open and go to the oldest waiters, who are told. */
    async openInstanceSlots({
      modelId,
      instanceId,
      endpoint,
    }: {
      modelId: string;
      instanceId: string;
      endpoint: string;
    }): Promise<void> {
      await signals.tellHandovers(modelId, await openInstanceSlots(db, { modelId, instanceId, endpoint }));
    },

    /** The instance never became ready: the request that has waited longest is told why. */
    async abandonInstanceStart({
      modelId,
      instanceId,
      failure,
    }: {
      modelId: string;
      instanceId: string;
      failure: RequestError;
    }): Promise<void> {
      const told = await abandonInstanceStart(db, { modelId, instanceId });
      if (!told) return;
      await temporal.workflow
        .getHandle(told.workflowId)
        .signal(instanceUnavailableSignal, failure)
        .catch((error: Error) => {
          if (!(error instanceof WorkflowNotFoundError))
            log.warn('could not tell a request its instance failed', { ...told, error: error.message });
        });
    },
  };
}
