import { defineSignal } from '@temporalio/workflow';

/**
 * The model pool's contract, apart from its code so that activities and the API can signal it
 * without loading workflow code.
 */
export type ModelPoolInput = {
  modelId: string;
  /** Continue as new past this many history events (tests set it low). */
  historyLimit?: number;
};

/** Look again now: requests wait beyond the starting slots, or an instance turned unhealthy. */
export const wakePoolSignal = defineSignal<[]>('wakePool');
/** From an admin (API): stop this instance; its requests find out when their calls fail. */
export const stopPoolInstanceSignal = defineSignal<[{ instanceId: string; reason: string }]>('stopPoolInstance');
