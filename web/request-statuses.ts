import type { RequestStatus } from '../domain/request-status';

/** The statuses of requests whose workflow has ended (domain/request-status.ts says the same). */
export const finalStatuses: readonly RequestStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

export const isFinalStatus = (status: string) => (finalStatuses as readonly string[]).includes(status);

const order: Record<RequestStatus, number> = { REQUESTED: 0, PROCESSING: 1, COMPLETE: 2, FAILED: 2, CANCELLED: 2 };

/**
 * A polled answer that left before an event said more (PROCESSING) must not take the page back:
 * of one attempt, the later status stands.
 */
export function laterStatus<T extends { status: RequestStatus; attempt: number }>(shown: T | null, answer: T): T {
  if (!shown || shown.attempt !== answer.attempt || order[answer.status] >= order[shown.status]) return answer;
  return { ...answer, status: shown.status };
}
