import type { CommonQueryMethods } from 'slonik';
import { acquireSlot, releaseSlot } from '../db/instance-slots';
import type { Slot, SlotHolder } from '../domain/model-pool';
import { markUnreachableInstances } from './probe-instances';
import { createSlotSignals } from './slot-signals';
import type { SignalDeps } from './signal-deps';

/**
 * The general path of the slot tables (db/instance-slots.ts) with what follows a change there:
 * the workflows handed a slot are told, the pool is woken when it should start or stop one.
 */
export function createSlotKeeper({ db, temporal, taskQueue }: SignalDeps) {
  const signals = createSlotSignals({ db, temporal, taskQueue });

  /** A slot, or a place in the queue; the pool is woken when another instance is needed. */
  async function acquire(holder: SlotHolder): Promise<Slot | null> {
    const answer = await acquireSlot(db, holder);
    if (answer.demand) await signals.wakePool(holder.modelId);
    return answer.slot;
  }

  /**
   * Lets go of the slot or queue place, handing the slot on. An instance that stopped answering
   * has the others of its model probed before anyone asks for a slot again, and wakes the pool
   * to replace it.
   */
  async function release<Settled = undefined>(
    { requestId, modelId }: { requestId: string; modelId: string },
    healthy: boolean,
    settle?: (t: CommonQueryMethods) => Promise<Settled>,
  ): Promise<Settled | undefined> {
    const released = await releaseSlot(db, { modelId, requestId, healthy }, settle);
    await signals.tellHandovers(modelId, released.handovers);
    if (released.unhealthy) {
      await markUnreachableInstances(db, modelId);
      await signals.wakePool(modelId);
    } else if (released.drained) {
      await signals.wakePool(modelId);
    }
    return released.settled;
  }

  return { acquire, release, signals };
}
