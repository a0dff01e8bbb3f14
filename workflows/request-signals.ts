import { defineQuery, defineSignal } from '@temporalio/workflow';
import type { RequestError } from '../domain/work-request';

/** From the model's pool: this instance is yours until you release it. */
export const instanceAssignedSignal = defineSignal<[{ instanceId: string; endpoint: string }]>('instanceAssigned');
/** From the model's pool: no instance could be started for you. */
export const instanceUnavailableSignal = defineSignal<[RequestError]>('instanceUnavailable');
/** From the owner (API): stop waiting or working, end CANCELLED. */
export const cancelRequestSignal = defineSignal<[]>('cancelRequest');
/** From an admin (API): REQUESTED re-queues as a new attempt; FAILED ends it with the reason. */
export const adminSetStatusSignal = defineSignal<[{ status: 'REQUESTED' | 'FAILED'; reason: string }]>('adminSetStatus');

export type ModelRequestStage = 'STARTING' | 'QUEUED' | 'INFERRING' | 'FINISHING' | 'DONE';
export const modelRequestStageQuery = defineQuery<{ stage: ModelRequestStage; instanceId: string | null }>('modelRequestStage');
