import { z } from 'zod';

export const requestStatus = z.enum(['REQUESTED', 'PROCESSING', 'COMPLETE', 'FAILED', 'CANCELLED']);
export type RequestStatus = z.infer<typeof requestStatus>;

/** The one place that says which status may follow which. */
const allowedTransitions: Record<RequestStatus, readonly RequestStatus[]> = {
  REQUESTED: ['PROCESSING', 'FAILED', 'CANCELLED'],
  PROCESSING: ['COMPLETE', 'FAILED', 'CANCELLED'],
  COMPLETE: [],
  FAILED: [],
  CANCELLED: [],
};

export function canTransition(from: RequestStatus, to: RequestStatus): boolean {
  return allowedTransitions[from].includes(to);
}

/** The statuses from which `to` may be reached, for guarded `UPDATE … WHERE status IN (…)`. */
export function statusesBefore(to: RequestStatus): RequestStatus[] {
  return requestStatus.options.filter((from) => canTransition(from, to));
}

/** A request whose workflow has ended. */
export function isFinal(status: RequestStatus): boolean {
  return allowedTransitions[status].length === 0;
}

/** The statuses of requests whose workflow has ended. */
export const finalStatuses: readonly RequestStatus[] = requestStatus.options.filter(isFinal);

/**
 * An admin may re-queue any request that has not completed: a failed or cancelled one, or one
 * stuck waiting or working. It goes back to REQUESTED as a new attempt.
 */
export const requeueableStatuses: readonly RequestStatus[] = ['REQUESTED', 'PROCESSING', 'FAILED', 'CANCELLED'];
