import { z } from 'zod';

/**
 * How soon a request is served among those waiting for its model: `high`, then `normal`, then
 * `low`; within a class, in submission order (docs/scheduling.md). Stored as 0, 1 and 2, so
 * that the queue's order is the column's.
 */
export const requestPriority = z.enum(['high', 'normal', 'low'], {
  error: 'priority is high, normal or low',
});
export type RequestPriority = z.infer<typeof requestPriority>;

export const priorityRank = (priority: RequestPriority): number => requestPriority.options.indexOf(priority);
export const priorityOfRank = (rank: number): RequestPriority => requestPriority.options[rank] ?? 'normal';

/** What a request asks for when it names no priority, and the most an anonymous session may ask for. */
export const defaultPriority: RequestPriority = 'normal';

/** Whether `asked` is within `ceiling` (high is above normal, normal above low). */
export const withinCeiling = (asked: RequestPriority, ceiling: RequestPriority): boolean =>
  priorityRank(asked) >= priorityRank(ceiling);
