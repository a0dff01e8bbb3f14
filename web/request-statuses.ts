import type { RequestStatus } from '../domain/request-status';

/** Whether a request has ended: the client's own test. */
export { isFinalStatus } from '../clients/typescript/src';

const order: Record<RequestStatus, number> = { REQUESTED: 0, PROCESSING: 1, COMPLETE: 2, FAILED: 2, CANCELLED: 2 };

/**
 * A polled answer that left before an event said more (PROCESSING) must not take the page back:
 * of one attempt, the later status stands.
 */
export function laterStatus<T extends { status: RequestStatus; attempt: number }>(shown: T | null, answer: T): T {
  if (!shown || shown.attempt !== answer.attempt || order[answer.status] >= order[shown.status]) return answer;
  return { ...answer, status: shown.status };
}
