import type { RequestStatus } from '../domain/request-status';

/** The statuses of requests whose workflow has ended (domain/request-status.ts says the same). */
export const finalStatuses: readonly RequestStatus[] = ['COMPLETE', 'FAILED', 'CANCELLED'];

export const isFinalStatus = (status: string) => (finalStatuses as readonly string[]).includes(status);
